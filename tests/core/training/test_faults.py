"""Faults during training: what each does to a run, and that the app and the run store go on.

Every fault the project guards against, and where its test lives (this file holds only the ones
tested nowhere else):

- an exception in the middle of an epoch fails the run with its message, the next run succeeds:
  tests/core/training/test_runner.py::test_an_exception_in_a_job_fails_the_run_and_the_app_goes_on
  (the job manager alone:
  tests/core/training/test_jobs.py::test_exception_fails_the_job_and_the_manager_carries_on)
- a cancel in the middle of an epoch:
  tests/core/training/test_runner.py::test_cancel_in_the_middle_of_an_epoch
  (before a step: tests/core/training/test_trainer.py::test_cancellation_is_checked_between_steps;
  a queued job: tests/core/training/test_jobs.py::test_cancelled_queued_job_never_runs)
- two sessions launching at once queue and both finish:
  tests/core/training/test_runner.py::test_two_sessions_launching_at_once_queue_and_both_finish
- a killed process leaves an interrupted run whose checkpoint loads:
  tests/core/training/test_runner.py::test_a_killed_process_leaves_an_interrupted_run_with_a_usable_checkpoint
  (the store's side:
  tests/core/runs/test_store.py::test_mark_interrupted_finds_dead_processes_and_keeps_the_checkpoint)
- a checkpoint write that fails halfway leaves the previous checkpoint:
  tests/core/runs/test_store.py::test_failed_checkpoint_write_leaves_the_previous_one
- fp16: an inf gradient skips the step and lowers the scale:
  tests/core/training/test_trainer.py::test_grad_scaler_skips_a_step_with_an_inf_gradient
- fp16: one NaN loss is skipped (weights unchanged, scale lowered) and the run still succeeds:
  test_one_nan_loss_under_fp16_is_skipped_and_the_run_succeeds (here)
- fp16: a loss that stays NaN fails the run with a plain message; the store goes on:
  test_a_persistent_nan_loss_under_fp16_fails_the_run_plainly (here)
- fp32: a diverging loss fails with a plain message:
  tests/core/training/test_trainer.py::test_a_diverging_loss_fails_with_a_plain_message
- a non-finite validation loss fails the run:
  tests/core/training/test_trainer.py::test_a_non_finite_validation_loss_fails_the_run
- the disk fills up while a run writes its checkpoint: the run fails saying so, the previous
  checkpoint loads, no temporary file is left, other runs are untouched:
  test_a_full_disk_while_writing_a_checkpoint_fails_the_run_and_keeps_the_previous_one (here)
"""

import math

import pytest
import safetensors.torch
import torch

from core.models.contract import ForecastOutput
from core.models.registry import build_model
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training import runner
from core.training.runner import run_training
from core.training.trainer import TrainingError

# DLinear on ETTh1 with a short look-back: 33 training steps an epoch, about a second an epoch.
FAST = dict(epochs=2, batch_size=256, lr=0.005, patience=5)


@pytest.fixture
def store(tmp_path):
    run_store = RunStore(tmp_path / "runs")
    yield run_store
    run_store.close()


def _spec(**train) -> RunSpec:
    return RunSpec(model="dlinear", seq_len=48, pred_len=24, train=TrainConfig(**{**FAST, **train}))


def _poisoned_build_model(monkeypatch, poisoned_calls, weights_seen):
    """Make the runner's model put out NaN on the given training forward calls (1-based), and
    record a copy of its weights before every training forward call."""
    calls = {"n": 0}

    def build(*args, **kwargs):
        model, config = build_model(*args, **kwargs)

        def before(module, inputs):
            if module.training:
                calls["n"] += 1
                weights_seen.append(torch.cat([p.detach().flatten().clone() for p in module.parameters()]))

        def after(module, inputs, output):
            if module.training and poisoned_calls(calls["n"]):
                return ForecastOutput(output.forecast * float("nan"))
            return output

        model.register_forward_pre_hook(before)
        model.register_forward_hook(after)
        return model, config

    monkeypatch.setattr(runner, "build_model", build)


