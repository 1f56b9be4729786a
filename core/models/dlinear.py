"""DLinear (Zeng et al., AAAI 2023): a moving-average decomposition and two linear maps.

The look-back window is split into a trend (moving average with replicate padding) and the
remainder; one linear layer maps each from L steps to H steps, shared across channels (channel
independence), and the two forecasts are summed. RevIN is optional; the paper's DLinear has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.models.contract import Forecaster, ForecastOutput
from core.models.layers import RevIN


@dataclass
class DLinearConfig:
    seq_len: int = 336  # look-back L
    pred_len: int = 96  # horizon H
    n_channels: int = 7
    moving_average: int = 25  # kernel of the trend filter (the paper's default)
    revin: bool = False  # the published DLinear works on raw (globally scaled) windows
    dropout: float = 0.0  # applied to the input window; DLinear has no hidden layer


class DLinear(Forecaster):
    def __init__(self, config: DLinearConfig):
        super().__init__()
        self.config = config
        self.revin = RevIN(config.n_channels) if config.revin else None
        self.trend_filter = nn.AvgPool1d(config.moving_average, stride=1)
        self.seasonal_linear = nn.Linear(config.seq_len, config.pred_len)
        self.trend_linear = nn.Linear(config.seq_len, config.pred_len)
        self.dropout = nn.Dropout(config.dropout)

    def moving_average(self, x: torch.Tensor) -> torch.Tensor:
        """Trend of (B, C, L) windows, same length, the ends padded by repeating the edge values."""
        front = (self.config.moving_average - 1) // 2
        back = self.config.moving_average - 1 - front
        padded = torch.cat([x[..., :1].expand(-1, -1, front), x, x[..., -1:].expand(-1, -1, back)], dim=-1)
        return self.trend_filter(padded)

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        stats = None
        if self.revin is not None:
            x, stats = self.revin.normalise(x)
        x = self.dropout(x).transpose(1, 2)  # (B, C, L)
        trend = self.moving_average(x)
        seasonal = x - trend
        y = self.seasonal_linear(seasonal) + self.trend_linear(trend)  # (B, C, H)
        y = y.transpose(1, 2).float()  # (B, H, C)
        if self.revin is not None:
            y = self.revin.denormalise(y, stats)
        return ForecastOutput(y)
