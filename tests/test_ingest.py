"""Reading CSV bytes: sniffing, column detection, layouts, validation and repair."""

import numpy as np
import pandas as pd
import pytest

from core import ingest


def _load(text, **kwargs) -> ingest.Dataset:
    data = text.encode("utf-8") if isinstance(text, str) else text
    table = ingest.read_table(data)
    return ingest.build_dataset(table, ingest.suggest_mapping(table), "test", **kwargs)


def test_semicolons_and_decimal_commas():
    dataset = _load("date;value\n2020-01-01;1,5\n2020-01-02;2,25\n2020-01-03;3,0\n")
    assert dataset.frame["value"].tolist() == [1.5, 2.25, 3.0]
    assert dataset.freq == "D"


def test_tabs_bom_and_latin1():
    utf8 = "\ufeffdate\tvalue\n2020-01-01\t1\n2020-01-02\t2\n2020-01-03\t3\n".encode()
    assert _load(utf8).channels == ["value"]
    latin1 = "datum;wärme\n2020-01-01;1\n2020-01-02;2\n2020-01-03;3\n".encode("latin-1")
    table = ingest.read_table(latin1)
    assert table.encoding == "Latin-1" and "wärme" in table.numeric_candidates


def test_a_file_without_a_header_or_timestamps_gets_an_integer_index():
    dataset = _load("1\n2\n3\n4\n")
    assert dataset.frame.index.name == "step"
    assert dataset.frame.iloc[:, 0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert dataset.freq is None and not dataset.has_time_index


def test_target_prefers_ot_then_y_then_the_last_numeric_column(etth1):
    table = ingest.read_table(etth1.head(50).to_csv(index=False).encode())
    mapping = ingest.suggest_mapping(table)
    assert (mapping.timestamp, mapping.target) == ("date", "OT")
    assert mapping.channels == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]


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
    dataset = _load("year,value\n1990,1\n1991,2\n1992,3\n1993,4\n")
    assert dataset.has_time_index and dataset.frame.index[0] == pd.Timestamp("1990-01-01")
    assert dataset.freq.startswith("YS")


def test_frequency_survives_gaps_and_disorder():
    index = pd.date_range("2021-01-01", periods=200, freq="h").delete([5, 6, 50])
    shuffled = index[np.random.default_rng(0).permutation(len(index))]
    assert ingest.infer_frequency(shuffled) == "h"


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
    dataset = _load("time,value\n" + "\n".join(rows) + "\n")
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
    dataset = _load("date,value\n2020-01-01,1\n2020-01-02,\n2020-01-04,3\n2020-01-05,4\n")
    repaired, _ = ingest.repair(dataset, fill="ffill")
    assert repaired.frame["value"].tolist() == [1.0, 1.0, 1.0, 3.0, 4.0]


def test_constant_columns_are_reported_but_not_blocking():
    dataset = _load("date,flat,value\n2020-01-01,5,1\n2020-01-02,5,2\n2020-01-03,5,3\n")
    problems = ingest.inspect(dataset)
    assert [p.kind for p in problems] == ["constant"]
    assert not ingest.needs_repair(problems)


