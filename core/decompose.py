"""Seasonal-trend decomposition (STL, statsmodels) and the choice of its period.

The period is proposed from the frequency (a day of hourly data is 24 steps, a year of weekly data
52) when the autocorrelation at that lag is above 0.1, else from the strongest autocorrelation peak.
A proposal is only called seasonal when the series does repeat at it: STL at that period finds a
seasonal strength of at least 0.1 and more than noise reaches over as many cycles, and the series'
step-to-step changes recur at that lag too. A high autocorrelation alone is no evidence: a random
walk resembles itself 7 steps back (r ≈ 0.99) because it moves slowly, not because it repeats.
The user can always override the period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.stats import autocorrelation

_SECONDS_PER_DAY = 24 * 3600
# Seasonal cycle by frequency alias (before any '-' anchor): the cycle most series of it show.
_CYCLE_BY_FREQ = {"W": 52, "ME": 12, "MS": 12, "M": 12, "QE": 4, "QS": 4, "Q": 4, "B": 5, "D": 7}
# The unit one step of a calendar frequency is read in (fixed-length ones are worked out in seconds).
_UNIT_BY_FREQ = {
    "W": "week",
    "ME": "month",
    "MS": "month",
    "M": "month",
    "QE": "quarter",
    "QS": "quarter",
    "Q": "quarter",
    "YE": "year",
    "YS": "year",
    "Y": "year",
    "B": "business day",
}
_UNIT_SECONDS = [
    ("week", 7 * _SECONDS_PER_DAY),
    ("day", _SECONDS_PER_DAY),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
]

# Cycles the seasonal smoother spans (statsmodels' `seasonal`, default 7). Seven lets the pattern
# follow noise: on a random walk STL then reports a seasonal strength of about 0.3. Over 35 cycles
# a daily pattern may still drift with the months, and a random walk shows about 0.07.
SEASONAL_SMOOTHER = 35
CLEAR_STRENGTH = 0.1  # below this seasonal strength a period is not a repeating pattern


@dataclass
class PeriodProposal:
    period: int | None  # the period STL starts from; None when nothing suggests one
    reason: str  # plain sentences for the page
    seasonal_strength: float | None = None  # STL's at `period`, with the page's default settings
    clear: bool = False  # the series really repeats at `period`


def frequency_period(freq: str | None) -> int | None:
    """The natural cycle of a frequency: a day for sub-daily data, else a week or a year."""
    if freq is None:
        return None
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return None
    base = offset.rule_code.split("-")[0]
    if base in _CYCLE_BY_FREQ and offset.n == 1:
        return _CYCLE_BY_FREQ[base]
    try:
        step = pd.Timedelta(offset).total_seconds()
    except ValueError:
        return None  # months, quarters and years have no fixed length
    if 0 < step < _SECONDS_PER_DAY and _SECONDS_PER_DAY % step == 0:
        return int(_SECONDS_PER_DAY // step)
    return None


def _amount(count: float, unit: str) -> str:
    count = int(count)
    return f"{count} {unit}" + ("" if count == 1 else "s")


def step_unit(freq: str | None) -> str:
    """What one step is called in words: "hour", "15 minutes", "month"; "step" when unknown."""
    if freq is None:
        return "step"
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return "step"
    base = offset.rule_code.split("-")[0]
    if base in _UNIT_BY_FREQ:
        return _UNIT_BY_FREQ[base] if offset.n == 1 else _amount(offset.n, _UNIT_BY_FREQ[base])
    try:
        seconds = pd.Timedelta(offset).total_seconds()
    except ValueError:
        return "step"
    for unit, size in _UNIT_SECONDS:
        if seconds >= size and seconds % size == 0:
            return unit if seconds == size else _amount(seconds // size, unit)
    return "step"


def describe_period(period: int, freq: str | None) -> str:
    """A period in steps and, where the frequency allows, in time: "24 steps (1 day)"."""
    steps = _amount(period, "step")
    if freq is None:
        return steps
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
        seconds = period * pd.Timedelta(offset).total_seconds()
    except ValueError:  # calendar steps: months, quarters, weeks counted in years
        per_year = {"month": 12, "quarter": 4, "week": 52, "year": 1}.get(step_unit(freq))
        if per_year and period % per_year == 0:
            return f"{steps} ({_amount(period // per_year, 'year')})"
        return steps
    for unit, size in _UNIT_SECONDS:
        if seconds >= size and seconds % size == 0:
            return f"{steps} ({_amount(seconds // size, unit)})"
    return steps


def acf_peak(values: np.ndarray, max_lag: int) -> int | None:
    """The lag of the highest local maximum of the autocorrelation with a positive value."""
    acf = autocorrelation(values, max_lag)  # acf[k - 1] is lag k
    peaks = [
        k for k in range(2, max_lag) if acf[k - 1] > 0 and acf[k - 1] >= acf[k - 2] and acf[k - 1] >= acf[k]
    ]
    if not peaks:
        return None
    return max(peaks, key=lambda k: acf[k - 1])


def _fits(period: int | None, n: int) -> bool:
    return period is not None and 2 <= period <= n // 2


def propose_period(values: np.ndarray, freq: str | None) -> PeriodProposal:
    """A period for STL, and whether the series really repeats at it.

    Candidates, in order: the frequency's natural cycle when the autocorrelation at that lag is
    above 0.1, the strongest autocorrelation peak (lags up to 400), the natural cycle anyway. The
    first that passes `_repeats` is proposed; when none does, the first is, as no clear seasonality.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    from_freq = frequency_period(freq)
    if not np.isfinite(values).all():
        return PeriodProposal(
            from_freq if _fits(from_freq, n) else None,
            "The series has missing values: repair it on the Data page to look for a repeating cycle.",
        )
    candidates = []
    if _fits(from_freq, n) and autocorrelation(values, from_freq)[from_freq - 1] > 0.1:
        candidates.append((from_freq, "natural"))
    max_lag = min(n // 2, 400)
    peak = acf_peak(values, max_lag) if max_lag >= 3 else None
    if peak is not None and peak != from_freq:
        candidates.append((peak, "peak"))
    if _fits(from_freq, n) and (from_freq, "natural") not in candidates:
        candidates.append((from_freq, "natural"))
    if not candidates:
        return PeriodProposal(None, "No repeating cycle was found; set a period by hand.")
    first = None
    for period, source in candidates:  # in order, each STL only when the one before it failed
        found = _evidence(values, period)
        if found.clear:
            return PeriodProposal(period, _clear_reason(period, source, found, freq), found.strength, True)
        first = first or (period, source, found)
    period, source, found = first
    return PeriodProposal(period, _unclear_reason(period, source, found, freq), found.strength, False)


@dataclass
class _Evidence:
    """What says whether a series repeats every `period` steps."""

    strength: float  # STL's seasonal strength at the period, with the page's default settings
    noise_floor: float  # the strength white noise reaches over as few cycles (95th percentile)
    changes_recur: bool  # the step-to-step changes correlate at that lag beyond the noise band
    similarity: float  # the series' autocorrelation at that lag

    @property
    def clear(self) -> bool:
        return self.strength >= max(CLEAR_STRENGTH, self.noise_floor) and self.changes_recur


def _evidence(values: np.ndarray, period: int) -> _Evidence:
    """The seasonal strength must beat 0.1 and what noise alone reaches: about 3 / cycles (measured
    on white noise; over few cycles STL fits a pattern to anything). The changes must recur too
    (autocorrelation above 2/√n): a random walk resembles itself at every lag but its changes do not
    repeat."""
    trend, seasonal, resid = stl_components(values, period, robust=False, seasonal=SEASONAL_SMOOTHER)
    changes = np.diff(values)
    return _Evidence(
        strength=_strength(resid, seasonal),
        noise_floor=noise_floor(period, len(values)),
        changes_recur=bool(autocorrelation(changes, period)[period - 1] > 2 / math.sqrt(len(changes))),
        similarity=float(autocorrelation(values, period)[period - 1]),
    )


def _where_from(source: str, freq: str | None) -> str:
    if source == "natural":
        return f"the natural cycle of data recorded every {step_unit(freq)}"
    return "where the series looks most like itself again (the strongest autocorrelation peak)"


def _clear_reason(period: int, source: str, found: _Evidence, freq: str | None) -> str:
    return (
        f"Proposed: {describe_period(period, freq)}, {_where_from(source, freq)}. The series does "
        f"repeat at that length: its strength of seasonality is {found.strength:.2f} (0: none, 1: the "
        "pattern explains all the movement around the trend)."
    )


def _unclear_reason(period: int, source: str, found: _Evidence, freq: str | None) -> str:
    steps = _amount(period, "step")
    if found.strength < CLEAR_STRENGTH:
        why = f"a pattern repeating every {steps} explains almost none of its movement"
        why += f" (seasonal strength {found.strength:.2f})"
    elif found.strength < found.noise_floor:
        why = (
            f"the data hold only {3 / found.noise_floor:.0f} cycles of it, and over so few cycles noise "
            f"alone reaches a seasonal strength of about {found.noise_floor:.2f}; this series reaches "
            f"{found.strength:.2f}"
        )
    else:
        why = (
            f"its step-to-step changes do not clearly recur every {steps}, and a series that only "
            f"wanders slowly can show the same seasonal strength ({found.strength:.2f})"
        )
    text = f"No clear seasonality. The period to try would be {describe_period(period, freq)}, "
    text += f"{_where_from(source, freq)}, but {why}."
    if found.similarity >= 0.5 and not found.changes_recur:
        text += (
            f" The series resembles itself {steps} back (autocorrelation {found.similarity:.2f}) only "
            "because it changes slowly: that is persistence, not a repeating pattern."
        )
    return text + " The period below is only a starting point for the chart."


@dataclass
class Decomposition:
    frame: pd.DataFrame  # columns observed, trend, seasonal, resid on the series' index
    period: int
    robust: bool
    seasonal_smoother: int = SEASONAL_SMOOTHER  # cycles the seasonal smoother spans

    @property
    def trend_strength(self) -> float:
        """F_T = max(0, 1 − Var(R) / Var(T + R)) (Wang, Smith and Hyndman, 2006)."""
        return _strength(self.frame["resid"], self.frame["trend"])

    @property
    def seasonal_strength(self) -> float:
        """F_S = max(0, 1 − Var(R) / Var(S + R))."""
        return _strength(self.frame["resid"], self.frame["seasonal"])


def _strength(resid, component) -> float:
    resid, component = np.asarray(resid), np.asarray(component)
    total = np.var(component + resid)
    if total == 0:
        return 0.0
    return float(max(0.0, 1.0 - np.var(resid) / total))


def noise_floor(period: int, length: int) -> float:
    """The seasonal strength white noise reaches over length / period cycles (95th percentile,
    measured with this module's STL): about 3 / cycles, so 0.75 over 4 cycles, 0.1 over 30."""
    return 3 * period / length


def describe_strength(strength: float, floor: float = 0.0) -> str:
    """A strength in words: "no clear" (below 0.1 or `floor`), "a weak", "a moderate", "a strong"."""
    if strength < max(CLEAR_STRENGTH, floor):
        return "no clear"
    if strength < 0.4:
        return "a weak"
    if strength < 0.7:
        return "a moderate"
    return "a strong"


def describe_seasonality(decomposition: Decomposition, proposal: PeriodProposal) -> str:
    """The seasonal strength in words, never more than the evidence allows: "no clear" when the
    period is the proposed one and the series does not repeat at it (`propose_period`), or when
    the strength does not beat what noise reaches over as many cycles."""
    if decomposition.period == proposal.period and not proposal.clear:
        return "no clear"
    floor = noise_floor(decomposition.period, len(decomposition.frame))
    return describe_strength(decomposition.seasonal_strength, floor)


def stl_components(values: np.ndarray, period: int, robust: bool = True, seasonal: int = 7) -> np.ndarray:
    """STL of one series: (3, T) trend, seasonal and residual, which add back to `values` exactly.

    `seasonal` is the seasonal smoother's length in cycles (odd, statsmodels' default 7). The
    LOESS jumps are R's stl(): each LOESS is evaluated every ceil(window / 10) points and
    interpolated between them. statsmodels evaluates every point, which costs ~9 s for a weekly
    period of hourly data (17k points) instead of ~0.4 s, for a practically identical decomposition.
    """
    from statsmodels.tsa.seasonal import STL

    values = np.asarray(values, dtype=np.float64)
    if period < 2:
        raise ValueError(f"the STL period must be at least 2 steps, got {period}")
    if len(values) < 2 * period:
        raise ValueError(
            f"STL needs at least two full periods ({2 * period} rows) and the series has "
            f"{len(values)}; choose a shorter period"
        )
    windows = STL(values, period=period, seasonal=seasonal, robust=robust).config
    jumps = {f"{name}_jump": math.ceil(windows[name] / 10) for name in ("seasonal", "trend", "low_pass")}
    # Robust fitting with R's iteration counts, 1 inner pass in each of 15 robustness passes
    # (statsmodels does 2, for twice the time); without robustness statsmodels' own counts.
    iterations = dict(inner_iter=1, outer_iter=15) if robust else {}
    result = STL(values, period=period, seasonal=seasonal, robust=robust, **jumps).fit(**iterations)
    trend, seasonal_part = np.asarray(result.trend), np.asarray(result.seasonal)
    return np.stack([trend, seasonal_part, values - trend - seasonal_part])


def stl(
    values: pd.Series, period: int, robust: bool = False, seasonal: int = SEASONAL_SMOOTHER
) -> Decomposition:
    """STL of one series (see `stl_components`), the seasonal smoother over `seasonal` cycles.

    Robust fitting (15 passes that down-weight large residuals) resists outliers and costs about
    four times as long, so it is off unless asked for.
    """
    if values.isna().any():
        raise ValueError("the series has missing values; repair it on the Data page first")
    trend, seasonal_part, resid = stl_components(values.to_numpy(dtype=np.float64), period, robust, seasonal)
    frame = pd.DataFrame(
        {
            "observed": values.to_numpy(dtype=np.float64),
            "trend": trend,
            "seasonal": seasonal_part,
            "resid": resid,
        },
        index=values.index,
    )
    return Decomposition(frame, period, robust, seasonal)


WINDOW_DECOMPOSITIONS = ("stl", "moving_average")
WINDOW_PARTS = ("trend", "seasonal", "residual")  # what decompose_windows returns, in order


def moving_average_components(windows: np.ndarray, period: int) -> np.ndarray:
    """A fast decomposition of each row of `windows` (N, T): (N, 3, T) trend, seasonal, residual.

    Trend: a centred moving average over one period (the next odd length), the ends padded with the
    first and last values. Seasonal: the mean of the detrended row at each phase of the period
    (phases counted from the row's first step), shifted to average zero over a period. Residual: the
    rest, so the three add back to the row exactly. Each row uses only its own values.
    """
    windows = np.asarray(windows, dtype=np.float64)
    n, length = windows.shape
    if period < 2:
        raise ValueError(f"the period must be at least 2 steps, got {period}")
    kernel = period + 1 - period % 2
    half = kernel // 2
    padded = np.concatenate(
        [np.repeat(windows[:, :1], half, axis=1), windows, np.repeat(windows[:, -1:], half, axis=1)], axis=1
    )
    sums = np.cumsum(np.pad(padded, ((0, 0), (1, 0))), axis=1)
    trend = (sums[:, kernel:] - sums[:, :-kernel]) / kernel  # (N, T)
    detrended = windows - trend
    phase = np.arange(length) % period
    counts = np.bincount(phase, minlength=period)
    phase_means = np.zeros((n, period))
    np.add.at(phase_means.T, phase, detrended.T)
    phase_means /= np.maximum(counts, 1)
    phase_means -= phase_means[:, counts > 0].mean(axis=1, keepdims=True)
    seasonal = phase_means[:, phase]
    return np.stack([trend, seasonal, windows - trend - seasonal], axis=1)


def decompose_windows(windows: np.ndarray, period: int, mode: str) -> np.ndarray:
    """Trend, seasonal and residual of each row of `windows` (N, T), from that row alone: (N, 3, T)."""
    if mode == "moving_average":
        return moving_average_components(windows, period)
    if mode == "stl":
        return np.stack([stl_components(row, period, robust=False) for row in np.asarray(windows)])
    raise ValueError(f"unknown decomposition {mode!r}; choose one of {', '.join(WINDOW_DECOMPOSITIONS)}")
