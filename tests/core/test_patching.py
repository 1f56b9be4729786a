"""Patching arithmetic."""

import numpy as np
import pytest
import torch

from core import patching

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
