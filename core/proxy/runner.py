"""One proxy-tuned run end to end: tune the expert, decode the test windows, store everything.

The expert trains through the engine's `Trainer` (so a run has the same progress, precision,
early stopping on held-out windows, cancellation and store records as any model); then the test
windows (evenly spaced, at most `test_windows`: every window would cost hours on a CPU) are
decoded by the base model alone, the expert alone and the proxy, each with its band and the NLL
of the true continuation. Scalers of the language model's text are fitted per window on its
history; the data set's standard scaler (training rows only) turns forecasts into the scaled
values every other run is scored on, so metrics compare across models.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from core.data import prepare
from core.ingest import Dataset
from core.models.registry import build_config, parameter_counts
from core.proxy.expert import evenly_spaced, lm_windows
from core.proxy.model import CONFIGURATIONS, ProxyTuned
from core.training.jobs import JobContext
from core.training.loaders import make_loader
from core.training.store import RunStore
from core.training.trainer import Trainer, resolve_device


def run_proxy(spec, dataset: Dataset, store: RunStore | None, context: JobContext | None = None):
    """Train the expert, decode the test windows three ways, and record the run."""
    from core.training.runner import RunOutcome, RunRecorder, _now, default_protocol, score, seed_everything

    target = spec.target or dataset.target
    protocol = spec.protocol or default_protocol(dataset.name)
    seed_everything(spec.train.seed)
    if spec.features != "S":
        raise ValueError("proxy-tuned decoding writes the target series alone: choose features S")
    if spec.drop_last_batch:
        raise ValueError(
            "proxy-tuned decoding scores an evenly spaced subset of test windows, not batches: "
            "leave 'drop the last incomplete test batch' off"
        )
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        raise ValueError("proxy-tuned decoding runs in one process; start it without torchrun")
    data = prepare(dataset.frame.to_numpy(), dataset.channels, target, "S", protocol, spec.seq_len)
    raw = {name: data.scaler.inverse_transform(split)[:, 0] for name, split in data.splits.items()}
    config = build_config(
        spec.model, seq_len=spec.seq_len, pred_len=spec.pred_len, n_channels=1, **spec.model_options
    )
    device = resolve_device(spec.train.device)
    recorder = RunRecorder(
        store, context, curves_every=5, checkpoint_prefix="expert.", phase="tuning the expert"
    )
    run_id = recorder.create(spec, dataset, data, config, target, protocol)
    started = time.perf_counter()
    with recorder.failures():
        recorder.report(run_id=run_id, phase="loading the language models")
        model = ProxyTuned(config, device)
        trainable, total = parameter_counts(model)
        total += sum(p.numel() for p in model.base.parameters())  # not registered: count it here
        recorder.update(started_at=_now(), trainable_params=trainable, total_params=total, pid=os.getpid())
        windows = {
            name: lm_windows(
                raw[name],
                spec.seq_len,
                spec.pred_len,
                model.window,
                max_windows=config.train_windows if name == "train" else max(config.train_windows // 4, 8),
                end_id=model.alphabet.end_id,
                pad_id=model.pad_id,
            )
            for name in ("train", "val")
        }
        batch = spec.train.batch_size
        train_loader = make_loader(
            windows["train"], batch, shuffle=True, drop_last=True, seed=spec.train.seed
        )
        val_loader = make_loader(windows["val"], batch, shuffle=False)
        trainer = Trainer(
            model.expert,
            spec.train,
            on_step=recorder.on_step,
            on_epoch=recorder.on_epoch,
            on_improvement=recorder.on_improvement,
            should_stop=context.check_cancelled if context is not None else None,
        )
        recorder.update(precision=trainer.precision, device=str(trainer.device))
        recorder.report(precision=trainer.precision, precision_reason=trainer.precision_reason)
        fit = trainer.fit(train_loader, val_loader)  # ends with the best expert loaded

        test = raw["test"]
        count = len(test) - spec.seq_len - spec.pred_len + 1
        if count < 1:
            raise ValueError("the test split holds no full window; shorten the look-back or the horizon")
        chosen = evenly_spaced(count, config.test_windows)
        # Decoding steps read one token per row: on a CPU, bf16 autocast re-casts every weight per
        # step and ran slower than fp32 (bench/results/proxy_speed.json); a GPU keeps the trainer's.
        decode_precision = "fp32" if trainer.device.type == "cpu" else trainer.precision
        results = decode_windows(
            model, test, chosen, spec.seq_len, spec.pred_len, spec.train.seed, decode_precision, context
        )
        scaled = dict(results)
        mean, std = float(data.scaler.mean[0]), float(data.scaler.std[0])
        for key, value in results.items():
            if key.endswith(("_forecast", "_lower", "_upper")) or key == "actual":
                scaled[key] = ((value - mean) / std)[..., None].astype(np.float32)
        train_scaled = data.splits["train"]
        test_metrics = score(
            scaled["proxy_forecast"], scaled["actual"], train_scaled, dataset.freq, mean, std
        )
        test_metrics |= {
            "windows": int(len(chosen)),
            "windows_available": int(count),
            "configurations": {
                name: score(
                    scaled[f"{name}_forecast"], scaled["actual"], train_scaled, dataset.freq, mean, std
                )
                | {"nll": float(np.mean(results[f"{name}_nll"]))}
                for name in CONFIGURATIONS
            },
            "redrawn": int(results["redrawn"].sum()),
            "dropped": int(results["dropped"].sum()),
            "tokens_per_s": float(results["tokens"].sum() / max(results["seconds"].sum(), 1e-9)),
            "decode_precision": decode_precision,
        }
        test_metrics["nll"] = test_metrics["configurations"]["proxy"]["nll"]
    wall = time.perf_counter() - started
    recorder.save_history()
    arrays = {key: value for key, value in scaled.items() if key not in ("actual", "proxy_forecast")}
    arrays |= {
        "forecast": scaled["proxy_forecast"],
        "actual": scaled["actual"],
        "scaler_mean": np.asarray([mean]),
        "scaler_std": np.asarray([std]),
        "inputs": data.splits["test"].astype(np.float32),
        "window_index": chosen,
    }
    recorder.succeed(dataset, data, arrays, test_metrics, fit, wall)
    recorder.report(test_metrics=test_metrics, phase="done")
    return RunOutcome(
        run_id=run_id,
        test_metrics=test_metrics,
        val_loss=fit.best_val_loss,
        best_epoch=fit.best_epoch,
        precision=fit.precision,
        precision_reason=fit.precision_reason,
        device=fit.device,
        wall_time_s=wall,
        epochs_run=fit.epochs_run,
    )


def decode_windows(
    model: ProxyTuned,
    series: np.ndarray,
    starts: np.ndarray,
    seq_len: int,
    pred_len: int,
    seed: int,
    autocast: str,
    context: JobContext | None = None,
    configurations=CONFIGURATIONS,
) -> dict[str, np.ndarray]:
    """For each window start: every configuration's median, band and NLL, in the series' units.
    Each window draws from its own seed (`seed` + its start), the same for every configuration."""
    out: dict[str, list] = {"actual": [], "redrawn": [], "dropped": [], "tokens": [], "seconds": []}
    for name in configurations:
        for key in ("forecast", "lower", "upper", "nll"):
            out[f"{name}_{key}"] = []
    total, done = len(starts) * len(configurations), 0
    for start in starts:
        history = series[start : start + seq_len]
        future = series[start + seq_len : start + seq_len + pred_len]
        out["actual"].append(future)
        for name in configurations:
            if context is not None:
                context.check_cancelled()
                context.report(phase="decoding the test windows", decode_done=done, decode_total=total)
            forecast = model.forecast(history, name, seed=seed + int(start), autocast=autocast)
            out[f"{name}_forecast"].append(forecast.median)
            out[f"{name}_lower"].append(forecast.lower)
            out[f"{name}_upper"].append(forecast.upper)
            out[f"{name}_nll"].append(model.nll(history, future, name, autocast=autocast))
            for key in ("redrawn", "dropped", "tokens", "seconds"):
                out[key].append(getattr(forecast.stats, key))
            done += 1
    if context is not None:
        context.report(decode_done=done, decode_total=total)
    return {key: np.asarray(value) for key, value in out.items()}
