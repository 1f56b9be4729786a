"""A timestamp column is read one way for every row, or refused with the lines that disagree; a
day order no date decides is asked for, never guessed."""

import pandas as pd
import pytest

from core import ingest
from core.dataset import AmbiguousDateOrder, DataError
from tests.core.conftest import load_text


def _file(stamps: list[str]) -> str:
    return "date,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps))


DAYS = pd.date_range("2021-01-01", periods=60, freq="D")


def test_iso_dates_beside_day_month_dates_are_refused_with_the_lines_of_each():
    stamps = [f"{d:%Y-%m-%d}" for d in DAYS[:39]] + [f"{d:%d/%m/%Y}" for d in DAYS[39:]]
    with pytest.raises(DataError) as refused:
        load_text(_file(stamps))
    assert not isinstance(refused.value, AmbiguousDateOrder)
    assert str(refused.value) == (
        "The 'date' column mixes two date formats: lines 2–40 look like 2021-01-01 (year-month-day) "
        "and lines 41–61 like 09/02/2021 (day/month or month/day). Save the column in one format "
        "(year-month-day, such as 2021-01-04, reads the same everywhere) and upload again."
    )


def test_three_formats_and_scattered_lines():
    stamps = [
        f"{d:%Y-%m-%d}" if i % 3 == 0 else f"{d:%d.%m.%Y}" if i % 3 == 1 else f"{d:%d %b %Y}"
        for i, d in enumerate(DAYS[:12])
    ]
    with pytest.raises(DataError, match="mixes three date formats: lines 2, 5, 8 and 1 more run look like"):
        load_text(_file(stamps))


def test_day_first_and_month_first_rows_are_refused():
    stamps = [f"{d:%d/%m/%Y}" for d in DAYS[:30]] + [f"{d:%m/%d/%Y}" for d in DAYS[30:]]
    with pytest.raises(
        DataError, match="mixes day-first and month-first dates: lines 14–31 can only be day first"
    ):
        load_text(_file(stamps))


@pytest.mark.parametrize(
    "fmt, dayfirst, line, reads",
    [
        ("%d/%m/%Y", True, 14, "13/01/2021, which can only be 13 January 2021"),
        ("%m/%d/%Y", False, 14, "01/13/2021, which can only be January 13, 2021"),
        ("%d.%m.%Y %H:%M", True, 14, "13.01.2021 00:00, which can only be 13 January 2021"),
    ],
)
def test_one_day_over_12_decides_the_order_and_says_so(fmt, dayfirst, line, reads):
    dataset = load_text(_file([d.strftime(fmt) for d in DAYS]))
    assert dataset.frame.index.equals(pd.DatetimeIndex(DAYS, name="date"))
    note = f"Dates were read {'day' if dayfirst else 'month'} first: line {line} has {reads}."
    assert note in dataset.notes


def test_an_order_no_date_decides_is_asked_and_the_answer_read():
    hours = pd.date_range("2021-01-01", periods=288, freq="h")
    text = _file([f"{t:%d/%m/%Y %H:%M}" for t in hours])
    table = ingest.read_table(text.encode())
    mapping = ingest.suggest_mapping(table)
    assert mapping.dayfirst is None
    with pytest.raises(AmbiguousDateOrder) as asked:
        ingest.build_dataset(table, mapping, "t")
    assert (asked.value.column, asked.value.example) == ("date", "01/01/2021 00:00")
    assert "(01/01/2021 00:00 is 1 January 2021 day first, January 1, 2021 month first)" in str(asked.value)
    assert "Read day first they are evenly spaced; read month first they are not." in str(asked.value)
    mapping.dayfirst = True
    day_first = ingest.build_dataset(table, mapping, "t")
    assert day_first.frame.index.equals(pd.DatetimeIndex(hours, name="date")) and day_first.freq == "h"
    assert "Dates were read day first, as chosen: 01/01/2021 00:00 is 1 January 2021." in day_first.notes
    mapping.dayfirst = False
    month_first = ingest.build_dataset(table, mapping, "t")
    assert month_first.frame.index[24] == pd.Timestamp("2021-02-01")


def test_the_command_line_gets_the_question_as_a_plain_refusal(tmp_path):
    path = tmp_path / "ambiguous.csv"
    path.write_text(_file([f"{d:%d/%m/%Y}" for d in pd.date_range("2021-01-01", periods=12, freq="MS")]))
    with pytest.raises(DataError, match="save the dates as year-month-day"):
        ingest.load_csv_file(path)


def test_month_names_and_time_variants_are_one_format():
    stamps = ["3 Jan 2021", "4 January 2021", "5 Jan 2021 06:00", "6 jan 2021"]
    dataset = load_text(_file(stamps))
    assert dataset.frame.index[1] == pd.Timestamp("2021-01-04") and len(dataset.frame) == 4


def test_text_that_is_no_date_is_named_not_mistaken_for_a_format():
    stamps = [f"{d:%d/%m/%Y}" for d in DAYS[:20]]
    stamps[5] = "not recorded"
    with pytest.raises(DataError, match=r"1 cell that is not a date, on line 7 \('not recorded'\)"):
        load_text(_file(stamps))
