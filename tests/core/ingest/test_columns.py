"""Reading dates (day or month first, time zones), date and time columns, and the frequency."""

import numpy as np
import pandas as pd

from core import ingest
from tests.core.conftest import load_text
from tests.core.ingest.conftest import hourly_stamps


def test_frequency_survives_gaps_and_disorder():
    index = pd.date_range("2021-01-01", periods=200, freq="h").delete([5, 6, 50])
    shuffled = index[np.random.default_rng(0).permutation(len(index))]
    assert ingest.infer_frequency(shuffled) == "h"


# Files a newcomer's review found awkward: European dates, time zones.


def test_european_day_first_dates_with_semicolons_and_decimal_commas():
    stamps = hourly_stamps("%d.%m.%Y %H:%M")
    text = "Datum;Temperatur\n" + "".join(f"{t};{20 + i % 24},{i % 10}\n" for i, t in enumerate(stamps))
    dataset = load_text(text)
    assert len(dataset.frame) == 300 and dataset.freq == "h"
    assert dataset.frame.index[0] == pd.Timestamp("2024-01-01 00:00")
    assert dataset.frame.index[-1] == pd.Timestamp("2024-01-13 11:00")
    assert not ingest.needs_repair(ingest.inspect(dataset))
    assert any("day first" in note for note in dataset.notes)


def test_ambiguous_slash_dates_are_read_the_way_that_gives_a_regular_series():
    stamps = [t.strftime("%d/%m/%Y") for t in pd.date_range("2024-01-01", periods=300, freq="D")]
    dataset = load_text("date,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps)))
    assert dataset.freq == "D" and dataset.frame.index.is_monotonic_increasing
    assert not ingest.needs_repair(ingest.inspect(dataset))


def test_iso_dates_stay_month_first_in_a_semicolon_file():
    stamps = [t.strftime("%Y-%m-%d") for t in pd.date_range("2024-01-01", periods=40, freq="D")]
    dataset = load_text("date;value\n" + "".join(f"{t};{i},5\n" for i, t in enumerate(stamps)))
    assert dataset.frame.index[1] == pd.Timestamp("2024-01-02") and dataset.freq == "D"


def test_daylight_saving_offsets_become_utc():
    stamps = pd.date_range("2024-03-30", periods=72, freq="h", tz="Europe/Berlin")
    text = "time,load\n" + "".join(f"{t.isoformat()},{i}\n" for i, t in enumerate(stamps))
    dataset = load_text(text)
    assert dataset.freq == "h" and not ingest.needs_repair(ingest.inspect(dataset))
    assert any("converted to UTC" in note for note in dataset.notes)


def test_a_fixed_offset_keeps_local_wall_time():
    text = "time,load\n" + "".join(f"2024-01-01T{h:02d}:00:00+01:00,{h}\n" for h in range(24))
    dataset = load_text(text)
    assert dataset.frame.index[0] == pd.Timestamp("2024-01-01 00:00")
    assert any("offset" in note for note in dataset.notes)


def test_date_and_time_columns_are_combined():
    stamps = pd.date_range("2024-01-01", periods=300, freq="h")
    text = "date,time,load\n" + "".join(f"{t:%Y-%m-%d},{t:%H:%M},{i}\n" for i, t in enumerate(stamps))
    table = ingest.read_table(text.encode())
    assert table.timestamp_candidates[0] == "date time"
    dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "split")
    assert dataset.freq == "h" and len(dataset.frame) == 300
    assert any("combined" in note for note in table.notes)
