"""STL decomposition and the choice of its period."""

import numpy as np
import pandas as pd
import pytest

from core import decompose
from core.datasets import load_builtin


@pytest.mark.parametrize(
    "name, period", [("ETTh1", 24), ("ILI", 52), ("CO2 (Mauna Loa)", 52), ("El Niño", 12)]
)
def test_period_from_frequency_confirmed_by_autocorrelation(name, period):
    dataset = load_builtin(name)
    proposal = decompose.propose_period(dataset.frame[dataset.target].to_numpy(), dataset.freq)
    assert proposal.period == period
    assert "natural cycle" in proposal.reason


def test_period_from_autocorrelation_when_the_frequency_says_nothing():
    t = np.arange(300)
    values = np.sin(2 * np.pi * t / 11) + np.random.default_rng(0).normal(0, 0.1, 300)
    proposal = decompose.propose_period(values, None)
    assert proposal.period == 11 and "autocorrelation peak" in proposal.reason


@pytest.mark.parametrize(
    "freq, period", [("h", 24), ("15min", 96), ("D", 7), ("W-SUN", 52), ("MS", 12), ("QS-OCT", 4)]
)
def test_frequency_periods(freq, period):
    assert decompose.frequency_period(freq) == period


def test_stl_adds_back_and_measures_strength():
    index = pd.date_range("2020-01-01", periods=24 * 30, freq="h")
    t = np.arange(len(index))
    noise = np.random.default_rng(0).normal(0, 0.05, len(t))
    series = pd.Series(0.01 * t + np.sin(2 * np.pi * t / 24) + noise, index=index)
    result = decompose.stl(series, 24, robust=True)
    parts = result.frame
    np.testing.assert_allclose(parts["trend"] + parts["seasonal"] + parts["resid"], series)
    assert result.seasonal_strength > 0.95 and result.trend_strength > 0.95
    flat = decompose.stl(pd.Series(noise, index=index), 24, robust=False)
    assert flat.seasonal_strength < 0.5


def test_stl_refuses_too_short_series_and_missing_values():
    with pytest.raises(ValueError, match="two full periods"):
        decompose.stl(pd.Series(np.arange(30.0)), 24)
    with pytest.raises(ValueError, match="missing values"):
        decompose.stl(pd.Series([1.0, np.nan] * 30), 4)
