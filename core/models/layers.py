"""Building blocks shared by the trainable forecasters."""

from __future__ import annotations

import torch
from torch import nn


class RevIN(nn.Module):
    """Reversible instance normalisation (Kim et al., ICLR 2022).

    Each window and channel is shifted to zero mean and scaled to unit variance on the way in;
    `denormalise` maps the forecast back with the same statistics. The statistics are computed
    in fp32 whatever the autocast precision, and the forecast is cast to fp32 before it is undone.
    """

    def __init__(self, n_channels: int, eps: float = 1e-5, affine: bool = False):
        super().__init__()
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(n_channels))
            self.bias = nn.Parameter(torch.zeros(n_channels))

    def normalise(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        x = x.float()  # (B, L, C)
        mean = x.mean(dim=1, keepdim=True).detach()  # (B, 1, C)
        std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + self.eps).detach()
        x = (x - mean) / std
        if self.affine:
            x = x * self.weight + self.bias
        return x, (mean, std)

    def denormalise(self, y: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        mean, std = stats
        y = y.float()  # (B, H, C)
        if self.affine:
            y = (y - self.bias) / (self.weight + self.eps * self.eps)
        return y * std + mean
