"""Proxy-tuned decoding on this CPU: tuning the expert, decoding speed, and accuracy on ILI and M4
Hourly.

Models: base = the bundled SmolLM2-135M-Instruct with all 30 layers; small = the project's numeric
Llama (`core.proxy.numeric_llama`, pretrained by `make pretrain-numeric`): untuned it is the
anti-expert, tuned on the data's training windows it is the expert. LLMTime text (3 digits after the
point, the 0.95-quantile / 0.3-offset scaler fitted on each window's history), 10 samples at
temperature 0.7 and top-p 0.9; the forecast is the per-step median, the 80 % band the samples' 10 %
and 90 % quantiles. Decoding in fp32 (bf16 autocast decoded slower on this CPU: proxy_speed.json of
2026-11-26). alpha is chosen on validation windows (never the test): the proxy's NLL of the true
continuation for alpha in 0, 0.25, 0.5, 1, 1.5, 2, the lowest wins.

Tuning (`--part tune`): the expert tuned in full or with LoRA (r 8), each at lr 1e-3 and 3e-3, for
the same wall time (`--seconds`, 45 by default) on ILI's serialised training windows; the validation
NLL per atom before and after. The better kind is the forecaster's default (`ProxyConfig.tune`).

Speed (`--part speed`): one ILI window (96 values of history), horizon 24, 10 samples, fp32 with the
key-value caches: base alone, expert alone and proxy; the target is proxy ≥ 0.8 × the base's
sampled tokens per second. Then base and proxy with and without the caches (4 samples, horizon 4),
and whether both drew the same samples from the same seed.

ILI (`--part ili`): data/national_illness.csv, target OT, the 70/10/20 split, look-back 96, horizon
24. The expert (LoRA r 8 on the numeric Llama) trains through the project's `Trainer` for 2 epochs
over 256 evenly spaced training windows (batch 8, Adam 3e-3, cosine, fp32, early stopping on 64
validation windows); alpha is chosen on 16 validation windows; then `--windows` evenly spaced test
windows are decoded by `ProxyTuned.decode_windows` (what a dashboard run uses): base alone, expert
alone, proxy at the chosen alpha and at alpha 1 (the paper's). MSE / MAE on values scaled with the
training rows' statistics, the NLL per step (LLMTime's definition, in the series' units) and the 80
% band's coverage, beside naive, seasonal naive (52) and Naive2 on the same windows.

M4 Hourly (`--part m4`): horizon 48, season 24. The expert trains the same way on 256 windows drawn
evenly across the 414 series' training parts (history 96, continuation 48; validation: 64 windows
ending at the end of other series' training parts, never the test); alpha is chosen on 16 such
validation windows; `--series` series evenly spaced over the 414 are forecast from their training
part (trimmed to the 1,023-atom context) and scored against the test file: sMAPE, MASE and OWA
against Naive2 on the same series, beside naive, seasonal naive and Naive2 (and those baselines on
all 414 series, which reproduce the published figures).

Every accuracy part also checks that no forecast lies more than 10 times its window's history range
outside that range (`diverged`), and says whether the proxy closes most of the gap between the base
and the expert (the paper's claim).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_proxy.py [--part tune|speed|ili|m4|all]
        [--windows 48] [--series 48]

Writes bench/results/proxy_tuning.json, proxy_speed.json, proxy_ili.json and proxy_m4_hourly.json.
The M4 part reads ../shared/data/m4/ (the other parts use the project's bundled ILI file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import accuracy_row, machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "data"
SETTINGS = dict(base="smollm2-135m", small="numeric", samples=10, temperature=0.7, top_p=0.9)
SEED = 2021


def _say(**fields) -> None:
    print(json.dumps(fields, default=float), flush=True)


def _ili_splits(seq_len: int):
    from core.data import prepare
    from core.datasets import load_builtin

    dataset = load_builtin("ILI")
    data = prepare(dataset.frame.to_numpy(), dataset.channels, dataset.target, "S", "ratio", seq_len)
    raw = {name: data.scaler.inverse_transform(split)[:, 0] for name, split in data.splits.items()}
    return dataset, data, raw


def _ili_target() -> np.ndarray:
    import pandas as pd

    return pd.read_csv(ROOT / "data" / "national_illness.csv")["OT"].to_numpy(dtype=np.float64)


# ---------------------------------------------------------------- tuning: full or LoRA


@torch.no_grad()
def _validation_nll(model, dataset) -> float:
    """The expert's mean negative log-likelihood per atom over a token dataset (nats)."""
    model.eval()
    x, y = dataset.tensors
    total, count = 0.0, 0
    for first in range(0, len(x), 16):
        output = model(x[first : first + 16])
        labels = y[first : first + 16].long()[:, 1:]
        labels = model.expert.atoms(labels) if hasattr(model.expert, "atoms") else labels
        logits = output.forecast[:, :-1]
        total += float(
            F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100, reduction="sum")
        )
        count += int((labels != -100).sum())
    return total / count


