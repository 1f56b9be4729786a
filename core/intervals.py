"""Prediction intervals for any point forecaster: split conformal, rolled forward in time.

The method is split conformal prediction (Vovk, Gammerman and Shafer, 2005), as statsforecast,
MAPIE and darts' conformal models use it for forecasts: for each horizon step and channel, take
the absolute residuals |actual − forecast| of n calibration windows the model was not trained on;
their ⌈(n + 1)·level⌉-th smallest is the half-width q, and [forecast − q, forecast + q] covers a
new window's value with probability at least `level` when windows are exchangeable. The `+ 1` is
the finite-sample correction; with too few windows for it, q is infinite (an honest "unknown").

Windows of a time series are not exchangeable: ETT's test year is not its validation months, and
errors drift. So calibration rolls forward, as online conformal methods do (adaptive conformal
inference, Gibbs and Candès, 2021, is the best known): each test window is calibrated on the
`n` most recent windows whose targets were fully observed before its origin. The validation windows
come first; earlier test windows join as their values become known, and the oldest leave. No window
ever sees its own values or later ones. `n` is the number of validation windows, and windows are
calibrated in blocks of at least a horizon (each block on what was known at its first origin), so
that the cost stays a few dozen quantiles. Both were fixed before any test coverage was looked at.

Coverage is then measured on the test windows and reported beside the nominal level, whatever it is.
"""

from __future__ import annotations

import math

import numpy as np

from core.models.contract import Band

LEVELS = (0.8, 0.95)  # nominal coverages of the bands every run gets
MAX_BLOCKS = 64  # the most calibrations per run: blocks of test windows share one


def half_width(residuals: np.ndarray, level: float) -> np.ndarray:
    """The split-conformal half-width of absolute residuals (n, H, C): per step and channel, the
    ⌈(n + 1)·level⌉-th smallest; infinite where n is too small for that rank."""
    residuals = np.asarray(residuals, dtype=np.float64)
    n = len(residuals)
    rank = math.ceil((n + 1) * level)
    if n == 0 or rank > n:
        return np.full(residuals.shape[1:], np.inf)
    return np.partition(residuals, rank - 1, axis=0)[rank - 1]


def feasible_levels(calibration_size: int, levels: tuple[float, ...] = LEVELS) -> tuple[float, ...]:
    """The levels `calibration_size` windows can calibrate: ⌈(n + 1)·level⌉ ≤ n, so n ≥ 4 for 80 %
    and n ≥ 19 for 95 %. A level with fewer windows would be an infinite band: it gets none."""
    return tuple(level for level in levels if math.ceil((calibration_size + 1) * level) <= calibration_size)


def rolling_bands(
    forecast: np.ndarray,
    actual: np.ndarray,
    window_index: np.ndarray,
    calibration: np.ndarray,
    pred_len: int,
    levels: tuple[float, ...] = LEVELS,
) -> dict[float, Band]:
    """Bands around test forecasts (N, H, C), calibrated online.

    `calibration` holds the absolute residuals (n, H, C) of the windows before the test split (the
    validation windows, in time order). Test window `w` (its place among the split's windows, from
    `window_index`) may use a test window `j` only when `j + pred_len <= w`: then all of j's targets
    lie before w's first forecast step.
    """
    forecast = np.asarray(forecast, dtype=np.float64)
    residuals = np.abs(np.asarray(actual, dtype=np.float64) - forecast)
    window_index = np.asarray(window_index, dtype=np.int64)
    size = max(len(calibration), 1)
    lower = {level: np.empty_like(forecast) for level in levels}
    upper = {level: np.empty_like(forecast) for level in levels}
    block = max(pred_len, math.ceil(len(forecast) / MAX_BLOCKS), 1)
    order = np.argsort(window_index, kind="stable")
    for first in range(0, len(order), block):
        rows = order[first : first + block]
        origin = window_index[rows[0]]
        known = residuals[window_index + pred_len <= origin]  # test windows already observed
        pool = np.concatenate([calibration, known])[-size:] if len(known) else calibration[-size:]
        for level in levels:
            q = half_width(pool, level)
            lower[level][rows] = forecast[rows] - q
            upper[level][rows] = forecast[rows] + q
    return {level: Band(lower[level], upper[level]) for level in levels}


def latest_half_widths(
    calibration: np.ndarray,
    forecast: np.ndarray,
    actual: np.ndarray,
    levels: tuple[float, ...] = LEVELS,
) -> dict[float, np.ndarray]:
    """Half-widths (H, C) for a forecast past the end of the data: calibrated on the most recent
    windows (the test windows, topped up with validation ones), as many as validation holds."""
    residuals = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(forecast, dtype=np.float64))
    pool = np.concatenate([calibration, residuals])[-max(len(calibration), 1) :]
    return {level: half_width(pool, level) for level in levels}


def coverage(actual: np.ndarray, band: Band) -> float:
    """The share of actual values (every window, step and channel) inside the band, ends included."""
    actual = np.asarray(actual, dtype=np.float64)
    inside = (actual >= band.lower) & (actual <= band.upper)
    return float(np.mean(inside))


def level_key(level: float) -> str:
    """The name of a level's figures: 0.8 -> "80" (coverage_80, lower_80)."""
    return f"{round(level * 100)}"
