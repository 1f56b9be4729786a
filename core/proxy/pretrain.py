"""Pretraining the numeric Llama of proxy decoding: its corpus, its held-out set and the loop.

`make pretrain-numeric` runs it through `bench/pretrain_numeric.py`, which writes the weights to
`data/numeric-llama/` and the record (loss curve, held-out NLL per atom, time, machine) to
`bench/results/numeric_pretrain.json`. The same seeds give the same corpus, batches and
initialisation on every machine.

The corpus, every window written as LLMTime text (`core.proxy.serialize.window_text`: 3 digits, the
0.95-quantile / 0.3-offset scaler fitted on the window's history, the history trimmed so that it
and the longest forecast fit 1,023 atoms), then the end token:

- **Synthetic series**, generated here from a seed: sums of a trend (none, linear, with a break,
  exponential or saturating), up to three seasonalities at periods people meet (4, 7, 12, 24, 52,
  168 or any from 3 to 120, with harmonics, some multiplicative), AR(1) or AR(2) noise, random
  walks, level shifts and spikes; some are counts (Poisson), some are kept at or above zero.
- **Real series that ship with the project or its packages, their training parts only** (the
  first 70 %, the project's ratio split; ETTh1 and ETTh2: the rows of the standard training
  split, [0, 8640), all seven channels): statsmodels' Mauna Loa CO2 (weekly), sunspots (yearly),
  El Niño (monthly), Nile flows, US macro data (quarterly, 12 columns), Danish money demand,
  interest and inflation, strikes and Grunfeld's investment series (per firm).

Never in it: ILI and M4, which the proxy benches score (bench/bench_proxy.py), nor the validation
or test part of any data set. The held-out set, on which the NLL per atom is measured, is 256
windows of synthetic series drawn from another seed and of the real series' held-out ends (their
last 15 % of the training part), neither trained on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import lfilter

from core.proxy import numeric_llama
from core.proxy.serialize import NumberFormat, window_text

ROOT = Path(__file__).resolve().parents[2]
DIGITS = NumberFormat(3)
SEED = 20261202
HELD_OUT_SEED = SEED + 1
HELD_OUT_WINDOWS = 256
TRAIN_SHARE = 0.7  # the project's ratio split: the first 70 % of a series is its training part
HELD_OUT_END = 0.15  # the last 15 % of a real series' training part is held out, never trained on
ETT_TRAIN_ROWS = 8640  # ETTh: the standard split's training rows


# ---------------------------------------------------------------- the corpus


def synthetic_series(rng: np.random.Generator) -> np.ndarray:
    """One synthetic series: trend + seasonalities + noise + shifts, in a random scale."""
    n = int(rng.integers(200, 1600))
    t = np.arange(n, dtype=np.float64)
    level = rng.normal(0, 1) * 10 ** rng.uniform(-1, 3)
    kind = rng.choice(["none", "linear", "break", "exponential", "saturating"])
    slope = rng.normal(0, 1) / n
    if kind == "linear":
        trend = slope * t
    elif kind == "break":
        at = rng.integers(n // 5, 4 * n // 5)
        trend = slope * t + rng.normal(0, 2) / n * np.maximum(t - at, 0)
    elif kind == "exponential":
        trend = np.expm1(rng.uniform(-1.5, 1.5) * t / n)
    elif kind == "saturating":
        trend = 1 / (1 + np.exp(-(t - rng.uniform(0.2, 0.8) * n) / (n * rng.uniform(0.03, 0.2))))
    else:
        trend = np.zeros(n)
    seasonal = np.zeros(n)
    for _ in range(int(rng.integers(0, 4))):
        if rng.random() < 0.7:
            period = float(rng.choice([4, 7, 12, 24, 52, 168]))
        else:
            period = float(rng.uniform(3, 120))
        shape = np.zeros(n)
        for harmonic in range(1, int(rng.integers(1, 4)) + 1):
            phase = rng.uniform(0, 2 * np.pi)
            shape += rng.uniform(0.2, 1) / harmonic * np.sin(2 * np.pi * harmonic * t / period + phase)
        seasonal += rng.uniform(0.2, 2) * shape
    phi = rng.uniform(-0.5, 0.95, size=2) * np.array([1, rng.random() < 0.3])
    if abs(phi[1]) > 0 and phi.sum() >= 0.98:  # keep the AR(2) process stationary
        phi[1] = 0.97 - phi[0]
    shocks = rng.normal(0, rng.uniform(0.02, 0.6), size=n)
    noise = lfilter([1.0], [1.0, -phi[0], -phi[1]], shocks)
    walk = np.cumsum(rng.normal(0, rng.uniform(0.01, 0.2), size=n)) if rng.random() < 0.3 else 0
    shifts = np.zeros(n)
    for at in rng.integers(0, n, size=rng.poisson(0.7)):
        shifts[at:] += rng.normal(0, 1.5)
    spikes = np.zeros(n)
    if rng.random() < 0.2:
        where = rng.random(n) < 0.01
        spikes[where] = rng.normal(0, 3, size=where.sum())
    if rng.random() < 0.3:  # multiplicative: the season grows with the level
        values = (1 + 0.5 * trend + walk + shifts) * (1 + 0.3 * seasonal) + 0.3 * noise + spikes
    else:
        values = trend + seasonal + noise + walk + shifts + spikes
    values = level + values * 10 ** rng.uniform(-1, 2)
    if rng.random() < 0.15:  # counts
        values = rng.poisson(np.clip(values - values.min(), 0, 1e6) * rng.uniform(0.05, 2)).astype(np.float64)
    elif rng.random() < 0.3:  # a quantity that cannot go below zero
        values = np.maximum(values - np.quantile(values, rng.uniform(0, 0.3)), 0)
    return values


def _statsmodels_series() -> dict[str, np.ndarray]:
    """The statsmodels series, by name; missing values dropped (they ship with the package)."""
    import statsmodels.api as sm

    data = sm.datasets
    series = {
        "co2": data.co2.load_pandas().data["co2"].interpolate().to_numpy(),
        "sunspots": data.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(),
        "elnino": data.elnino.load_pandas().data.drop(columns="YEAR").to_numpy().ravel(),
        "nile": data.nile.load_pandas().data["volume"].to_numpy(),
    }
    macro = data.macrodata.load_pandas().data.drop(columns=["year", "quarter"])
    series |= {f"macrodata.{column}": macro[column].to_numpy() for column in macro}
    danish = data.danish_data.load_pandas().data
    series |= {f"danish_data.{column}": danish[column].to_numpy() for column in danish}
    rates = data.interest_inflation.load_pandas().data
    series |= {f"interest_inflation.{column}": rates[column].to_numpy() for column in ("Dp", "R")}
    strikes = data.strikes.load_pandas().data
    series |= {f"strikes.{column}": strikes[column].to_numpy() for column in strikes}
    grunfeld = data.grunfeld.load_pandas().data
    for firm, rows in grunfeld.groupby("firm"):
        for column in ("invest", "value", "capital"):
            series[f"grunfeld.{firm}.{column}"] = rows.sort_values("year")[column].to_numpy()
    return {name: np.asarray(values, dtype=np.float64)[~np.isnan(values)] for name, values in series.items()}


def real_series() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each real series' training part, cut into (trained on, held out): the last 15 % of the
    training part is held out."""
    import pandas as pd

    parts = {name: values[: int(len(values) * TRAIN_SHARE)] for name, values in _statsmodels_series().items()}
    for name in ("ETTh1", "ETTh2"):
        frame = pd.read_csv(ROOT / "data" / f"{name}.csv").drop(columns="date")
        parts |= {f"{name}.{column}": frame[column].to_numpy()[:ETT_TRAIN_ROWS] for column in frame}
    return {
        name: (
            values[: int(len(values) * (1 - HELD_OUT_END))],
            values[int(len(values) * (1 - HELD_OUT_END)) :],
        )
        for name, values in parts.items()
    }


