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
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import accuracy_row, machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "baselines.json"


def main() -> None:
    from dataclasses import asdict

    from core.datasets import load_builtin
    from core.runs.spec import starting_spec, with_changes
    from core.runs.store import RunStore
    from core.training.runner import run_training

    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["dlinear", "patchtst"])
    parser.add_argument("--epochs", type=int, help="override the default number of epochs")
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()

    dataset = load_builtin("ETTh1")
    date = today()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows = {row["model"]: row for row in previous.get("rows", [])}  # models not run again stay
    device = "cpu"
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        for model in args.models:
            changes = {"precision": args.precision} | ({"epochs": args.epochs} if args.epochs else {})
            start = starting_spec(
                model, dataset_name=dataset.name, freq=dataset.freq, seq_len=336, pred_len=96
            )
            spec = with_changes(start, {"features": "M"}, changes, {})
            settings = {key: value for key, value in asdict(spec.train).items() if value is not None}
            started = time.perf_counter()
            outcome = run_training(spec, dataset, store)
            total = time.perf_counter() - started
            device = outcome.device
            rows[model] = accuracy_row(
                model,
                "ETTh1",
                features="M",
                look_back=336,
                horizon=96,
                split="ett-hour",
                windows=outcome.test_metrics["windows"],
                checkpoint="best_validation",
                budget={
                    "epochs": outcome.epochs_run,
                    "best_epoch": outcome.best_epoch,
                    "batch_size": settings["batch_size"],
                    "lr": settings.get("max_lr", settings["lr"]),
                    "schedule": settings["schedule"],
                },
                precision=outcome.precision,
                metrics={"mse": outcome.test_metrics["mse"], "mae": outcome.test_metrics["mae"]},
                wall_time_s=total,
                train_time_s=outcome.train_time_s,
                precision_reason=outcome.precision_reason,
                device=outcome.device,
                train_config=settings,
                target_mse=0.375,
                meets_target=outcome.test_metrics["mse"] <= 0.375,
            )
            print(json.dumps(rows[model], indent=2), flush=True)
    results = {
        "protocol": "ETTh1, features M, L 336, H 96, ett-hour borders, every test window, best checkpoint",
        "date": date,
        "machine": machine(device),
        "rows": list(rows.values()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
