"""The Data page under Streamlit's AppTest: no exception, the right messages, and a bad file never
replaces the data set that is already loaded."""

import time

import numpy as np
import pandas as pd
import pytest
from huggingface_hub import constants
from streamlit import config
from streamlit.testing.v1 import AppTest

from pages import common
from tests.conftest import ROOT
from tests.core.ingest.bad_corpus import BAD, EXPECTED_MESSAGES, LOADED
from tests.pages.conftest import open_app, texts


def open_data_page() -> AppTest:
    """The app opened at the Data page, whichever page it opens at first."""
    at = open_app()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def _good_csv(rows: int = 400) -> bytes:
    index = pd.date_range("2022-03-01", periods=rows, freq="h")
    values = 20 + 5 * np.sin(2 * np.pi * np.arange(rows) / 24) + np.random.default_rng(0).normal(0, 0.3, rows)
    frame = pd.DataFrame({"timestamp": index, "load": values.round(3)})
    return frame.to_csv(index=False).encode()


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="source").set_value("Upload a CSV or TSV").run()
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    return at


def test_upload_a_good_file_and_load_it():
    at = _upload(open_data_page(), "plant_load.csv", _good_csv())
    assert not at.exception and not at.error
    button = at.button(key=[b.key for b in at.button if b.key.startswith("load_")][0])
    assert button.label == "Load this series"
    button.click().run()
    assert not at.exception
    dataset = at.session_state["dataset"]
    assert dataset.name == "plant_load.csv" and dataset.target == "load" and dataset.freq == "h"
    assert any("Loaded 'plant_load.csv'" in text for text in texts(at.info))
    assert at.header[0].value == "plant_load.csv"
    assert not [b for b in at.button if b.key.startswith("load_")]  # the uploader starts afresh
    # The same file again (to pick another target, say): its preview beside the loaded one's chart.
    _upload(at, "plant_load.csv", _good_csv())
    assert not at.exception and not at.error
    assert [b for b in at.button if b.key.startswith("load_")]


@pytest.mark.parametrize("name", sorted(EXPECTED_MESSAGES))
def test_bad_file_gets_its_message_and_keeps_the_loaded_data(name):
    at = _upload(open_data_page(), name, (BAD / name).read_bytes())
    assert not at.exception
    shown = texts(at.error) + texts(at.warning) + texts(at.info) + texts(at.caption)
    assert any(EXPECTED_MESSAGES[name] in text for text in shown), shown
    assert at.session_state["dataset"].name == "ETTh1"


@pytest.mark.parametrize("name", sorted(set(LOADED) - {"wide_constant_columns.csv"}))
def test_a_file_with_rows_that_are_no_data_loads_without_them(name):
    at = _upload(open_data_page(), name, (BAD / name).read_bytes())
    assert not at.exception and not at.error
    _keyed(at.button, "load_").click().run()
    assert not at.exception
    dataset = at.session_state["dataset"]
    rows, target, units = LOADED[name]
    assert (dataset.name, len(dataset.frame), dataset.target, dataset.units) == (name, rows, target, units)
    notes = " ".join(texts(at.info))
    assert EXPECTED_MESSAGES[name] in notes  # what was left out (or kept, an outlier) stays in sight


def test_dates_no_day_decides_are_asked_for_then_loaded():
    at = _upload(open_data_page(), "hourly.csv", (BAD / "ambiguous_day_month.csv").read_bytes())
    assert not at.exception and not at.error
    assert any("can be read day first or month first" in w for w in texts(at.warning))
    assert not [b for b in at.button if b.key.startswith("load_")]  # nothing loads on a guess
    order = _keyed(at.radio, "dayfirst_")
    assert order.value is None and order.options == ["Day first (31/12/2024)", "Month first (12/31/2024)"]
    order.set_value("Day first (31/12/2024)").run()
    assert not at.exception and not at.error and not at.warning
    assert _keyed(at.radio, "dayfirst_").value == "Day first (31/12/2024)"  # still there to change
    assert any("Dates were read day first, as chosen" in c for c in texts(at.caption))
    _keyed(at.button, "load_").click().run()
    dataset = at.session_state["dataset"]
    assert dataset.name == "hourly.csv" and len(dataset.frame) == 288 and dataset.freq == "h"
    assert str(dataset.frame.index[-1]) == "2021-01-12 23:00:00"


