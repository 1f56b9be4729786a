"""Stored test forecasts back in the series' own units, and as a table for download."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.decompose import WINDOW_PARTS


def unscale(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Forecast and actual (N, H, C) in the series' units, from the scaled arrays a run stored."""
    mean = arrays["scaler_mean"].reshape(1, 1, -1)
    std = arrays["scaler_std"].reshape(1, 1, -1)
    return arrays["forecast"] * std + mean, arrays["actual"] * std + mean


def forecast_table(forecast: np.ndarray, actual: np.ndarray, channels: list[str]) -> pd.DataFrame:
    """One row per test window, horizon step and channel."""
    windows, horizon, n_channels = forecast.shape
    index = pd.MultiIndex.from_product(
        [range(windows), range(1, horizon + 1), channels], names=["window", "step", "channel"]
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
