"""Measuring helpers the benchmark scripts share: resident memory, step timing, machine facts."""

from __future__ import annotations

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


def machine() -> dict:
    import torch

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def budget_runs(dataset, names: list[str], *, epochs: int, batch_size: int, **spec) -> dict[str, dict]:
    """Train and test each model through the project's runner under one protocol and budget.

    `spec` holds the RunSpec fields the models share (seq_len, pred_len, features, ...); each model
    keeps its own training defaults apart from the epochs and the batch size.
    """
    import json
    import tempfile

    from core.models.registry import TRAIN_DEFAULTS
    from core.training.runner import RunSpec, run_training
    from core.training.store import RunStore
    from core.training.trainer import TrainConfig

    results = {}
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        for name in names:
            settings = dict(TRAIN_DEFAULTS[name], epochs=epochs, batch_size=batch_size)
            started = time.perf_counter()
            outcome = run_training(RunSpec(model=name, train=TrainConfig(**settings), **spec), dataset, store)
            results[name] = {
                "test_mse": outcome.test_metrics["mse"],
                "test_mae": outcome.test_metrics["mae"],
                "windows": outcome.test_metrics["windows"],
                "epochs_run": outcome.epochs_run,
                "best_epoch": outcome.best_epoch,
                "precision": outcome.precision,
                "trainable_params": store.get(outcome.run_id).trainable_params,
                "minutes": (time.perf_counter() - started) / 60,
            }
            print(name, json.dumps(results[name]), flush=True)
    return results