def window_tokens(series: np.ndarray, rng: np.random.Generator) -> list[int] | None:
    """One window of `series` as numeric ids: begin, history, continuation, end. None when the
    series is too short for the window drawn."""
    horizon = int(rng.choice([6, 8, 12, 13, 14, 18, 24, 36, 48, 60]))
    history = int(rng.integers(12, 400))
    if len(series) < horizon + 12:
        return None
    history = min(history, len(series) - horizon)
    start = int(rng.integers(0, len(series) - history - horizon + 1))
    values = series[start : start + history + horizon]
    if not np.isfinite(values).all():
        return None
    text = window_text(
        values[:history],
        values[history:],
        numeric_llama.numeric_alphabet(),
        DIGITS,
        context_tokens=numeric_llama.CONTEXT - 1,
        horizon=horizon,
    )
    return [numeric_llama.BOS, *text.prompt_ids, *text.continuation_ids, numeric_llama.END]


class Corpus:
    """The training pool (synthetic series from `SEED`, the real series' trained-on parts) and the
    held-out windows; the same seeds give the same series and windows on every machine."""

    def __init__(self, synthetic: int = 3000):
        rng = np.random.default_rng(SEED)
        self.synthetic = [synthetic_series(rng) for _ in range(synthetic)]
        real = real_series()
        self.real = {name: trained for name, (trained, _) in real.items()}
        held_rng = np.random.default_rng(HELD_OUT_SEED)
        held_synthetic = [synthetic_series(held_rng) for _ in range(64)]
        held_real = [end for _, end in real.values()]
        self.held_out: list[list[int]] = []
        while len(self.held_out) < HELD_OUT_WINDOWS:
            pool = held_synthetic if len(self.held_out) % 2 == 0 else held_real
            tokens = window_tokens(pool[int(held_rng.integers(len(pool)))], held_rng)
            if tokens is not None:
                self.held_out.append(tokens)

    def describe(self) -> dict:
        return {
            "synthetic_series": len(self.synthetic),
            "synthetic_values": int(sum(len(s) for s in self.synthetic)),
            "real_series": {name: len(values) for name, values in self.real.items()},
            "held_out_windows": len(self.held_out),
            "excluded": "ILI and M4 (scored by the proxy benches); every validation and test part",
        }

    def batches(self, batch_size: int, seed: int = SEED) -> Iterator[list[list[int]]]:
        """Endless batches of training windows: a quarter from the real series, the rest synthetic."""
        rng = np.random.default_rng(seed + 2)
        real = list(self.real.values())
        while True:
            batch = []
            while len(batch) < batch_size:
                pool = real if rng.random() < 0.25 else self.synthetic
                tokens = window_tokens(pool[int(rng.integers(len(pool)))], rng)
                if tokens is not None:
                    batch.append(tokens)
            yield batch


