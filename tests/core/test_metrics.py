"""Metric formulas on small hand-worked cases."""

import math

import numpy as np
import pytest

from core import metrics

Y = np.array([2.0, 4.0, 8.0])
F = np.array([3.0, 4.0, 6.0])  # errors 1, 0, -2


def test_point_metrics_by_hand():
    assert metrics.mse(Y, F) == pytest.approx(5 / 3)
    assert metrics.mae(Y, F) == pytest.approx(1.0)
    assert metrics.rmse(Y, F) == pytest.approx(math.sqrt(5 / 3))
    assert metrics.mape(Y, F) == pytest.approx(100 / 3 * (1 / 2 + 0 + 2 / 8))
    assert metrics.smape(Y, F) == pytest.approx(200 / 3 * (1 / 5 + 0 + 2 / 14))


def test_mape_is_not_smape():
    """The study notes printed the sMAPE formula under MAPE; the two must differ."""
    assert metrics.mape(Y, F) != pytest.approx(metrics.smape(Y, F))


def test_smape_zero_denominator_counts_as_one():
    assert metrics.smape([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert metrics.smape([0.0], [0.0]) == 0.0


def test_mase_scales_by_in_sample_seasonal_naive_error():
    history = np.array([1.0, 2.0, 1.0, 3.0, 1.0])  # season 2: |1-1|, |3-2|, |1-1| -> mean 1/3
    assert metrics.seasonal_naive_scale(history, 2) == pytest.approx(1 / 3)
    assert metrics.mase(history, Y, F, 2) == pytest.approx(1.0 / (1 / 3))


def test_mase_needs_more_history_than_one_season():
    with pytest.raises(ValueError, match="more than 4"):
        metrics.seasonal_naive_scale([1.0, 2.0, 3.0], 4)


def test_owa_of_naive2_itself_is_one():
    assert metrics.owa(12.0, 1.5, 12.0, 1.5) == 1.0
    assert metrics.owa(6.0, 3.0, 12.0, 1.5) == pytest.approx(0.5 * (0.5 + 2.0))


def test_shapes_must_match():
    with pytest.raises(ValueError, match="shape"):
        metrics.mse(np.zeros(3), np.zeros(4))


def test_metrics_are_computed_in_float64():
    y = np.full(10_000, 1000.0, dtype=np.float16)
    f = y + np.float16(1.0)
    assert metrics.mae(y, f) == 1.0


def test_channel_mase_is_the_mean_of_each_channels_mase():
    rng = np.random.default_rng(3)
    history, y, f = rng.normal(size=(50, 3)), rng.normal(size=(4, 6, 3)), rng.normal(size=(4, 6, 3))
    scales = [metrics.seasonal_naive_scale(history[:, c], 5) for c in range(3)]
    by_channel = [metrics.mase(history[:, c], y[..., c], f[..., c], 5) for c in range(3)]
    assert metrics.channel_mase(y, f, scales) == pytest.approx(np.mean(by_channel))
    # A channel constant in training has no scale: it is left out, not allowed to make the mean NaN.
    assert metrics.channel_mase(y, f, [scales[0], 0.0, scales[2]]) == pytest.approx(
        np.mean([by_channel[0], by_channel[2]])
    )
    with pytest.raises(ValueError, match="3 channels but 2 scales"):
        metrics.channel_mase(y, f, scales[:2])
