"""Runs end to end: the runner with the store and the job manager, the CLI, crashes, torchrun."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from core import metrics
from core.models.registry import build_model
from core.runs.result import load_result
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.jobs import CANCELLED, FAILED, SUCCEEDED, JobManager
from core.training.runner import run_training
from tests.conftest import ROOT

FAST = dict(epochs=2, batch_size=256, lr=0.005, patience=5, precision="fp32")


def _spec(**overrides):
    train = TrainConfig(**{**FAST, **overrides.pop("train", {})})
    return RunSpec(model="dlinear", seq_len=48, pred_len=24, train=train, **overrides)


def test_a_run_is_stored_completely(etth1_dataset, tmp_path):
    store = RunStore(tmp_path)
    outcome = run_training(_spec(), etth1_dataset, store)
    run = store.get(outcome.run_id)
    assert run.status == "succeeded" and run.model == "dlinear" and run.dataset_name == "ETTh1"
    assert run.dataset_hash == etth1_dataset.content_hash()
    assert run.config["protocol"] == "ett-hour" and run.config["train"]["lr"] == 0.005
    assert run.precision == "fp32" and run.device == "cpu" and run.best_epoch >= 1
    assert run.trainable_params == run.total_params == 2 * (48 * 24 + 24)
    assert run.wall_time_s > 0 and run.finished_at >= run.started_at
    result = load_result(store, run.id)
    assert result.forecast.shape == ((14400 - (11520 - 48)) - 48 - 24 + 1, 24, 7)
    assert run.test_metrics["mse"] == pytest.approx(
        metrics.mse(result.actual_scaled, result.forecast_scaled), rel=1e-6
    )
    model, _ = build_model("dlinear", seq_len=48, pred_len=24, n_channels=7)
    model.load_state_dict(store.load_checkpoint(run.id))  # the stored best checkpoint is complete
    history = store.load_history(run.id)
    assert len(history["epochs"]) == 2 and len(history["steps"]["lr"]) == 2 * (8640 - 48 - 24 + 1) // 256
    assert abs(result.actual.mean() - etth1_dataset.frame.iloc[11520:14400].to_numpy().mean()) < 1.0


def test_a_run_is_judged_against_baselines_and_gets_calibrated_bands(etth1_dataset, tmp_path):
    store = RunStore(tmp_path)
    outcome = run_training(_spec(), etth1_dataset, store)
    test = outcome.test_metrics
    assert set(test["baselines"]) == {"naive", "snaive", "naive2"} and test["skill_against"] == "snaive"
    assert test["skill"] == pytest.approx(1 - test["mase"] / test["baselines"]["snaive"]["mase"])
    result = load_result(store, outcome.run_id)
    naive = np.repeat(result.actual_scaled[:1, :1] * 0 + result.test_windows()[:, -1:, :], 24, axis=1)
    assert test["baselines"]["naive"]["mse"] == pytest.approx(metrics.mse(result.actual_scaled, naive))
    assert set(test["units"]) == set(etth1_dataset.channels)
    ot = result.channels.index("OT")
    assert test["units"]["OT"]["mae"] == pytest.approx(
        np.abs(result.forecast[..., ot] - result.actual[..., ot]).mean()
    )
    assert sorted(result.bands) == [0.8, 0.95] and test["intervals"] == "split conformal, rolled forward"
    for level, key in [(0.8, "coverage_80"), (0.95, "coverage_95")]:
        band = result.bands[level]
        inside = (result.actual >= band.lower - 1e-6) & (result.actual <= band.upper + 1e-6)
        assert test[key] == pytest.approx(inside.mean(), abs=1e-4) and 0.5 < test[key] <= 1.0
    assert np.all(result.bands[0.95].upper >= result.bands[0.8].upper - 1e-9)
    assert result.ahead_half_widths[0.8].shape == (24, 7)


def test_ms_features_score_the_target_only(etth1_dataset, tmp_path):
    store = RunStore(tmp_path)
    outcome = run_training(_spec(features="MS"), etth1_dataset, store)
    assert load_result(store, outcome.run_id).forecast.shape[-1] == 1
    model, _ = build_model("dlinear", seq_len=48, pred_len=24, n_channels=7)
    model.load_state_dict(store.load_checkpoint(outcome.run_id))  # the bare model's keys


def test_cancel_in_the_middle_of_an_epoch(etth1_dataset, tmp_path):
    store, manager = RunStore(tmp_path), JobManager()
    job = manager.submit(
        "slow", lambda context: run_training(_spec(train=dict(epochs=50)), etth1_dataset, store, context)
    )
    deadline = time.time() + 30
    while manager.get(job).progress.get("step_global_step", 0) < 40 and time.time() < deadline:
        time.sleep(0.05)
    manager.cancel(job)
    snapshot = manager.wait(job, timeout=30)
    assert snapshot.state == CANCELLED
    run = store.list_runs()[0]
    assert run.status == "cancelled" and run.message == "Cancelled by the user."
    assert run.best_epoch >= 1 and len(store.load_history(run.id)["epochs"]) >= 1  # kept per epoch
    assert snapshot.progress["step_global_step"] < 50 * 33


def test_an_exception_in_a_job_fails_the_run_and_the_app_goes_on(etth1_dataset, tmp_path):
    store, manager = RunStore(tmp_path), JobManager()

    class Exploding:
        steps = 0

        def report(self, **fields):
            pass

        def check_cancelled(self):
            self.steps += 1
            if self.steps == 3:
                raise RuntimeError("the disk vanished")

    job = manager.submit("doomed", lambda context: run_training(_spec(), etth1_dataset, store, Exploding()))
    snapshot = manager.wait(job, timeout=30)
    assert (
        snapshot.state == FAILED
        and "the disk vanished" in snapshot.error
        and "Traceback" in snapshot.traceback
    )
    run = store.list_runs()[0]
    assert run.status == "failed" and "RuntimeError: the disk vanished" in run.message
    second = manager.submit("fine", lambda context: run_training(_spec(), etth1_dataset, store, context))
    assert manager.wait(second, timeout=60).state == SUCCEEDED


def test_two_sessions_launching_at_once_queue_and_both_finish(etth1_dataset, tmp_path):
    store, manager = RunStore(tmp_path), JobManager(max_concurrent=1)
    jobs = [
        manager.submit(f"session {i}", lambda context: run_training(_spec(), etth1_dataset, store, context))
        for i in range(2)
    ]
    snapshots = [manager.wait(job, timeout=120) for job in jobs]
    assert [s.state for s in snapshots] == [SUCCEEDED, SUCCEEDED]
    first, second = sorted(snapshots, key=lambda s: s.started_at)
    assert second.started_at >= first.finished_at - 0.01  # one at a time on the device
    assert len({r.id for r in store.list_runs()}) == 2


# `python -m core train` on ETTh1 with a short look-back: fast enough for tests.
TRAIN_ARGS = [
    "-m",
    "core",
    "train",
    "--data",
    "ETTh1",
    "--model",
    "dlinear",
    "--seq-len",
    "48",
    "--pred-len",
    "24",
]
OFFLINE = dict(os.environ, HF_HUB_OFFLINE="1")


def _train_cli(tmp_path, *extra, **kwargs):
    command = [
        sys.executable,
        *TRAIN_ARGS,
        "--batch-size",
        "256",
        "--runs-dir",
        str(tmp_path),
        *map(str, extra),
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=OFFLINE, **kwargs)


def test_cli_train_with_a_toml_file(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('name = "from toml"\n[train]\nepochs = 1\nlr = 0.005\nprecision = "fp32"\n')
    completed = _train_cli(tmp_path, "--config", config, check=True)
    result = json.loads(completed.stdout)
    run = RunStore(tmp_path).get(result["run_id"])
    assert run.name == "from toml" and run.status == "succeeded"
    assert result["test"]["mse"] == pytest.approx(run.test_metrics["mse"]) and result["epochs_run"] == 1
    # The verdict's fields: the baselines on the same windows, the skill, and the ranges' coverage.
    test = result["test"]
    assert set(test["baselines"]) == {"naive", "snaive", "naive2"}
    assert {"mse", "mae", "mase"} <= set(test["baselines"]["snaive"])
    assert test["skill"] == pytest.approx(1 - test["mase"] / test["baselines"]["snaive"]["mase"])
    assert 0 < test["coverage_80"] < test["coverage_95"] <= 1


def test_a_killed_process_leaves_an_interrupted_run_with_a_usable_checkpoint(tmp_path):
    extra = ["--batch-size", "64", "--epochs", "200", "--patience", "200", "--lr", "0.001"]
    process = subprocess.Popen(
        [sys.executable, *TRAIN_ARGS, *extra, "--runs-dir", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=OFFLINE,
    )
    try:
        deadline = time.time() + 60
        while not list(tmp_path.glob("*/best.safetensors")) and time.time() < deadline:
            time.sleep(0.2)
        assert list(tmp_path.glob("*/best.safetensors")), "no checkpoint was written in time"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    store = RunStore(tmp_path)
    (run_id,) = store.mark_interrupted()
    run = store.get(run_id)
    assert run.status == "interrupted" and "stopped before it finished" in run.message
    model, _ = build_model("dlinear", seq_len=48, pred_len=24, n_channels=7)
    model.load_state_dict(store.load_checkpoint(run_id))
    assert torch.isfinite(model(torch.randn(2, 48, 7)).forecast).all()


@pytest.mark.skipif(
    shutil.which("torchrun", path=os.path.dirname(sys.executable)) is None, reason="no torchrun"
)
def test_torchrun_two_processes_match_one(tmp_path):
    """DDP over gloo: two processes with half the batch each train like one process with the whole."""
    single = json.loads(_train_cli(tmp_path / "one", "--epochs", "2", "--lr", "0.005", check=True).stdout)
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    extra = ["--batch-size", "128", "--epochs", "2", "--lr", "0.005", "--runs-dir", str(tmp_path / "two")]
    completed = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", *TRAIN_ARGS, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(OFFLINE, OMP_NUM_THREADS="1"),
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1  # only rank 0 reports
    double = json.loads(lines[0])
    assert double["world_size"] == 2
    assert len(RunStore(tmp_path / "two").list_runs()) == 1  # only rank 0 writes the store
    assert double["test"]["mse"] == pytest.approx(single["test"]["mse"], rel=0.05)
    assert np.isfinite(double["val_loss"])


def test_a_short_weekly_series_trains_and_is_scored(tmp_path):
    """30 weekly rows (21 to train on, fewer than a batch of windows and than a 52-week season):
    the run trains on its one short batch, and MASE scales by the naive step instead of failing."""
    import pandas as pd

    from core.dataset import Dataset
    from core.metrics import mase_season

    index = pd.date_range("2024-01-07", periods=30, freq="W-SUN", name="timestamp")
    values = 100 + 10 * np.sin(np.arange(30) / 3) + np.arange(30)
    weekly = Dataset(pd.DataFrame({"Visitors": values}, index=index), "Visitors", "weekly.csv", freq="W-SUN")
    spec = RunSpec(model="dlinear", seq_len=9, pred_len=2, train=TrainConfig(epochs=1, batch_size=32))
    result = run_training(spec, weekly, RunStore(tmp_path))
    assert result.test_metrics["season"] == 1 and np.isfinite(result.test_metrics["mase"])
    assert result.epochs_run == 1
    assert mase_season(52, 21) == 1 and mase_season(52, 53) == 52
