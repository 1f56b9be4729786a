"""STL decomposition and the choice of its period."""

import numpy as np
import pandas as pd
import pytest

from core import decompose
from core.datasets import load_builtin


@pytest.mark.parametrize(
    "name, period", [("ETTh1", 24), ("ILI", 52), ("CO2 (Mauna Loa)", 52), ("El Niño", 12)]
)
def test_period_from_frequency_when_the_series_repeats_at_it(name, period):
    dataset = load_builtin(name)
    proposal = decompose.propose_period(dataset.frame[dataset.target].to_numpy(), dataset.freq)
    assert proposal.period == period and proposal.clear
    assert proposal.seasonal_strength >= 0.1
    assert "natural cycle" in proposal.reason and "does repeat" in proposal.reason


def random_walk(n: int = 7588, seed: int = 0) -> np.ndarray:
    """Exchange-rate-like: a daily random walk, which resembles itself a week back (r ≈ 0.99)."""
    return np.cumsum(np.random.default_rng(seed).normal(size=n))


def test_a_random_walk_shows_no_clear_seasonality():
    values = random_walk()
    proposal = decompose.propose_period(values, "D")
    assert proposal.period == 7  # still a starting point for the chart
    assert not proposal.clear and proposal.seasonal_strength < 0.1
    assert proposal.reason.startswith("No clear seasonality.")
    assert "confirmed" not in proposal.reason
    assert "persistence, not a repeating pattern" in proposal.reason
    strength = decompose.stl(pd.Series(values), 7).seasonal_strength
    assert strength == pytest.approx(proposal.seasonal_strength)  # what the page shows by default


def test_a_short_random_walk_is_not_called_seasonal_on_noise_alone():
    """Few cycles let any fit find some pattern: the changes must recur at the lag as well."""
    for seed in range(3):
        proposal = decompose.propose_period(random_walk(300, seed), "MS")
        assert not proposal.clear and proposal.reason.startswith("No clear seasonality.")


def test_period_from_autocorrelation_when_the_frequency_says_nothing():
    t = np.arange(300)
    values = np.sin(2 * np.pi * t / 11) + np.random.default_rng(0).normal(0, 0.1, 300)
    proposal = decompose.propose_period(values, None)
    assert proposal.period == 11 and proposal.clear and "autocorrelation peak" in proposal.reason


def test_white_noise_is_not_called_seasonal_at_its_strongest_autocorrelation_bump():
    """Over a few cycles STL fits a pattern to anything: the strength must beat what noise reaches."""
    for seed in (0, 1):
        proposal = decompose.propose_period(np.random.default_rng(seed).normal(size=500), None)
        assert proposal.period is not None and not proposal.clear
        assert "noise alone reaches" in proposal.reason


@pytest.mark.parametrize(
    "period, freq, words",
    [(24, "h", "24 steps (1 day)"), (168, "h", "168 steps (1 week)"), (96, "15min", "96 steps (1 day)")]
    + [(12, "MS", "12 steps (1 year)"), (52, "W-SUN", "52 steps (1 year)"), (10, None, "10 steps")],
)
def test_periods_in_words(period, freq, words):
    assert decompose.describe_period(period, freq) == words


@pytest.mark.parametrize(
    "freq, unit", [("h", "hour"), ("15min", "15 minutes"), ("D", "day"), ("MS", "month")]
)
def test_step_units(freq, unit):
    assert decompose.step_unit(freq) == unit


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
    result = decompose.stl(series, 24)
    parts = result.frame
    np.testing.assert_allclose(parts["trend"] + parts["seasonal"] + parts["resid"], series)
    assert result.seasonal_strength > 0.95 and result.trend_strength > 0.95
    flat = decompose.stl(pd.Series(noise, index=index), 24)
    assert flat.seasonal_strength < 0.2  # 30 cycles: noise alone reaches about 0.1


def test_robust_stl_resists_a_spike():
    index = pd.date_range("2020-01-01", periods=24 * 30, freq="h")
    t = np.arange(len(index))
    values = np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 0.05, len(t))
    values[400] += 50.0
    plain = decompose.stl(pd.Series(values, index=index), 24)
    robust = decompose.stl(pd.Series(values, index=index), 24, robust=True)
    assert robust.robust and not plain.robust
    assert abs(robust.frame["resid"].iloc[400]) > abs(plain.frame["resid"].iloc[400])  # left as an outlier
    np.testing.assert_allclose(robust.frame[["trend", "seasonal", "resid"]].sum(axis=1), values)


def test_stl_refuses_too_short_series_and_missing_values():
    with pytest.raises(ValueError, match="two full periods"):
        decompose.stl(pd.Series(np.arange(30.0)), 24)
    with pytest.raises(ValueError, match="missing values"):
        decompose.stl(pd.Series([1.0, np.nan] * 30), 4)


def test_the_strength_in_words_never_says_more_than_the_evidence():
    values = random_walk(300, 1)  # 25 monthly cycles: noise alone reaches about 0.12
    proposal = decompose.propose_period(values, "MS")
    result = decompose.stl(pd.Series(values), proposal.period)
    assert not proposal.clear and decompose.describe_seasonality(result, proposal) == "no clear"
    assert (
        decompose.describe_strength(0.3) == "a weak"
        and decompose.describe_strength(0.3, floor=0.75) == "no clear"
    )
    assert decompose.noise_floor(12, 48) == 0.75  # four cycles
