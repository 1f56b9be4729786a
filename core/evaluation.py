"""Scoring forecasts under the two protocols: long-term windows and M4 short-term series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import metrics
from core.data import kept_windows, prepare
from core.models import baselines


def evaluate_window_baseline(
    values: np.ndarray,
    columns: list[str],
    *,
    model: str,
    protocol: str,
    features: str,
    target: str,
    seq_len: int,
    pred_len: int,
    season: int | None = None,
    drop_last_batch: int | None = None,
) -> dict:
    """Test-split metrics of a window baseline on scaled values, as the published tables use."""
    data = prepare(values, columns, target, features, protocol, seq_len)
    x, y = data.windows("test", seq_len, pred_len)
    available = len(x)
    n = kept_windows(available, drop_last_batch)
    x, y = x[:n], y[:n]
    forecast = baselines.window_forecast(model, x, pred_len, season)[:, :, data.output_index]
    result = metrics.point_metrics(y, forecast)
    result.update(
        windows=int(n),
        model=model,
        protocol=protocol,
        features=features,
        seq_len=seq_len,
        pred_len=pred_len,
        dropped_windows=int(available - n),
        scale="standardised with training-split statistics",
    )
    if season is not None:
        result["season"] = season
    return result


@dataclass
class M4Group:
    """A group of M4 series (for example Hourly): each training history and its test horizon."""

    ids: list[str]
    train: list[np.ndarray]
    test: np.ndarray  # (series, horizon)


def read_m4(train_csv, test_csv, horizon: int) -> M4Group:
    """Read the M4 layout: one row per series, the id first, values after (NaN-padded)."""
    train = pd.read_csv(train_csv)
    test = pd.read_csv(test_csv)
    ids = train.iloc[:, 0].astype(str).tolist()
    test = test.set_index(test.columns[0])
    test.index = test.index.astype(str)
    missing = [i for i in ids if i not in test.index]
    if missing:
        raise ValueError(f"{len(missing)} training series have no test row, e.g. {missing[:3]}")
    test_values = test.loc[ids].to_numpy(dtype=np.float64)
    if test_values.shape[1] < horizon:
        raise ValueError(f"the test file holds {test_values.shape[1]} steps, fewer than {horizon}")
    histories = []
    for row in train.iloc[:, 1:].to_numpy(dtype=np.float64):
        histories.append(row[~np.isnan(row)])
    return M4Group(ids, histories, test_values[:, :horizon])


def m4_forecast(model: str, history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    if model == "naive2":
        return baselines.naive2(history, horizon, season)
    window = history[None, :, None]  # (1, L, 1)
    if model == "snaive":
        return baselines.seasonal_naive(window, horizon, season)[0, :, 0]
    if model == "naive":
        return baselines.naive(window, horizon)[0, :, 0]
    raise ValueError(f"unknown M4 model {model!r}; choose naive, snaive or naive2")


def evaluate_m4(group: M4Group, model: str, horizon: int, season: int) -> dict:
    """Group-average sMAPE and MASE, and OWA against Naive2 computed on the same series."""

    def group_scores(name: str) -> tuple[float, float]:
        smapes, mases = [], []
        for series_id, history, actual in zip(group.ids, group.train, group.test, strict=True):
            forecast = m4_forecast(name, history, horizon, season)
            smapes.append(metrics.smape(actual, forecast))
            scale = metrics.seasonal_naive_scale(history, season)
            if scale == 0:
                raise ValueError(
                    f"series {series_id} repeats itself exactly every {season} steps in its training "
                    "part, so its MASE is undefined; check that --train and --test are not swapped"
                )
            mases.append(metrics.mae(actual, forecast) / scale)
        return float(np.mean(smapes)), float(np.mean(mases))

    if not group.ids:
        raise ValueError("the training file holds no series")
    smape_value, mase_value = group_scores(model)
    smape_naive2, mase_naive2 = group_scores("naive2") if model != "naive2" else (smape_value, mase_value)
    return {
        "smape": smape_value,
        "mase": mase_value,
        "owa": metrics.owa(smape_value, mase_value, smape_naive2, mase_naive2),
        "series": len(group.ids),
        "model": model,
        "horizon": horizon,
        "season": season,
        "naive2_smape": smape_naive2,
        "naive2_mase": mase_naive2,
    }
