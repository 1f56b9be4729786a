"""Inspect -> repair: what is wrong with a series, and the fixes the user chooses.

`inspect` reports repeated timestamps, rows out of time order, gaps in the time grid, missing values
and constant columns; `repair` sorts, drops repeats and fills gaps and missing values, says what it
changed, and refuses a repair that would drop or invent most of the series.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from core.dataset import DataError, Dataset, Problem, describe_frequency
from core.ingest.columns import infer_frequency
from core.ingest.read import _plural


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
    missing_cells = frame.isna().sum()
    for column, count in missing_cells[missing_cells > 0].items():
        if count > MAX_MISSING_SHARE * len(frame):  # too many to fill: `repair` refuses
            message = _mostly_missing(dataset, column, len(frame) - int(count), len(frame))
            problems.append(Problem("missing", message, True, blocking=True))
        else:
            fill = "fill them" if count > 1 else "fill it"
            message = f"Column '{column}' has {_plural(int(count), 'missing value')}. Repair: {fill}."
            problems.append(Problem("missing", message, True))
    for column in frame.columns:
        if frame[column].nunique(dropna=True) <= 1:
            problems.append(
                Problem(
                    "constant",
                    f"Column '{column}' never changes; it carries no information to learn from.",
                    False,
                )
            )
    return problems


def needs_repair(problems: list[Problem]) -> bool:
    return any(p.needs_repair for p in problems)


def blocking(problems: list[Problem]) -> list[Problem]:
    """The problems that no repair can fix: the series cannot be loaded while one remains."""
    return [p for p in problems if p.blocking]


FILL_METHODS = ("interpolate", "ffill")
MAX_DROPPED_SHARE = 0.5  # repair refuses to drop more repeated rows than this share of the file
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
        if count > MAX_DROPPED_SHARE * len(frame):
            raise DataError(
                f"{count} of {len(frame)} rows repeat a timestamp, too many to drop: the file probably "
                "holds several series (pick the column that names them as the series id) or keeps "
                "the date and the time of day in separate columns. Check the timestamp column."
            )
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
    result.freq = infer_frequency(frame.index)
    return result, changes


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
