"""Proxy-tuned decoding on this CPU: decoding speed, and accuracy on ILI and M4 Hourly.

Models: base = the bundled SmolLM2-135M-Instruct with all 30 layers; small = SmolLM2 kept to its
first 4 layers, tuned with LoRA (r 8) on serialised training windows (the expert) and untuned (the
anti-expert). LLMTime text (3 digits after the point, the 0.95-quantile / 0.3-offset scaler fitted on
each window's history), 10 samples at temperature 0.7 and top-p 0.9; the forecast is the per-step
median. alpha = 1. Decoding in fp32 (see the speed part for why).

Speed (`--part speed`): one ILI window (96 values of history): base alone, expert alone and proxy
with the key-value caches in fp32 and under bf16 autocast (10 samples, horizon 12); then base and
proxy with and without the caches (without them each step re-reads the whole sequence, so this
part uses 4 samples and horizon 4), and whether both drew the same samples from the same seed.
Sampled tokens per second, all rows of a batch counted.

ILI (`--part ili`): data/national_illness.csv, target OT, the 70/10/20 split, look-back 96, horizon
24. The expert trains through the project's `Trainer` for 2 epochs over 256 evenly spaced training
windows (batch 8, Adam 1e-3, cosine, `auto` precision, early stopping on 64 validation windows);
then `--windows` evenly spaced test windows are decoded by `ProxyTuned.decode_windows` (what
a dashboard run uses): base alone, expert alone, proxy at the default alpha 0.3, and the proxy again
at alpha 1 (the paper's). MSE / MAE on values scaled with the training rows' statistics (the
long-term protocol's convention), beside naive, seasonal naive (52) and Naive2 on the same windows,
and the NLL per step (LLMTime's definition, in the series' units).

M4 Hourly (`--part m4`): horizon 48, season 24. The expert trains the same way on 256 windows drawn
evenly across the 414 series' training parts (history 96, continuation 48; validation: 64 windows
ending at the end of other series' training parts, never the test); `--series` series evenly
spaced over the 414 are forecast from their training part (trimmed to a 1,536-token context) and
scored against the test file: sMAPE, MASE and OWA against Naive2 on the same series, beside naive,
seasonal naive and Naive2 (and those baselines on all 414 series, which reproduce the published
figures).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_proxy.py [--part speed|ili|m4|all]
        [--windows 8] [--series 6]

Writes bench/results/proxy_speed.json, proxy_ili.json and proxy_m4_hourly.json. The M4 part reads
../shared/data/m4/ (the other parts use the project's bundled ILI file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import accuracy_row, machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "data"
SETTINGS = dict(
    base="smollm2-135m", small="smollm2-135m", small_layers=4, samples=10, temperature=0.7, top_p=0.9
)


def speed() -> dict:
    from core.models.proxy_tuned import ProxyConfig, ProxyTuned
    from core.proxy.decoding import DecodeSettings, sample_forecast

    series = _ili_target()
    model = ProxyTuned(ProxyConfig(seq_len=96, pred_len=12, **SETTINGS))
    history = series[500:596]
    text = model.window(history)
    rows = []

    def measure(name, autocast, use_cache, samples, horizon):
        started = time.perf_counter()
        forecast = sample_forecast(
            model.sources(name),
            text.prompt_ids,
            model.alphabet,
            model.number_format,
            text.scaler,
            horizon,
            DecodeSettings(
                samples=samples, temperature=0.7, top_p=0.9, use_cache=use_cache, autocast=autocast
            ),
            seed=0,
            vocab_size=model.vocab_size,
        )
        row = {
            "configuration": name,
            "precision": autocast,
            "kv_cache": use_cache,
            "samples": samples,
            "horizon": horizon,
            "prompt_tokens": len(text.prompt_ids),
            "sampled_tokens": forecast.stats.tokens,
            "decode_s": round(forecast.stats.seconds, 2),
            "wall_s": round(time.perf_counter() - started, 2),
            "tokens_per_s": round(forecast.stats.tokens / forecast.stats.seconds, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        return forecast.samples

    for name in ("base", "expert", "proxy"):  # the run's settings: 10 samples, horizon 12
        for autocast in ("fp32", "bf16"):
            measure(name, autocast, True, 10, 12)
    same = {}
    for name in ("base", "proxy"):  # without the caches every step re-reads everything: a short test
        cached = measure(name, "fp32", True, 4, 4)
        uncached = measure(name, "fp32", False, 4, 4)
        same[name] = bool(np.array_equal(cached, uncached))
    by = {(r["configuration"], r["precision"], r["kv_cache"], r["samples"]): r["tokens_per_s"] for r in rows}
    return {
        "rows": rows,
        "cache_speedup_4_samples_horizon_4": {
            n: round(by[(n, "fp32", True, 4)] / by[(n, "fp32", False, 4)], 2) for n in ("base", "proxy")
        },
        "same_samples_with_and_without_cache": same,
        "bf16_over_fp32": {
            n: round(by[(n, "bf16", True, 10)] / by[(n, "fp32", True, 10)], 2)
            for n in ("base", "expert", "proxy")
        },
        "protocol": "ILI OT, history rows 500-595 (96 values); 10 samples per batch and horizon 12 (fp32 and "
        "bf16 autocast, with caches), 4 samples and horizon 4 (with and without caches); SmolLM2-135M, 30 "
        "layers as base, 4 as the small model (LoRA r 8, untrained here: speed only)",
    }


def _ili_target() -> np.ndarray:
    import pandas as pd

    return pd.read_csv(ROOT / "data" / "national_illness.csv")["OT"].to_numpy(dtype=np.float64)


def _baseline_rows(histories, actuals, season, scales=None) -> dict:
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
    """The expert through the project's Trainer (the forecaster trains its expert on text): 2 epochs,
    batch 8, Adam 1e-3, cosine, `auto`."""
    from core.models.registry import MODELS
    from core.runs.train_config import TrainConfig
    from core.training.trainer import Trainer
    from core.windows import make_loader

    config = TrainConfig(epochs=2, batch_size=8, lr=1e-3, schedule="cosine", patience=2, seed=2021)
    started = time.perf_counter()
    fit = Trainer(model, config, cpu_autocast=MODELS["proxy_tuned"].cpu_autocast).fit(
        make_loader(train_set, 8, shuffle=True, drop_last=True, seed=config.seed),
        make_loader(val_set, 8, shuffle=False),
    )
    return fit, time.perf_counter() - started


def _decode_both_alphas(model, series, starts, seq_len, horizon) -> dict:
    """base, expert and proxy at the default alpha, then the proxy again at alpha 1 (the paper's)."""
    assert (model.config.seq_len, model.config.pred_len) == (seq_len, horizon)
    results = model.decode_windows(series, starts, 2021, "fp32")
    default_alpha = model.config.alpha
    model.config.alpha = 1.0
    paper = model.decode_windows(series, starts, 2021, "fp32", configurations=("proxy",))
    model.config.alpha = default_alpha
    for key in ("forecast", "nll"):
        results[f"proxy_alpha_1_{key}"] = paper[f"proxy_{key}"]
    return results


CONFIGURATIONS = ("base", "expert", "proxy", "proxy_alpha_1")  # decoded; the rest are baselines


def _forecaster(name: str, model, fit) -> dict:
    """The row fields that say which forecaster a decoding configuration or a baseline is."""
    base = {"name": SETTINGS["base"], "layers": None}  # the base keeps all its layers
    if name == "base":
        return {"model": "proxy_base", "precision": "fp32", "backbone": base}
    if name == "expert":
        return {
            "model": "proxy_expert",
            "precision": "fp32",
            "backbone": {"name": SETTINGS["small"], "layers": SETTINGS["small_layers"]},
            "train_precision": fit.precision,
        }
    if name in CONFIGURATIONS:
        alpha = 1.0 if name == "proxy_alpha_1" else model.config.alpha
        return {
            "model": "proxy_tuned",
            "precision": "fp32",
            "backbone": base,
            "options": {"alpha": alpha},
            "train_precision": fit.precision,
        }
    return {"model": name, "precision": "float64"}


def ili(windows: int) -> dict:
    from core.data import prepare
    from core.datasets import load_builtin
    from core.models.proxy_tuned import ProxyConfig, ProxyTuned
    from core.proxy.windows import evenly_spaced, lm_windows

    seq_len, horizon = 96, 24
    dataset = load_builtin("ILI")
    data = prepare(dataset.frame.to_numpy(), dataset.channels, dataset.target, "S", "ratio", seq_len)
    raw = {name: data.scaler.inverse_transform(split)[:, 0] for name, split in data.splits.items()}
    mean, std = float(data.scaler.mean[0]), float(data.scaler.std[0])
    started = time.perf_counter()
    model = ProxyTuned(ProxyConfig(seq_len=seq_len, pred_len=horizon, **SETTINGS))
    make = dict(end_id=model.alphabet.end_id, pad_id=model.pad_id)
    fit, train_s = _train_expert(
        model,
        lm_windows(raw["train"], seq_len, horizon, model.window, max_windows=256, **make),
        lm_windows(raw["val"], seq_len, horizon, model.window, max_windows=64, **make),
    )
    test = raw["test"]
    count = len(test) - seq_len - horizon + 1
    starts = evenly_spaced(count, windows)
    results = _decode_both_alphas(model, test, starts, seq_len, horizon)
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
        if name in CONFIGURATIONS:
            scores["nll_per_step"] = float(np.mean(results[f"{name}_nll"]))
        described = _forecaster(name, model, fit)
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
            )
        )
    return {
        "data_description": "ILI (data/national_illness.csv), target OT, 70/10/20 split, scaler on the "
        "training rows",
        "protocol": f"look-back 96, horizon 24, {len(starts)} of {count} test windows (evenly spaced), "
        "MSE/MAE on scaled values; baselines on the same windows (Naive2 is naive here: 96 values "
        "hold fewer than 3 seasons of 52)",
        "rows": rows,
        "window_index": starts.tolist(),
        "expert": {
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
    from core.proxy.windows import evenly_spaced, lm_dataset

    # Training windows read 96 values of history (4 days): longer ones made each expert step cost
    # several times more on this CPU (the logits of every position over the whole vocabulary).
    horizon, season, look_back = 48, 24, 96
    group = read_m4(SHARED / "m4" / "Hourly-train.csv", SHARED / "m4" / "Hourly-test.csv", horizon)
    started = time.perf_counter()
    model = ProxyTuned(ProxyConfig(seq_len=look_back, pred_len=horizon, context_tokens=1536, **SETTINGS))
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
    chosen = evenly_spaced(len(pairs), 256)
    train_rows = [rows_for(*pairs[k]) for k in chosen]
    val_series = evenly_spaced(len(group.train), 64)
    val_rows = [
        rows_for(i, len(group.train[i])) for i in val_series if len(group.train[i]) >= look_back + horizon
    ]
    pad = model.pad_id
    fit, train_s = _train_expert(model, lm_dataset(train_rows, pad), lm_dataset(val_rows, pad))

    picked = evenly_spaced(len(group.ids), n_series)
    per_series = []
    forecasts: dict[str, list] = {n: [] for n in CONFIGURATIONS}
    nll: dict[str, list] = {n: [] for n in CONFIGURATIONS}
    for i in picked:
        history, actual = group.train[i], group.test[i]
        # the whole training part as history (the context trims it), one window starting at 0
        result = _decode_both_alphas(
            model, np.concatenate([history, actual]), np.array([0]), len(history), horizon
        )
        for name in CONFIGURATIONS:
            forecasts[name].append(result[f"{name}_forecast"][0])
            nll[name].append(float(result[f"{name}_nll"][0]))
        per_series.append(group.ids[i])
        print(json.dumps({"series": group.ids[i], "done": len(per_series), "of": len(picked)}), flush=True)
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
        if name in nll:
            measured["nll_per_step"] = float(np.mean(nll[name]))
        described = _forecaster(name, model, fit)
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
                context_tokens=model.config.context_tokens if name in CONFIGURATIONS else None,
                **described,
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
        "part (trimmed to a 1,536-token context); sMAPE, MASE, OWA against Naive2 on the same series",
        "rows": rows,
        "expert": {
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
    parser.add_argument("--part", choices=["speed", "ili", "m4", "all"], default="all")
    parser.add_argument("--windows", type=int, default=8, help="ILI test windows decoded")
    parser.add_argument("--series", type=int, default=6, help="M4 Hourly series forecast")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "date": today(),
        "machine": machine(),
        "settings": SETTINGS,
    }
    parts = {"speed": ("proxy_speed", speed), "ili": ("proxy_ili", lambda: ili(args.windows))}
    parts["m4"] = ("proxy_m4_hourly", lambda: m4(args.series))
    for part in ["speed", "ili", "m4"] if args.part == "all" else [args.part]:
        name, run = parts[part]
        report = stamp | run()
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
        print(f"wrote bench/results/{name}.json", flush=True)


if __name__ == "__main__":
    main()
