"""Trainable baselines on ETTh1: DLinear and PatchTST through the project's one training loop.

Protocol: ETTh1, features M, look-back 336, horizon 96, the standard ETT borders, a scaler fit on
the training rows, every test window scored (2,785; none dropped), the checkpoint with the best
validation loss. Writes bench/results/baselines.json with test MSE/MAE, wall time (training plus
test), epochs, precision and device. Targets: test MSE 0.375 or lower for each (published: DLinear
0.375, PatchTST/42 0.370).

    .venv/bin/python bench/bench_baselines.py [--models dlinear patchtst] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "baselines.json"


def main() -> None:
    import torch

    from core.datasets import load_builtin
    from core.models.registry import TRAIN_DEFAULTS
    from core.training.runner import RunSpec, run_training
    from core.training.store import RunStore
    from core.training.trainer import TrainConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["dlinear", "patchtst"])
    parser.add_argument("--epochs", type=int, help="override the default number of epochs")
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()

    dataset = load_builtin("ETTh1")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["protocol"] = (
        "ETTh1, features M, L 336, H 96, ett-hour borders, every test window, best checkpoint"
    )
    results["machine"] = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        for model in args.models:
            settings = dict(TRAIN_DEFAULTS[model], precision=args.precision)
            if args.epochs:
                settings["epochs"] = args.epochs
            spec = RunSpec(model=model, seq_len=336, pred_len=96, features="M", train=TrainConfig(**settings))
            started = time.perf_counter()
            outcome = run_training(spec, dataset, store)
            total = time.perf_counter() - started
            results[model] = {
                "test_mse": outcome.test_metrics["mse"],
                "test_mae": outcome.test_metrics["mae"],
                "windows": outcome.test_metrics["windows"],
                "train_and_test_s": total,
                "training_s": outcome.wall_time_s,
                "epochs_run": outcome.epochs_run,
                "best_epoch": outcome.best_epoch,
                "precision": outcome.precision,
                "precision_reason": outcome.precision_reason,
                "device": outcome.device,
                "train_config": settings,
                "target_mse": 0.375,
                "meets_target": outcome.test_metrics["mse"] <= 0.375,
            }
            print(json.dumps({model: results[model]}, indent=2), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
