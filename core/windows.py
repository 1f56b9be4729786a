"""Window datasets and loaders over the protocol's scaled splits, for training and testing every model."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


class WindowDataset(Dataset):
    """Stride-1 windows of a (T, C) split: inputs (L, C) over all channels, targets (H, C_out)."""

    def __init__(self, values: np.ndarray, seq_len: int, pred_len: int, output_index: list[int]):
        self.values = torch.as_tensor(np.ascontiguousarray(values), dtype=torch.float32)
        self.seq_len, self.pred_len = seq_len, pred_len
        self.output_index = torch.as_tensor(output_index)
        self.length = len(values) - seq_len - pred_len + 1
        if self.length < 1:
            raise ValueError(
                f"a split of {len(values)} rows holds no window of look-back {seq_len} plus horizon "
                f"{pred_len}; shorten them or use more data"
            )

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        end = index + self.seq_len
        x = self.values[index:end]
        y = self.values[end : end + self.pred_len].index_select(1, self.output_index)
        return x, y


def make_loader(
    dataset: WindowDataset,
    batch_size: int,
    *,
    shuffle: bool,
    drop_last: bool = False,
    seed: int = 0,
    distributed: bool = False,
) -> DataLoader:
    """A loader in the main process (windows are cheap slices); a distributed sampler under DDP."""
    sampler = None
    if distributed:
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=drop_last)
        shuffle = False
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        drop_last=drop_last,
        generator=generator,
    )


def evenly_spaced(count: int, most: int | None) -> np.ndarray:
    """Indices of at most `most` of `count` windows, evenly spaced from the first to the last (both
    kept), so that a strided sample still spans the whole split; every index when `most` is None or
    not smaller than `count`."""
    if most is None or most >= count:
        return np.arange(count)
    if most == 1:
        return np.zeros(1, dtype=int)
    return np.unique(np.linspace(0, count - 1, most).round().astype(int))


def strided(dataset: Dataset, most: int | None) -> Dataset:
    """`dataset` cut to at most `most` evenly spaced windows (see `evenly_spaced`)."""
    if most is None or most >= len(dataset):
        return dataset
    return torch.utils.data.Subset(dataset, evenly_spaced(len(dataset), most).tolist())