def test_one_nan_loss_under_fp16_is_skipped_and_the_run_succeeds(etth1_dataset, store, monkeypatch):
    """fp16 on the CPU (resolve_precision allows it when asked): GradScaler skips the NaN step."""
    weights = []
    _poisoned_build_model(monkeypatch, lambda call: call == 3, weights)
    outcome = run_training(_spec(precision="fp16"), etth1_dataset, store)

    run = store.get(outcome.run_id)
    assert run.status == "succeeded" and run.precision == "fp16" and outcome.epochs_run == 2
    steps = store.load_history(run.id)["steps"]
    assert math.isnan(steps["loss"][2]) and all(
        math.isfinite(v) for i, v in enumerate(steps["loss"]) if i != 2
    )
    assert steps["loss_scale"][2] == steps["loss_scale"][1] / 2  # the scale is lowered after the NaN
    assert steps["loss_scale"][3] == steps["loss_scale"][2]  # and training goes on at the new scale
    assert torch.equal(weights[2], weights[3])  # the NaN step changed no weight
    assert not torch.equal(weights[3], weights[4])  # the next step did
    assert math.isfinite(run.test_metrics["mse"]) and store.has_checkpoint(run.id)


def test_a_persistent_nan_loss_under_fp16_fails_the_run_plainly(etth1_dataset, store, monkeypatch):
    with monkeypatch.context() as patch:
        _poisoned_build_model(patch, lambda call: True, [])
        with pytest.raises(TrainingError):
            run_training(_spec(precision="fp16"), etth1_dataset, store)

    (failed,) = store.list_runs()
    assert failed.status == "failed" and failed.finished_at is not None
    assert failed.message.startswith("the loss became nan at epoch 1, step 11: training diverged.")
    assert "train in fp32" in failed.message  # what to do about it
    assert "Traceback" not in failed.message and "Traceback" in failed.traceback  # details kept aside
    # The store goes on: the next run trains and is listed beside the failed one.
    outcome = run_training(_spec(precision="fp32", epochs=1), etth1_dataset, store)
    assert store.get(outcome.run_id).status == "succeeded"
    assert [r.status for r in store.list_runs()] == ["succeeded", "failed"]


def test_a_full_disk_while_writing_a_checkpoint_fails_the_run_and_keeps_the_previous_one(
    etth1_dataset, store, monkeypatch
):
    finished = run_training(_spec(epochs=1, precision="fp32"), etth1_dataset, store)
    finished_weights = store.load_checkpoint(finished.run_id)

    real_save = safetensors.torch.save_file
    saved = []

    def fill_the_disk_on_the_second_save(tensors, filename, metadata=None):
        if len(saved) == 1:
            with open(filename, "wb") as file:  # a part of the file reaches the disk, then it is full
                file.write(b"\x00" * 64)
            raise OSError(28, "No space left on device")
        saved.append({name: tensor.clone() for name, tensor in tensors.items()})
        real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", fill_the_disk_on_the_second_save)
    # A constant learning rate small enough that the validation loss improves every epoch.
    with pytest.raises(TrainingError, match="could not be written"):
        run_training(_spec(epochs=3, lr=0.001, precision="fp32"), etth1_dataset, store)
    monkeypatch.undo()

    failed = next(r for r in store.list_runs() if r.id != finished.run_id)
    assert failed.status == "failed" and failed.best_epoch == 1
    assert failed.message.startswith("The checkpoint of epoch 2 could not be written to ")
    assert "(No space left on device)" in failed.message and "Free some disk space" in failed.message
    assert "Traceback" not in failed.message and "OSError" not in failed.message
    # The previous checkpoint (epoch 1) is intact, loads and fits the model; nothing else was left.
    kept = store.load_checkpoint(failed.id)
    assert set(kept) == set(saved[0]) and all(torch.equal(kept[k], saved[0][k]) for k in kept)
    model, _ = build_model("dlinear", seq_len=48, pred_len=24, n_channels=7)
    model.load_state_dict(kept)
    assert sorted(p.name for p in (store.root / failed.id).iterdir()) == ["best.safetensors", "history.json"]
    assert len(store.load_history(failed.id)["epochs"]) == 1
    # The other run, and the store as a whole, are untouched.
    assert [r.id for r in store.list_runs()] == [failed.id, finished.run_id]
    assert store.get(finished.run_id).status == "succeeded"
    other = store.load_checkpoint(finished.run_id)
    assert all(torch.equal(other[k], finished_weights[k]) for k in finished_weights)
