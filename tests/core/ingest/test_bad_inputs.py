"""Each bad file gets its own message from the engine (the page tests check the page too), and the
files that only carry rows that are no data load without them."""

import pytest

from core import ingest
from core.dataset import DataError
from tests.core.ingest.bad_corpus import BAD, EXPECTED_MESSAGES, LOADED


def _messages(data: bytes) -> list[str]:
    """Every message a user would see: a refusal, or the notes on reading it and the problems."""
    try:
        table = ingest.read_table(data)
        dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "bad", min_rows=192)
    except DataError as error:
        return [str(error)]
    return table.notes + dataset.notes + [p.message for p in ingest.inspect(dataset)]


def test_the_corpus_is_complete():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED_MESSAGES)


@pytest.mark.parametrize("name", sorted(EXPECTED_MESSAGES))
def test_bad_file_gets_its_message(name):
    messages = _messages((BAD / name).read_bytes())
    assert any(EXPECTED_MESSAGES[name] in m for m in messages), messages


@pytest.mark.parametrize("name", sorted(LOADED))
def test_a_file_loads_without_the_rows_that_are_no_data(name):
    rows, target, units = LOADED[name]
    table = ingest.read_table((BAD / name).read_bytes())
    dataset, _ = ingest.load_dataset(table, ingest.suggest_mapping(table), name, min_rows=192)
    assert (len(dataset.frame), dataset.target, dataset.units) == (rows, target, units)
    assert not dataset.frame.isna().any().any() and dataset.frame.index.is_unique
    if name != "outlier.csv":  # no total, mean or header was read as a value
        assert dataset.frame.abs().max().max() < 1000


def test_summary_rows_are_dropped_whatever_their_place():
    for name in ("summary_rows_end.csv", "summary_rows_start.csv"):
        table = ingest.read_table((BAD / name).read_bytes())
        dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), name)
        assert str(dataset.frame.index[0]) == "2021-01-01 00:00:00" and dataset.freq == "D"
        assert dataset.frame["sales"].max() < 600


def test_excel_errors_are_missing_values_that_repair_fills():
    table = ingest.read_table((BAD / "excel_errors.csv").read_bytes())
    built = ingest.build_dataset(table, ingest.suggest_mapping(table), "t")
    assert int(built.frame.isna().sum().sum()) == 4
    _, notes = ingest.load_dataset(table, ingest.suggest_mapping(table), "t")
    assert "Filled 4 missing values by linear interpolation." in notes


def test_a_probable_outlier_is_kept_and_named_in_the_notes():
    table = ingest.read_table((BAD / "outlier.csv").read_bytes())
    dataset, notes = ingest.load_dataset(table, ingest.suggest_mapping(table), "t")
    assert dataset.frame["load"].max() == 99999
    assert any("99999 on line 53" in note for note in notes)
    [problem] = ingest.inspect(dataset)
    assert problem.kind == "outlier" and problem.warning and not problem.needs_repair


def test_a_wide_file_gets_one_message_for_all_its_constant_columns():
    table = ingest.read_table((BAD / "wide_constant_columns.csv").read_bytes())
    dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "t")
    [problem] = ingest.inspect(dataset)
    assert problem.kind == "constant" and len(problem.columns) == 1198
    assert problem.columns[:2] == ["c3", "c4"] and "and 1,188 more" in problem.message