def tune(seconds: float) -> dict:
    from core.models.proxy_tuned import ProxyConfig, ProxyTuned
    from core.proxy.windows import lm_windows
    from core.windows import make_loader

    seq_len, horizon = 96, 24
    _, _, raw = _ili_splits(seq_len)
    rows = []
    for kind in ("full", "lora"):
        for lr in (1e-3, 3e-3):
            torch.manual_seed(SEED)
            model = ProxyTuned(ProxyConfig(seq_len=seq_len, pred_len=horizon, tune=kind, **SETTINGS))
            make = dict(end_id=model.alphabet.end_id, pad_id=model.pad_id)
            train = lm_windows(raw["train"], seq_len, horizon, model.window, max_windows=256, **make)
            val = lm_windows(raw["val"], seq_len, horizon, model.window, max_windows=64, **make)
            before = _validation_nll(model, val)
            optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
            steps, started = 0, time.perf_counter()
            model.train()
            while time.perf_counter() - started < seconds:
                for x, y in make_loader(train, 8, shuffle=True, seed=SEED + steps):
                    loss = model.training_loss(model(x), y, None)
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    optimiser.step()
                    steps += 1
                    if time.perf_counter() - started >= seconds:
                        break
            trained_s = time.perf_counter() - started
            rows.append(
                {
                    "tune": kind,
                    "lr": lr,
                    "seconds": round(trained_s, 1),
                    "steps": steps,
                    "trainable_parameters": model.parameter_counts()[0],
                    "val_nll_per_atom_before": before,
                    "val_nll_per_atom_after": _validation_nll(model, val),
                }
            )
            _say(**rows[-1])
    precision = {}
    for autocast in ("fp32", "bf16"):  # what `auto` should mean for the expert on a CPU
        model = ProxyTuned(ProxyConfig(seq_len=seq_len, pred_len=horizon, tune="full", **SETTINGS))
        optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        batches = list(make_loader(train, 8, shuffle=True, seed=SEED))[:12]
        model.train()
        started = time.perf_counter()
        for x, y in batches:
            context = torch.autocast("cpu", dtype=torch.bfloat16) if autocast == "bf16" else nullcontext()
            with context:
                loss = model.training_loss(model(x), y, None)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        precision[autocast] = round(len(batches) / (time.perf_counter() - started), 2)
        _say(precision=autocast, steps_per_s=precision[autocast])
    best = {
        kind: min((r for r in rows if r["tune"] == kind), key=lambda r: r["val_nll_per_atom_after"])
        for kind in ("full", "lora")
    }
    return {
        "protocol": f"ILI OT, look-back 96, horizon 24: 256 evenly spaced training windows, batch 8, Adam, "
        f"{seconds:g} s of tuning each, from the shipped numeric Llama; validation NLL per atom over 64 "
        "evenly spaced validation windows (fp32)",
        "rows": rows,
        "full_tuning_steps_per_s": precision,
        "better": min(best, key=lambda kind: best[kind]["val_nll_per_atom_after"]),
        "best_per_kind": best,
    }


# ---------------------------------------------------------------- speed


