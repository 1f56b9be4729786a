"""Forecast accuracy metrics, exactly as defined in the evaluation protocol.

Point metrics (MSE, MAE, RMSE, MAPE, sMAPE) average over every element they are given: windows,
horizon steps and channels alike. MASE scales the absolute error by the in-sample error of the
seasonal naive forecast, and OWA relates sMAPE and MASE to those of Naive2 on the same series.
All metrics are computed in float64 whatever the input precision.
"""

from __future__ import annotations

import numpy as np

METRIC_NAMES = ("mse", "mae", "rmse", "mape", "smape", "mase", "owa")


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"actuals have shape {y_true.shape} but forecasts have {y_pred.shape}")
    return y_true, y_pred


def mse(y_true, y_pred) -> float:
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


def mae(y_true, y_pred) -> float:
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true)))


def rmse(y_true, y_pred) -> float:
    return float(np.sqrt(mse(y_true, y_pred)))


def mape(y_true, y_pred) -> float:
    """Mean absolute percentage error, in percent. Undefined where an actual is zero (inf)."""
    y_true, y_pred = _pair(y_true, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(100.0 * np.mean(np.abs(y_true - y_pred) / np.abs(y_true)))


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE in percent: mean of 200·|F−Y|/(|Y|+|F|); a zero denominator counts as 1."""
    y_true, y_pred = _pair(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    denominator = np.where(denominator == 0, 1.0, denominator)
    return float(np.mean(200.0 * np.abs(y_pred - y_true) / denominator))


def mase_season(season: int, n_points: int) -> int:
    """The season MASE can scale by on `n_points` training points: `season` when they hold more
    than one season, else 1 (the naive step), so that a short series is still scored."""
    return season if n_points > season else 1


def seasonal_naive_scale(insample, season: int) -> float:
    """Mean |x[t] − x[t−m]| over the training part: the denominator of MASE."""
    insample = np.asarray(insample, dtype=np.float64)
    insample = insample[~np.isnan(insample)]
    if len(insample) <= season:
        raise ValueError(
            f"MASE needs more than {season} training points for season {season}, got {len(insample)}"
        )
    return float(np.mean(np.abs(insample[season:] - insample[:-season])))


def mase(insample, y_true, y_pred, season: int) -> float:
    """Mean absolute scaled error of one series."""
    return mae(y_true, y_pred) / seasonal_naive_scale(insample, season)


def channel_mase(y_true, y_pred, scales) -> float:
    """MASE of arrays (..., C) whose channels each have their own scale (the seasonal naive error of
    that channel's training part): each channel's MAE over its scale, averaged over channels. A
    channel with a zero scale (a constant training part) is left out of the average."""
    y_true, y_pred = _pair(y_true, y_pred)
    scales = np.asarray(scales, dtype=np.float64)
    channel_mae = np.abs(y_pred - y_true).reshape(-1, y_true.shape[-1]).mean(axis=0)
    if channel_mae.shape != scales.shape:
        raise ValueError(f"{len(channel_mae)} channels but {scales.size} scales")
    return float(np.nanmean(channel_mae / np.where(scales > 0, scales, np.nan)))


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average of sMAPE and MASE, each relative to Naive2 (M4 competition)."""
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)


def point_metrics(y_true, y_pred) -> dict[str, float]:
    """MSE, MAE, RMSE, MAPE and sMAPE of the same arrays, in one dictionary."""
    return {
        "mse": mse(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "mape": mape(y_true, y_pred),
        "smape": smape(y_true, y_pred),
    }
