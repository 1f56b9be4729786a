"""Statistics of look-back windows: autocorrelation, the prompt statistics of Time-LLM, RevIN.

The official Time-LLM code computes its "top lags" from a circular FFT autocorrelation that includes
lag 0 (so lag 0 always wins) and describes the *normalised* window. Here the autocorrelation is
non-circular (zero-padded FFT), lag 0 is excluded, and the statistics are in the series' own units.
Every function works on the last axis, so a batch (..., L) is handled without a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation at lags 1..max_lag along the last axis (lag 0 excluded).

    The estimator is the usual one, sum_t (x_t − x̄)(x_{t+k} − x̄) / sum_t (x_t − x̄)², computed
    with a zero-padded FFT so that the end of the window never wraps onto its start.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[-1]
    if not 1 <= max_lag < n:
        raise ValueError(f"max_lag must be between 1 and {n - 1} for {n} values, got {max_lag}")
    centred = values - values.mean(axis=-1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()  # a power of two ≥ 2n − 1: no circular overlap
    spectrum = np.fft.rfft(centred, n=size, axis=-1)
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=-1)[..., :n]
    variance = autocovariance[..., :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        acf = np.where(variance > 0, autocovariance / variance, 0.0)
    return acf[..., 1 : max_lag + 1]


def top_lags(values: np.ndarray, k: int = 5) -> np.ndarray:
    """The k lags (≥ 1) with the highest autocorrelation, strongest first; shape (..., k)."""
    n = np.asarray(values).shape[-1]
    acf = autocorrelation(values, n - 1)
    order = np.argsort(-acf, axis=-1, kind="stable")[..., :k]
    return order + 1


@dataclass
class PromptStatistics:
    """What Time-LLM writes into its prompt about one window, in the series' own units."""

    minimum: float
    maximum: float
    median: float
    trend: str  # "upward", "downward" or "flat"
    lags: list[int]

    def describe(self) -> str:
        """The statistics as prompt text, numbers rounded so that they cost few tokens."""
        return (
            f"min value {_short(self.minimum)}, max value {_short(self.maximum)}, "
            f"median value {_short(self.median)}, the trend of input is {self.trend}, "
            f"top 5 lags are : {self.lags}"
        )


def prompt_statistics(window: np.ndarray, n_lags: int = 5) -> PromptStatistics:
    """Min, max, median, trend direction (sum of first differences) and top autocorrelation lags."""
    window = np.asarray(window, dtype=np.float64)
    drift = window[-1] - window[0]  # the sum of first differences
    scale = np.ptp(window)
    if scale == 0 or abs(drift) < 1e-9 * scale:
        trend = "flat"
    else:
        trend = "upward" if drift > 0 else "downward"
    return PromptStatistics(
        minimum=float(window.min()),
        maximum=float(window.max()),
        median=float(np.median(window)),
        trend=trend,
        lags=[int(lag) for lag in top_lags(window, min(n_lags, len(window) - 1))],
    )


def _short(value: float) -> str:
    return f"{value:.4g}"


def revin_normalise(window: np.ndarray, eps: float = 1e-5):
    """Reversible instance normalisation of one window per channel: zero mean, unit variance.

    Returns the normalised window with the mean and standard deviation that undo it.
    Works along axis 0 of a (L,) or (L, C) window.
    """
    window = np.asarray(window, dtype=np.float64)
    mean = window.mean(axis=0)
    std = np.sqrt(window.var(axis=0) + eps)
    return (window - mean) / std, mean, std
