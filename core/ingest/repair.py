"""Inspect -> repair: what is wrong with a series, and the fixes the user chooses.

`inspect` reports repeated timestamps, rows out of time order, gaps in the time grid, missing values,
constant columns and probable outliers (many columns of one kind make one problem, not one each);
`repair` sorts, drops repeats and fills gaps and missing values, says what it
changed, and refuses a repair that would drop or invent most of the series.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from core.dataset import DataError, Dataset, Problem, describe_frequency
from core.ingest.columns import _distinct_counts, infer_frequency
from core.ingest.words import _names, _plural


def expected_index(dataset: Dataset) -> pd.DatetimeIndex | None:
    """The complete regular time index from first to last timestamp, when the frequency is known."""
    if not dataset.has_time_index or dataset.freq is None:
        return None
    index = dataset.frame.index
    return pd.date_range(index.min(), index.max(), freq=dataset.freq)


def inspect(dataset: Dataset) -> list[Problem]:
    """Everything about the series that a user should know before forecasting it."""
    frame, problems = dataset.frame, []
    if dataset.has_time_index:
        duplicated = frame.index.duplicated(keep="first")
        if duplicated.any():
            examples = ", ".join(str(t) for t in frame.index[duplicated].unique()[:3])
            count = int(duplicated.sum())
            if count >= MAX_DROPPED_SHARE * len(frame):  # keeping the first would mix series: no repair
                problems.append(
                    Problem("duplicates", _too_many_repeats(count, len(frame)), True, blocking=True)
                )
            else:
                problems.append(
                    Problem(
                        "duplicates",
                        f"{_plural(count, 'row')} {'repeat' if count > 1 else 'repeats'} a timestamp of an "
                        "earlier row "
                        f"(for example {examples}). Repair: keep the first row of each timestamp.",
                        True,
                    )
                )
        if not frame.index.is_monotonic_increasing:
            message = "The rows are not in time order. Repair: sort by time."
            if frame.index.is_monotonic_decreasing:
                message = (
                    f"The rows run newest first, from {frame.index[0]} back to {frame.index[-1]}. "
                    "Repair: sort by time, oldest first."
                )
            problems.append(Problem("unsorted", message, True))
        expected = expected_index(dataset)
        if expected is None:
            problems.append(
                Problem(
                    "irregular",
                    "The time steps are irregular, so no frequency could be inferred; the rows "
                    "will be treated as equally spaced steps.",
                    False,
                )
            )
        else:
            missing = expected.difference(frame.index)
            grid = f"the regular {describe_frequency(dataset.freq)} grid"
            if len(missing) == 1:
                message = f"1 timestamp is missing from {grid} ({missing[0]}). "
                message += "Repair: insert it and fill its values."
                problems.append(Problem("gaps", message, True))
            elif len(missing):
                message = (
                    f"{len(missing)} timestamps are missing from {grid} (the first is {missing[0]}). "
                    "Repair: insert them and fill their values."
                )
                problems.append(Problem("gaps", message, True))
    problems.extend(_missing_values(dataset))
    constant = [c for c, n in _distinct_counts(frame).items() if n <= 1]
    if len(constant) == 1:
        message = f"Column '{constant[0]}' never changes; it carries no information to learn from."
        problems.append(Problem("constant", message, False, columns=constant))
    elif constant:
        message = (
            f"{len(constant):,} of {_plural(frame.shape[1], 'column')} never change: {_names(constant)}. "
            "They carry no information to learn from; leave them out of the extra channels."
        )
        problems.append(Problem("constant", message, False, columns=constant))
    problems.extend(_outliers(dataset))
    return problems


def _missing_values(dataset: Dataset) -> list[Problem]:
    """Columns with missing values: those repair fills, and those too empty to fill (blocking).
    Many columns are one problem each way, not one a column."""
    frame = dataset.frame
    counts = frame.isna().sum()
    counts = counts[counts > 0]
    sparse = [c for c, n in counts.items() if n > MAX_MISSING_SHARE * len(frame)]
    fillable = [c for c in counts.index if c not in sparse]
    problems = []
    if len(fillable) == 1:
        count = int(counts[fillable[0]])
        fill = "fill them" if count > 1 else "fill it"
        message = f"Column '{fillable[0]}' has {_plural(count, 'missing value')}. Repair: {fill}."
        problems.append(Problem("missing", message, True, columns=fillable))
    elif fillable:
        total = int(counts[fillable].sum())
        message = (
            f"{_plural(len(fillable), 'column')} have missing values, {total:,} in all: "
            f"{_names(fillable)}. Repair: fill them."
        )
        problems.append(Problem("missing", message, True, columns=fillable))
    if dataset.target in sparse:  # the target first: its advice differs
        message = _mostly_missing(
            dataset, dataset.target, len(frame) - int(counts[dataset.target]), len(frame)
        )
        problems.append(Problem("missing", message, True, blocking=True, columns=[dataset.target]))
    channels = [c for c in sparse if c != dataset.target]
    if len(channels) == 1:
        message = _mostly_missing(dataset, channels[0], len(frame) - int(counts[channels[0]]), len(frame))
        problems.append(Problem("missing", message, True, blocking=True, columns=channels))
    elif channels:
        message = (
            f"{_plural(len(channels), 'column')} have values in fewer than half of the {len(frame):,} "
            f"rows: {_names(channels)}; filling the rest would invent most of them. Leave them out of "
            "the extra channels, or upload an extract in which they are filled in."
        )
        problems.append(Problem("missing", message, True, blocking=True, columns=channels))
    return problems


OUTLIER_IQRS = 10  # a value this many interquartile ranges beyond the middle half is flagged


def _outliers(dataset: Dataset) -> list[Problem]:
    """Values more than `OUTLIER_IQRS` interquartile ranges below the first quartile or above the
    third: a typo, a unit slip or a sensor fault, more often than a real event. Flagged, never
    changed. A column whose middle half is one value (IQR 0, as sparse counts) is passed over."""
    frame = dataset.frame
    quartiles = frame.quantile([0.25, 0.75])
    low, high = quartiles.iloc[0], quartiles.iloc[1]
    spread = high - low
    far = frame.lt(low - OUTLIER_IQRS * spread) | frame.gt(high + OUTLIER_IQRS * spread)
    far = far.loc[:, (spread > 0) & far.any()]
    if far.empty:
        return []
    lines = (
        dataset.file_lines
        if dataset.file_lines is not None and len(dataset.file_lines) == len(frame)
        else None
    )
    found = {c: _where(frame[c], far[c].to_numpy(), lines) for c in far.columns}
    columns = list(found)
    check = "Check them before training; they were kept."
    if len(columns) == 1:
        [(column, places)] = found.items()
        count = int(far[column].sum())
        values = "a value" if count == 1 else f"{count:,} values"
        check = "Check it before training; it was kept." if count == 1 else check
        message = (
            f"Column '{column}' has {values} more than {OUTLIER_IQRS} interquartile ranges outside the "
            f"rest of the column, probably {'an outlier' if count == 1 else 'outliers'}: {places}. {check}"
        )
    else:
        shown = "; ".join(f"'{c}': {found[c]}" for c in columns[:5])
        more = f"; and {len(columns) - 5:,} more columns" if len(columns) > 5 else ""
        message = (
            f"{len(columns):,} columns have values more than {OUTLIER_IQRS} interquartile ranges outside "
            f"the rest of their column, probably outliers: {shown}{more}. {check}"
        )
    return [Problem("outlier", message, False, warning=True, columns=columns)]


def _where(column: pd.Series, far: np.ndarray, lines: np.ndarray | None, most: int = 3) -> str:
    """'99999 on line 53, -4000 on line 80 and 2 more': the first flagged values and their rows."""
    positions = far.nonzero()[0]
    places = []
    for position in positions[:most]:
        if lines is not None:
            at = f"on line {lines[position]}"
        elif isinstance(column.index, pd.DatetimeIndex):
            at = f"at {column.index[position]}"
        else:
            at = f"at step {column.index[position]}"
        places.append(f"{column.iloc[position]:g} {at}")
    more = f" and {len(positions) - most:,} more" if len(positions) > most else ""
    return ", ".join(places) + more


def needs_repair(problems: list[Problem]) -> bool:
    return any(p.needs_repair for p in problems)


def blocking(problems: list[Problem]) -> list[Problem]:
    """The problems that no repair can fix: the series cannot be loaded while one remains."""
    return [p for p in problems if p.blocking]


FILL_METHODS = ("interpolate", "ffill")
MAX_DROPPED_SHARE = 0.5  # repair refuses to drop this share of the file or more as repeated rows
MAX_INSERTED_SHARE = 0.1  # ... or to invent more gap rows than this share of the result
MAX_MISSING_SHARE = 0.5  # ... or to fill a column with more than this share of its cells missing


def repair(
    dataset: Dataset,
    *,
    sort: bool = True,
    drop_duplicates: bool = True,
    fill: str | None = "interpolate",
) -> tuple[Dataset, list[str]]:
    """Fix what `inspect` found and return the new dataset with a list of what was changed."""
    frame, changes = dataset.frame.copy(), []
    if sort and not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        changes.append("Sorted the rows by time.")
    if drop_duplicates and frame.index.duplicated().any():
        count = int(frame.index.duplicated().sum())
        if count >= MAX_DROPPED_SHARE * len(frame):
            raise DataError(_too_many_repeats(count, len(frame)))
        frame = frame[~frame.index.duplicated(keep="first")]
        changes.append(
            f"Dropped {_plural(count, 'row')} that repeated an earlier timestamp (kept the first)."
        )
    result = replace(dataset, frame=frame)
    expected = expected_index(result)
    if fill is not None:
        if fill not in FILL_METHODS:
            raise ValueError(f"unknown fill method {fill!r}; choose {' or '.join(FILL_METHODS)}")
        if expected is not None and frame.index.is_unique and len(expected) > len(frame):
            added = len(expected) - len(frame)
            if added > max(MAX_INSERTED_SHARE * len(expected), 5):
                raise DataError(
                    f"Filling the gaps would invent {added} of {len(expected)} rows: the timestamps "
                    f"may be misread (day and month swapped?) or the series is not on a regular "
                    f"{describe_frequency(result.freq)} grid. Check the timestamp column."
                )
            frame = frame.reindex(expected)
            frame.index.name = dataset.frame.index.name
            changes.append(f"Inserted {_plural(added, 'missing timestamp')}.")
        missing_cells = frame.isna().sum()
        sparse = missing_cells[missing_cells > MAX_MISSING_SHARE * len(frame)]
        if len(sparse):
            present = len(frame) - int(sparse.iloc[0])
            raise DataError(_mostly_missing(dataset, sparse.index[0], present, len(frame)))
        missing = int(missing_cells.sum())
        if missing:
            if fill == "interpolate":
                filled = frame.interpolate(method="linear", limit_direction="both")
                how = "linear interpolation"
            else:
                filled = frame.ffill().bfill()
                how = "carrying the last value forward"
            frame = filled
            changes.append(f"Filled {_plural(missing, 'missing value')} by {how}.")
    result = replace(dataset, frame=frame)
    if not frame.index.equals(dataset.frame.index):  # rows moved, went or came: lines no longer fit
        result.file_lines = None
    result.freq = infer_frequency(frame.index)
    return result, changes


def _too_many_repeats(count: int, rows: int) -> str:
    """Half the rows or more repeat a timestamp: two series side by side, not a few repeats, and
    keeping the first row of each timestamp would stitch them into one."""
    return (
        f"{count:,} of {rows:,} rows repeat a timestamp, too many to drop: the file probably holds "
        "several series (pick the column that names them as the series id) or keeps the date and "
        "the time of day in separate columns. Check the timestamp column."
    )


def _mostly_missing(dataset: Dataset, column: str, present: int, rows: int) -> str:
    """Why a mostly empty column cannot be filled, and the choices that remain for it."""
    if column != dataset.target:
        advice = "Leave it out of the extra channels, or upload"
    elif len(dataset.channels) > 1:
        advice = "Pick another target, or upload"
    else:
        advice = "Upload"
    return (
        f"Column '{column}' has values in only {present} of {rows} rows ({present / rows:.0%}); "
        f"filling the rest would invent most of the series. {advice} an extract in which it is "
        "filled in."
    )