def speed() -> dict:
    from core.models.proxy_tuned import ProxyConfig, ProxyTuned
    from core.proxy.decoding import DecodeSettings, sample_forecast

    series = _ili_target()
    model = ProxyTuned(ProxyConfig(seq_len=96, pred_len=24, **SETTINGS))
    model.eval()
    history = series[500:596]
    text = model.window(history)
    rows = []

    def measure(name, use_cache, samples, horizon):
        started = time.perf_counter()
        forecast = sample_forecast(
            model.sources(name, 1.0),
            text.prompt_ids,
            model.alphabet,
            model.number_format,
            text.scaler,
            horizon,
            DecodeSettings(samples=samples, temperature=0.7, top_p=0.9, use_cache=use_cache),
            seed=0,
            vocab_size=model.vocab_size,
        )
        rows.append(
            {
                "configuration": name,
                "precision": "fp32",
                "kv_cache": use_cache,
                "samples": samples,
                "horizon": horizon,
                "prompt_tokens": len(text.prompt_ids),
                "sampled_tokens": forecast.stats.tokens,
                "decode_s": round(forecast.stats.seconds, 2),
                "wall_s": round(time.perf_counter() - started, 2),
                "tokens_per_s": round(forecast.stats.tokens / forecast.stats.seconds, 1),
            }
        )
        _say(**rows[-1])
        return forecast.samples

    measure("base", True, 10, 24)  # warm-up: the first read of the models and their caches
    rows.clear()
    for name in ("base", "expert", "proxy", "base", "proxy"):  # the run's settings; base and proxy twice
        measure(name, True, 10, 24)
    same = {}
    for name in ("base", "proxy"):  # without the caches every step re-reads everything: a short test
        cached = measure(name, True, 4, 4)
        uncached = measure(name, False, 4, 4)
        same[name] = bool(np.array_equal(cached, uncached))

    def rate(name):
        chosen = [r for r in rows if r["configuration"] == name and r["samples"] == 10]
        return sum(r["sampled_tokens"] for r in chosen) / sum(r["decode_s"] for r in chosen)

    ratio = rate("proxy") / rate("base")
    return {
        "rows": rows,
        "tokens_per_s": {name: round(rate(name), 1) for name in ("base", "expert", "proxy")},
        "proxy_over_base": round(ratio, 3),
        "target": "proxy ≥ 0.8 × base",
        "target_met": bool(ratio >= 0.8),
        "same_samples_with_and_without_cache": same,
        "protocol": "ILI OT, history rows 500-595 (96 values); 10 samples per batch and horizon 24, fp32 "
        "with the caches, base and proxy measured twice (interleaved) and summed, after one warm-up; then "
        "4 samples and horizon 4 with and without the caches; base SmolLM2-135M (30 layers), small the "
        "numeric Llama (untuned here: speed only)",
    }


# ---------------------------------------------------------------- accuracy


def _baseline_rows(histories, actuals, season) -> dict:
    from core.models import baselines

    out = {}
    for name in ("naive", "snaive", "naive2"):
        forecasts = []
        for history in histories:
            if name == "naive2":
                forecasts.append(baselines.naive2(history, actuals.shape[1], season))
            elif name == "snaive":
                forecasts.append(
                    baselines.seasonal_naive(history[None, :, None], actuals.shape[1], season)[0, :, 0]
                )
            else:
                forecasts.append(baselines.naive(history[None, :, None], actuals.shape[1])[0, :, 0])
        out[name] = np.stack(forecasts)
    return out


def _train_expert(model, train_set, val_set) -> tuple[object, float]:
    """The expert through the project's Trainer (the forecaster trains its expert on text) with the
    dashboard's defaults: 2 epochs, batch 8, Adam 3e-3, cosine, fp32."""
    from core.runs.train_config import TrainConfig
    from core.training.trainer import Trainer
    from core.windows import make_loader

    config = TrainConfig(
        epochs=2, batch_size=8, lr=3e-3, schedule="cosine", patience=2, seed=SEED, precision="fp32"
    )
    started = time.perf_counter()
    fit = Trainer(model, config).fit(
        make_loader(train_set, 8, shuffle=True, drop_last=True, seed=config.seed),
        make_loader(val_set, 8, shuffle=False),
    )
    return fit, time.perf_counter() - started


CONFIGURATIONS = ("base", "expert", "proxy", "proxy_alpha_1")  # decoded; the rest are baselines


def _forecaster(name: str, alpha: float, fit) -> dict:
    """The row fields that say which forecaster a decoding configuration or a baseline is."""
    base = {"name": SETTINGS["base"], "layers": None}  # the base keeps all its layers
    if name == "base":
        return {"model": "proxy_base", "precision": "fp32", "backbone": base}
    if name == "expert":
        return {
            "model": "proxy_expert",
            "precision": "fp32",
            "backbone": {"name": "numeric-llama", "layers": None},
            "train_precision": fit.precision,
        }
    if name in CONFIGURATIONS:
        return {
            "model": "proxy_tuned",
            "precision": "fp32",
            "backbone": base,
            "options": {"alpha": 1.0 if name == "proxy_alpha_1" else alpha},
            "train_precision": fit.precision,
        }
    return {"model": name, "precision": "float64"}


