"""Table -> `Dataset`: apply the user's column mapping.

The chosen columns become numbers and the timestamp column a time index. What cannot be forecast at
all (text in a value column, no values, infinities, a time axis that is none, too few rows) is
refused here; duplicates, gaps, unsorted rows and missing values pass, for `inspect` to report and
`repair` to fix, so that the user sees and chooses what changes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from core.dataset import ColumnMapping, DataError, Dataset, Table
from core.ingest.columns import VALUE_NAMES, _looks_like_years, _parse_dates, _percent_free, infer_frequency
from core.ingest.read import _clip

_UTC_OFFSET = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?|UTC|GMT)"  # a time with its offset


def suggest_mapping(table: Table) -> ColumnMapping:
    """A sensible first mapping: the best timestamp, a target named like OT/y/value or the last
    numeric column, every other numeric column as an extra channel."""
    numeric = table.numeric_candidates
    target = next((c for c in numeric if c.lower() in VALUE_NAMES), numeric[-1])
    timestamp = table.timestamp_candidates[0] if table.timestamp_candidates else None
    id_column = table.id_candidates[0] if table.id_candidates else None
    series_id = None
    if id_column is not None:
        series_id = str(table.frame[id_column].dropna().iloc[0])
    channels = [c for c in numeric if c != target]
    return ColumnMapping(timestamp, target, channels, id_column, series_id)


def series_ids(table: Table, id_column: str) -> list[str]:
    return sorted(table.frame[id_column].dropna().astype(str).unique().tolist())


def mapping_for_columns(table: Table, columns: list[str], target: str | None = None) -> ColumnMapping:
    """The suggested mapping with `columns` as its channels, as a run's config records its data.

    The target is `target` when it is one of `columns`, else the suggested target when it is, else
    the last of them; the timestamp and the series stay as suggested.
    """
    mapping = suggest_mapping(table)
    chosen = target if target in columns else mapping.target if mapping.target in columns else columns[-1]
    return replace(mapping, target=chosen, channels=[c for c in columns if c != chosen])


def build_dataset(
    table: Table,
    mapping: ColumnMapping,
    name: str,
    *,
    description: str = "",
    source: str = "upload",
    min_rows: int | None = None,
) -> Dataset:
    """Apply the mapping; refuse targets with text, no values or infinities, time axes that are no
    time axes, and short series.

    Duplicates, gaps, unsorted rows and missing values are not refused here: `inspect` reports
    them and `repair` fixes them, so the user sees and chooses what changes.
    """
    frame = table.frame
    if mapping.id_column is not None:
        if mapping.series_id is None:
            raise DataError("This file holds several series. Pick one in 'Series'.")
        frame = frame[frame[mapping.id_column].astype(str) == str(mapping.series_id)]
        if frame.empty:
            raise DataError(f"No rows belong to series '{mapping.series_id}'. Pick another series.")
    columns = [c for c in mapping.channels if c != mapping.target] + [mapping.target]
    for column in columns + ([mapping.timestamp] if mapping.timestamp else []):
        if column not in frame.columns:
            raise DataError(f"There is no column '{column}' in the file. Pick one from the list.")

    line = table.first_data_line
    notes: list[str] = []
    values = pd.DataFrame(
        {c: _to_numbers(frame[c], c, c == mapping.target, line, notes) for c in columns}, index=frame.index
    )
    if values[mapping.target].isna().all():
        raise DataError(
            f"The target column '{mapping.target}' has no values: every cell is empty or "
            "missing. Pick another target column or fill in the values."
        )
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        count = int(infinite.sum())
        where = f"line {frame.index[row] + line}"
        if count > 1:
            where += f", with {count} such cells in all"
        fix = (
            "them with real numbers or leave the cells"
            if count > 1
            else "it with a real number or leave the cell"
        )
        raise DataError(
            f"Column '{columns[col]}' holds an infinite value ({values.iat[row, col]}) on {where}. "
            f"Replace {fix} empty."
        )

    if mapping.timestamp is None:
        values.index = pd.RangeIndex(len(values), name="step")
    else:
        prefer_dayfirst = table.delimiter == ";" or table.decimal == ","
        timestamps = _to_timestamps(frame[mapping.timestamp], mapping.timestamp, line, prefer_dayfirst, notes)
        values.index = pd.DatetimeIndex(timestamps, name=mapping.timestamp)
        _refuse_odd_time_axis(values.index, mapping.timestamp, frame.index + line)

    dataset = Dataset(values, mapping.target, name, description, source, notes=notes)
    if mapping.id_column is not None and min_rows is not None and len(values) < min_rows:
        lengths = table.frame.groupby(table.frame[mapping.id_column].astype(str)).size()
        if lengths.max() < min_rows:
            raise DataError(
                f"Every series in this file is shorter than the look-back plus horizon ({min_rows}): "
                f"the longest, '{lengths.idxmax()}', has {lengths.max()} rows. Use longer series, or "
                "lower the look-back or horizon in the sidebar."
            )
    require_rows(dataset, min_rows)
    dataset.freq = infer_frequency(values.index)
    return dataset


def _refuse_odd_time_axis(index: pd.DatetimeIndex, name: str, lines: pd.Index) -> None:
    """One timestamp on every row, or one far away from all the others (9999-12-31, a year typo)."""
    if len(index) > 1 and index.nunique() == 1:
        raise DataError(
            f"Every row has the same timestamp ({index[0]}) in column '{name}', so it is not the time "
            "axis (an export or report date?). Pick another timestamp column, or 'none (equally "
            "spaced rows)'."
        )
    times = index.unique().sort_values()
    if len(times) < 10:
        return
    steps = times[1:] - times[:-1]
    typical = steps.median()
    for far, gap, rest in (
        (times[0], steps[0], times[-1] - times[1]),
        (times[-1], steps[-1], times[-2] - times[0]),
    ):
        if gap > 1000 * typical and gap > rest:
            others = times[times != far]
            raise DataError(
                f"Line {lines[np.flatnonzero(index == far)[0]]} has the timestamp {far}, far from all "
                f"the others ({others[0]} to {others[-1]}): a placeholder for a missing date, or a typo "
                "in the year? Fix or delete that row."
            )


def require_rows(dataset: Dataset, min_rows: int | None) -> None:
    """Refuse a series too short for one window of look-back plus horizon."""
    if min_rows is not None and len(dataset.frame) < min_rows:
        raise DataError(
            f"'{dataset.name}' has {len(dataset.frame)} rows, fewer than the look-back plus "
            f"horizon ({min_rows}). Use a longer series, or lower the look-back or horizon in "
            "the sidebar."
        )


def _to_numbers(column: pd.Series, name: str, is_target: bool, line: int, notes: list[str]) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    text, had_percent = _percent_free(column.astype("string").str.strip())
    if had_percent:
        notes.append(f"Column '{name}' is written in percent ('12%'); the numbers are kept in percent.")
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() & column.notna()
    if bad.any():
        first, count = bad.idxmax(), int(bad.sum())
        role = "target" if is_target else "channel"
        how_many, fix = (f"{count} such cells", "those cells") if count > 1 else ("the only such cell", "it")
        raise DataError(
            f"The {role} column '{name}' should hold numbers, but line {first + line} holds "
            f"'{_clip(text[first])}' ({how_many}). Fix or empty {fix}, or pick another column."
        )
    return parsed.astype(float)


def _to_timestamps(
    column: pd.Series, name: str, line: int, prefer_dayfirst: bool, notes: list[str]
) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column):
        if not _looks_like_years(column.dropna()):
            raise DataError(
                f"Column '{name}' holds numbers, not dates. Pick a date column as the timestamp, "
                "or choose 'none (equally spaced rows)'."
            )
        parsed = pd.to_datetime(column.astype("Int64").astype(str), format="%Y", errors="coerce")
    else:
        text = column.dropna().astype("string").str.strip()
        offset = text.str.fullmatch(r".*" + _UTC_OFFSET)
        if offset.any() and not offset.all():
            with_, without = offset.idxmax(), (~offset).idxmax()
            raise DataError(
                f"Some timestamps in column '{name}' carry a UTC offset and others do not: line "
                f"{with_ + line} has one ('{_clip(text[with_])}'), line {without + line} has none "
                f"('{_clip(text[without])}'). A time without an offset could be in any time zone; "
                "give every timestamp its offset, or none."
            )
        parsed, date_notes = _parse_dates(column, prefer_dayfirst)
        notes.extend(date_notes)
    bad = parsed.isna()
    if bad.any():
        first, count = bad.idxmax(), int(bad.sum())
        which, fix = (f"{count} cells that are not dates, the first", "those cells")
        if count == 1:
            which, fix = "1 cell that is not a date,", "it"
        raise DataError(
            f"The timestamp column '{name}' has {which} on line {first + line} "
            f"('{_clip(column[first])}'). Fix {fix}, or choose 'none (equally spaced rows)' as the "
            "timestamp."
        )
    return parsed
