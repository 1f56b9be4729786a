"""Inspecting a series for problems, repairing them, and refusing repairs that would invent the data."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core import ingest
from core.dataset import ColumnMapping, DataError, Dataset
from tests.core.conftest import load_text


def test_inspect_reports_and_repair_fixes_everything():
    rows = [
        "2021-01-01 00:00,1",
        "2021-01-01 01:00,2",
        "2021-01-01 03:00,4",
        "2021-01-01 02:00,",
        "2021-01-01 03:00,9",
        "2021-01-01 05:00,6",
        "2021-01-01 06:00,7",
        "2021-01-01 07:00,7",
    ]
    dataset = load_text("time,value\n" + "\n".join(rows) + "\n")
    kinds = {p.kind for p in ingest.inspect(dataset)}
    assert {"duplicates", "unsorted", "gaps", "missing"} <= kinds
    repaired, changes = ingest.repair(dataset)
    assert not ingest.needs_repair(ingest.inspect(repaired))
    assert repaired.frame["value"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 7.0]
    assert any("Sorted" in c for c in changes)
    assert any("Dropped 1 row that repeated" in c for c in changes)
    assert "Inserted 1 missing timestamp." in changes
    assert any("Filled 2 missing values" in c for c in changes)


def test_forward_fill_repair():
    dataset = load_text("date,value\n2020-01-01,1\n2020-01-02,\n2020-01-04,3\n2020-01-05,4\n")
    repaired, _ = ingest.repair(dataset, fill="ffill")
    assert repaired.frame["value"].tolist() == [1.0, 1.0, 1.0, 3.0, 4.0]


def test_constant_columns_are_reported_but_not_blocking():
    dataset = load_text("date,flat,value\n2020-01-01,5,1\n2020-01-02,5,2\n2020-01-03,5,3\n")
    problems = ingest.inspect(dataset)
    assert [p.kind for p in problems] == ["constant"]
    assert not ingest.needs_repair(problems)


def test_repair_refuses_to_invent_most_of_the_series():
    stamps = pd.date_range("2024-01-01", periods=100, freq="h").delete(range(10, 60))
    dataset = load_text("time,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps)))
    with pytest.raises(DataError, match="would invent 50 of 100 rows"):
        ingest.repair(dataset)


def test_repair_refuses_to_drop_most_of_the_rows():
    rows = [f"2024-01-01 {h:02d}:00,{k}" for h in range(10) for k in range(3)]
    dataset = load_text("time,value\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="too many to drop"):
        ingest.repair(dataset)


def test_repair_refuses_to_fill_a_mostly_empty_column():
    rows = [f"2024-01-01 {h:02d}:00,{h if h % 4 == 0 else ''}" for h in range(24)]
    dataset = load_text("time,value\n" + "\n".join(rows) + "\n")
    [problem] = ingest.inspect(dataset)
    assert "values in only 6 of 24 rows (25%)" in problem.message
    assert problem.blocking and ingest.blocking([problem]) == [problem]
    # the only numeric column: no other target to pick, no extra channel to leave it out of
    assert "Pick another target" not in problem.message and "extra channels" not in problem.message
    assert "Upload an extract in which it is filled in." in problem.message
    with pytest.raises(DataError, match="would invent most of the series"):
        ingest.repair(dataset)


def test_a_mostly_empty_column_is_advised_by_its_role():
    rows = [f"2024-01-01 {h:02d}:00,{h if h % 4 == 0 else ''},{h}" for h in range(24)]
    dataset = load_text("time,sparse,value\n" + "\n".join(rows) + "\n")  # a sparse extra channel
    [problem] = ingest.inspect(dataset)
    assert problem.blocking and "Leave it out of the extra channels" in problem.message
    table = ingest.read_table(("time,sparse,value\n" + "\n".join(rows) + "\n").encode())
    as_target = ingest.build_dataset(table, ColumnMapping("time", "sparse", ["value"]), "t")
    [problem] = ingest.inspect(as_target)
    assert problem.blocking and "Pick another target, or upload" in problem.message
    assert "extra channels" not in problem.message
    assert not ingest.blocking(
        ingest.inspect(load_text("time,value\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n"))
    )


def test_counts_in_problems_and_changes_agree_with_their_nouns():
    rows = ["2024-01-01 00:00,1", "2024-01-01 01:00,2", "2024-01-01 01:00,", "2024-01-01 03:00,4"]
    rows += [f"2024-01-01 {h:02d}:00,{h}" for h in range(4, 12)]
    dataset = load_text("time,value\n" + "\n".join(rows) + "\n")
    messages = [p.message for p in ingest.inspect(dataset)]
    assert any(m.startswith("1 row repeats a timestamp of an earlier row") for m in messages), messages
    assert any(m.startswith("1 timestamp is missing from") for m in messages), messages
    assert "Column 'value' has 1 missing value. Repair: fill it." in messages
    _, changes = ingest.repair(dataset, sort=False, drop_duplicates=False, fill="ffill")
    assert changes == ["Filled 1 missing value by carrying the last value forward."]
    _, changes = ingest.repair(dataset)
    assert changes[:2] == [
        "Dropped 1 row that repeated an earlier timestamp (kept the first).",
        "Inserted 1 missing timestamp.",
    ]
    header = ",".join(str(d.date()) for d in pd.date_range("2024-01-01", periods=12))
    with pytest.raises(DataError, match=r"with 1 row of values under them"):
        ingest.read_table((header + "\n" + ",".join(["1"] * 12) + "\n").encode())


def test_many_columns_make_one_problem_of_each_kind():
    n = 40
    columns = {f"s{i}": [float(i)] * n for i in range(30)}  # 30 constant columns
    columns |= {f"m{i}": [None if r == 5 else float(r + i) for r in range(n)] for i in range(3)}
    columns |= {f"e{i}": [float(r) if r % 4 == 0 else None for r in range(n)] for i in range(2)}
    frame = pd.DataFrame(columns, index=pd.date_range("2024-01-01", periods=n, freq="h", name="time"))
    frame["load"] = np.arange(n) % 7 + 1.0
    dataset = Dataset(frame, "load", "wide", freq="h")
    problems = {p.kind + ("!" if p.blocking else ""): p for p in ingest.inspect(dataset)}
    assert sorted(problems) == ["constant", "missing", "missing!"]
    assert problems["constant"].message.startswith("30 of 36 columns never change: 's0', 's1',")
    assert "and 20 more" in problems["constant"].message and len(problems["constant"].columns) == 30
    assert problems["missing"].message == (
        "3 columns have missing values, 3 in all: 'm0', 'm1' and 'm2'. Repair: fill them."
    )
    assert problems["missing!"].columns == ["e0", "e1"]
    assert "2 columns have values in fewer than half of the 40 rows" in problems["missing!"].message


def _minutes(values: list[float], name: str = "value") -> str:
    stamps = pd.date_range("2024-01-01", periods=len(values), freq="min")
    return f"time,{name}\n" + "".join(f"{t},{v}\n" for t, v in zip(stamps, values, strict=True))


def test_values_far_outside_their_column_are_flagged_not_changed():
    values = [10.0 + (i % 5) for i in range(60)]
    values[17], values[40] = 5000.0, -900.0
    dataset = load_text(_minutes(values))
    [problem] = ingest.inspect(dataset)
    assert problem.kind == "outlier" and problem.warning and not problem.needs_repair
    assert "2 values more than 10 interquartile ranges outside the rest of the column" in problem.message
    assert "5000 on line 19, -900 on line 42" in problem.message
    repaired, _ = ingest.repair(replace(dataset, frame=dataset.frame.iloc[::-1]))
    assert repaired.file_lines is None and repaired.frame["value"].max() == 5000
    [problem] = [p for p in ingest.inspect(repaired) if p.kind == "outlier"]
    assert "5000 at 2024-01-01 00:17:00" in problem.message  # no lines after a sort: the time


def test_a_column_whose_middle_half_is_one_value_has_no_outliers():
    dataset = load_text(_minutes([0.0] * 50 + [3.0, 12.5, 40.0], "rain"))
    assert not [p for p in ingest.inspect(dataset) if p.kind == "outlier"]


def test_two_series_side_by_side_are_not_stitched_into_one():
    stamps = pd.date_range("2024-01-01", periods=50, freq="h")
    rows = [f"{t},{v}\n" for t in stamps for v in (10, 500)]  # two meters, no column naming them
    dataset = load_text("time,value\n" + "".join(rows))
    [problem] = [p for p in ingest.inspect(dataset) if p.kind == "duplicates"]
    assert problem.blocking and problem.message.startswith("50 of 100 rows repeat a timestamp, too many")
    with pytest.raises(DataError, match="too many to drop"):
        ingest.repair(dataset)
