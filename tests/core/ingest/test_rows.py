"""Lines that are no data: summary rows, a repeated header, a units row, Excel error cells; and
units from column names."""

import pandas as pd
import pytest

from core import ingest
from core.ingest.rows import unit_from_name
from tests.core.conftest import load_text


def _daily(rows: int = 30, header: str = "date,sales") -> list[str]:
    return [header] + [f"2024-01-{d + 1:02d},{10 + d % 7}" for d in range(rows)]


@pytest.mark.parametrize(
    "label", ["Total", "total:", "TOTAL", "Sum", "Average", "average:", "Mean", "Grand total", "Grand Total:"]
)
def test_a_summary_row_at_the_end_is_dropped_with_a_note(label):
    dataset = load_text("\n".join(_daily() + [f"{label},99999"]) + "\n")
    assert len(dataset.frame) == 30 and dataset.frame["sales"].max() < 100
    assert f"Dropped 1 summary row at the end: line 32 '{label}'." in dataset.notes


def test_a_summary_label_in_a_timestamp_column_that_is_not_the_first():
    lines = (
        ["store,date,sales"] + [f"north,2024-01-{d + 1:02d},{d}" for d in range(20)] + ["north,Total:,190"]
    )
    dataset = load_text("\n".join(lines) + "\n")
    assert len(dataset.frame) == 20 and "Dropped 1 summary row at the end: line 22 'Total:'." in dataset.notes


def test_summary_rows_at_both_ends_are_listed_by_place():
    lines = _daily()
    lines.insert(1, "Sum,999")
    dataset = load_text("\n".join(lines + ["Mean,12.5"]) + "\n")
    assert len(dataset.frame) == 30
    assert "Dropped 2 summary rows: line 2 'Sum' at the start; line 33 'Mean' at the end." in dataset.notes


def test_a_series_named_total_in_a_long_file_is_data():
    rows = [f"{sid},2024-01-{d + 1:02d},{d}" for sid in ("Total", "north") for d in range(20)]
    table = ingest.read_table(("unique_id,ds,y\n" + "\n".join(rows) + "\n").encode())
    assert table.id_candidates == ["unique_id"] and not table.changes
    assert ingest.series_ids(table, "unique_id") == ["Total", "north"]


def test_a_repeated_header_is_dropped_with_a_note():
    lines = _daily(20) + ["date,sales"] + _daily(30)[21:] + ["date,sales"]
    dataset = load_text("\n".join(lines) + "\n")
    assert len(dataset.frame) == 30 and dataset.freq == "D"
    assert dataset.notes[0] == (
        "The header row repeats on lines 22 and 33: the file looks like 3 files joined. The "
        "repeated header rows were left out."
    )


@pytest.mark.parametrize(
    "units_row, units",
    [
        (",£,°C", {"sales": "£", "temp": "°C"}),
        ("(yyyy-mm-dd),(kWh),[°C]", {"sales": "kWh", "temp": "°C"}),
        ("date,in EUR,", {"sales": "EUR"}),
    ],
)
def test_a_units_row_is_left_out_and_its_units_kept(units_row, units):
    lines = ["date,sales,temp", units_row] + [f"2024-01-{d + 1:02d},{10 + d},{d % 5}" for d in range(20)]
    dataset = load_text("\n".join(lines) + "\n")
    assert len(dataset.frame) == 20 and dataset.units == units
    assert dataset.unit("sales") == units["sales"] and dataset.unit("nothing") == ""
    assert any(n.startswith("Line 2 under the header holds units, not data") for n in dataset.notes)


def test_a_second_header_row_of_words_is_left_out_without_units():
    lines = ["date,sales", "Day of sale,Sales in the shop"] + _daily(20)[1:]
    dataset = load_text("\n".join(lines) + "\n")
    assert len(dataset.frame) == 20 and dataset.units == {}
    assert any("holds words, not data" in note for note in dataset.notes)


@pytest.mark.parametrize("first_row", ["2024-01-01,-", ",n/a", "2024-01-01,"])
def test_a_first_row_of_missing_markers_is_no_units_row(first_row):
    lines = ["date,sales", first_row] + [f"2024-01-{d + 2:02d},{d}" for d in range(20)]
    table = ingest.read_table(("\n".join(lines) + "\n").encode())
    assert not any("under the header" in change for change in table.changes)


@pytest.mark.parametrize(
    "name, unit",
    [
        ("sales (£)", "£"),
        ("load [kWh]", "kWh"),
        ("price_usd", "USD"),
        ("Verbrauch (kWh)", "kWh"),
        ("share_pct", "%"),
        ("temp (°C)", "°C"),
        ("sales", ""),
        ("sales (store 12)", ""),
        ("usd", ""),
        ("power (in MW)", "MW"),
    ],
)
def test_units_from_column_names_keep_the_name(name, unit):
    assert unit_from_name(name) == unit


def test_header_units_reach_the_dataset_and_the_names_stay():
    dataset = load_text(
        "date,sales (£),load [kWh]\n" + "".join(f"2024-01-{d + 1:02d},{d},{d * 2}\n" for d in range(9))
    )
    assert dataset.channels == ["load [kWh]", "sales (£)"]
    assert dataset.units == {"sales (£)": "£", "load [kWh]": "kWh"}


def test_excel_error_cells_are_missing_values_with_a_note():
    lines = _daily(12)
    lines[3] = "2024-01-03,#DIV/0!"
    lines[5] = "2024-01-05,#REF!"
    dataset = load_text("\n".join(lines) + "\n")
    assert int(dataset.frame["sales"].isna().sum()) == 2
    assert any(
        n.startswith("Read 2 Excel error cells (#DIV/0!, #REF!) as missing values: lines 4 and 6.")
        for n in dataset.notes
    )
    assert pd.isna(dataset.frame["sales"].iloc[2])
