"""PatchTST (Nie et al., ICLR 2023): patches of each channel as tokens of a Transformer encoder.

Channel independence: every channel of every window is its own sequence. Each is normalised with
RevIN, cut into patches (the shared `core.patching` code: end padded with the last value S times),
embedded linearly with a learned positional embedding, encoded by Transformer layers (batch norm,
as in the paper) whose attention is `F.scaled_dot_product_attention` (FlashAttention kernels on a
GPU), and flattened to the horizon by a linear head.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.models.contract import Forecaster, ForecastOutput
from core.models.layers import RevIN
from core.patching import make_patches, patch_count


@dataclass
class PatchTSTConfig:
    seq_len: int = 336  # look-back L
    pred_len: int = 96  # horizon H
    n_channels: int = 7
    patch_len: int = 16  # Lp
    stride: int = 8  # S
    d_model: int = 16  # the paper's ETTh1 setting: a small model on a small data set
    n_heads: int = 4
    d_ff: int = 128
    n_layers: int = 3
    dropout: float = 0.3  # feed-forward, residual and embedding dropout
    attention_dropout: float = 0.0  # on the attention weights; 0 as in the official code, and
    # nonzero values force SDPA onto its slow explicit path on the CPU
    head_dropout: float = 0.0
    revin: bool = True


class EncoderLayer(nn.Module):
    """Post-norm Transformer encoder layer with batch norm, as in PatchTST."""

    def __init__(self, config: PatchTSTConfig):
        super().__init__()
        self.n_heads = config.n_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.attention_dropout = config.attention_dropout
        self.dropout = nn.Dropout(config.dropout)
        self.norm_attention = nn.BatchNorm1d(config.d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(config.d_model, config.d_ff),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.d_ff, config.d_model),
        )
        self.norm_feed_forward = nn.BatchNorm1d(config.d_model)

    def _batch_norm(self, norm: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
        return norm(x.transpose(1, 2)).transpose(1, 2)  # normalise over (batch, patches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, p, d = x.shape  # (B·C, P, D)
        q, k, v = self.qkv(x).view(n, p, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attention_dropout if self.training else 0.0
        )  # (B·C, heads, P, D/heads)
        attended = self.out(attended.transpose(1, 2).reshape(n, p, d))
        x = self._batch_norm(self.norm_attention, x + self.dropout(attended))
        return self._batch_norm(self.norm_feed_forward, x + self.dropout(self.feed_forward(x)))


class PatchTST(Forecaster):
    def __init__(self, config: PatchTSTConfig):
        super().__init__()
        if config.d_model % config.n_heads:
            raise ValueError(f"d_model {config.d_model} is not divisible by {config.n_heads} heads")
        self.config = config
        self.n_patches = patch_count(config.seq_len, config.patch_len, config.stride)
        self.revin = RevIN(config.n_channels) if config.revin else None
        self.embed = nn.Linear(config.patch_len, config.d_model)
        self.position = nn.Parameter(torch.empty(self.n_patches, config.d_model).uniform_(-0.02, 0.02))
        self.embed_dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.n_layers))
        self.head = nn.Sequential(
            nn.Flatten(start_dim=-2),
            nn.Dropout(config.head_dropout),
            nn.Linear(self.n_patches * config.d_model, config.pred_len),
        )

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        batch, _, channels = x.shape  # (B, L, C)
        stats = None
        if self.revin is not None:
            x, stats = self.revin.normalise(x)
        series = x.transpose(1, 2).reshape(batch * channels, -1)  # (B·C, L)
        patches = make_patches(series, self.config.patch_len, self.config.stride)  # (B·C, P, Lp)
        tokens = self.embed_dropout(self.embed(patches) + self.position)  # (B·C, P, D)
        for layer in self.layers:
            tokens = layer(tokens)
        y = self.head(tokens).float()  # (B·C, H)
        y = y.view(batch, channels, -1).transpose(1, 2)  # (B, H, C)
        if self.revin is not None:
            y = self.revin.denormalise(y, stats)
        return ForecastOutput(y)
