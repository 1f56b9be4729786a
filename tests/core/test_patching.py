"""Patching arithmetic, and the chart of a window's patches."""

import numpy as np
import pandas as pd
import pytest
import torch

from core import patching, plots

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


def test_the_patch_chart_is_drawn_over_the_window_s_own_time():
    index = pd.date_range("2024-01-01", periods=96, freq="h")
    window = np.sin(np.arange(96) / 5.0)
    fig = plots.patches_figure(window, 16, 8, index, "OT")
    series, first_patch, last_patch = fig.data[0], fig.data[1], fig.data[-1]
    assert list(series.x) == list(index)
    assert first_patch.x[0] == index[0] and first_patch.x[-1] == index[15]
    assert last_patch.x[-1] == index[-1] + pd.Timedelta(hours=8)  # the padding continues the time axis
    assert len(fig.data) == 1 + patching.patch_count(96, 16, 8)
    assert fig.layout.xaxis2.title.text == "time" and fig.layout.yaxis.title.text == "OT"
    assert fig.layout.yaxis2.title.text == "patch"


def test_the_patch_chart_counts_rows_without_timestamps():
    fig = plots.patches_figure(np.arange(10.0), 4, 2, pd.RangeIndex(500, 510))
    assert list(fig.data[0].x) == list(range(500, 510))
    assert list(fig.data[-1].x) == [508, 509, 510, 511]  # the last patch reaches two steps of padding
    assert fig.layout.xaxis2.title.text == "row"


def test_a_long_window_draws_its_last_patches_only():
    fig = plots.patches_figure(np.random.default_rng(0).normal(size=512), 16, 1)
    assert len(fig.data) == 1 + plots.MAX_PATCH_LANES
    assert f"(the last {plots.MAX_PATCH_LANES} drawn)" in fig.layout.annotations[1].text
