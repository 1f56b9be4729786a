"""Reading bytes into a table: decoding, sniffing, refusals, unnamed columns and Excel quirks."""

import numpy as np
import pandas as pd
import pytest

from core import ingest
from core.dataset import DataError
from tests.core.conftest import load_text
from tests.core.ingest.conftest import hourly_stamps


def test_semicolons_and_decimal_commas():
    dataset = load_text("date;value\n2020-01-01;1,5\n2020-01-02;2,25\n2020-01-03;3,0\n")
    assert dataset.frame["value"].tolist() == [1.5, 2.25, 3.0]
    assert dataset.freq == "D"


def test_tabs_bom_and_latin1():
    utf8 = "\ufeffdate\tvalue\n2020-01-01\t1\n2020-01-02\t2\n2020-01-03\t3\n".encode()
    assert load_text(utf8).channels == ["value"]
    latin1 = "datum;wärme\n2020-01-01;1\n2020-01-02;2\n2020-01-03;3\n".encode("latin-1")
    table = ingest.read_table(latin1)
    assert table.encoding == "Latin-1" and "wärme" in table.numeric_candidates


def test_over_the_upload_limit():
    with pytest.raises(DataError, match="over the upload limit"):
        ingest.read_table(b"date,value\n" + b"2020-01-01,1\n" * 1000, max_bytes=1000)


# Files a newcomer's review found awkward: Excel quirks, separators.


def test_excel_separator_line():
    stamps = hourly_stamps("%Y-%m-%d %H:%M", 30)
    dataset = load_text("sep=;\ndate;value\n" + "".join(f"{t};{i}\n" for i, t in enumerate(stamps)))
    assert dataset.channels == ["value"] and len(dataset.frame) == 30


def test_surplus_fields_are_refused_with_their_line():
    with pytest.raises(DataError, match="Line 2 has 3 fields but the header names 2 columns"):
        ingest.read_table(b"date,value\n2024-01-01,1,5\n2024-01-02,2,6\n")


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
    np.testing.assert_array_equal(load_text(text).frame.iloc[:, 0].to_numpy(), expected)


@pytest.mark.parametrize(
    "data, message",
    [(b"<!DOCTYPE html><html><body>x</body></html>", "HTML"), (b'[{"date": "2024-01-01", "v": 1}]', "JSON")],
)
def test_markup_is_named(data, message):
    with pytest.raises(DataError, match=message):
        ingest.read_table(data)


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

    with pytest.raises(DataError, match="gzip-compressed file.*Unpack it"):
        ingest.read_table(gzip.compress(b"date,value\n2024-01-01,1\n"))
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DataError, match=r"This is an Excel workbook \(\.xlsx\)"):
        ingest.read_table(workbook.getvalue())


def test_nul_bytes_past_the_first_block_are_found():
    text = "date,value\n" + "".join(f"2024-01-01 {h % 24:02d}:00,{h}\n" for h in range(600))
    with pytest.raises(DataError, match="3 NUL bytes .* the first on line 602"):
        ingest.read_table(text.encode() + b"\x00" * 3)


def test_a_date_column_under_a_two_word_header_is_not_taken_for_spaces_between_columns():
    text = "Sales date\n" + "".join(f"2024-01-{d:02d} 10:00\n" for d in range(1, 29))
    with pytest.raises(DataError, match="holds only dates"):
        ingest.read_table(text.encode())


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
    dataset = load_text(text)
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