def test_a_wide_file_stays_one_short_page():
    at = _upload(open_data_page(), "array.csv", (BAD / "wide_constant_columns.csv").read_bytes())
    assert not at.exception and not at.error and not at.warning
    [message] = texts(at.info)
    assert message.startswith("1,198 of 1,200 columns never change: 'c3', 'c4',")
    listing = next(e for e in at.expander if e.label == "Show all 1,198 columns")
    assert "c1200" in listing.markdown[0].value
    assert any(e.label == "Extra channels (1,199 columns)" for e in at.expander)
    _keyed(at.button, "load_").click().run()
    assert (
        at.session_state["dataset"].channels[-1] == "c2" and len(at.session_state["dataset"].channels) == 1200
    )


def test_an_upload_the_size_of_etth1_redraws_fast():
    data = (ROOT / "data" / "ETTh1.csv").read_bytes()
    at = _upload(open_data_page(), "ETTh2.csv", data)
    assert not at.exception and not at.error
    started = time.perf_counter()
    at.run()
    assert time.perf_counter() - started < 2.0  # a widget change redraws from the caches


def test_a_file_that_needs_repair_is_loaded_only_after_repair():
    at = _upload(open_data_page(), "dupes.csv", (BAD / "duplicate_timestamps.csv").read_bytes())
    button = at.button(key=[b.key for b in at.button if b.key.startswith("load_")][0])
    assert button.label == "Repair and load"
    assert at.session_state["dataset"].name == "ETTh1"
    button.click().run()
    assert not at.exception
    dataset = at.session_state["dataset"]
    assert dataset.name == "dupes.csv" and dataset.frame.index.is_unique
    notes = " ".join(texts(at.info))
    assert "Sorted the rows by time." in notes and "Dropped 2 rows" in notes


def test_a_file_over_the_upload_limit():
    previous = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    try:
        at = _upload(open_data_page(), "big.csv", _good_csv(40_000))
    finally:
        config.set_option("server.maxUploadSize", previous)
    assert not at.exception
    assert any("over the upload limit of 1.0 MB" in text for text in texts(at.error))
    assert at.session_state["dataset"].name == "ETTh1"


def test_long_layout_offers_a_series_picker():
    text = "unique_id,ds,y\n" + "".join(
        f"{sid},{ts},{v:.3f}\n"
        for sid, offset in [("north", 0.0), ("south", 100.0)]
        for ts, v in zip(
            pd.date_range("2020-01-01", periods=300, freq="D").date, offset + np.arange(300.0), strict=True
        )
    )
    at = _upload(open_data_page(), "regions.csv", text.encode())
    assert not at.exception and not at.error
    picker = at.selectbox(key=[s.key for s in at.selectbox if s.key.startswith("series_")][0])
    assert picker.options == ["north", "south"]
    picker.set_value("south").run()
    at.button(key=[b.key for b in at.button if b.key.startswith("load_")][0]).click().run()
    dataset = at.session_state["dataset"]
    assert dataset.name == "regions.csv [south]" and dataset.frame["y"].iloc[0] == 100.0


def test_builtin_switch_and_a_too_short_builtin():
    at = open_data_page()
    at.selectbox(key="builtin").set_value("El Niño")
    at.button(key="load_builtin").click().run()
    assert not at.exception and at.session_state["dataset"].name == "El Niño"
    # AppTest runs only the page script after the first run (st.navigation), so the sidebar
    # input is not there to set: set the value it writes to.
    at.session_state["look_back"] = 512
    at.run()
    at.selectbox(key="builtin").set_value("Sunspots")
    at.button(key="load_builtin").click().run()
    # El Niño's few rows shortened the horizon when it loaded (`common.fit_window_lengths`).
    needed = 512 + at.session_state["horizon"]
    assert any(f"fewer than the look-back plus horizon ({needed})" in text for text in texts(at.error))
    assert at.session_state["dataset"].name == "El Niño"


