"""A run's forecasts in the series' own units: stored test windows, the whole series it saw, and a
true forecast past the end of the data from the trained model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import metrics
from core.data import ProtocolData
from core.decompose import WINDOW_PARTS, frequency_period
from core.ingest import Dataset


def unscale(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Forecast and actual (N, H, C) in the series' units, from the scaled arrays a run stored."""
    mean = arrays["scaler_mean"].reshape(1, 1, -1)
    std = arrays["scaler_std"].reshape(1, 1, -1)
    return arrays["forecast"] * std + mean, arrays["actual"] * std + mean


def forecast_table(forecast: np.ndarray, actual: np.ndarray, channels: list[str]) -> pd.DataFrame:
    """One row per test window, horizon step and channel."""
    windows, horizon, n_channels = forecast.shape
    index = pd.MultiIndex.from_product(  # windows and steps count from 1, as the pages do
        [range(1, windows + 1), range(1, horizon + 1), channels], names=["window", "step", "channel"]
    )
    return pd.DataFrame(
        {"actual": actual.reshape(-1), "forecast": forecast.reshape(-1)}, index=index
    ).reset_index()


PART_NAMES = {len(WINDOW_PARTS): list(WINDOW_PARTS), 1: ["series"]}  # by the stored parts' count


def unscale_parts(arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    """A decomposing model's part forecasts (N, n, H, C) in the series' units, or None.

    Each part is scaled back by the channel's spread; the channel's mean joins the first part (the
    trend), so the parts still add up to the unscaled forecast.
    """
    if "parts" not in arrays:
        return None
    std = arrays["scaler_std"].reshape(1, 1, 1, -1)
    parts = arrays["parts"] * std
    parts[:, 0] += arrays["scaler_mean"].reshape(1, 1, -1)
    return parts


SERIES = "series"  # the name of the array set holding the whole series a run saw


def series_arrays(dataset: Dataset, data: ProtocolData) -> dict[str, np.ndarray]:
    """What a run keeps of its data so that its pages work after the data set is gone: every row of
    its input channels (model order, series' units), their scaler, the timestamps, and each output
    channel's MASE scale (the seasonal naive error on the scaled training rows)."""
    order = [dataset.channels.index(c) for c in data.columns]
    values = dataset.frame.to_numpy(dtype=np.float64)[:, order]
    season = frequency_period(dataset.freq) or 1
    train = data.splits["train"]
    arrays = {
        "values": values.astype(np.float32),
        "scaler_mean": np.asarray(data.scaler.mean, dtype=np.float64),
        "scaler_std": np.asarray(data.scaler.std, dtype=np.float64),
        "mase_scale": np.array(
            [metrics.seasonal_naive_scale(train[:, i], season) for i in data.output_index]
        ),
        "season": np.array([season]),
    }
    if dataset.has_time_index:
        arrays["time_ns"] = dataset.frame.index.as_unit("ns").asi8.astype(np.int64)
    return arrays


@dataclass
class RunSeries:
    """A stored run's whole series (input channels, series' units) on its time or step axis."""

    values: np.ndarray  # (T, C_in)
    index: pd.Index  # DatetimeIndex or RangeIndex, length T
    channels_in: list[str]
    channels_out: list[str]
    scaler_mean: np.ndarray  # (C_in,)
    scaler_std: np.ndarray
    mase_scale: np.ndarray  # (C_out,) on scaled values
    season: int
    freq: str | None

    @property
    def output_index(self) -> list[int]:
        return [self.channels_in.index(c) for c in self.channels_out]

    def future_index(self, horizon: int) -> pd.Index:
        """The `horizon` time stamps (or step numbers) that follow the last row."""
        if isinstance(self.index, pd.DatetimeIndex):
            if self.freq:
                dates = pd.date_range(self.index[-1], periods=horizon + 1, freq=self.freq)[1:]
            else:
                step = pd.Series(self.index).diff().median()
                dates = pd.DatetimeIndex([self.index[-1] + step * (i + 1) for i in range(horizon)])
            return dates.rename("timestamp")
        start = len(self.index)
        return pd.RangeIndex(start, start + horizon, name="step")


def run_series(arrays: dict[str, np.ndarray], config: dict) -> RunSeries:
    """The `series` array set of a run with its config, as a RunSeries."""
    if "time_ns" in arrays:
        index = pd.DatetimeIndex(pd.to_datetime(arrays["time_ns"], unit="ns"), name="timestamp")
    else:
        index = pd.RangeIndex(len(arrays["values"]), name="step")
    return RunSeries(
        values=arrays["values"].astype(np.float64),
        index=index,
        channels_in=list(config["channels_in"]),
        channels_out=list(config["channels_out"]),
        scaler_mean=arrays["scaler_mean"],
        scaler_std=arrays["scaler_std"],
        mase_scale=arrays["mase_scale"],
        season=int(arrays["season"][0]),
        freq=config.get("freq"),
    )


def future_forecast(model, series: RunSeries, seq_len: int, pred_len: int, seed: int = 0) -> pd.DataFrame:
    """The trained model's forecast of the `pred_len` steps after the last row of the data, in the
    series' units: one column per output channel, and for a sampling model its 10–90 % band too.

    `model` is a stored run's rebuilt model (`runner.rebuild_model`); it reads the last `seq_len`
    rows, scaled with the training rows' statistics as in training.
    """
    import torch

    if len(series.values) < seq_len:
        raise ValueError(f"the data hold {len(series.values)} rows, fewer than the look-back ({seq_len})")
    window = series.values[-seq_len:]
    index = series.future_index(pred_len)
    outputs = series.output_index
    if hasattr(model, "alphabet"):  # a language model writing digits: decode the proxy configuration
        channel = outputs[0]
        sampled = model.forecast(window[:, channel], "proxy", seed=seed)
        name = series.channels_in[channel]
        return pd.DataFrame(
            {name: sampled.median, f"{name} 10%": sampled.lower, f"{name} 90%": sampled.upper}, index=index
        )
    scaled = (window - series.scaler_mean) / series.scaler_std
    with torch.no_grad():
        prediction = model(torch.as_tensor(scaled[None], dtype=torch.float32)).float().numpy()[0]
    # Under features MS the model forecasts every input channel; the target is the one kept.
    values = prediction[:, outputs] * series.scaler_std[outputs] + series.scaler_mean[outputs]
    return pd.DataFrame(values, index=index, columns=series.channels_out)
