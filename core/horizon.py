"""Horizons in calendar words: "next 7 days" rather than "168 steps".

A person thinks of a forecast's reach in days, weeks or months; a model counts steps. This module
turns one into the other from the series' inferred frequency (a pandas offset alias such as "h",
"15min", "D", "W-SUN", "MS"). A series without a time index keeps its steps. How long a run took
is said the same way ("4 min 5 s", `duration_words`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# Calendar spans offered for a horizon of fixed-length steps, shortest first.
_SPANS: list[pd.Timedelta] = [
    pd.Timedelta(hours=1),
    pd.Timedelta(hours=6),
    pd.Timedelta(hours=12),
    pd.Timedelta(days=1),
    pd.Timedelta(days=2),
    pd.Timedelta(days=3),
    pd.Timedelta(days=4),
    pd.Timedelta(days=7),
    pd.Timedelta(days=14),
    pd.Timedelta(days=30),
    pd.Timedelta(weeks=13),
    pd.Timedelta(weeks=26),
    pd.Timedelta(weeks=52),
]
# Months, quarters and years have no fixed length: count them in their own unit.
_CALENDAR_UNITS = {"M": ("month", 1), "Q": ("quarter", 3), "Y": ("year", 12), "A": ("year", 12)}
_SPANS_IN_MONTHS = [1, 2, 3, 6, 12, 18, 24, 36, 60]


@dataclass(frozen=True)
class Horizon:
    """One horizon choice: the words a person reads and the steps a model forecasts."""

    label: str  # e.g. "next 7 days"
    steps: int  # e.g. 168 for hourly data

    def __str__(self) -> str:
        return self.label


def _offset(freq: str | None):
    if not freq:
        return None
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return None


def _step_length(freq: str | None) -> pd.Timedelta | None:
    offset = _offset(freq)
    if offset is None:
        return None
    if offset.rule_code.startswith("W"):  # weekly, anchored on a weekday
        return pd.Timedelta(weeks=offset.n)
    try:
        step = pd.Timedelta(offset)
    except ValueError:
        return None  # months, quarters, years and business days have no fixed length
    return step if step > pd.Timedelta(0) else None


def _months_per_step(freq: str | None) -> int | None:
    offset = _offset(freq)
    if offset is None:
        return None
    base = offset.rule_code.split("-")[0].rstrip("SE")  # MS, ME, QS-DEC, YE… → M, Q, Y
    unit = _CALENDAR_UNITS.get(base)
    return None if unit is None else unit[1] * offset.n


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _next(count: int, noun: str) -> str:
    """ "next day", "next 7 days" """
    return f"next {noun}" if count == 1 else f"next {count} {noun}s"


def _business_days(freq: str | None) -> bool:
    offset = _offset(freq)
    return offset is not None and offset.rule_code == "B" and offset.n == 1


def step_words(freq: str | None) -> str:
    """What one step of the series is, in words: "hour", "15 minutes", "month", "step"."""
    offset = _offset(freq)
    if offset is None:
        return "step"
    if _business_days(freq):
        return "business day"
    months = _months_per_step(freq)
    if months is not None:
        return {1: "month", 3: "quarter", 12: "year"}.get(months) or f"{months} months"
    step = _step_length(freq)
    if step is None:
        return "step"
    for seconds, noun in [(7 * 86400, "week"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]:
        if step.total_seconds() % seconds == 0:
            count = int(step.total_seconds() // seconds)
            return noun if count == 1 else _plural(count, noun)
    return "step"


def span(steps: int, freq: str | None) -> str:
    """A number of steps as a span of time, without "next": "day", "7 days", "year", "30 steps"."""
    return describe(steps, freq).removeprefix("next ").split(" (")[0]


def describe(steps: int, freq: str | None) -> str:
    """A number of steps in calendar words: "next 4 days (96 hours)", "next day", "next 30 steps"."""
    one = step_words(freq)
    own = _plural(steps, one) if " " not in one else f"{steps} steps of {one}"
    if _business_days(freq):
        return _next(steps, "business day")
    months = _months_per_step(freq)
    step = _step_length(freq)
    if months is not None:
        total = steps * months
        main = _next(total // 12, "year") if total % 12 == 0 else _next(total, "month")
    elif step is not None:
        seconds = int((step * steps).total_seconds())
        units = [(86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]
        if step >= pd.Timedelta(weeks=1):
            units.insert(0, (7 * 86400, "week"))
        unit_seconds, noun = next((u, n) for u, n in units if seconds % u == 0)
        main = _next(seconds // unit_seconds, noun)
    else:
        return _next(steps, "step")
    return main if main == _next(steps, one) else f"{main} ({own})"


def choices(freq: str | None, max_steps: int) -> list[Horizon]:
    """The calendar horizons a series of this frequency can forecast, shortest first, each at most
    `max_steps` long (what the data's windows allow). Without a frequency: a few step counts."""
    options: list[Horizon] = []
    months = _months_per_step(freq)
    step = _step_length(freq)
    if _business_days(freq):
        for count in (1, 5, 10, 21, 63, 126, 252):
            if count <= max_steps:
                options.append(Horizon(describe(count, freq), count))
    elif months is not None:
        for span in _SPANS_IN_MONTHS:
            if span % months == 0 and 1 <= span // months <= max_steps:
                options.append(Horizon(describe(span // months, freq), span // months))
    elif step is not None:
        for length in _SPANS:
            count = length / step
            if count >= 1 and float(count).is_integer() and int(count) <= max_steps:
                options.append(Horizon(describe(int(count), freq), int(count)))
    else:
        for count in (1, 3, 7, 12, 24, 48, 96, 192, 336, 720):
            if count <= max_steps:
                options.append(Horizon(describe(count, freq), count))
    unique: dict[int, Horizon] = {}
    for option in options:
        unique.setdefault(option.steps, option)
    return list(unique.values())


def default(freq: str | None, max_steps: int) -> Horizon:
    """A horizon a person would ask for first: a day ahead for sub-daily data, a week for daily,
    a quarter for weekly, a year for monthly; else the nearest shorter choice."""
    offered = choices(freq, max_steps)
    if not offered:
        return Horizon(describe(1, freq), 1)
    months = _months_per_step(freq)
    step = _step_length(freq)
    if months is not None:
        wanted = max(12 // months, 1)
    elif _business_days(freq):
        wanted = 5
    elif step is not None and step < pd.Timedelta(days=1):
        wanted = int(pd.Timedelta(days=1) / step)
    elif step is not None and step < pd.Timedelta(days=7):
        wanted = int(pd.Timedelta(days=7) / step)
    elif step is not None:
        wanted = int(pd.Timedelta(weeks=13) / step)
    else:
        wanted = 24
    fitting = [h for h in offered if h.steps <= wanted]
    return fitting[-1] if fitting else offered[0]


def nearest(steps: int, freq: str | None, max_steps: int) -> Horizon:
    """The offered horizon closest to `steps`, or `steps` itself in words when none is offered."""
    offered = choices(freq, max_steps)
    for option in offered:
        if option.steps == steps:
            return option
    return Horizon(describe(steps, freq), steps)


def duration_words(seconds: float) -> str:
    """A duration as a person says it: "12 s", "4 min 5 s", "1 h 20 min"."""
    seconds = max(int(round(seconds)), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