def test_hub_offline_message(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    at = open_data_page()
    at.radio(key="source").set_value("Hugging Face Hub").run()
    at.text_input(key="hub_repo").input("owner/some-dataset")
    at.text_input(key="hub_file").input("data/train.csv")
    at.button(key="hub_fetch").click().run()
    assert not at.exception
    assert any("cannot be reached" in text for text in texts(at.error))
    assert at.session_state["dataset"].name == "ETTh1"


def _load_good_upload(at: AppTest, name: str = "plant_load.csv") -> AppTest:
    _upload(at, name, _good_csv())
    at.button(key=[b.key for b in at.button if b.key.startswith("load_")][0]).click().run()
    assert at.session_state["dataset"].name == name
    return at


@pytest.mark.parametrize("name", ["text_in_target.csv", "excel_renamed.csv", "duplicate_timestamps.csv"])
def test_a_bad_file_keeps_an_uploaded_data_set_too(name):
    at = _load_good_upload(open_data_page())
    at.file_uploader[0].set_value((name, (BAD / name).read_bytes(), "text/csv")).run()
    assert not at.exception
    assert any(EXPECTED_MESSAGES[name] in text for text in texts(at.error) + texts(at.warning))
    assert at.session_state["dataset"].name == "plant_load.csv"


def test_an_unforeseen_failure_is_a_plain_message(monkeypatch):
    from core import ingest

    def broken(*args, **kwargs):
        raise RuntimeError("something no rule foresaw")

    monkeypatch.setattr(ingest, "build_dataset", broken)
    common.review_upload.clear()  # the same file reviewed by another test is in the cache
    at = _upload(open_data_page(), "odd.csv", _good_csv())
    assert not at.exception
    assert any("could not be read (RuntimeError: something no rule foresaw)" in t for t in texts(at.error))
    assert at.session_state["dataset"].name == "ETTh1"


def test_day_first_upload_loads_without_repair():
    stamps = pd.date_range("2024-01-01", periods=300, freq="h").strftime("%d.%m.%Y %H:%M")
    text = "Datum;Temperatur\n" + "".join(f"{t};{20 + i % 24},5\n" for i, t in enumerate(stamps))
    at = _upload(open_data_page(), "eu.csv", text.encode("latin-1"))
    button = at.button(key=[b.key for b in at.button if b.key.startswith("load_")][0])
    assert button.label == "Load this series"
    assert any("day first" in c for c in texts(at.caption))
    button.click().run()
    assert len(at.session_state["dataset"].frame) == 300


def _consumption_csv(rows: int = 300) -> bytes:
    """A European meter export: semicolons, decimal commas, day-first dates, two numeric columns."""
    stamps = pd.date_range("2024-01-01", periods=rows, freq="h").strftime("%d.%m.%Y %H:%M")
    lines = [f"{t};{100 + i % 24},{i % 10};{5 + i % 7},5" for i, t in enumerate(stamps)]
    return ("Datum;Verbrauch (kWh);Temperatur\n" + "\n".join(lines) + "\n").encode("latin-1")


def _keyed(widgets, prefix: str):
    [widget] = [w for w in widgets if w.key.startswith(prefix)]
    return widget


def test_switching_the_target_offers_the_suggested_target_as_a_channel():
    at = _upload(open_data_page(), "meter.csv", _consumption_csv())
    assert not at.exception and not at.error
    target = _keyed(at.selectbox, "target_")
    assert target.value == "Temperatur"
    assert _keyed(at.multiselect, "channels_").value == ["Verbrauch (kWh)"]
    target.set_value("Verbrauch (kWh)").run()
    assert not at.exception and not at.error
    channels = _keyed(at.multiselect, "channels_")
    assert channels.options == ["Temperatur"] and channels.value == ["Temperatur"]
    assert any("2 channels" in c for c in texts(at.caption))
    _keyed(at.button, "load_").click().run()
    dataset = at.session_state["dataset"]
    assert dataset.target == "Verbrauch (kWh)" and dataset.channels == ["Temperatur", "Verbrauch (kWh)"]


def test_a_mostly_missing_target_blocks_loading_without_a_repair_button():
    at = _upload(open_data_page(), "sparse.csv", (BAD / "mostly_missing_target.csv").read_bytes())
    assert not at.exception
    [message] = texts(at.error)
    assert "has values in only 24 of 240 rows" in message and "extra channels" not in message
    assert not [b for b in at.button if b.key.startswith("load_")]
    assert not [c for c in at.checkbox if c.key.startswith(("sort_", "dedupe_"))]
    assert at.session_state["dataset"].name == "ETTh1"


def test_a_mostly_missing_channel_blocks_loading_until_it_is_left_out():
    index = pd.date_range("2024-01-01", periods=300, freq="h")
    rows = [f"{t},{i if i % 10 == 0 else ''},{i % 24}\n" for i, t in enumerate(index)]
    text = "time,sparse,load\n" + "".join(rows)
    at = _upload(open_data_page(), "sensors.csv", text.encode())
    assert not at.exception
    assert any("Leave it out of the extra channels" in e for e in texts(at.error))
    assert not [b for b in at.button if b.key.startswith("load_")]
    _keyed(at.multiselect, "channels_").set_value([]).run()
    assert not at.exception and not at.error
    _keyed(at.button, "load_").click().run()
    assert at.session_state["dataset"].name == "sensors.csv"
