"""The run store: rows round-trip, files are written atomically, orphaned runs are found."""

import os
import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest
import safetensors.torch
import torch

from core.runs.store import (
    INTERRUPTED_MESSAGE,
    PROJECT_ROOT,
    RUNS_DIR_ENV,
    RunStore,
    default_runs_dir,
    is_process_alive,
)

CONFIG = {"seq_len": 96, "pred_len": 24, "lr": 0.001, "layers": [2, 3]}


@pytest.fixture
def store(tmp_path):
    run_store = RunStore(tmp_path / "runs")
    yield run_store
    run_store.close()


def _create(store: RunStore, name: str = "dlinear-etth1", status: str = "queued") -> str:
    return store.create_run(name, "dlinear", CONFIG, "ETTh1", "abc123", status=status)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def test_run_row_round_trip_and_newest_first(store):
    first = _create(store, "first")
    second = _create(store, "second")
    store.update(
        first,
        status="succeeded",
        val_metrics={"mse": 0.41, "mae": 0.42},
        test_metrics={"mse": 0.38},
        best_epoch=7,
        wall_time_s=12.5,
        trainable_params=1000,
    )

    record = store.get(first)
    assert record.name == "first"
    assert record.model == "dlinear"
    assert record.config == CONFIG
    assert record.dataset_name == "ETTh1" and record.dataset_hash == "abc123"
    assert record.status == "succeeded"
    assert record.val_metrics == {"mse": 0.41, "mae": 0.42}
    assert record.test_metrics == {"mse": 0.38}
    assert record.best_epoch == 7 and record.wall_time_s == 12.5 and record.trainable_params == 1000
    assert record.pid == os.getpid()
    assert store.get(second).val_metrics == {}
    assert [run.id for run in store.list_runs()] == [second, first]


def test_numpy_values_are_stored_as_plain_json(store):
    run_id = _create(store)
    store.update(run_id, test_metrics={"mse": np.float32(0.5), "per_channel": np.array([1.0, 2.0])})
    store.save_history(run_id, {"val_loss": [np.float64(0.25)]})
    assert store.get(run_id).test_metrics == {"mse": 0.5, "per_channel": [1.0, 2.0]}
    assert store.load_history(run_id) == {"val_loss": [0.25]}


def test_update_rejects_unknown_columns_bad_status_and_unknown_runs(store):
    run_id = _create(store)
    with pytest.raises(ValueError, match="no field 'colour'"):
        store.update(run_id, colour="red")
    with pytest.raises(ValueError, match="no field 'id'"):
        store.update(run_id, id="x")
    with pytest.raises(ValueError, match="Unknown run status 'done'"):
        store.update(run_id, status="done")
    with pytest.raises(ValueError, match="Unknown run status"):
        store.create_run("x", "dlinear", {}, "ETTh1", "h", status="paused")
    with pytest.raises(KeyError, match="No run with id"):
        store.update("000000000000", status="failed")
    with pytest.raises(KeyError, match="No run with id"):
        store.get("000000000000")
    assert store.get(run_id).status == "queued"


def test_checkpoint_round_trip(store):
    run_id = _create(store)
    assert not store.has_checkpoint(run_id)
    weight = torch.randn(4, 3)
    state = {"linear.weight": weight.t(), "linear.bias": torch.arange(4, dtype=torch.float32)}
    store.save_checkpoint(run_id, state)

    assert store.has_checkpoint(run_id)
    loaded = store.load_checkpoint(run_id)
    assert set(loaded) == set(state)
    for name, tensor in state.items():
        assert torch.equal(loaded[name], tensor)


def test_checkpoint_keeps_tied_weights_apart_from_the_live_model(store):
    run_id = _create(store)
    shared = torch.ones(2, 2)
    store.save_checkpoint(run_id, {"embedding": shared, "head": shared})
    shared.add_(1)
    loaded = store.load_checkpoint(run_id)
    assert torch.equal(loaded["embedding"], torch.ones(2, 2))
    assert torch.equal(loaded["head"], torch.ones(2, 2))


