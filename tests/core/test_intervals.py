"""Split-conformal bands, rolled forward in time, and their coverage."""

import numpy as np
import pytest

from core import intervals
from core.models.contract import Band


def test_half_width_is_the_corrected_rank_of_the_residuals():
    residuals = np.arange(1, 10, dtype=float)[:, None, None]  # n = 9: 1 … 9
    # ⌈(9 + 1)·0.8⌉ = 8: the 8th smallest, not the plain 80 % quantile
    assert intervals.half_width(residuals, 0.8)[0, 0] == 8
    assert np.isinf(intervals.half_width(residuals, 0.95)[0, 0])  # ⌈10·0.95⌉ = 10 > 9: unknown


def test_exchangeable_errors_are_covered_at_the_nominal_level():
    rng = np.random.default_rng(0)
    horizon, channels = 4, 2
    calibration = np.abs(rng.normal(size=(500, horizon, channels)))
    actual = rng.normal(size=(2000, horizon, channels))
    forecast = np.zeros_like(actual)
    bands = intervals.rolling_bands(forecast, actual, np.arange(2000), calibration, horizon)
    for level in intervals.LEVELS:
        assert intervals.coverage(actual, bands[level]) == pytest.approx(level, abs=0.02)


def test_a_window_is_never_calibrated_on_its_own_or_later_values():
    horizon = 3
    calibration = np.ones((10, horizon, 1))
    actual = np.zeros((30, horizon, 1))
    actual[20:] = 100.0  # a jump: only windows after it have large errors
    forecast = np.zeros_like(actual)
    bands = intervals.rolling_bands(forecast, actual, np.arange(30), calibration, horizon)
    upper = bands[0.8].upper[:, 0, 0]
    assert np.all(upper[:23] <= 1.0)  # window 22 may use windows up to 19 only: no jump seen yet
    assert upper[-1] == 100.0  # by the end the recent (large) errors are the calibration


def test_latest_half_widths_use_the_most_recent_windows():
    calibration = np.ones((5, 2, 1))
    forecast, actual = np.zeros((5, 2, 1)), np.full((5, 2, 1), 3.0)
    widths = intervals.latest_half_widths(calibration, forecast, actual, levels=(0.5,))
    assert widths[0.5].shape == (2, 1) and np.all(widths[0.5] == 3.0)


def test_coverage_counts_the_ends_as_inside():
    band = Band(np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    assert intervals.coverage(np.array([1.0, 2.0]), band) == 0.5


def test_a_level_too_few_windows_can_calibrate_gets_no_band_rather_than_an_infinite_one():
    assert intervals.feasible_levels(3) == ()
    assert intervals.feasible_levels(4) == (0.8,)
    assert intervals.feasible_levels(18) == (0.8,) and intervals.feasible_levels(19) == (0.8, 0.95)
