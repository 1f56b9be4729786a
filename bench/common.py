"""What the benchmark scripts share: resident memory, step timing, machine facts, and the accuracy row.

Every results file holds `date` (ISO, the day the run started) and `machine` (facts, not prose), and
an accuracy bench writes `rows` built by `accuracy_row`, the shape bench/render_results.py reads. A
`protocol` sentence may go beside them for people reading the JSON; the renderer reads the fields.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from pathlib import Path

WARMUP = 2  # training steps left out of every step-time median


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark for this process (Linux 4.0+); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def rss_mb() -> float:
    """The current resident set in MiB (from /proc/self/statm)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def release_memory() -> None:
    """Hand freed heap back to the OS (glibc keeps it otherwise), so RSS before a setting is honest."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def median_time(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class StepClock:
    """(wall, process CPU) stamps after each training step; the step times and how busy we were."""

    def __init__(self):
        self.stamps: list[tuple[float, float]] = []

    def stamp(self, *_) -> None:
        self.stamps.append((time.perf_counter(), time.process_time()))

    def step_times(self) -> list[float]:
        """Times of the steps after the warm-up, each from the end of the step before."""
        stamps = self.stamps[WARMUP - 1 :]
        return [b[0] - a[0] for a, b in zip(stamps[:-1], stamps[1:], strict=True)]

    def cpu_share(self, threads: int) -> float:
        """Process CPU time over wall time x threads across the timed steps (1.0: the cores were ours)."""
        first, last = self.stamps[WARMUP - 1], self.stamps[-1]
        return (last[1] - first[1]) / ((last[0] - first[0]) * threads)


def today() -> str:
    return datetime.date.today().isoformat()


def cpu_facts() -> dict:
    """The machine without torch: architecture, cores and the CPU's bf16 support."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return {
        "platform": platform.platform(),
        "arch": platform.machine(),
        "cpu_count": os.cpu_count(),
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
        "gpu": None,
    }


def machine(device: str = "cpu") -> dict:
    """The machine with torch's version and threads; `gpu` names the GPU when the bench ran on one."""
    import torch

    facts = cpu_facts()
    if device.startswith("cuda"):
        facts["gpu"] = torch.cuda.get_device_name()
    return facts | {"torch": torch.__version__, "threads": torch.get_num_threads()}


def accuracy_row(
    model: str,
    data: str,
    *,
    horizon: int,
    precision: str,
    metrics: dict,
    features: str | None = None,
    target: str | None = None,
    look_back: int | None = None,
    season: int | None = None,
    split: str | None = None,
    scored: str = "all",
    windows: int | None = None,
    series: int | None = None,
    out_of: int | None = None,
    checkpoint: str | None = None,
    budget: dict | None = None,
    backbone: dict | None = None,
    wall_time_s: float | None = None,
    **more,
) -> dict:
    """One accuracy result: what was forecast, how it was scored, the budget and the scores.

    model: the registry's name ("dlinear") or a baseline's ("naive", "snaive", "naive2").
    data: the data set ("ETTh1", "ILI", "M4 Hourly"); features "M", "S" or "MS" (None for M4's
    univariate series); target: the channel forecast under S or MS (None under M); look_back and
    horizon in steps (look_back None: the whole history); season: the seasonality the metrics use.
    split: "ett-hour" (the ETT borders) or "ratio" (70/10/20); None where the data come split.
    scored: "all", "drop_last_batch" (with test_batch_size), "every_nth" (with every) or
    "evenly_spaced"; windows (or series, for M4) scored, out of `out_of` when a subset.
    checkpoint: "best_validation" or "last" (None: nothing trained). budget: None or a dict of
    epochs, best_epoch, steps, batch_size, optimizer, lr, schedule (the ones that apply).
    precision: what the forecasts were computed in ("fp32", "bf16", "float64").
    backbone: the language model the forecasts go through, {"name": ..., "layers": ...} (layers
    None: all of them), or None. metrics: mse and mae, or smape, mase and owa; nll_per_step too
    for a language model. wall_time_s: training and testing together, where it was measured.

    `more` holds the fields that apply to some rows only: implementation ({"name", "version"}, when
    not this project's), options (e.g. {"alpha": 0.3}), test_batch_size, every, forecasts (windows
    times channels), series_ids, context_tokens, train_precision (when training ran in another
    precision than the forecasts), train_time_s and test_time_s, trainable_params,
    train_loss_last10, and whatever else a bench records about the row.
    """
    return {
        "model": model,
        "data": data,
        "features": features,
        "target": target,
        "look_back": look_back,
        "horizon": horizon,
        "season": season,
        "split": split,
        "scored": scored,
        "windows": windows,
        "series": series,
        "out_of": out_of,
        "checkpoint": checkpoint,
        "budget": budget,
        "precision": precision,
        "backbone": backbone,
        "metrics": metrics,
        "wall_time_s": wall_time_s,
        **more,
    }


def language_model(model_config: dict) -> dict | None:
    """The language model a run's forecasts go through, from its stored model config: None for
    models without one and for the ablations that take it out."""
    if "backbone" not in model_config or model_config.get("variant") in ("no_llm", "llm_to_attention"):
        return None
    return {"name": model_config["backbone"], "layers": model_config["layers"]}


def trained_row(spec, dataset, store, **more) -> dict:
    """Train and test one run through the project's runner and describe it as one accuracy row
    (`more`: the row's extra fields)."""
    from dataclasses import asdict

    from core.training.runner import run_training

    train = asdict(spec.train)
    started = time.perf_counter()
    outcome = run_training(spec, dataset, store)
    wall_time_s = time.perf_counter() - started
    record = store.get(outcome.run_id)
    return accuracy_row(
        spec.model,
        dataset.name,
        features=spec.features,
        target=None if spec.features == "M" else record.config["target"],
        look_back=spec.seq_len,
        horizon=spec.pred_len,
        split=record.config["protocol"],
        windows=outcome.test_metrics["windows"],
        checkpoint="best_validation",
        budget={
            "epochs": outcome.epochs_run,
            "best_epoch": outcome.best_epoch,
            "batch_size": train["batch_size"],
            "lr": train["max_lr"] or train["lr"],
            "schedule": train["schedule"],
        },
        precision=outcome.precision,
        backbone=language_model(record.config["model_config"]),
        metrics={"mse": outcome.test_metrics["mse"], "mae": outcome.test_metrics["mae"]},
        wall_time_s=wall_time_s,
        train_time_s=outcome.train_time_s,
        trainable_params=record.trainable_params,
        **more,
    )


def budget_runs(dataset, names: list[str], *, epochs: int, batch_size: int, **spec) -> list[dict]:
    """Train and test each model through the project's runner under one protocol and budget.

    `spec` holds the RunSpec fields the models share (seq_len, pred_len, features, ...); each model
    starts from its starting settings for the data (the registry's defaults and its preset, as on the
    Train page and the command line) apart from the epochs and the batch size. One accuracy row each.
    """
    import json
    import tempfile

    from core.runs.spec import starting_spec, with_changes
    from core.runs.store import RunStore

    rows = []
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        for name in names:
            start = starting_spec(
                name,
                dataset_name=dataset.name,
                freq=dataset.freq,
                seq_len=spec["seq_len"],
                pred_len=spec["pred_len"],
            )
            run = with_changes(start, spec, {"epochs": epochs, "batch_size": batch_size}, {})
            rows.append(trained_row(run, dataset, store))
            print(name, json.dumps(rows[-1]), flush=True)
    return rows