def _coverage(results: dict, name: str, actual: np.ndarray) -> float:
    lower, upper = results[f"{name}_lower0.8"], results[f"{name}_upper0.8"]
    return float(np.mean((actual >= lower) & (actual <= upper)))


def _diverged(forecasts: np.ndarray, histories: list[np.ndarray]) -> dict:
    """How far forecasts stray outside their window's history range, in multiples of that range."""
    worst = []
    for forecast, history in zip(forecasts, histories, strict=True):
        low, high = float(np.min(history)), float(np.max(history))
        span = max(high - low, 1e-9)
        worst.append(max(float(np.max(forecast)) - high, low - float(np.min(forecast)), 0.0) / span)
    return {"windows": int(sum(w > 10 for w in worst)), "largest_excursion_in_ranges": max(worst)}


def _gap_closed(rows: list[dict], metric: str) -> float | None:
    """(base − proxy) / (base − expert) for a lower-is-better metric: 1 = the proxy matches the
    expert, 0 = the base; None when the expert is not better than the base (no gap to close)."""
    value = {r["configuration"]: r["metrics"][metric] for r in rows if r.get("configuration")}
    gap = value["base"] - value["expert"]
    return None if gap <= 0 else (value["base"] - value["proxy"]) / gap


def _summary(rows: list[dict], metrics_: tuple[str, ...]) -> dict:
    """The share of the base-to-expert gap the proxy closes, per metric (the README says it in words)."""
    return {"gap_closed": {m: _gap_closed(rows, m) for m in metrics_}}


