"""The steps end to end: a table and its mapping, or a CSV file, to a series ready to forecast.

The Data page and `python -m core train` both load through `load_dataset`, so the same file with
the same choices gives the same series, the same refusals and the same notes in both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.dataset import ColumnMapping, DataError, Dataset, Table
from core.ingest.columns import _parse_dates
from core.ingest.mapping import _to_numbers, build_dataset, mapping_for_columns, require_rows, suggest_mapping
from core.ingest.read import read_table
from core.ingest.repair import blocking, inspect, needs_repair, repair


def load_dataset(
    table: Table,
    mapping: ColumnMapping,
    name: str,
    *,
    description: str = "",
    source: str = "upload",
    min_rows: int | None = None,
    sort: bool = True,
    drop_duplicates: bool = True,
    fill: str | None = "interpolate",
) -> tuple[Dataset, list[str]]:
    """Build the series, repair it with the given choices if it needs repair, and say what happened.

    Raises `DataError` for what `build_dataset` refuses, for problems no repair can fix, for what
    is still unusable after the chosen repairs, and for a series shorter than `min_rows` (a repair
    can drop rows). The notes are what reading the series assumed, then what the repair changed,
    then the warnings (probable outliers, kept as they are).
    """
    dataset = build_dataset(table, mapping, name, description=description, source=source, min_rows=min_rows)
    problems = inspect(dataset)
    unfixable = blocking(problems)
    if unfixable:
        raise DataError(" ".join(p.message for p in unfixable))
    changes: list[str] = []
    if needs_repair(problems):
        dataset, changes = repair(dataset, sort=sort, drop_duplicates=drop_duplicates, fill=fill)
        left = [p.message for p in inspect(dataset) if p.needs_repair]
        if left:
            raise DataError("Still not usable after the chosen repairs: " + " ".join(left))
    require_rows(dataset, min_rows)
    return dataset, dataset.notes + changes + [p.message for p in problems if p.warning]


def load_csv_file(
    path: str | Path, columns: list[str] | None = None, target: str | None = None
) -> tuple[Dataset, list[str]]:
    """A CSV file on disk loaded as `load_dataset` loads an upload, with the default repairs.

    `columns` (with `target` among them) chooses its channels in place of the suggested mapping, as
    the Data page did when a run was trained there. A file on disk has no upload limit.
    """
    path = Path(path)
    table = read_table(path.read_bytes(), max_bytes=None)
    if columns:
        missing = [c for c in columns if c not in table.frame.columns]
        if missing:
            raise DataError(
                f"the file {path} has no column(s) {', '.join(map(repr, missing))} named in `columns`"
            )
        mapping = mapping_for_columns(table, columns, target)
    else:
        mapping = suggest_mapping(table)
    return load_dataset(table, mapping, path.name, source=str(path))


def read_protocol_csv(path) -> pd.DataFrame:
    """A benchmark file in the Time-Series-Library layout: a date column first, then channels.

    Channels keep the file's order. Files the protocol cannot score as they are (several series,
    rows out of time order, missing values) are refused rather than silently scored.
    """
    with open(path, "rb") as handle:
        table = read_table(handle.read(), max_bytes=None)
    if table.id_candidates:
        raise DataError(
            f"{path} holds several series (column '{table.id_candidates[0]}' names them); the protocol "
            "scores one multichannel series. Pivot it to one column per series."
        )
    frame = table.frame
    numbers = pd.DataFrame(
        {c: _to_numbers(frame[c], c, False, table.first_data_line, []) for c in table.numeric_candidates}
    )
    if table.timestamp_candidates:
        stamps, _ = _parse_dates(frame[table.timestamp_candidates[0]])
        if not stamps.dropna().is_monotonic_increasing:
            raise DataError(f"The rows of {path} are not in time order; sort them first.")
    missing = int(numbers.isna().sum().sum())
    if missing:
        raise DataError(
            f"{path} has {missing} empty cells; the protocol needs complete data. Fill them first "
            "(the dashboard's Data page can)."
        )
    return numbers
