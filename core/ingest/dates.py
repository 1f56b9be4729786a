"""A timestamp column read one way for every row, or refused with the lines that disagree.

`pd.to_datetime(format="mixed")` reads each cell on its own: '2021-01-04' and '03/01/2021' both
become dates, and '13/01/2021' is read day first beside '03/01/2021' read month first, so one file
can hold two calendars without a word. Here every cell is sorted by the way its date is written
(year-month-day, day/month or month/day, the month in words, …). A column written more than one
way is refused with the lines of each. In a column written day/month or month/day, a first number
over 12 settles day first for every row and a second number over 12 month first; both at once is
refused, and neither (every day 12 or less) is a question for the user: `AmbiguousDateOrder`,
unless the mapping's `dayfirst` answers it.
"""

from __future__ import annotations

import re

import pandas as pd
from pandas.tseries.api import guess_datetime_format

from core.dataset import AmbiguousDateOrder, DataError
from core.ingest.columns import _parse_dates, _parse_once, _regularity
from core.ingest.words import _clip, _lines

_DIGITS = str.maketrans("0123456789", "9999999999")
_UTC_OFFSET = re.compile(
    r".*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?|UTC|GMT)"
)  # a time, an offset
_MONTH_WORDS = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", re.IGNORECASE)
_COUNTS = {2: "two", 3: "three", 4: "four", 5: "five"}


def read_dates(
    column: pd.Series, name: str, line: int, dayfirst: bool | None, prefer_dayfirst: bool
) -> tuple[pd.Series, list[str]]:
    """Parse a text column as dates (NaT where a cell is none) and say what was assumed.

    `line` is the file line of row label 0. Raises `DataError` for a column that mixes formats or
    day orders, and `AmbiguousDateOrder` when only the user can tell the day order.
    """
    text = column.astype("string").str.strip()
    present = text.dropna()
    patterns = present.str.translate(_DIGITS)  # '03/01/2021 10:00' -> '99/99/9999 99:99'
    unique = patterns.unique()  # a few, not one a row
    offsets = patterns.map({pattern: bool(_UTC_OFFSET.fullmatch(pattern)) for pattern in unique})
    if offsets.any() and not offsets.all():
        with_, without = offsets.idxmax(), (~offsets).idxmax()
        raise DataError(
            f"Some timestamps in column '{name}' carry a UTC offset and others do not: line "
            f"{with_ + line} has one ('{_clip(present[with_])}'), line {without + line} has none "
            f"('{_clip(present[without])}'). A time without an offset could be in any time zone; "
            "give every timestamp its offset, or none."
        )
    by_pattern = {pattern: _family(pattern) for pattern in unique}
    families = patterns.map(by_pattern).dropna()
    if families.empty:  # written in no way this module knows (2021Q1): the cell-by-cell reading
        return _parse_dates(column, prefer_dayfirst)
    kinds = list(families.unique())  # in order of first appearance
    if len(kinds) > 1:
        _refuse_mixed(name, present, families, kinds, line)
    if not kinds[0].startswith("dm"):
        return _with_note(*_parse_fast(text, False), [])
    dates = present[families.index]
    order, decisive = _day_order(name, dates, patterns[families.index], line, dayfirst)
    parsed, note = _parse_fast(text, order)
    how = f"{'day' if order else 'month'} first"
    if decisive is None:
        row = dates.index[0]
        said = f"Dates were read {how}, as chosen: {dates[row]} is {_day(parsed[row], not order)}."
    else:
        row = decisive
        said = f"Dates were read {how}: line {row + line} has {dates[row]}, which can only be "
        said += f"{_day(parsed[row], not order)}."
    return _with_note(parsed, note, [said])


def _day(when: pd.Timestamp, month_first: bool = False) -> str:
    """'3 January 2021', or 'January 3, 2021' as a month-first reader says it."""
    return f"{when:%B} {when.day}, {when.year}" if month_first else f"{when.day} {when:%B %Y}"


def _with_note(parsed: pd.Series, note: str | None, notes: list[str]) -> tuple[pd.Series, list[str]]:
    return parsed, ([note] if note else []) + notes