def ili(windows: int) -> dict:
    from core.models.proxy_tuned import ProxyConfig, ProxyTuned
    from core.proxy.windows import lm_windows
    from core.windows import evenly_spaced

    seq_len, horizon = 96, 24
    dataset, data, raw = _ili_splits(seq_len)
    mean, std = float(data.scaler.mean[0]), float(data.scaler.std[0])
    started = time.perf_counter()
    model = ProxyTuned(ProxyConfig(seq_len=seq_len, pred_len=horizon, **SETTINGS))
    make = dict(end_id=model.alphabet.end_id, pad_id=model.pad_id)
    fit, train_s = _train_expert(
        model,
        lm_windows(raw["train"], seq_len, horizon, model.window, max_windows=256, **make),
        lm_windows(raw["val"], seq_len, horizon, model.window, max_windows=64, **make),
    )
    val = raw["val"]
    val_starts = evenly_spaced(len(val) - seq_len - horizon + 1, 16)
    chosen = model.choose_alpha(
        [(val[s : s + seq_len], val[s + seq_len : s + seq_len + horizon]) for s in val_starts]
    )
    _say(alpha=chosen)
    test = raw["test"]
    count = len(test) - seq_len - horizon + 1
    starts = evenly_spaced(count, windows)

    def progress(phase=None, phase_done=0, phase_total=0, **_):
        if phase_done % 4 == 0:
            _say(decoded=phase_done, of=phase_total, seconds=round(time.perf_counter() - started))

    results = model.decode_windows(test, starts, SEED, "fp32", report=progress)
    actual = (results["actual"] - mean) / std
    histories = [test[s : s + seq_len] for s in starts]
    forecasts = {name: results[f"{name}_forecast"] for name in CONFIGURATIONS}
    forecasts |= _baseline_rows(histories, results["actual"], 52)
    rows = []
    for name, forecast in forecasts.items():
        scaled = (forecast - mean) / std
        scores = {
            "mse": float(np.mean((scaled - actual) ** 2)),
            "mae": float(np.mean(np.abs(scaled - actual))),
        }
        extra = {}
        if name in CONFIGURATIONS:
            scores["nll_per_step"] = float(np.mean(results[f"{name}_nll"]))
            scores["coverage_80"] = _coverage(results, name, results["actual"])
            extra = {"configuration": name, "diverged": _diverged(forecast, histories)}
        described = _forecaster(name, chosen["alpha"], fit)
        rows.append(
            accuracy_row(
                described.pop("model"),
                dataset.name,
                features="S",
                target=dataset.target,
                look_back=seq_len,
                horizon=horizon,
                split="ratio",
                scored="evenly_spaced",
                windows=len(starts),
                out_of=count,
                metrics=scores,
                **described,
                **extra,
            )
        )
    return {
        "data_description": "ILI (data/national_illness.csv), target OT, 70/10/20 split, scaler on the "
        "training rows",
        "protocol": f"look-back 96, horizon 24, {len(starts)} of {count} test windows (evenly spaced), "
        "MSE/MAE on scaled values; alpha chosen on 16 validation windows; baselines on the same windows "
        "(Naive2 is naive here: 96 values hold fewer than 3 seasons of 52)",
        "rows": rows,
        **chosen,
        "summary": _summary(rows, ("mse", "mae", "nll_per_step")),
        "window_index": starts.tolist(),
        "expert": {
            "tune": model.config.tune,
            "epochs_run": fit.epochs_run,
            "best_val_loss": fit.best_val_loss,
            "train_precision": fit.precision,
            "train_s": round(train_s, 1),
        },
        "decode_precision": "fp32",
        "redrawn": int(results["redrawn"].sum()),
        "dropped": int(results["dropped"].sum()),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def m4(n_series: int) -> dict:
    from core import metrics
    from core.evaluation import evaluate_m4, read_m4
    from core.models.proxy_tuned import ProxyConfig, ProxyTuned
    from core.proxy.windows import lm_dataset
    from core.windows import evenly_spaced

    horizon, season, look_back = 48, 24, 96
    group = read_m4(SHARED / "m4" / "Hourly-train.csv", SHARED / "m4" / "Hourly-test.csv", horizon)
    started = time.perf_counter()
    model = ProxyTuned(ProxyConfig(seq_len=look_back, pred_len=horizon, **SETTINGS))
    end = model.alphabet.end_id

    def rows_for(series_index, window_end):
        history = group.train[series_index]
        text = model.window(
            history[window_end - horizon - look_back : window_end - horizon],
            history[window_end - horizon : window_end],
        )
        return text.prompt_ids + text.continuation_ids + [end]

    # training windows: evenly spaced over (series, end point) pairs, excluding each series' last
    # horizon of the training part (that is where validation windows end)
    pairs = []
    for i, history in enumerate(group.train):
        last = len(history) - horizon  # a training window must end before the validation target
        if last - horizon - look_back >= 0:
            pairs += [(i, e) for e in range(look_back + horizon, last + 1, horizon)]
    chosen_pairs = evenly_spaced(len(pairs), 256)
    train_rows = [rows_for(*pairs[k]) for k in chosen_pairs]
    val_series = [
        i for i in evenly_spaced(len(group.train), 64) if len(group.train[i]) >= look_back + horizon
    ]
    val_rows = [rows_for(i, len(group.train[i])) for i in val_series]
    pad = model.pad_id
    fit, train_s = _train_expert(model, lm_dataset(train_rows, pad), lm_dataset(val_rows, pad))
    # alpha on 16 of the validation series: each one's training part but its last 48 values, then those
    alpha_series = [val_series[k] for k in evenly_spaced(len(val_series), 16)]
    chosen = model.choose_alpha(
        [(group.train[i][:-horizon], group.train[i][-horizon:]) for i in alpha_series]
    )
    _say(alpha=chosen)

    picked = evenly_spaced(len(group.ids), n_series)
    forecasts: dict[str, list] = {n: [] for n in CONFIGURATIONS}
    nll: dict[str, list] = {n: [] for n in CONFIGURATIONS}
    covered: dict[str, list] = {n: [] for n in CONFIGURATIONS}
    per_series = []
    for i in picked:
        history, actual = group.train[i], group.test[i]
        # the whole training part as history (the context trims it), one window starting at 0
        result = model.decode_windows(
            np.concatenate([history, actual]), np.array([0]), SEED, "fp32", seq_len=len(history)
        )
        for name in CONFIGURATIONS:
            forecasts[name].append(result[f"{name}_forecast"][0])
            nll[name].append(float(result[f"{name}_nll"][0]))
            covered[name].append(_coverage(result, name, result["actual"]))
        per_series.append(group.ids[i])
        _say(
            series=group.ids[i],
            done=len(per_series),
            of=len(picked),
            seconds=round(time.perf_counter() - started),
        )
    histories = [group.train[i] for i in picked]
    actuals = group.test[picked]
    baseline = _baseline_rows(histories, actuals, season)
    all_forecasts = {**{n: np.stack(v) for n, v in forecasts.items()}, **baseline}

    def scores(forecast):
        smapes = [metrics.smape(a, f) for a, f in zip(actuals, forecast, strict=True)]
        mases = [
            metrics.mae(a, f) / metrics.seasonal_naive_scale(h, season)
            for a, f, h in zip(actuals, forecast, histories, strict=True)
        ]
        return float(np.mean(smapes)), float(np.mean(mases))

    naive2_smape, naive2_mase = scores(baseline["naive2"])
    rows = []
    for name, forecast in all_forecasts.items():
        smape_value, mase_value = scores(forecast)
        measured = {
            "smape": smape_value,
            "mase": mase_value,
            "owa": metrics.owa(smape_value, mase_value, naive2_smape, naive2_mase),
        }
        extra = {}
        if name in CONFIGURATIONS:
            measured["nll_per_step"] = float(np.mean(nll[name]))
            measured["coverage_80"] = float(np.mean(covered[name]))
            extra = {
                "configuration": name,
                "diverged": _diverged(forecast, histories),
                "context_tokens": model.config.context_tokens,
            }
        described = _forecaster(name, chosen["alpha"], fit)
        rows.append(
            accuracy_row(
                described.pop("model"),
                "M4 Hourly",
                horizon=horizon,
                season=season,
                scored="evenly_spaced",
                series=len(picked),
                out_of=len(group.ids),
                metrics=measured,
                series_ids=per_series,
                **described,
                **extra,
            )
        )
    full = {name: evaluate_m4(group, name, horizon, season) for name in ("naive", "snaive", "naive2")}
    for name, result in full.items():  # the baselines on every series, as the competition scored them
        rows.append(
            accuracy_row(
                name,
                "M4 Hourly",
                horizon=horizon,
                season=season,
                series=result["series"],
                precision="float64",
                metrics={k: result[k] for k in ("smape", "mase", "owa")},
            )
        )
    return {
        "data_description": "M4 Hourly (414 series), horizon 48, season 24",
        "protocol": f"{len(picked)} series evenly spaced over the 414, forecast from their whole training "
        f"part (trimmed to a {model.config.context_tokens}-atom context); sMAPE, MASE, OWA against Naive2 "
        "on the same series; alpha chosen on 16 validation windows (the last 48 values of other series' "
        "training parts)",
        "rows": rows,
        **chosen,
        "summary": _summary(rows, ("smape", "mase", "nll_per_step")),
        "expert": {
            "tune": model.config.tune,
            "train_windows": len(train_rows),
            "val_windows": len(val_rows),
            "epochs_run": fit.epochs_run,
            "best_val_loss": fit.best_val_loss,
            "train_precision": fit.precision,
            "train_s": round(train_s, 1),
        },
        "decode_precision": "fp32",
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["tune", "speed", "ili", "m4", "all"], default="all")
    parser.add_argument("--windows", type=int, default=48, help="ILI test windows decoded")
    parser.add_argument("--series", type=int, default=48, help="M4 Hourly series forecast")
    parser.add_argument("--seconds", type=float, default=45, help="tuning time per setting (tune part)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    from core.models.proxy_tuned import ProxyConfig
    from core.proxy import numeric_llama

    stamp = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "date": today(),
        "machine": machine(),
        "settings": SETTINGS | {"tune": ProxyConfig.tune, "numeric_weights": numeric_llama.weights_digest()},
    }
    parts = {
        "tune": ("proxy_tuning", lambda: tune(args.seconds)),
        "speed": ("proxy_speed", speed),
        "ili": ("proxy_ili", lambda: ili(args.windows)),
        "m4": ("proxy_m4_hourly", lambda: m4(args.series)),
    }
    for part in ["tune", "speed", "ili", "m4"] if args.part == "all" else [args.part]:
        name, run = parts[part]
        report = stamp | run()
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
        print(f"wrote bench/results/{name}.json", flush=True)


if __name__ == "__main__":
    main()
