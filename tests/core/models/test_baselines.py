"""The baselines: repeat, seasonal repeat, mean, and Naive2 (against the official M4 forecasts)."""

import numpy as np
import pandas as pd
import pytest

from core.models import baselines
from tests.core.conftest import M4


def test_window_baselines():
    x = np.arange(1.0, 9.0).reshape(1, 8, 1)  # 1..8
    np.testing.assert_array_equal(baselines.naive(x, 3)[0, :, 0], [8, 8, 8])
    np.testing.assert_array_equal(baselines.seasonal_naive(x, 5, 3)[0, :, 0], [6, 7, 8, 6, 7])
    np.testing.assert_array_equal(baselines.window_mean(x, 2)[0, :, 0], [4.5, 4.5])
    with pytest.raises(ValueError, match="at least one season"):
        baselines.seasonal_naive(x, 2, 12)


def test_naive2_without_seasonality_is_naive():
    flat = np.r_[np.ones(20), 5.0]  # too short for three seasons of 24
    np.testing.assert_array_equal(baselines.naive2(flat, 4, 24), [5.0] * 4)


def test_naive2_reseasonalises_a_seasonal_series():
    t = np.arange(24 * 10)
    pattern = 1 + 0.5 * np.sin(2 * np.pi * t / 24)
    series = 100 * pattern
    assert baselines.is_seasonal(series, 24)
    forecast = baselines.naive2(series, 24, 24)
    future = 100 * (1 + 0.5 * np.sin(2 * np.pi * np.arange(240, 264) / 24))
    np.testing.assert_allclose(forecast, future, rtol=1e-2)


def test_naive2_matches_the_official_forecasts(m4_hourly):
    official = pd.read_csv(M4 / "Naive2-Hourly.csv").set_index("id")
    ours = np.stack([baselines.naive2(h, 48, 24) for h in m4_hourly.train])
    np.testing.assert_allclose(ours, official.loc[m4_hourly.ids].to_numpy(), rtol=1e-5)
