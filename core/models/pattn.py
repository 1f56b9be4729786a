"""PAttn (Tan et al., NeurIPS 2024, "Are Language Models Actually Useful for Time Series
Forecasting?"): patches and one attention layer, the cheap model that matched the language-model
methods in their ablations.

Per window and channel (channel independence): RevIN normalises the window; it is cut into patches
(`core.patching`: the end padded with the last value S times), each patch is embedded linearly, one
multi-head self-attention layer with a residual connection and layer norm mixes the patches, and a
linear head maps the flattened patches to the horizon; the forecast is de-normalised. As in the
authors' code, the attention's projections have no bias and there is no feed-forward block and no
positional embedding; attention runs through `F.scaled_dot_product_attention`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.models.contract import DataFacts, Forecaster, ForecastOutput, ModelSpec, Preset, option
from core.models.layers import RevIN
from core.patching import make_patches, patch_count

CPU_WIDTH = 128  # the patch embedding's width on a CPU (see `preset`)


@dataclass
class PAttnConfig:
    seq_len: int = 336  # look-back L
    pred_len: int = 96  # horizon H
    n_channels: int = 7
    patch_len: int = option(16, help="Steps per patch (the authors: 16 on ETT, 24 on ILI).")
    stride: int = option(8, help="Steps from one patch to the next (the authors: half the patch).")
    # the authors keep GPT-2's width, to mirror the language-model methods
    d_model: int = option(768, help="Width each patch is embedded into; wider is slower.")
    n_heads: int = option(8, help="Attention heads; the width must divide by it.")
    dropout: float = option(0.1, help="Share of the attention's output switched off at random in training.")


class PatchAttention(nn.Module):
    """Self-attention over the patches of each series, with a residual connection and layer norm."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not divisible by {n_heads} heads")
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model, eps=1e-6)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        n, p, d = tokens.shape  # (B·C, P, D)
        q, k, v = self.qkv(tokens).view(n, p, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v)  # (B·C, heads, P, D/heads)
        attended = self.out(attended.transpose(1, 2).reshape(n, p, d))
        return self.norm(tokens + self.dropout(attended))


class PAttn(Forecaster):
    def __init__(self, config: PAttnConfig):
        super().__init__()
        self.config = config
        self.n_patches = patch_count(config.seq_len, config.patch_len, config.stride)
        self.revin = RevIN(config.n_channels)
        self.embed = nn.Linear(config.patch_len, config.d_model)
        self.attention = PatchAttention(config.d_model, config.n_heads, config.dropout)
        self.head = nn.Linear(self.n_patches * config.d_model, config.pred_len)

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        batch, _, channels = x.shape  # (B, L, C)
        x, stats = self.revin.normalise(x)
        series = x.transpose(1, 2).reshape(batch * channels, -1)  # (B·C, L)
        patches = make_patches(series, self.config.patch_len, self.config.stride)  # (B·C, P, Lp)
        tokens = self.attention(self.embed(patches))  # (B·C, P, D)
        y = self.head(tokens.flatten(start_dim=1)).float()  # (B·C, H)
        y = y.view(batch, channels, -1).transpose(1, 2)  # (B, H, C)
        return ForecastOutput(self.revin.denormalise(y, stats))


def preset(spec: ModelSpec, facts: DataFacts) -> Preset:
    """The authors' architecture (Tan et al., NeurIPS 2024: patches of 16 at stride 8, 8 heads, MAE
    loss), trained on a CPU budget: on a CPU the patch embedding is 128 wide, not 768."""
    train = dict(spec.train_defaults)
    notes = [
        "From Tan et al.'s code: patches of 16 at stride 8, 8 heads, no bias in the attention, the MAE "
        "loss and a cosine schedule; the learning rate was chosen on ETTh1's validation split."
    ]
    if facts.device_type == "cpu":
        notes.append(
            f"Scaled for this CPU: a width of {CPU_WIDTH} in place of the authors' {PAttnConfig.d_model} "
            "(GPT-2's), which made each training step about 14 times slower on the development CPU."
        )
        return Preset(model_options={"d_model": CPU_WIDTH}, train_options=train, notes=notes)
    return Preset(train_options=train, notes=notes)