def _family(pattern: str) -> str | None:
    """How a date is written, from its digits-as-9 pattern with the time of day left out: 'ymd',
    'dm/' (day/month or month/day, with its separator), 'words' (a month name), 'compact'
    (20210104); None for what is written in no way known here (text that is no date, 2021Q1)."""
    shape = re.sub(r"[T\s]*9{1,2}:99.*$", "", pattern)  # the time of day, and what follows it
    shape = re.sub(r"(?<!9)9{8}(?!9)", "<D>", shape)
    shape = re.sub(r"(?<!9)9{4}(?!9)", "<Y>", shape)
    shape = re.sub(r"(?<!9)9{1,2}(?!9)", "<n>", shape).strip()
    if re.fullmatch(r"<Y>([-/.])<n>\1<n>", shape):
        return "ymd"
    match = re.fullmatch(r"<n>([-/. ])<n>\1<[Yn]>", shape)
    if match:
        return "dm" + match.group(1)
    if shape == "<D>":
        return "compact"
    if "<" in shape and _MONTH_WORDS.search(shape):
        return "words"
    return None


def _describe(family: str) -> str:
    if family.startswith("dm"):
        sep = family[2]
        return f"day{sep}month or month{sep}day"
    return {"ymd": "year-month-day", "words": "the month in words", "compact": "yyyymmdd"}[family]


def _refuse_mixed(name: str, present: pd.Series, families: pd.Series, kinds: list[str], line: int) -> None:
    parts = []
    for family in kinds:
        rows = families.index[families == family]
        where = _lines([int(i) + line for i in rows])
        parts.append(f"{where} {'' if parts else 'look '}like {present[rows[0]]} ({_describe(family)})")
    listed = ", ".join(parts[:-1]) + " and " + parts[-1]
    count = _COUNTS[len(parts)] if len(parts) in _COUNTS else str(len(parts))
    raise DataError(
        f"The '{name}' column mixes {count} date formats: {listed}. Save the column in one format "
        "(year-month-day, such as 2021-01-04, reads the same everywhere) and upload again."
    )


def _day_order(
    name: str, dates: pd.Series, patterns: pd.Series, line: int, dayfirst: bool | None
) -> tuple[bool, int | None]:
    """Day first or month first for dates written day/month or month/day, and the row label of a
    date that can only be read that way (None when the user's choice decided)."""
    first, second = pd.Series(0, index=dates.index), pd.Series(0, index=dates.index)
    for pattern in patterns.unique():  # the first two numbers stand at the same place in each
        spans = re.match(r"\D*?(9{1,2})\D+(9{1,2})", pattern)
        rows = patterns == pattern
        first[rows] = pd.to_numeric(dates[rows].str.slice(*spans.span(1)))
        second[rows] = pd.to_numeric(dates[rows].str.slice(*spans.span(2)))
    days, months = dates.index[first > 12], dates.index[second > 12]
    if len(days) and len(months):
        raise DataError(
            f"The '{name}' column mixes day-first and month-first dates: "
            f"{_lines([int(i) + line for i in days])} can only be day first (such as {dates[days[0]]}) "
            f"and {_lines([int(i) + line for i in months])} only month first (such as "
            f"{dates[months[0]]}). Save the column in one order, or as year-month-day (2021-01-04), "
            "and upload again."
        )
    if len(days) or len(months):
        return bool(len(days)), (days if len(days) else months)[0]
    if dayfirst is not None:
        return dayfirst, None
    example = dates.iloc[0]
    day, month = (_parse_fast(pd.Series([example]), order)[0][0] for order in (True, False))
    raise AmbiguousDateOrder(
        f"The dates in column '{name}' can be read day first or month first: no number in them is "
        f"over 12, so nothing in the file tells which ({example} is {_day(day)} day first, "
        f"{_day(month, True)} month first). {_regular_reading(dates)}Choose the order, or save the "
        f"dates as year-month-day ({day:%Y-%m-%d}) and upload again.",
        name,
        _clip(example),
    )


def _regular_reading(dates: pd.Series) -> str:
    """Which reading spaces the dates evenly, when only one does: a hint, not a choice."""
    even = {order: _regularity(_parse_fast(dates, order)[0]) == 1.0 for order in (True, False)}
    if even[True] == even[False]:
        return ""
    yes, no = ("day", "month") if even[True] else ("month", "day")
    return f"Read {yes} first they are evenly spaced; read {no} first they are not. "


def _parse_fast(text: pd.Series, dayfirst: bool) -> tuple[pd.Series, str | None]:
    """`_parse_once` in the format of the first date where it can be guessed (many times faster
    than reading each cell on its own), and each cell on its own where that format does not fit."""
    present = text.dropna()
    guessed = guess_datetime_format(str(present.iloc[0]), dayfirst=dayfirst) if len(present) else None
    if guessed is None:
        return _parse_once(text, dayfirst)
    parsed, note = _parse_once(text, dayfirst, guessed)
    misfits = parsed.isna() & text.notna()
    if misfits.any():
        rest, rest_note = _parse_once(text[misfits], dayfirst)
        parsed = parsed.where(~misfits, rest.reindex(parsed.index))
        note = note or rest_note
    return parsed, note
