"""How long "Forecast this series" takes on the home page, from the click to a stored, judged forecast.

ETTh1 (bundled) at the home page's default horizon (the sidebar's: 96 hourly steps), through the
home page's path: `core.training.oneclick.forecast_series` as a background job of a `JobManager`,
into a temporary run store. The time is from the call to its return: the model's choice, the
learning-rate tries on the validation split, and the final run with its test, bands and verdict
(the job's own start-up is timed beside it). Each try's learning rate, validation loss, epochs and
time are recorded, with the run's test figures. The machine is shared, so the bench waits (up to
--wait seconds) for the one-minute load average to fall below --load, and records the load before
and after and the share of the wall time this process had a CPU. Target: at most 90 s on the
2-core development machine. Writes bench/results/one_click.json.

    .venv/bin/python bench/bench_one_click.py [--load 2.0] [--wait 900]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "one_click.json"
TARGET_S = 90.0


def home_page_horizon() -> int:
    """The horizon the home page opens with: the sidebar's, which a new session starts at
    `pages.common.DEFAULT_PRED_LEN` steps (96 hourly steps on ETTh1: the next 4 days)."""
    from pages.common import DEFAULT_PRED_LEN

    return DEFAULT_PRED_LEN


def wait_for_quiet(limit: float, wait_s: float) -> float:
    """Wait until the one-minute load average is below `limit` or `wait_s` have passed; the wait."""
    started = time.perf_counter()
    while os.getloadavg()[0] >= limit and time.perf_counter() - started < wait_s:
        time.sleep(15)
    return time.perf_counter() - started


def load_average() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"1min": one, "5min": five, "15min": fifteen}


def one_click(dataset, pred_len: int, store) -> dict:
    """Run the one-click forecast as the home page does and time it; the tries and the run."""
    from core.training import oneclick
    from core.training.jobs import SUCCEEDED, JobManager

    tries = []
    run_training = oneclick.run_training

    def timed_training(spec, *args, **kwargs):  # each try and the final run, timed
        started = time.perf_counter()
        outcome = run_training(spec, *args, **kwargs)
        tries.append(
            {
                "lr": spec.train.lr,
                "validation_only": kwargs.get("validate_only", False),
                "val_loss": outcome.val_loss,
                "epochs": outcome.epochs_run,
                "best_epoch": outcome.best_epoch,
                "wall_time_s": time.perf_counter() - started,
            }
        )
        return outcome

    timing = {}

    def job(context):
        started, cpu = time.perf_counter(), time.process_time()
        timing["job_started"] = started
        outcome = oneclick.forecast_series(dataset, pred_len, store, context)
        timing["call_s"] = time.perf_counter() - started
        timing["cpu_s"] = time.process_time() - cpu
        return outcome

    oneclick.run_training = timed_training
    try:
        manager = JobManager()
        submitted = time.perf_counter()
        job_id = manager.submit(f"Forecast of {dataset.target} on {dataset.name}", job, device="cpu")
        snapshot = manager.wait(job_id)
        until_done = time.perf_counter() - submitted
    finally:
        oneclick.run_training = run_training
    if snapshot.state != SUCCEEDED:
        raise SystemExit(f"the one-click job ended {snapshot.state}: {snapshot.error}\n{snapshot.traceback}")
    outcome = snapshot.result
    record = store.get(outcome.run_id)
    spec, chosen = oneclick.plan(dataset, pred_len)
    test = outcome.test_metrics
    final = tries[-1]
    reported = snapshot.progress["learning_rates"]  # what the page shows: the tries' validation losses
    assert [(t["lr"], t["val_loss"]) for t in tries[:-1]] == list(reported.items()), (tries, reported)
    return {
        "call_s": timing["call_s"],
        "submit_to_done_s": until_done,
        "job_start_s": timing["job_started"] - submitted,
        "cpu_share": timing["cpu_s"] / timing["call_s"],
        "model": spec.model,
        "features": spec.features,
        "target": dataset.target,
        "look_back": spec.seq_len,
        "horizon": pred_len,
        "split": record.config["protocol"],
        "budget": {
            "epochs": spec.train.epochs,
            "patience": spec.train.patience,
            "batch_size": spec.train.batch_size,
            "schedule": spec.train.schedule,
        },
        "learning_rates": list(chosen.learning_rates),
        "chosen_lr": final["lr"],
        "tries": [t for t in tries if t["validation_only"]],
        "final_run": {
            "wall_time_s": final["wall_time_s"],
            "train_time_s": outcome.train_time_s,
            "epochs": outcome.epochs_run,
            "best_epoch": outcome.best_epoch,
            "val_loss": outcome.val_loss,
            "precision": outcome.precision,
        },
        "test": {
            "windows": test["windows"],
            "mse": test["mse"],
            "mae": test["mae"],
            "mase": test["mase"],
            "skill": test["skill"],
            "skill_against": test["skill_against"],
            "baselines_mase": {name: figures["mase"] for name, figures in test["baselines"].items()},
            "coverage_80": test["coverage_80"],
            "coverage_95": test["coverage_95"],
        },
    }


def main() -> None:
    from core.datasets import load_builtin
    from core.runs.store import RunStore

    parser = argparse.ArgumentParser()
    parser.add_argument("--load", type=float, default=2.0, help="wait for a one-minute load below this")
    parser.add_argument("--wait", type=float, default=900.0, help="the longest wait for it, in seconds")
    args = parser.parse_args()
    dataset = load_builtin("ETTh1")
    pred_len = home_page_horizon()
    waited = wait_for_quiet(args.load, args.wait)
    report = {
        "protocol": "ETTh1 at the home page's default horizon: forecast_series as a background job into "
        "a temporary store, timed from the call to its return (learning-rate tries on validation, the "
        "final run with its test, bands and verdict)",
        "date": today(),
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "data": dataset.name,
        "target_s": TARGET_S,
        "waited_for_load_s": waited,
        "load_limit": args.load,
        "load_before": load_average(),
    }
    with tempfile.TemporaryDirectory() as runs:
        report |= one_click(dataset, pred_len, RunStore(runs))
    report["load_after"] = load_average()
    report["within_target"] = report["call_s"] <= TARGET_S
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(json.dumps(report, indent=2), flush=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
