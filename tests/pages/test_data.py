"""The Data page under Streamlit's AppTest: no exception, the right messages, and a bad file never
replaces the data set that is already loaded."""

import numpy as np
import pandas as pd
import pytest
from huggingface_hub import constants
from streamlit import config
from streamlit.testing.v1 import AppTest

from tests.core.ingest.bad_corpus import BAD, EXPECTED_MESSAGES
from tests.pages.conftest import open_app, texts


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
    at = _upload(open_app(), "plant_load.csv", _good_csv())
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


@pytest.mark.parametrize("name", sorted(EXPECTED_MESSAGES))
def test_bad_file_gets_its_message_and_keeps_the_loaded_data(name):
    at = _upload(open_app(), name, (BAD / name).read_bytes())
    assert not at.exception
    shown = texts(at.error) + texts(at.warning)
    assert any(EXPECTED_MESSAGES[name] in text for text in shown), shown
    assert at.session_state["dataset"].name == "ETTh1"


def test_a_file_that_needs_repair_is_loaded_only_after_repair():
    at = _upload(open_app(), "dupes.csv", (BAD / "duplicate_timestamps.csv").read_bytes())
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
        at = _upload(open_app(), "big.csv", _good_csv(40_000))
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
    at = _upload(open_app(), "regions.csv", text.encode())
    assert not at.exception and not at.error
    picker = at.selectbox(key=[s.key for s in at.selectbox if s.key.startswith("series_")][0])
    assert picker.options == ["north", "south"]
    picker.set_value("south").run()
    at.button(key=[b.key for b in at.button if b.key.startswith("load_")][0]).click().run()
    dataset = at.session_state["dataset"]
    assert dataset.name == "regions.csv [south]" and dataset.frame["y"].iloc[0] == 100.0


def test_builtin_switch_and_a_too_short_builtin():
    at = open_app()
    at.selectbox(key="builtin").set_value("El Niño")
    at.button(key="load_builtin").click().run()
    assert not at.exception and at.session_state["dataset"].name == "El Niño"
    # AppTest runs only the page script after the first run (st.navigation), so the sidebar
    # input is not there to set: set the value it writes to.
    at.session_state["look_back"] = 512
    at.run()
    at.selectbox(key="builtin").set_value("Sunspots")
    at.button(key="load_builtin").click().run()
    assert any("fewer than the look-back plus horizon (608)" in text for text in texts(at.error))
    assert at.session_state["dataset"].name == "El Niño"


def test_hub_offline_message(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    at = open_app()
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
    at = _load_good_upload(open_app())
    at.file_uploader[0].set_value((name, (BAD / name).read_bytes(), "text/csv")).run()
    assert not at.exception
    assert any(EXPECTED_MESSAGES[name] in text for text in texts(at.error) + texts(at.warning))
    assert at.session_state["dataset"].name == "plant_load.csv"


def test_an_unforeseen_failure_is_a_plain_message(monkeypatch):
    from core import ingest

    def broken(*args, **kwargs):
        raise RuntimeError("something no rule foresaw")

    monkeypatch.setattr(ingest, "build_dataset", broken)
    at = _upload(open_app(), "odd.csv", _good_csv())
    assert not at.exception
    assert any("could not be read (RuntimeError: something no rule foresaw)" in t for t in texts(at.error))
    assert at.session_state["dataset"].name == "ETTh1"


def test_day_first_upload_loads_without_repair():
    stamps = pd.date_range("2024-01-01", periods=300, freq="h").strftime("%d.%m.%Y %H:%M")
    text = "Datum;Temperatur\n" + "".join(f"{t};{20 + i % 24},5\n" for i, t in enumerate(stamps))
    at = _upload(open_app(), "eu.csv", text.encode("latin-1"))
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
    at = _upload(open_app(), "meter.csv", _consumption_csv())
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
    at = _upload(open_app(), "sparse.csv", (BAD / "mostly_missing_target.csv").read_bytes())
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
    at = _upload(open_app(), "sensors.csv", text.encode())
    assert not at.exception
    assert any("Leave it out of the extra channels" in e for e in texts(at.error))
    assert not [b for b in at.button if b.key.startswith("load_")]
    _keyed(at.multiselect, "channels_").set_value([]).run()
    assert not at.exception and not at.error
    _keyed(at.button, "load_").click().run()
    assert at.session_state["dataset"].name == "sensors.csv"
