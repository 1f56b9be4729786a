"""One load for the Data page and the command line: build, refuse, repair, check the length.

Also the benchmarks' reader of protocol files, which keeps every column as it is.
"""

import pandas as pd
import pytest

from core import ingest
from core.dataset import ColumnMapping, DataError
from tests.core.ingest.bad_corpus import BAD

PAGE_CHOICES = dict(sort=True, drop_duplicates=True, fill="interpolate")  # the page's defaults


def _meter_csv(rows: int = 300, needs_repair: bool = True) -> bytes:
    """A European export with day-first dates; one that needs repair lacks an hour and a value."""
    stamps = pd.date_range("2024-01-01", periods=rows, freq="h")
    empty, gap = (7, 20) if needs_repair else (None, None)
    lines = [
        f"{t:%d.%m.%Y %H:%M};{'' if i == empty else f'{100 + i % 24},5'};{5 + i % 7},25"
        for i, t in enumerate(stamps)
        if i != gap
    ]
    return ("Datum;Verbrauch;Temperatur\n" + "\n".join(lines) + "\n").encode("latin-1")


def _page_load(data: bytes, name: str, **choices):
    table = ingest.read_table(data)
    return ingest.load_dataset(table, ingest.suggest_mapping(table), name, **choices)


def test_a_file_needing_repair_loads_with_the_page_defaults_and_says_what_changed():
    dataset, notes = _page_load(_meter_csv(), "meter.csv", min_rows=192, **PAGE_CHOICES)
    assert len(dataset.frame) == 300 and dataset.freq == "h"
    assert not dataset.frame.isna().any().any()
    assert not ingest.needs_repair(ingest.inspect(dataset))
    assert any("day first" in note for note in notes)  # what reading assumed comes first
    assert notes[-2:] == [
        "Inserted 1 missing timestamp.",
        "Filled 3 missing values by linear interpolation.",
    ]


def test_a_series_needing_no_repair_loads_as_built():
    table = ingest.read_table(_meter_csv(needs_repair=False))
    mapping = ingest.suggest_mapping(table)
    built = ingest.build_dataset(table, mapping, "t")
    loaded, notes = ingest.load_dataset(table, mapping, "t", **PAGE_CHOICES)
    pd.testing.assert_frame_equal(loaded.frame, built.frame)
    assert loaded.freq == built.freq == "h" and notes == built.notes


def test_a_blocking_problem_is_refused_with_its_own_message():
    data = (BAD / "mostly_missing_target.csv").read_bytes()
    table = ingest.read_table(data)
    built = ingest.build_dataset(table, ingest.suggest_mapping(table), "t")
    [problem] = ingest.blocking(ingest.inspect(built))
    with pytest.raises(DataError) as refused:
        _page_load(data, "sparse.csv", **PAGE_CHOICES)
    assert str(refused.value) == problem.message
    assert "has values in only 24 of 240 rows" in str(refused.value)


def test_what_the_chosen_repairs_leave_unusable_is_refused():
    with pytest.raises(DataError, match="^Still not usable after the chosen repairs: The rows run newest"):
        _page_load((BAD / "newest_first.csv").read_bytes(), "t", sort=False)


def test_too_few_rows_are_refused_before_and_after_a_repair():
    with pytest.raises(DataError, match=r"has 299 rows, fewer than the look-back plus horizon \(400\)"):
        _page_load(_meter_csv(), "meter.csv", min_rows=400)
    # 402 rows, 2 of them repeats: long enough as read, too short once the repeats are dropped
    with pytest.raises(DataError, match=r"has 400 rows, fewer than the look-back plus horizon \(401\)"):
        _page_load((BAD / "duplicate_timestamps.csv").read_bytes(), "dupes.csv", min_rows=401)


def test_the_command_line_and_the_page_load_a_file_alike(tmp_path):
    path = tmp_path / "meter.csv"
    path.write_bytes(_meter_csv())
    page, page_notes = _page_load(path.read_bytes(), "meter.csv", **PAGE_CHOICES)
    cli, cli_notes = ingest.load_csv_file(path)
    pd.testing.assert_frame_equal(cli.frame, page.frame)
    assert (cli.target, cli.freq, cli.content_hash()) == (page.target, page.freq, page.content_hash())
    assert cli_notes == page_notes and cli.source == str(path)

    table = ingest.read_table(path.read_bytes())
    mapping = ColumnMapping("Datum", "Verbrauch", ["Temperatur"])  # another target than suggested
    chosen, _ = ingest.load_dataset(table, mapping, "meter.csv", **PAGE_CHOICES)
    again, _ = ingest.load_csv_file(path, ["Temperatur", "Verbrauch"], "Verbrauch")
    assert again.channels == chosen.channels and again.content_hash() == chosen.content_hash()


def test_the_columns_of_a_run_config_choose_target_and_channels():
    table = ingest.read_table(_meter_csv())
    assert ingest.suggest_mapping(table).target == "Temperatur"
    mapping = ingest.mapping_for_columns(table, ["Temperatur", "Verbrauch"], "Verbrauch")
    assert (mapping.timestamp, mapping.target, mapping.channels) == ("Datum", "Verbrauch", ["Temperatur"])
    # without a target among the columns: the suggested target if listed, else the last column
    assert ingest.mapping_for_columns(table, ["Verbrauch", "Temperatur"]).target == "Temperatur"
    assert ingest.mapping_for_columns(table, ["Verbrauch"], "nope").target == "Verbrauch"


def test_a_file_without_the_named_columns_is_refused(tmp_path):
    path = tmp_path / "meter.csv"
    path.write_bytes(_meter_csv())
    with pytest.raises(DataError, match=r"has no column\(s\) 'load' named in `columns`"):
        ingest.load_csv_file(path, ["load", "Verbrauch"])


def test_protocol_csv_keeps_channels_in_file_order(tmp_path, etth1):
    path = tmp_path / "ett.csv"
    etth1.head(20).to_csv(path, index=False)
    frame = ingest.read_protocol_csv(path)
    assert list(frame.columns) == list(etth1.columns[1:])
