"""Autocorrelation, the prompt statistics and RevIN."""

import numpy as np
from statsmodels.tsa.stattools import acf

from core import stats


def test_autocorrelation_matches_statsmodels_and_excludes_lag_zero(etth1):
    values = etth1["OT"].to_numpy()[:512]
    ours = stats.autocorrelation(values, 100)
    np.testing.assert_allclose(ours, acf(values, nlags=100, fft=False)[1:], atol=1e-10)
    assert len(ours) == 100  # lags 1..100, lag 0 left out


def test_autocorrelation_is_not_circular():
    """A ramp's last value lies far from its first: circular correlation would wrap them together."""
    ramp = np.arange(20.0)
    circular = np.fft.irfft(np.abs(np.fft.rfft(ramp - ramp.mean())) ** 2, n=20)
    circular = circular / circular[0]
    ours = stats.autocorrelation(ramp, 19)
    assert ours[-1] < 0  # lag 19 pairs the first and last values only
    assert not np.allclose(ours, circular[1:])


def test_autocorrelation_works_on_batches():
    batch = np.random.default_rng(1).normal(size=(4, 3, 64))
    lags = stats.top_lags(batch, 5)
    assert lags.shape == (4, 3, 5)
    np.testing.assert_array_equal(lags[2, 1], stats.top_lags(batch[2, 1], 5))
    assert lags.min() >= 1


def test_top_lag_finds_the_period():
    t = np.arange(240)
    values = np.sin(2 * np.pi * t / 24) + 0.01 * t
    lags = stats.top_lags(values - 0.01 * t, 5)
    assert 24 in lags


def test_prompt_statistics_are_in_the_series_own_units():
    window = np.array([10.0, 30.0, 20.0, 50.0, 40.0])
    found = stats.prompt_statistics(window)
    assert (found.minimum[0], found.maximum[0], found.median[0], found.trend[0]) == (
        10.0,
        50.0,
        30.0,
        "upward",
    )
    assert stats.prompt_statistics(window[::-1]).trend[0] == "downward"
    assert stats.prompt_statistics(np.ones(8)).trend[0] == "flat"
    assert "min 10, max 50, median 30, trend upward" in stats.prompt_text(window, "", 5, 2)


def test_a_flat_trend_allows_for_rounding_noise_the_same_way_for_every_window():
    noisy = np.array([[1.0, 5.0, 3.0, 1.0 + 1e-12], [1.0, 5.0, 3.0, 1.1]])
    assert stats.prompt_statistics(noisy).trend.tolist() == ["flat", "upward"]


def test_prompt_numbers_are_rounded_to_cost_few_tokens():
    text = stats.prompt_text(np.array([1.23456789, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), "", 7, 2)
    assert "1.235" in text and "1.23456789" not in text


def test_revin_normalises_and_inverts():
    window = np.random.default_rng(2).normal(5.0, 3.0, size=(96, 2))
    normalised, mean, std = stats.revin_normalise(window)
    np.testing.assert_allclose(normalised.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(normalised.std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(normalised * std + mean, window)


def test_top_lags_one_to_five_read_as_persistence():
    window = np.cumsum(np.random.default_rng(3).normal(size=96)) + 0.05 * np.arange(96)
    found = stats.prompt_statistics(window)
    assert found.lags[0].tolist() == [1, 2, 3, 4, 5]
    text = stats.describe_lags(found.lags[0], stats.autocorrelation(window, 95), "hour")
    assert text.startswith("The window looks most like itself 1, 2, 3, 4 and 5 hours back")
    assert "strongly persistent from hour to hour" in text


def test_a_lag_further_out_reads_as_a_repeating_pattern():
    t = np.arange(96)
    window = np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 0.3, 96)
    lags = stats.top_lags(window, 5)
    assert 24 in lags
    text = stats.describe_lags(lags, stats.autocorrelation(window, 95), "hour")
    assert "a hint of a pattern that repeats every 24 hours" in text


def test_noise_reads_as_no_reliable_guide():
    window = np.random.default_rng(0).normal(size=96)
    text = stats.describe_lags(stats.top_lags(window, 5), stats.autocorrelation(window, 95), "15 minutes")
    assert text.startswith("The window hardly resembles its own past")
    assert "steps back" in text  # a step of 15 minutes is counted in steps
