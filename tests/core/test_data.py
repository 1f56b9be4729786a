"""Splits, training-only scaling, windows and feature modes of the long-term protocol."""

import numpy as np
import pytest

from core import data
from core.data import fitting_lengths, window_problem


def test_ett_hour_borders():
    borders = data.split_borders(17420, 96, "ett-hour")
    assert borders == {"train": (0, 8640), "val": (8544, 11520), "test": (11424, 14400)}


def test_ett_minute_borders_are_four_times_the_hourly_ones():
    borders = data.split_borders(69680, 96, "ett-minute")
    assert borders["train"] == (0, 34560)
    assert borders["test"] == (46080 - 96, 57600)


def test_ratio_borders_use_int_of_70_and_20_percent():
    borders = data.split_borders(966, 36, "ratio")
    assert borders == {"train": (0, 676), "val": (640, 773), "test": (737, 966)}


def test_ett_protocol_refuses_short_data():
    with pytest.raises(ValueError, match="14400 rows"):
        data.split_borders(1000, 96, "ett-hour")


def test_scaler_is_fit_on_training_rows_only():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(1000, 2))
    changed = values.copy()
    changed[700:] += 1000.0  # validation and test rows: must not move the scaler
    first = data.prepare(values, ["a", "b"], "b", "M", "ratio", 10).scaler
    second = data.prepare(changed, ["a", "b"], "b", "M", "ratio", 10).scaler
    np.testing.assert_array_equal(first.mean, second.mean)
    np.testing.assert_array_equal(first.std, second.std)
    np.testing.assert_allclose(first.mean, values[:700].mean(axis=0))


def test_scaler_round_trip_and_constant_channel():
    values = np.array([[1.0, 5.0], [3.0, 5.0]])
    scaler = data.StandardScaler.fit(values)
    np.testing.assert_allclose(scaler.transform(values)[:, 0], [-1.0, 1.0])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(values)), values)
    assert scaler.std[1] == 1.0


def test_windows_are_stride_one():
    values = np.arange(10.0)[:, None]
    x, y = data.sliding_windows(values, 4, 2)
    assert x.shape == (5, 4, 1) and y.shape == (5, 2, 1)
    np.testing.assert_array_equal(x[1, :, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(y[1, :, 0], [5, 6])


def test_windows_refuse_a_split_too_short():
    with pytest.raises(ValueError, match="no window"):
        data.sliding_windows(np.zeros((5, 1)), 4, 2)


@pytest.mark.parametrize(
    "features, inputs, scored",
    [("M", ["a", "c", "b"], [0, 1, 2]), ("S", ["b"], [0]), ("MS", ["a", "c", "b"], [2])],
)
def test_feature_modes_put_the_target_last(features, inputs, scored):
    assert data.feature_columns(["a", "b", "c"], "b", features) == (inputs, scored)


def test_kept_windows_drops_the_last_incomplete_batch():
    assert data.kept_windows(2785, 32) == 2784
    assert data.kept_windows(2785, None) == 2785
    assert data.kept_windows(64, 32) == 64
    with pytest.raises(ValueError, match="fewer than one batch"):
        data.kept_windows(10, 32)


def test_fitting_lengths_shorten_a_look_back_and_horizon_until_every_split_holds_windows():
    # Lengths that fit are kept as they are.
    assert fitting_lengths(14400, 96, 96, "ett-hour") == (96, 96)
    # 30 weekly rows (21 training, 3 validation, 6 test): the horizon is cut to what validation
    # holds, the look-back to half the training rows left, so training has several windows.
    assert fitting_lengths(30, 96, 96, "ratio") == (9, 3)
    assert window_problem(30, 9, 3, "ratio") is None
    for n_rows in range(10, 400, 7):
        for seq_len, pred_len in ((96, 96), (512, 24), (24, 48)):
            fitting = fitting_lengths(n_rows, seq_len, pred_len, "ratio")
            assert fitting is not None and window_problem(n_rows, *fitting, "ratio") is None
            assert fitting[0] <= seq_len and fitting[1] <= pred_len
    # Too few rows for any window, or for the ETT protocol's fixed months: nothing fits.
    assert fitting_lengths(6, 96, 96, "ratio") is None
    assert fitting_lengths(500, 96, 96, "ett-hour") is None