def test_content_hash_changes_with_the_values():
    first = _load("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    second = _load("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,4\n")
    assert first.content_hash() != second.content_hash()
    assert (
        first.content_hash() == _load("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n").content_hash()
    )


def test_over_the_upload_limit():
    with pytest.raises(ingest.DataError, match="over the upload limit"):
        ingest.read_table(b"date,value\n" + b"2020-01-01,1\n" * 1000, max_bytes=1000)


def test_protocol_csv_keeps_channels_in_file_order(tmp_path, etth1):
    path = tmp_path / "ett.csv"
    etth1.head(20).to_csv(path, index=False)
    frame = ingest.read_protocol_csv(path)
    assert list(frame.columns) == list(etth1.columns[1:])


# Files a newcomer's review found awkward: European dates, time zones, Excel quirks, separators.


def _hourly(fmt: str, rows: int = 300, start: str = "2024-01-01") -> list[str]:
    return [t.strftime(fmt) for t in pd.date_range(start, periods=rows, freq="h")]


def test_european_day_first_dates_with_semicolons_and_decimal_commas():
    stamps = _hourly("%d.%m.%Y %H:%M")
    text = "Datum;Temperatur\n" + "".join(f"{t};{20 + i % 24},{i % 10}\n" for i, t in enumerate(stamps))
    dataset = _load(text)
    assert len(dataset.frame) == 300 and dataset.freq == "h"
    assert dataset.frame.index[0] == pd.Timestamp("2024-01-01 00:00")
    assert dataset.frame.index[-1] == pd.Timestamp("2024-01-13 11:00")
    assert not ingest.needs_repair(ingest.inspect(dataset))
    assert any("day first" in note for note in dataset.notes)


def test_ambiguous_slash_dates_are_read_the_way_that_gives_a_regular_series():
    stamps = [t.strftime("%d/%m/%Y") for t in pd.date_range("2024-01-01", periods=300, freq="D")]
    dataset = _load("date,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps)))
    assert dataset.freq == "D" and dataset.frame.index.is_monotonic_increasing
    assert not ingest.needs_repair(ingest.inspect(dataset))


def test_iso_dates_stay_month_first_in_a_semicolon_file():
    stamps = [t.strftime("%Y-%m-%d") for t in pd.date_range("2024-01-01", periods=40, freq="D")]
    dataset = _load("date;value\n" + "".join(f"{t};{i},5\n" for i, t in enumerate(stamps)))
    assert dataset.frame.index[1] == pd.Timestamp("2024-01-02") and dataset.freq == "D"


def test_daylight_saving_offsets_become_utc():
    stamps = pd.date_range("2024-03-30", periods=72, freq="h", tz="Europe/Berlin")
    text = "time,load\n" + "".join(f"{t.isoformat()},{i}\n" for i, t in enumerate(stamps))
    dataset = _load(text)
    assert dataset.freq == "h" and not ingest.needs_repair(ingest.inspect(dataset))
    assert any("converted to UTC" in note for note in dataset.notes)


def test_a_fixed_offset_keeps_local_wall_time():
    text = "time,load\n" + "".join(f"2024-01-01T{h:02d}:00:00+01:00,{h}\n" for h in range(24))
    dataset = _load(text)
    assert dataset.frame.index[0] == pd.Timestamp("2024-01-01 00:00")
    assert any("offset" in note for note in dataset.notes)


def test_excel_separator_line():
    stamps = _hourly("%Y-%m-%d %H:%M", 30)
    dataset = _load("sep=;\ndate;value\n" + "".join(f"{t};{i}\n" for i, t in enumerate(stamps)))
    assert dataset.channels == ["value"] and len(dataset.frame) == 30


def test_surplus_fields_are_refused_with_their_line():
    with pytest.raises(ingest.DataError, match="Line 2 has 3 fields but the header names 2 columns"):
        ingest.read_table(b"date,value\n2024-01-01,1,5\n2024-01-02,2,6\n")


def test_numeric_series_ids_make_a_long_file():
    rows = [
        f"{sid},{t},{sid * 100 + i}" for sid in (1, 2, 3) for i, t in enumerate(_hourly("%Y-%m-%d %H:%M", 50))
    ]
    table = ingest.read_table(("unique_id,ds,y\n" + "\n".join(rows) + "\n").encode())
    assert table.id_candidates == ["unique_id"] and "unique_id" not in table.numeric_candidates
    mapping = ingest.suggest_mapping(table)
    mapping.series_id = "2"
    dataset = ingest.build_dataset(table, mapping, "long")
    assert len(dataset.frame) == 50 and dataset.frame["y"].iloc[0] == 200.0


def test_date_and_time_columns_are_combined():
    stamps = pd.date_range("2024-01-01", periods=300, freq="h")
    text = "date,time,load\n" + "".join(f"{t:%Y-%m-%d},{t:%H:%M},{i}\n" for i, t in enumerate(stamps))
    table = ingest.read_table(text.encode())
    assert table.timestamp_candidates[0] == "date time"
    dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "split")
    assert dataset.freq == "h" and len(dataset.frame) == 300
    assert any("combined" in note for note in table.notes)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('date,value\n2024-01-01,"1,234.5"\n2024-01-02,"2,000"\n2024-01-03,7.5\n', [1234.5, 2000.0, 7.5]),
        ("date;value\n2024-01-01;1.234,5\n2024-01-02;2.000,25\n2024-01-03;7,5\n", [1234.5, 2000.25, 7.5]),
        ("date,share\n2024-01-01,12%\n2024-01-02,13.5%\n2024-01-03,9%\n", [12.0, 13.5, 9.0]),
        ("date,value\n2024-01-01,1\n2024-01-02,-\n2024-01-03,n/a\n", [1.0, np.nan, np.nan]),
    ],
)
def test_thousands_separators_percentages_and_missing_markers(text, expected):
    np.testing.assert_array_equal(_load(text).frame.iloc[:, 0].to_numpy(), expected)


@pytest.mark.parametrize(
    "data, message",
    [(b"<!DOCTYPE html><html><body>x</body></html>", "HTML"), (b'[{"date": "2024-01-01", "v": 1}]', "JSON")],
)
def test_markup_is_named(data, message):
    with pytest.raises(ingest.DataError, match=message):
        ingest.read_table(data)


