"""Statistics of look-back windows: autocorrelation, Time-LLM's prompt, RevIN.

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


def _listing(numbers: list[int]) -> str:
    words = [str(k) for k in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def describe_lags(lags, acf: np.ndarray, unit: str = "step") -> str:
    """What a window's top lags mean, in a sentence a non-specialist reads.

    `lags` are strongest first (as `top_lags` gives them), `acf` the window's autocorrelation at
    lags 1.. (`acf[k - 1]` is lag k), `unit` what one step is called ("hour"). Lags 1, 2, 3… on
    top mean persistence: each value stays close to the ones just before it. A lag further away
    among them (with its neighbours) is an echo: a hint of a pattern that repeats at that lag.
    """
    lags = [int(k) for k in lags]
    unit = "step" if unit[:1].isdigit() else unit  # "15 minutes" steps are counted as steps
    units = f"{unit}s"
    best = float(acf[lags[0] - 1])
    if best < 0.2:
        return (
            f"The window hardly resembles its own past at any distance (at best {best:.2f}, "
            f"{lags[0]} {unit if lags[0] == 1 else units} back): no recent value is a reliable guide."
        )
    text = f"The window looks most like itself {_listing(sorted(lags))} {units} back"
    run = 0
    while run + 1 in lags:
        run += 1  # lags 1..run are all among the top ones
    echoes = [k for k in lags if k > run + 1]
    if run:
        lag1 = float(acf[0])
        strength = "strongly" if lag1 >= 0.8 else "fairly" if lag1 >= 0.5 else "weakly"
        text += (
            f": each value stays close to the ones just before it, so the series is {strength} "
            f"persistent from {unit} to {unit} (similarity {lag1:.2f} one {unit} back)"
        )
    if echoes:
        echo = echoes[0]
        text += (
            f"{'; it also' if run else ':'} {'l' if run else 'L'}ooks like itself {echo} {units} back "
            f"(similarity {acf[echo - 1]:.2f}), a hint of a pattern that repeats every {echo} {units}"
        )
    return text + "."


@dataclass
class PromptStatistics:
    """What Time-LLM writes into its prompt about windows (N, L), in the series' own units."""

    minimum: np.ndarray  # (N,)
    maximum: np.ndarray
    median: np.ndarray
    trend: np.ndarray  # (N,) "upward", "downward" or "flat"
    lags: np.ndarray  # (N, k) the lags with the highest autocorrelation, strongest first


def prompt_statistics(windows: np.ndarray, n_lags: int = 5) -> PromptStatistics:
    """Min, max, median, trend direction (the sum of first differences, flat when it is a negligible
    share of the window's range) and the top autocorrelation lags of each window (N, L)."""
    windows = np.atleast_2d(np.asarray(windows, dtype=np.float64))
    drift = windows[:, -1] - windows[:, 0]  # the sum of first differences
    flat = np.abs(drift) <= 1e-9 * np.ptp(windows, axis=1)  # a constant window, or rounding noise
    trend = np.where(flat, "flat", np.where(drift > 0, "upward", "downward"))
    return PromptStatistics(
        minimum=windows.min(axis=1),
        maximum=windows.max(axis=1),
        median=np.median(windows, axis=1),
        trend=trend,
        lags=top_lags(windows, min(n_lags, windows.shape[1] - 1)),  # non-circular, lag 0 excluded
    )


def prompt_pieces(
    windows: np.ndarray, description: str, seq_len: int, pred_len: int
) -> tuple[str, list[str]]:
    """Time-LLM's prompts for windows (N, L): the start they share (the data set's description and
    the task) and each window's statistics, numbers rounded so that they cost few tokens."""
    found = prompt_statistics(windows)
    task = f"Task: forecast the next {pred_len} steps given the previous {seq_len} steps."
    description = description.strip()
    if description and description[-1] not in ".!?":
        description += "."  # a sentence of its own before the task
    head = f"Dataset: {description} {task}" if description else task
    own = [
        f" min {lo:.4g}, max {hi:.4g}, median {mid:.4g}, trend {direction}, "
        f"top lags {', '.join(map(str, lag_row))}."
        for lo, hi, mid, direction, lag_row in zip(
            found.minimum, found.maximum, found.median, found.trend, found.lags, strict=True
        )
    ]
    return f"{head} Input statistics:", own


def prompt_text(window: np.ndarray, description: str, seq_len: int, pred_len: int) -> str:
    """The whole prompt of one window (L,), exactly as the model reads it."""
    shared, own = prompt_pieces(np.asarray(window)[None], description, seq_len, pred_len)
    return shared + own[0]


def revin_normalise(window: np.ndarray, eps: float = 1e-5):
    """Reversible instance normalisation of one window per channel: zero mean, unit variance.

    Returns the normalised window with the mean and standard deviation that undo it.
    Works along axis 0 of a (L,) or (L, C) window.
    """
    window = np.asarray(window, dtype=np.float64)
    mean = window.mean(axis=0)
    std = np.sqrt(window.var(axis=0) + eps)
    return (window - mean) / std, mean, std