def test_failed_checkpoint_write_leaves_the_previous_one(store, monkeypatch):
    run_id = _create(store)
    store.save_checkpoint(run_id, {"w": torch.full((3,), 1.0)})

    def half_write_then_fail(tensors, filename, metadata=None):
        with open(filename, "wb") as file:
            file.write(b"\x00" * 10)
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", half_write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        store.save_checkpoint(run_id, {"w": torch.full((3,), 2.0)})

    assert torch.equal(store.load_checkpoint(run_id)["w"], torch.full((3,), 1.0))
    assert sorted(path.name for path in (store.root / run_id).iterdir()) == ["best.safetensors"]


def test_arrays_and_history_round_trip(store):
    run_id = _create(store)
    arrays = {
        "forecast": np.random.default_rng(0).normal(size=(5, 24, 7)).astype(np.float32),
        "actual": np.arange(12, dtype=np.float64).reshape(3, 4).T,  # not contiguous on purpose
    }
    store.save_arrays(run_id, "test", arrays)
    loaded = store.load_arrays(run_id, "test")
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)

    history = {"epoch": [1, 2], "train_loss": [0.9, 0.7], "val_loss": [0.8, 0.75]}
    store.save_history(run_id, history)
    assert store.load_history(run_id) == history

    with pytest.raises(FileNotFoundError, match="no arrays named 'val'"):
        store.load_arrays(run_id, "val")
    with pytest.raises(ValueError, match="letters, digits"):
        store.save_arrays(run_id, "../escape", arrays)


def test_delete_removes_row_and_folder(store):
    run_id = _create(store)
    store.save_checkpoint(run_id, {"w": torch.zeros(2)})
    store.delete(run_id)
    assert not (store.root / run_id).exists()
    assert store.list_runs() == []


def test_mark_interrupted_finds_dead_processes_and_keeps_the_checkpoint(store):
    dead_pid = _dead_pid()
    assert not is_process_alive(dead_pid)
    assert is_process_alive(os.getpid())

    orphan = _create(store, "orphan", status="running")
    store.update(orphan, pid=dead_pid)
    store.save_checkpoint(orphan, {"w": torch.tensor([1.5, 2.5])})
    queued_orphan = _create(store, "queued orphan")
    store.update(queued_orphan, pid=dead_pid)
    alive = _create(store, "alive", status="running")
    elsewhere = _create(store, "elsewhere", status="running")
    store.update(elsewhere, pid=dead_pid, host="another-machine")
    finished = _create(store, "finished", status="succeeded")
    store.update(finished, pid=dead_pid)

    assert sorted(store.mark_interrupted()) == sorted([orphan, queued_orphan])
    assert store.get(orphan).status == "interrupted"
    assert store.get(orphan).message == INTERRUPTED_MESSAGE
    assert store.get(alive).status == "running"
    assert store.get(elsewhere).status == "running"
    assert store.get(finished).status == "succeeded"
    assert torch.equal(store.load_checkpoint(orphan)["w"], torch.tensor([1.5, 2.5]))
    assert store.mark_interrupted() == []


def test_env_var_chooses_the_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    assert default_runs_dir() == PROJECT_ROOT / "runs"

    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv(RUNS_DIR_ENV, str(elsewhere))
    assert default_runs_dir() == elsewhere
    run_store = RunStore()
    try:
        run_id = _create(run_store)
        assert run_store.root == elsewhere
        assert (elsewhere / "runs.sqlite").exists()
        second_store = RunStore(elsewhere)
        assert second_store.get(run_id).name == "dlinear-etth1"
        second_store.close()
    finally:
        run_store.close()


def test_database_uses_wal(store):
    with sqlite3.connect(store.root / "runs.sqlite") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_writes_from_threads(store):
    errors = []
    start = threading.Barrier(4)

    def write(worker: int) -> None:
        try:
            start.wait(timeout=10)
            for step in range(10):
                run_id = _create(store, f"worker-{worker}-{step}")
                store.update(run_id, status="running", val_metrics={"step": step})
                store.update(run_id, status="succeeded")
                store.list_runs()
        except Exception as error:  # collected so the main thread can fail the test
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    runs = store.list_runs()
    assert len(runs) == 40
    assert {run.status for run in runs} == {"succeeded"}