def padded(batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids (B, T) padded on the right, and labels with padding ignored (-100)."""
    length = max(len(tokens) for tokens in batch)
    ids = torch.full((len(batch), length), numeric_llama.PAD, dtype=torch.long)
    for i, tokens in enumerate(batch):
        ids[i, : len(tokens)] = torch.tensor(tokens)
    labels = torch.where(ids == numeric_llama.PAD, -100, ids)
    return ids, labels


def lm_loss(model, ids: torch.Tensor, labels: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    logits = model(input_ids=ids, attention_mask=(ids != numeric_llama.PAD).long(), use_cache=False).logits
    return F.cross_entropy(
        logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100, reduction=reduction
    )


@torch.no_grad()
def held_out_nll(model, windows: list[list[int]], batch_size: int = 32) -> float:
    """Mean negative log-likelihood per atom (nats) over the held-out windows, the end token counted."""
    model.eval()
    total, count = 0.0, 0
    for first in range(0, len(windows), batch_size):
        ids, labels = padded(windows[first : first + batch_size])
        total += float(lm_loss(model, ids, labels, reduction="sum"))
        count += int((labels[:, 1:] != -100).sum())
    return total / count


# ---------------------------------------------------------------- pretraining


def pretrain(
    steps: int,
    batch_size: int = 8,
    lr: float = 3e-3,
    warmup: int = 50,
    corpus: Corpus | None = None,
    log_every: int = 25,
    eval_every: int = 250,
    progress=print,
) -> tuple[object, dict]:
    """A numeric Llama trained `steps` steps of AdamW (cosine to a tenth of `lr` after a linear
    warm-up), and its record: the loss curve and the held-out NLL along the way."""
    torch.manual_seed(SEED)
    corpus = corpus or Corpus()
    model = numeric_llama.new_numeric_llama(seed=SEED).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.01)

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress_share = (step - warmup) / max(steps - warmup, 1)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress_share))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    curve, held, losses, tokens = [], [], [], 0
    started = time.perf_counter()
    batches = corpus.batches(batch_size)
    for step in range(1, steps + 1):
        ids, labels = padded(next(batches))
        loss = lm_loss(model, ids, labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        tokens += int((labels != -100).sum())
        if step % log_every == 0 or step == steps:
            curve.append(
                {"step": step, "loss": float(np.mean(losses)), "seconds": time.perf_counter() - started}
            )
            losses = []
        if step % eval_every == 0 or step == steps:
            nll = held_out_nll(model, corpus.held_out)
            model.train()
            held.append({"step": step, "nll_per_atom": nll})
            elapsed = time.perf_counter() - started
            progress(
                f"step {step}/{steps}: train loss {curve[-1]['loss']:.4f}, held-out NLL {nll:.4f} "
                f"({elapsed:.0f} s)"
            )
    record = {
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "warmup": warmup,
        "tokens_seen": tokens,
        "train_seconds": time.perf_counter() - started,
        "loss_curve": curve,
        "held_out": held,
        "held_out_nll_per_atom": held[-1]["nll_per_atom"],
    }
    return model.eval(), record
