"""Table -> `Dataset`: apply the user's column mapping.

The chosen columns become numbers and the timestamp column a time index. What cannot be forecast at
all (text in a value column, no values, infinities, a time axis that is none, too few rows) is
refused here, and so is a timestamp column written in two ways (`core.ingest.dates`); duplicates,
gaps, unsorted rows and missing values pass, for `inspect` to report and `repair` to fix, so that the
user sees and chooses what changes. `suggest_mapping` proposes the columns' roles.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from core.dataset import ColumnMapping, DataError, Dataset, Table
from core.ingest.columns import (
    VALUE_NAMES,
    _distinct_counts,
    _is_number_dtype,
    _looks_like_years,
    _percent_free,
    infer_frequency,
)
from core.ingest.dates import read_dates
from core.ingest.words import _clip, _names

NO_TIMESTAMP = "none (equally spaced rows)"  # the choice of no timestamp column, as the Data page words it


def suggest_mapping(table: Table) -> ColumnMapping:
    """A sensible first mapping: the best timestamp, a target (see `_default_target`), every other
    numeric column as an extra channel."""
    numeric = table.numeric_candidates
    target = _default_target(table)
    timestamp = table.timestamp_candidates[0] if table.timestamp_candidates else None
    id_column = table.id_candidates[0] if table.id_candidates else None
    series_id = None
    if id_column is not None:
        series_id = str(table.frame[id_column].dropna().iloc[0])
    channels = [c for c in numeric if c != target]
    return ColumnMapping(timestamp, target, channels, id_column, series_id)


_CALENDAR_NAMES = ("year", "quarter", "month", "week", "weekday", "dayofweek", "day_of_week", "dow", "day")
_CALENDAR_NAMES += ("dayofyear", "day_of_year", "doy", "hour", "minute", "second")


def _default_target(table: Table) -> str:
    """The first numeric column named like a target (y, value, target, OT, sales, in any case, a
    unit such as ' (£)' aside), else the most variable one.

    Variability is the coefficient of variation with the mean absolute value below the standard
    deviation, so that a column around zero does not divide by nearly nothing and any column
    compares with any other whatever its unit. Constant columns, flags (two values), counters (one
    step throughout, as row numbers) and calendar columns (hour, month, …) are passed over while
    another column is left; the file order never decides but a tie.
    """
    numeric = table.numeric_candidates
    named = next((c for c in numeric if _bare_name(c) in VALUE_NAMES), None)
    if named is not None:
        return named
    values = _numbers(table.frame, numeric)
    distinct = _distinct_counts(values)
    steps = values.diff().iloc[1:]
    counter = (steps.max() == steps.min()) & steps.notna().any()  # row numbers, a running count
    eligible = (distinct > 2) & ~counter
    eligible &= pd.Series([_bare_name(c) not in _CALENDAR_NAMES for c in numeric], index=numeric)
    if not eligible.any():
        eligible = distinct > 1
    if not eligible.any():
        return numeric[0]
    variation = values.std() / values.abs().mean()
    return str(variation[eligible].fillna(0.0).idxmax())


def _bare_name(name: str) -> str:
    """A column name in lower case without a unit in brackets: 'Sales (£)' -> 'sales'."""
    return re.sub(r"\s*[(\[][^()\[\]]*[)\]]\s*$", "", name).strip().lower()


def _numbers(frame: pd.DataFrame, columns: list[str], convert=None) -> pd.DataFrame:
    """The columns as floats, text converted by `convert(name)` (by default: what is no number is
    NaN). Numeric columns become one block at once: a thousand columns one by one take seconds."""
    dtypes = frame.dtypes
    ready = [c for c in columns if _is_number_dtype(dtypes[c])]
    values = pd.DataFrame(frame[ready].to_numpy(dtype=float), index=frame.index, columns=ready)
    for c in columns:
        if c not in values:
            values[c] = convert(c) if convert else _loose_numbers(frame[c])
    return values[columns]


def _loose_numbers(column: pd.Series) -> pd.Series:
    text, _ = _percent_free(column.astype("string").str.strip())
    return pd.to_numeric(text, errors="coerce").astype(float)


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
    notes: list[str] = list(table.changes)
    in_percent: list[str] = []
    values = _numbers(
        frame, columns, lambda c: _to_numbers(frame[c], c, c == mapping.target, line, in_percent)
    )
    if in_percent:
        notes.append(
            f"{'Column' if len(in_percent) == 1 else 'Columns'} {_names(in_percent)} "
            f"{'is' if len(in_percent) == 1 else 'are'} written in percent ('12%'); the numbers are "
            "kept in percent."
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
        timestamps = _to_timestamps(
            frame[mapping.timestamp], mapping.timestamp, line, mapping.dayfirst, prefer_dayfirst, notes
        )
        values.index = pd.DatetimeIndex(timestamps, name=mapping.timestamp)
        _refuse_odd_time_axis(values.index, mapping.timestamp, frame.index + line)

    units = {c: table.units[c] for c in columns if c in table.units}
    dataset = Dataset(values, mapping.target, name, description, source, notes=notes, units=units)
    dataset.file_lines = (frame.index + line).to_numpy()
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
            "axis (an export or report date?). Pick another timestamp column; choose "
            f"'{NO_TIMESTAMP}' only if the rows are one time step apart each."
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


def _to_numbers(column: pd.Series, name: str, is_target: bool, line: int, in_percent: list[str]) -> pd.Series:
    """A column as numbers, its name added to `in_percent` when it was written as '12%'."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    text, had_percent = _percent_free(column.astype("string").str.strip())
    if had_percent:
        in_percent.append(name)
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
    column: pd.Series, name: str, line: int, dayfirst: bool | None, prefer_dayfirst: bool, notes: list[str]
) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column):
        if not _looks_like_years(column.dropna()):
            raise DataError(
                f"Column '{name}' holds numbers, not dates. Pick a date column as the timestamp; "
                f"choose '{NO_TIMESTAMP}' only if the rows are one time step apart each."
            )
        parsed = pd.to_datetime(column.astype("Int64").astype(str), format="%Y", errors="coerce")
    else:
        parsed, date_notes = read_dates(column, name, line, dayfirst, prefer_dayfirst)
        notes.extend(date_notes)
    bad = parsed.isna()
    if bad.any():
        first, count = bad.idxmax(), int(bad.sum())
        which, fix = (f"{count} cells that are not dates, the first", "those cells, or delete their rows")
        if count == 1:
            which, fix = "1 cell that is not a date,", "it, or delete its row"
        raise DataError(
            f"The timestamp column '{name}' has {which} on line {first + line} "
            f"('{_clip(column[first])}'). Fix {fix} if no date belongs there, and upload the file again."
        )
    return parsed
