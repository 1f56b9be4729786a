"""Applying a column mapping: the suggested one, long files, the time index, and what is refused."""

import numpy as np
import pandas as pd
import pytest

from core import ingest
from core.dataset import DataError
from tests.core.conftest import load_text
from tests.core.ingest.conftest import hourly_stamps


def test_a_file_without_a_header_or_timestamps_gets_an_integer_index():
    dataset = load_text("1\n2\n3\n4\n")
    assert dataset.frame.index.name == "step"
    assert dataset.frame.iloc[:, 0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert dataset.freq is None and not dataset.has_time_index


def test_target_prefers_a_target_name(etth1):
    table = ingest.read_table(etth1.head(50).to_csv(index=False).encode())
    mapping = ingest.suggest_mapping(table)
    assert (mapping.timestamp, mapping.target) == ("date", "OT")
    assert mapping.channels == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]


@pytest.mark.parametrize("name", ["y", "Value", "TARGET", "ot", "Sales", "sales (£)"])
def test_a_column_named_like_a_target_is_the_target_wherever_it_stands(name):
    rows = "".join(f"2024-01-{d + 1:02d},{d % 3},{100 + d},{d * d}\n" for d in range(20))
    table = ingest.read_table(f"date,{name},b,c\n{rows}".encode())
    assert ingest.suggest_mapping(table).target == name


def test_without_a_target_name_the_most_variable_column_is_the_target():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
            "demand": 50 + 40 * np.sin(np.arange(n) / 24 * 2 * np.pi) + rng.normal(0, 2, n),  # CV ~0.6
            "promo": (rng.random(n) < 0.05).astype(int),  # a flag: passed over
            "hour": np.arange(n) % 24,  # a calendar column: passed over
            "row": np.arange(n),  # a counter: passed over
            "humidity": 60 + rng.normal(0, 3, n),  # CV ~0.05
            "flat": 1,
        }
    )
    table = ingest.read_table(frame.to_csv(index=False).encode())
    assert ingest.suggest_mapping(table).target == "demand"
    table = ingest.read_table(frame[["time", "demand", "humidity"]][::-1].to_csv(index=False).encode())
    assert ingest.suggest_mapping(table).target == "demand"  # not the last column


def test_only_flags_or_constants_still_give_a_target():
    table = ingest.read_table(b"date,flag,flat\n2024-01-01,0,1\n2024-01-02,1,1\n2024-01-03,0,1\n")
    assert ingest.suggest_mapping(table).target == "flag"
    table = ingest.read_table(b"date,a,b\n2024-01-01,1,2\n2024-01-02,1,2\n2024-01-03,1,2\n")
    assert ingest.suggest_mapping(table).target == "a"


def test_long_layout_with_a_series_picker():
    text = "unique_id,ds,y\n" + "".join(
        f"{sid},2020-01-{day:02d},{i * 10 + day}\n" for i, sid in enumerate(["a", "b"]) for day in range(1, 6)
    )
    table = ingest.read_table(text.encode())
    assert table.layout == "long" and table.id_candidates == ["unique_id"]
    assert ingest.series_ids(table, "unique_id") == ["a", "b"]
    mapping = ingest.suggest_mapping(table)
    mapping.series_id = "b"
    dataset = ingest.build_dataset(table, mapping, "long")
    assert dataset.frame["y"].tolist() == [11.0, 12.0, 13.0, 14.0, 15.0]
    assert dataset.freq == "D"


def test_a_year_column_becomes_the_time_index():
    dataset = load_text("year,value\n1990,1\n1991,2\n1992,3\n1993,4\n")
    assert dataset.has_time_index and dataset.frame.index[0] == pd.Timestamp("1990-01-01")
    assert dataset.freq.startswith("YS")


def test_numeric_series_ids_make_a_long_file():
    rows = [
        f"{sid},{t},{sid * 100 + i}"
        for sid in (1, 2, 3)
        for i, t in enumerate(hourly_stamps("%Y-%m-%d %H:%M", 50))
    ]
    table = ingest.read_table(("unique_id,ds,y\n" + "\n".join(rows) + "\n").encode())
    assert table.id_candidates == ["unique_id"] and "unique_id" not in table.numeric_candidates
    mapping = ingest.suggest_mapping(table)
    mapping.series_id = "2"
    dataset = ingest.build_dataset(table, mapping, "long")
    assert len(dataset.frame) == 50 and dataset.frame["y"].iloc[0] == 200.0


def test_line_numbers_count_blank_lines_and_headerless_files():
    with pytest.raises(DataError, match="line 7 holds 'oops'"):
        load_text("date,value\n2024-01-01,1\n\n2024-01-02,2\n\n2024-01-03,3\n2024-01-04,oops\n")
    with pytest.raises(DataError, match="line 3 holds 'oops'"):
        load_text("1\n2\noops\n4\n")


def test_a_year_typo_is_named_with_its_line():
    stamps = [f"2024-01-{d:02d}" for d in range(1, 29)] + ["2204-01-29"]
    with pytest.raises(DataError, match="Line 30 has the timestamp 2204-01-29 00:00:00, far from"):
        load_text("date,value\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))


def _daily(replace: dict[int, tuple[str, str]], rows: int = 20) -> str:
    """A daily 'date,value' file with some (date, value) cells replaced, keyed by row number."""
    cells = [(f"2024-01-{d + 1:02d}", str(d)) for d in range(rows)]
    return "date,value\n" + "".join(f"{t},{v}\n" for t, v in (replace.get(i, c) for i, c in enumerate(cells)))


@pytest.mark.parametrize(
    "replace, message",
    [
        ({1: ("2024-01-02", "x")}, "line 3 holds 'x' (the only such cell). Fix or empty it, or pick"),
        (
            {1: ("2024-01-02", "x"), 2: ("2024-01-03", "y")},
            "line 3 holds 'x' (2 such cells). Fix or empty those cells, or pick",
        ),
        ({1: ("soon", "1")}, "has 1 cell that is not a date, on line 3 ('soon'). Fix it, or delete its row"),
        (
            {1: ("soon", "1"), 2: ("later", "2")},
            "that are not dates, the first on line 3 ('soon'). Fix those cells, or delete their rows",
        ),
        ({1: ("2024-01-02", "inf")}, "on line 3. Replace it with a real number or leave the cell empty."),
        (
            {1: ("2024-01-02", "inf"), 2: ("2024-01-03", "-inf")},
            "on line 3, with 2 such cells in all. Replace them with real numbers or leave the cells empty.",
        ),
    ],
)
def test_counts_in_messages_agree_with_their_nouns(replace, message):
    with pytest.raises(DataError) as error:
        load_text(_daily(replace))
    assert message in str(error.value)