def test_line_numbers_count_blank_lines_and_headerless_files():
    with pytest.raises(ingest.DataError, match="line 7 holds 'oops'"):
        _load("date,value\n2024-01-01,1\n\n2024-01-02,2\n\n2024-01-03,3\n2024-01-04,oops\n")
    with pytest.raises(ingest.DataError, match="line 3 holds 'oops'"):
        _load("1\n2\noops\n4\n")


def test_repair_refuses_to_invent_most_of_the_series():
    stamps = pd.date_range("2024-01-01", periods=100, freq="h").delete(range(10, 60))
    dataset = _load("time,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps)))
    with pytest.raises(ingest.DataError, match="would invent 50 of 100 rows"):
        ingest.repair(dataset)


def test_repair_refuses_to_drop_most_of_the_rows():
    rows = [f"2024-01-01 {h:02d}:00,{k}" for h in range(10) for k in range(3)]
    dataset = _load("time,value\n" + "\n".join(rows) + "\n")
    with pytest.raises(ingest.DataError, match="too many to drop"):
        ingest.repair(dataset)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_as_excel_writes_it_is_read(codec):
    text = "Zeit\tWärme\r\n" + "".join(f"2024-01-0{d} 00:00\t{d}.5\r\n" for d in range(1, 8))
    table = ingest.read_table(text.encode(codec))  # "utf-16" writes a byte-order mark, the others none
    assert table.encoding == "UTF-16" and table.timestamp_candidates == ["Zeit"]
    assert ingest.build_dataset(table, ingest.suggest_mapping(table), "t").frame["Wärme"].iloc[-1] == 7.5


def test_archives_say_what_to_do():
    import gzip
    import io
    import zipfile

    with pytest.raises(ingest.DataError, match="gzip-compressed file.*Unpack it"):
        ingest.read_table(gzip.compress(b"date,value\n2024-01-01,1\n"))
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ingest.DataError, match=r"This is an Excel workbook \(\.xlsx\)"):
        ingest.read_table(workbook.getvalue())


def test_nul_bytes_past_the_first_block_are_found():
    text = "date,value\n" + "".join(f"2024-01-01 {h % 24:02d}:00,{h}\n" for h in range(600))
    with pytest.raises(ingest.DataError, match="3 NUL bytes .* the first on line 602"):
        ingest.read_table(text.encode() + b"\x00" * 3)


def test_a_date_column_under_a_two_word_header_is_not_taken_for_spaces_between_columns():
    text = "Sales date\n" + "".join(f"2024-01-{d:02d} 10:00\n" for d in range(1, 29))
    with pytest.raises(ingest.DataError, match="holds only dates"):
        ingest.read_table(text.encode())


def test_a_year_typo_is_named_with_its_line():
    stamps = [f"2024-01-{d:02d}" for d in range(1, 29)] + ["2204-01-29"]
    with pytest.raises(ingest.DataError, match="Line 30 has the timestamp 2204-01-29 00:00:00, far from"):
        _load("date,value\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))


def test_repair_refuses_to_fill_a_mostly_empty_column():
    rows = [f"2024-01-01 {h:02d}:00,{h if h % 4 == 0 else ''}" for h in range(24)]
    dataset = _load("time,value\n" + "\n".join(rows) + "\n")
    [problem] = ingest.inspect(dataset)
    assert "values in only 6 of 24 rows (25%)" in problem.message
    assert problem.blocking and ingest.blocking([problem]) == [problem]
    # the only numeric column: no other target to pick, no extra channel to leave it out of
    assert "Pick another target" not in problem.message and "extra channels" not in problem.message
    assert "Upload an extract in which it is filled in." in problem.message
    with pytest.raises(ingest.DataError, match="would invent most of the series"):
        ingest.repair(dataset)


def test_a_mostly_empty_column_is_advised_by_its_role():
    rows = [f"2024-01-01 {h:02d}:00,{h if h % 4 == 0 else ''},{h}" for h in range(24)]
    dataset = _load("time,sparse,value\n" + "\n".join(rows) + "\n")  # a sparse extra channel
    [problem] = ingest.inspect(dataset)
    assert problem.blocking and "Leave it out of the extra channels" in problem.message
    table = ingest.read_table(("time,sparse,value\n" + "\n".join(rows) + "\n").encode())
    as_target = ingest.build_dataset(table, ingest.ColumnMapping("time", "sparse", ["value"]), "t")
    [problem] = ingest.inspect(as_target)
    assert problem.blocking and "Pick another target, or upload" in problem.message
    assert "extra channels" not in problem.message
    assert not ingest.blocking(ingest.inspect(_load("time,value\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n")))


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
        ({1: ("soon", "1")}, "has 1 cell that is not a date, on line 3 ('soon'). Fix it, or choose"),
        (
            {1: ("soon", "1"), 2: ("later", "2")},
            "has 2 cells that are not dates, the first on line 3 ('soon'). Fix those cells, or choose",
        ),
        ({1: ("2024-01-02", "inf")}, "on line 3. Replace it with a real number or leave the cell empty."),
        (
            {1: ("2024-01-02", "inf"), 2: ("2024-01-03", "-inf")},
            "on line 3, with 2 such cells in all. Replace them with real numbers or leave the cells empty.",
        ),
    ],
)
def test_counts_in_messages_agree_with_their_nouns(replace, message):
    with pytest.raises(ingest.DataError) as error:
        _load(_daily(replace))
    assert message in str(error.value)


