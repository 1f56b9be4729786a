"""The expert's training data: windows of a split written as text and ended by the end token."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import TensorDataset

from core.proxy.serialize import WindowText
from core.windows import evenly_spaced

IGNORE = -100  # label of padding: no loss


def lm_windows(
    values: np.ndarray,
    seq_len: int,
    pred_len: int,
    serialise: Callable[[np.ndarray, np.ndarray], WindowText],
    *,
    max_windows: int,
    end_id: int,
    pad_id: int,
) -> TensorDataset:
    """Windows of one split (history then continuation), evenly spaced, at most `max_windows`,
    each written by `serialise` (the forecaster's own `window`, so the expert trains on the text it
    decodes from) and ended by the end token; `lm_dataset` gives the layout."""
    values = np.asarray(values, dtype=np.float64)
    count = len(values) - seq_len - pred_len + 1
    if count < 1:
        raise ValueError(
            f"a split of {len(values)} rows holds no window of {seq_len} + {pred_len} values; "
            "shorten the look-back or the horizon"
        )
    rows = []
    for start in evenly_spaced(count, max_windows):
        text = serialise(
            values[start : start + seq_len], values[start + seq_len : start + seq_len + pred_len]
        )
        rows.append(text.prompt_ids + text.continuation_ids + [end_id])
    return lm_dataset(rows, pad_id)


def lm_dataset(rows: list[list[int]], pad_id: int) -> TensorDataset:
    """Token rows right-padded into x (N, 2, T) ids and mask, y (N, T) labels (padding ignored)."""
    length = max(len(r) for r in rows)
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    labels = torch.full((len(rows), length), IGNORE, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        labels[i, : len(row)] = torch.tensor(row)
    return TensorDataset(torch.stack([ids, mask], dim=1), labels)
