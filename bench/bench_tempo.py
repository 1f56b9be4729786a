"""TEMPO on this CPU: training speed, and test accuracy after a stated budget beside its ablations.

Speed (`--part speed`): ETTh1, features M, horizon 96, look-back 336 (the paper's), ett-hour borders
and a scaler fit on the training rows, stride-1 windows, batch 16, the bundled SmolLM2-135M kept to
its first 6 layers with LoRA (r 16), semi-soft prompts, STL per window at period 24; fp32 and bf16
autocast. Training goes through the project's `Trainer` (Adam, lr 1e-3) over the first `steps × 16`
training windows; each step is timed from the end of the one before (data, decomposition, forward,
backward, optimiser), the first 2 are warm-up, the median of the rest gives windows/s. Peak memory
is the process's peak resident set, reset before each setting. The decomposition's cost: STL of one
batch's 112 channel windows, fresh and again from the cache, against the median step.

Accuracy (`--part accuracy`): ETTh1, features S (the target OT, so that one CPU can afford it),
look-back 96, horizon 96, ett-hour borders, one epoch over every training window, batch 64, every
test window (2,785) scored with the best-validation checkpoint, SmolLM2 6 layers, `auto` precision,
through the project's runner: TEMPO, TEMPO without prompts and TEMPO without decomposition, with
DLinear as the yardstick under the same protocol (the one bench/bench_time_llm_ablations.py uses).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_tempo.py [--part speed|accuracy|all] [--steps 8]

Writes bench/results/tempo_speed.json and/or bench/results/tempo_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    WARMUP,
    StepClock,
    budget_runs,
    machine,
    median_time,
    peak_rss_mb,
    release_memory,
    reset_peak_rss,
    rss_mb,
    today,
)

RESULTS = ROOT / "bench" / "results"
BATCH, HORIZON, LOOK_BACK = 16, 96, 336
SPEED_OPTIONS = dict(backbone="smollm2-135m", layers=6, decomposition="stl", period=24, prompt="semi_soft")
ACCURACY_MODELS = ["dlinear", "tempo_no_decomposition", "tempo_no_prompt", "tempo"]


def measure_speed(dataset, precision: str, steps: int) -> dict:
    import torch
    from torch.utils.data import Subset

    from core.data import prepare
    from core.models.registry import build_model
    from core.runs.train_config import TrainConfig
    from core.training.trainer import Trainer
    from core.windows import WindowDataset, make_loader

    data = prepare(dataset.frame.to_numpy(), dataset.channels, dataset.target, "M", "ett-hour", LOOK_BACK)
    train_set = WindowDataset(data.splits["train"], LOOK_BACK, HORIZON, data.output_index)
    train_loader = make_loader(Subset(train_set, range(steps * BATCH)), BATCH, shuffle=False, drop_last=True)
    val_loader = make_loader(Subset(train_set, range(0)), BATCH, shuffle=False)  # no validation pass
    torch.manual_seed(0)
    model, _ = build_model(
        "tempo", seq_len=LOOK_BACK, pred_len=HORIZON, n_channels=len(data.columns), **SPEED_OPTIONS
    )
    trainable, total = model.parameter_counts()
    clock = StepClock()
    trainer = Trainer(
        model, TrainConfig(epochs=1, batch_size=BATCH, lr=1e-3, precision=precision), on_step=clock.stamp
    )
    release_memory()
    before = rss_mb()
    reset = reset_peak_rss()
    load_before = os.getloadavg()[0]
    trainer.fit(train_loader, val_loader)
    peak = peak_rss_mb()
    step_times = clock.step_times()
    median_step = statistics.median(step_times)

    fresh = train_set.values[steps * BATCH : steps * BATCH + LOOK_BACK + BATCH - 1]
    x = fresh.unfold(0, LOOK_BACK, 1).transpose(1, 2)[:BATCH]  # 16 windows the model has not seen
    started = time.perf_counter()
    model.decompose(x)
    stl_fresh = time.perf_counter() - started
    stl_cached = median_time(lambda: model.decompose(x))
    prompt_tokens = sum(p.shape[0] for p in model.soft_prompts)
    return {
        "precision": trainer.precision,
        "windows_per_s": BATCH / median_step,
        "median_step_s": median_step,
        "step_s": step_times,
        "sequence_tokens": prompt_tokens + 3 * model.n_patches,
        "prompt_tokens": prompt_tokens,
        "patches_per_part": model.n_patches,
        "stl_fresh_batch_s": stl_fresh,
        "stl_cached_batch_s": stl_cached,
        "stl_share_fresh": stl_fresh / median_step,
        "trainable_params": trainable,
        "total_params": total,
        "peak_rss_mb": peak,
        "rss_increase_mb": peak - before if reset else None,
        "cpu_share": clock.cpu_share(torch.get_num_threads()),
        "load_avg_1min": [load_before, os.getloadavg()[0]],
    }


def speed(dataset, steps: int) -> dict:
    report = {
        "protocol": (
            f"ETTh1, features M, L {LOOK_BACK}, H {HORIZON}, ett-hour borders, batch {BATCH}; TEMPO with "
            "SmolLM2-135M (6 layers, LoRA r 16), semi-soft prompts, STL per window (period 24); Trainer "
            f"(Adam) over the first {steps * BATCH} training windows, median of the last "
            f"{steps - WARMUP} steps"
        ),
        "date": today(),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "look_back": LOOK_BACK,
        "horizon": HORIZON,
        "batch_size": BATCH,
        "steps": steps,
        "timed_steps": steps - WARMUP,
        "settings": [],
    }
    for precision in ("fp32", "bf16"):
        result = measure_speed(dataset, precision, steps)
        report["settings"].append(result)
        print(json.dumps({k: v for k, v in result.items() if k != "step_s"}, default=str), flush=True)
    report["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    return report


def accuracy(dataset, epochs: int, batch_size: int) -> dict:
    report = {
        "protocol": (
            "ETTh1, features S (OT), L 96, H 96, ett-hour borders, every training window, every test window "
            "(2,785), best-validation checkpoint, SmolLM2-135M with 6 layers, STL per window at period 24"
        ),
        "date": today(),
        "epochs": epochs,
        "batch_size": batch_size,
        "machine": machine(),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    report["rows"] = budget_runs(
        dataset, ACCURACY_MODELS, epochs=epochs, batch_size=batch_size, seq_len=96, pred_len=96, features="S"
    )
    report["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    return report


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["speed", "accuracy", "all"], default="all")
    parser.add_argument("--steps", type=int, default=8, help=f"timed training steps ({WARMUP} warm-up)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    from core.datasets import load_builtin

    dataset = load_builtin("ETTh1")
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.part in ("speed", "all"):
        report = speed(dataset, args.steps)
        (RESULTS / "tempo_speed.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.part in ("accuracy", "all"):
        report = accuracy(dataset, args.epochs, args.batch_size)
        (RESULTS / "tempo_accuracy.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
