"""Which columns of a parsed file could be timestamps, series ids and values.

`read_table` asks this module, and the later steps use its date parsing: '03.04.2024' is read both
day first and month first, and the reading with fewer unreadable cells and the more regular time
axis wins. `infer_frequency` names the step of such an axis.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

TIMESTAMP_NAMES = ("date", "ds", "timestamp", "time", "datetime", "period", "month", "week", "day")
ID_NAMES = ("unique_id", "id", "series", "series_id", "item_id", "key")
VALUE_NAMES = ("y", "value", "target", "ot", "sales")  # names a target goes by
_TIME_ONLY = r"\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*"


def _percent_free(text: pd.Series) -> tuple[pd.Series, bool]:
    """Values written as '12%' lose the sign (they stay in percent); True when that happened."""
    values = text.dropna()
    if len(values) and values.str.endswith("%").mean() >= 0.5:
        return text.str.rstrip("%").str.strip(), True
    return text, False


def _mostly_numeric(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    values = column.dropna()
    if values.empty:
        return False
    text, _ = _percent_free(values.astype("string").str.strip())
    return pd.to_numeric(text, errors="coerce").notna().mean() >= 0.5


def _parse_once(text: pd.Series, dayfirst: bool, fmt: str = "mixed") -> tuple[pd.Series, str | None]:
    """One reading of a date column; time-zone offsets are resolved to naive local or UTC times."""
    try:
        parsed = pd.to_datetime(text, errors="coerce", format=fmt, dayfirst=dayfirst)
    except ValueError:  # several UTC offsets, for example across a daylight-saving change
        parsed = pd.to_datetime(text, errors="coerce", format=fmt, dayfirst=dayfirst, utc=True)
        return parsed.dt.tz_convert(
            None
        ), "Timestamps carry different UTC offsets; they were converted to UTC."
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_localize(
            None
        ), "The UTC offset of the timestamps was dropped; local times are kept."
    return parsed, None


def _regularity(parsed: pd.Series) -> float:
    """Share of steps between sorted distinct times that equal the most common step."""
    times = np.sort(parsed.dropna().unique())
    if len(times) < 3:
        return 1.0
    steps = np.diff(times.astype("datetime64[ns]").astype(np.int64))
    _, counts = np.unique(steps, return_counts=True)
    return counts.max() / len(steps)


def _parse_dates(values: pd.Series, prefer_dayfirst: bool = False) -> tuple[pd.Series, list[str]]:
    """Parse text as dates (NaT where a cell is not a date) and say what was assumed.

    '03.04.2024' is 3 April in most of Europe and March 4 in the US. Both readings are tried and
    the one with fewer unreadable cells, then the more regular and ordered time axis, wins; ties go
    to day first for semicolon or decimal-comma files, else month first.
    """
    text = values.astype("string").str.strip()
    if _share(text, r"\d{4}-\d{1,2}-\d{1,2}.*") > 0.5:
        orders = (False,)  # ISO 8601 is year-month-day everywhere
    else:
        orders = (True, False) if prefer_dayfirst else (False, True)
    readings = []
    for dayfirst in orders:
        parsed, note = _parse_once(text, dayfirst)
        valid = parsed.dropna()
        score = (int(parsed.isna().sum()), -_regularity(parsed), not valid.is_monotonic_increasing)
        readings.append((score, dayfirst, parsed, note))
        if score == (0, -1.0, False):
            break  # a complete, regular, ordered reading: the other order cannot do better
    score, dayfirst, parsed, note = min(readings, key=lambda reading: reading[0])
    notes = [note] if note else []
    if dayfirst or (len(readings) == 2 and not readings[0][2].equals(readings[1][2])):
        example, first = text.dropna().iloc[0], parsed.dropna().iloc[0]
        notes.append(
            f"Dates were read {'day' if dayfirst else 'month'} first: {example} is {first:%d %B %Y}."
        )
    return parsed, notes


def _combine_date_and_time(frame: pd.DataFrame, prefer_dayfirst: bool) -> tuple[pd.DataFrame, str | None]:
    """A date column and a time-of-day column become one timestamp column."""
    text = [c for c, dtype in frame.dtypes.items() if _is_text_dtype(dtype)]
    times = [c for c in text if _share(frame[c], _TIME_ONLY) > 0.9]
    if not times:
        return frame, None
    for date in frame.columns:
        if date in times or not _is_text(frame[date]):
            continue
        sample = frame[date].dropna().astype("string").head(200)
        parsed, _ = _parse_dates(sample, prefer_dayfirst)
        if parsed.notna().mean() >= 0.9 and (parsed.dropna().dt.normalize() == parsed.dropna()).all():
            name = f"{date} {times[0]}"
            combined = (
                frame[date].astype("string").str.strip() + " " + frame[times[0]].astype("string").str.strip()
            )
            frame = frame.drop(columns=[date, times[0]])
            frame.insert(0, name, combined)
            return frame, f"The '{date}' and '{times[0]}' columns were combined into one timestamp, '{name}'."
    return frame, None


def _is_text(column: pd.Series) -> bool:
    return _is_text_dtype(column.dtype)


def _is_number_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_text_dtype(dtype) -> bool:
    return not pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _share(column: pd.Series, pattern: str) -> float:
    values = column.dropna().astype("string").head(200)
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def _timestamp_candidates(frame: pd.DataFrame, prefer_dayfirst: bool = False) -> list[str]:
    """Text columns whose values nearly all parse as dates, likely names first; also a year column."""
    found = []
    for name, dtype in frame.dtypes.items():
        if not _is_text_dtype(dtype) and name.lower() != "year":
            continue  # numbers are no dates, but a column of years
        column = frame[name].dropna()
        if column.empty:
            continue
        if pd.api.types.is_numeric_dtype(column):
            if name.lower() == "year" and _looks_like_years(column):
                found.append(name)
            continue
        if _share(column, r"\s*[-+]?\d+([.,]\d+)?\s*%?") > 0.5 or _share(column, _TIME_ONLY) > 0.5:
            continue  # numbers stored as text are values, and a time of day alone is no date
        parsed, _ = _parse_dates(column.astype("string").head(200), prefer_dayfirst)
        if parsed.notna().mean() >= 0.9:
            found.append(name)
    return sorted(found, key=lambda n: (n.lower() not in TIMESTAMP_NAMES, frame.columns.get_loc(n)))


def _distinct_counts(values: pd.DataFrame) -> pd.Series:
    """`values.nunique()` for float columns, missing values left out, in one pass for all columns
    (pandas counts column by column, which takes seconds for a file of a thousand columns)."""
    ordered = np.sort(values.to_numpy(dtype=float), axis=0)  # NaN sorts last
    changes = (np.diff(ordered, axis=0) != 0) & ~np.isnan(ordered[1:])
    counts = changes.sum(axis=0) + ~np.isnan(ordered[:1]).any(axis=0) if len(ordered) else 0
    return pd.Series(counts, index=values.columns)


def _looks_like_years(column: pd.Series) -> bool:
    values = column.to_numpy(dtype=float)
    return bool(np.all(values == np.round(values)) and values.min() >= 1000 and values.max() <= 3000)


def _id_candidates(frame: pd.DataFrame, timestamps: list[str], numeric: list[str]) -> list[str]:
    """Columns that split a long file into series: repeated ids, each with distinct times.

    Text columns qualify by their values; numeric ones only when named like an id ('unique_id').
    """
    if not timestamps:
        return []
    time_column = frame[timestamps[0]]
    if not time_column.duplicated().any():
        return []
    found = []
    for name in frame.columns:
        if name in timestamps:
            continue
        if name in numeric and name.lower() not in ID_NAMES and not name.lower().endswith("_id"):
            continue
        n_ids = frame[name].nunique(dropna=True)
        if 2 <= n_ids <= len(frame) // 2 and not frame[[name, timestamps[0]]].duplicated().any():
            found.append(name)
    return sorted(found, key=lambda n: n.lower() not in ID_NAMES)


def infer_frequency(index: pd.Index) -> str | None:
    """A pandas offset alias for a time index, tolerant of gaps, duplicates and disorder."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    unique = index.dropna().unique().sort_values()
    if len(unique) < 3:
        return None
    freq = _infer_alias(unique)
    if freq is not None:
        return freq
    # With gaps, infer_freq gives up; the most common alias over short runs is the answer.
    votes = Counter()
    for start in range(0, len(unique) - 4, max(1, len(unique) // 50)):
        alias = _infer_alias(unique[start : start + 5])
        if alias is not None:
            votes[alias] += 1
    if votes:
        return votes.most_common(1)[0][0]
    # Short series: the most common step, if every timestamp lies on its grid.
    steps = np.diff(unique.to_numpy().astype("datetime64[ns]")).astype(np.int64)
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    if step > 0 and np.all(steps % step == 0):
        return pd.tseries.frequencies.to_offset(pd.Timedelta(step, unit="ns")).freqstr
    return None


def _infer_alias(index: pd.DatetimeIndex) -> str | None:
    """`pd.infer_freq` as a string alias (newer pandas returns an offset object)."""
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            offset = pd.infer_freq(index)
    except (KeyError, pd.errors.OptionError):  # pandas without that option returns a string
        return pd.infer_freq(index)
    return None if offset is None else getattr(offset, "freqstr", offset)