def test_counts_in_problems_and_changes_agree_with_their_nouns():
    rows = ["2024-01-01 00:00,1", "2024-01-01 01:00,2", "2024-01-01 01:00,", "2024-01-01 03:00,4"]
    rows += [f"2024-01-01 {h:02d}:00,{h}" for h in range(4, 12)]
    dataset = _load("time,value\n" + "\n".join(rows) + "\n")
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
    with pytest.raises(ingest.DataError, match=r"with 1 row of values under them"):
        ingest.read_table((header + "\n" + ",".join(["1"] * 12) + "\n").encode())


# Excel day numbers in place of dates, columns without a name in the header.


def test_excel_serial_day_numbers_in_a_date_column_are_read_as_dates():
    text = "date,value\n" + "".join(f"{45000 + h / 24:.6f},{h}\n" for h in range(48))
    table = ingest.read_table(text.encode())
    dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "serial")
    assert dataset.channels == ["value"] and dataset.freq == "h"
    assert dataset.frame.index[0] == pd.Timestamp("2023-03-15 00:00")
    assert dataset.frame.index[-1] == pd.Timestamp("2023-03-16 23:00")
    assert dataset.frame["value"].tolist() == [float(h) for h in range(48)]
    assert (
        "Column 'date' held Excel serial day numbers; they were read as dates counted from 1899-12-30 "
        "(45000 is 15 March 2023 00:00)." in table.notes
    )


def test_excel_serial_days_in_an_unnamed_first_column_are_read_as_dates():
    text = "Tag;Menge\n" + "".join(f"{45000 + d};{d},5\n" for d in range(30))
    table = ingest.read_table(text.encode())
    dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "serial")
    assert dataset.channels == ["Menge"] and dataset.freq == "D"
    assert dataset.frame.index[0] == pd.Timestamp("2023-03-15")
    assert dataset.frame.index[-1] == pd.Timestamp("2023-04-13")
    assert dataset.frame["Menge"].iloc[1] == 1.5
    assert any("Column 'Tag' held Excel serial day numbers" in note for note in table.notes)


def test_numbers_in_the_excel_range_that_are_no_time_axis_stay_a_channel():
    text = "load,value\n" + "".join(f"{30000 + (i * 7) % 13},{i}\n" for i in range(30))
    dataset = _load(text)
    assert dataset.channels == ["load", "value"] and not dataset.has_time_index


def test_empty_unnamed_columns_are_dropped_with_a_note():
    text = "date,,value,\n" + "".join(f"2024-01-{d:02d},,{d},\n" for d in range(1, 11))
    table = ingest.read_table(text.encode())
    dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "t")
    assert dataset.channels == ["value"] and dataset.freq == "D"
    assert "Columns 2 and 4 have no name in the header and no values; they were left out." in table.notes
    trailing = ingest.read_table(b"date,value,\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n")
    assert list(trailing.frame.columns) == ["date", "value"]
    assert (
        "Column 3 has no name in the header and no values (the header line ends with a separator); "
        "it was left out." in trailing.notes
    )


def test_an_unnamed_column_with_values_is_named_after_its_position():
    text = "date,,value\n" + "".join(f"2024-01-{d:02d},{d * 10},{d}\n" for d in range(1, 11))
    table = ingest.read_table(text.encode())
    dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "t")
    assert (dataset.target, dataset.channels) == ("value", ["column 2", "value"])
    assert dataset.frame["column 2"].tolist() == [float(d * 10) for d in range(1, 11)]
    assert any(
        "Column 2 has no name in the header but holds values; it was called 'column 2'" in n
        for n in table.notes
    )


def test_the_index_pandas_writes_is_dropped_or_becomes_the_timestamp():
    stamps = pd.date_range("2024-01-01", periods=10, freq="h")
    numbered = ingest.read_table(pd.DataFrame({"date": stamps, "value": range(10)}).to_csv().encode())
    assert list(numbered.frame.columns) == ["date", "value"]
    assert any("Column 1 has no name and holds row numbers (0, 1, 2, …)" in n for n in numbered.notes)
    dated = ingest.read_table(pd.DataFrame({"value": range(10)}, index=stamps).to_csv().encode())
    dataset = ingest.build_dataset(dated, ingest.suggest_mapping(dated), "t")
    assert dataset.frame.index.name == "column 1" and dataset.freq == "h" and dataset.channels == ["value"]
