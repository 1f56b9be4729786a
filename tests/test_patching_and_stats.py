"""Patching arithmetic, the prompt statistics and RevIN."""

import numpy as np
import pytest
import torch
from statsmodels.tsa.stattools import acf

from core import patching, stats

SEED_PATCHES = [[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8], [7, 8, 9, 10], [9, 10, 10, 10]]


def test_seed_example_numpy():
    """T = 10, Lp = 4, S = 2 gives P = 5: [1..4], [3..6], [5..8], [7..10], [9, 10, pad, pad]."""
    assert patching.patch_count(10, 4, 2) == 5
    np.testing.assert_array_equal(patching.make_patches(np.arange(1.0, 11.0), 4, 2), SEED_PATCHES)


def test_seed_example_torch_keeps_batch_axes_and_gradients():
    series = torch.arange(1.0, 11.0).repeat(3, 2, 1).requires_grad_()  # (B=3, C=2, T=10)
    patches = patching.make_patches(series, 4, 2)
    assert patches.shape == (3, 2, 5, 4)
    assert patches[1, 1].tolist() == SEED_PATCHES
    patches.sum().backward()
    assert series.grad is not None


@pytest.mark.parametrize(
    "length, patch_len, stride", [(96, 16, 8), (512, 16, 8), (336, 16, 8), (7, 7, 1), (50, 3, 5)]
)
def test_count_formula_matches_the_patches(length, patch_len, stride):
    patches = patching.make_patches(np.random.default_rng(0).normal(size=length), patch_len, stride)
    assert patches.shape == (patching.patch_count(length, patch_len, stride), patch_len)
    assert patching.patch_count(length, patch_len, stride) == (length - patch_len) // stride + 2


def test_patch_longer_than_series_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        patching.patch_count(8, 16, 8)


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
    prompt = stats.prompt_statistics(window)
    assert (prompt.minimum, prompt.maximum, prompt.median, prompt.trend) == (10.0, 50.0, 30.0, "upward")
    assert stats.prompt_statistics(window[::-1]).trend == "downward"
    assert stats.prompt_statistics(np.ones(8)).trend == "flat"
    assert "min value 10, max value 50, median value 30" in prompt.describe()


def test_prompt_numbers_are_rounded_to_cost_few_tokens():
    prompt = stats.prompt_statistics(np.array([1.23456789, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]))
    assert "1.235" in prompt.describe() and "1.23456789" not in prompt.describe()


def test_revin_normalises_and_inverts():
    window = np.random.default_rng(2).normal(5.0, 3.0, size=(96, 2))
    normalised, mean, std = stats.revin_normalise(window)
    np.testing.assert_allclose(normalised.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(normalised.std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(normalised * std + mean, window)
