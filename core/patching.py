"""Cutting a series into patches, as Time-LLM and PatchTST do.

The end of the series is padded with its last value repeated S times, and patches of length Lp are
taken every S steps, so a series of length T gives P = floor((T − Lp) / S) + 2 patches. The models
and the Explore page both call this module, so what the page shows is what the models see.
"""

from __future__ import annotations

import numpy as np


def patch_count(length: int, patch_len: int, stride: int) -> int:
    """P = floor((T − Lp) / S) + 2."""
    _check(length, patch_len, stride)
    return (length - patch_len) // stride + 2


def make_patches(series, patch_len: int, stride: int):
    """Patches along the last axis: (..., T) -> (..., P, Lp).

    Accepts a NumPy array or a torch tensor and returns the same kind; torch tensors keep their
    device, dtype and autograd graph.
    """
    length = series.shape[-1]
    _check(length, patch_len, stride)
    if isinstance(series, np.ndarray):
        padding = np.repeat(series[..., -1:], stride, axis=-1)
        padded = np.concatenate([series, padding], axis=-1)  # (..., T + S)
        windows = np.lib.stride_tricks.sliding_window_view(padded, patch_len, axis=-1)
        return windows[..., ::stride, :]  # (..., P, Lp)
    import torch

    padded = torch.cat([series, series[..., -1:].expand(*series.shape[:-1], stride)], dim=-1)
    return padded.unfold(-1, patch_len, stride)  # (..., P, Lp)


def patch_starts(length: int, patch_len: int, stride: int) -> list[int]:
    """The index of each patch's first step (the last ones may reach into the padding)."""
    return [p * stride for p in range(patch_count(length, patch_len, stride))]


def _check(length: int, patch_len: int, stride: int) -> None:
    if patch_len < 1 or stride < 1:
        raise ValueError(f"patch length and stride must be positive, got {patch_len} and {stride}")
    if patch_len > length:
        raise ValueError(f"a patch of {patch_len} steps does not fit a series of {length} steps")
