"""The run store: one SQLite row per training run, and a folder per run for its files.

Everything a user would hate to lose lives here so it survives a restart of the app: the run's
config, status, metrics and timings in `runs.sqlite`, and its best checkpoint, training history
and test forecasts in `<root>/<run id>/`. Tensors and arrays are written with safetensors, never
pickle, so opening a store cannot run code. Every file is written to a temporary name in the same
folder and then renamed over the old one, so a crash mid-write leaves the previous file intact.

SQLite runs in WAL mode so the dashboard can read while a training process (or the CLI) writes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
import safetensors.torch
import torch

RUNS_DIR_ENV = "FORECAST_RUNS_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
INTERRUPTED_MESSAGE = (
    "The process running this run stopped before it finished; its best checkpoint, if any, is kept."
)

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "TEXT PRIMARY KEY"),
    ("name", "TEXT"),
    ("created_at", "REAL"),
    ("started_at", "REAL"),
    ("finished_at", "REAL"),
    ("dataset_name", "TEXT"),
    ("dataset_hash", "TEXT"),
    ("model", "TEXT"),
    ("config_json", "TEXT"),
    ("precision", "TEXT"),
    ("device", "TEXT"),
    ("status", "TEXT"),
    ("message", "TEXT"),
    ("traceback", "TEXT"),
    ("val_metrics_json", "TEXT"),
    ("test_metrics_json", "TEXT"),
    ("best_epoch", "INTEGER"),
    ("wall_time_s", "REAL"),
    ("peak_memory_mb", "REAL"),
    ("trainable_params", "INTEGER"),
    ("total_params", "INTEGER"),
    ("pid", "INTEGER"),
    ("host", "TEXT"),
)
# Dict-valued fields are passed by their plain name and stored as JSON in the `*_json` column.
JSON_FIELDS = {
    "config": "config_json",
    "val_metrics": "val_metrics_json",
    "test_metrics": "test_metrics_json",
}
UPDATABLE = {name for name, _ in COLUMNS if name != "id" and name not in JSON_FIELDS.values()}

CHECKPOINT_FILE = "best.safetensors"
HISTORY_FILE = "history.json"
# Run ids and array names become file names; these patterns keep them inside the run folder.
_RUN_ID = re.compile(r"[0-9a-f]{12}")
_ARRAY_NAME = re.compile(r"[A-Za-z0-9_-]+")


def default_runs_dir() -> Path:
    """Where runs live: $FORECAST_RUNS_DIR when set (tests, a second app), else <project>/runs."""
    return Path(os.environ.get(RUNS_DIR_ENV) or PROJECT_ROOT / "runs")


def is_process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (signal 0 probes without signalling).

    A recycled pid reads as alive; that only delays marking a run interrupted, never loses one.
    """
    if pid <= 0:  # os.kill(0, ...) would address our own process group, not a process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists but belongs to another user
        return True
    return True


@dataclass
class RunRecord:
    """One row of the `runs` table, with the JSON columns decoded (empty dicts when unset)."""

    id: str
    name: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    dataset_name: str | None = None
    dataset_hash: str | None = None
    model: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    precision: str | None = None
    device: str | None = None
    status: str | None = None
    message: str | None = None
    traceback: str | None = None
    val_metrics: dict[str, Any] = field(default_factory=dict)
    test_metrics: dict[str, Any] = field(default_factory=dict)
    best_epoch: int | None = None
    wall_time_s: float | None = None
    peak_memory_mb: float | None = None
    trainable_params: int | None = None
    total_params: int | None = None
    pid: int | None = None
    host: str | None = None
    showcase: bool = False  # shipped with the app (core.runs.showcase), not the user's own; not a column

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunRecord:
        values = {}
        for column in row.keys():
            if column.endswith("_json"):
                values[column.removesuffix("_json")] = json.loads(row[column]) if row[column] else {}
            else:
                values[column] = row[column]
        return cls(**values)


def _to_json(value: Any) -> str:
    """JSON that also takes numpy scalars and arrays, which metrics and histories often hold."""

    def builtin(item: Any) -> Any:
        if isinstance(item, np.generic | np.ndarray):
            return item.tolist()
        raise TypeError(f"Cannot store {type(item).__name__} as JSON.")

    return json.dumps(value, default=builtin)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename it over `path`.

    The rename is atomic on one file system, so readers see the old file or the new one, never half
    of either; if `write` fails the temporary file is removed and the old file is untouched.
    """
    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        write(temporary)
        with open(temporary, "rb") as written:  # flush to disk so the rename never exposes an empty file
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _validate_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"Unknown run status {status!r}; expected one of {', '.join(STATUSES)}.")


class RunStore:
    """The runs table and the per-run folders under one root; safe to share between threads."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_runs_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # one connection shared by threads: one statement at a time
        self._conn = sqlite3.connect(self.root / "runs.sqlite", check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        with self._lock, self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=5000")  # wait for another process's write
            columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # Rows

    def create_run(
        self,
        name: str,
        model: str,
        config: dict[str, Any],
        dataset_name: str,
        dataset_hash: str,
        status: str = "queued",
    ) -> str:
        """Add a run and return its id; the pid and host let a later start tell if it was orphaned."""
        _validate_status(status)
        run_id = uuid.uuid4().hex[:12]
        row = {
            "id": run_id,
            "name": name,
            "created_at": time.time(),
            "model": model,
            "config_json": _to_json(config),
            "dataset_name": dataset_name,
            "dataset_hash": dataset_hash,
            "status": status,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        placeholders = ", ".join(f":{column}" for column in row)
        with self._lock, self._conn:
            self._conn.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({placeholders})", row)
        return run_id

    def update(self, run_id: str, **fields: Any) -> None:
        """Set some columns of a run; `config`, `val_metrics` and `test_metrics` take dicts."""
        values = {}
        for name, value in fields.items():
            if name in JSON_FIELDS:
                values[JSON_FIELDS[name]] = _to_json(value)
            elif name in UPDATABLE:
                values[name] = value
            else:
                raise ValueError(f"Runs have no field {name!r}.")
        if "status" in values:
            _validate_status(values["status"])
        if not values:
            return
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        with self._lock, self._conn:
            cursor = self._conn.execute(
                f"UPDATE runs SET {assignments} WHERE id = :run_id", {**values, "run_id": run_id}
            )
        if cursor.rowcount == 0:
            raise KeyError(f"No run with id {run_id!r}.")

    def get(self, run_id: str) -> RunRecord:
        with self._lock:
            row = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"No run with id {run_id!r}.")
        return RunRecord.from_row(row)

    def list_runs(self) -> list[RunRecord]:
        """All runs, newest first (rowid breaks ties between runs created in the same instant)."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC").fetchall()
        return [RunRecord.from_row(row) for row in rows]

    def delete(self, run_id: str) -> None:
        """Forget a run: its row and its folder with every file in it."""
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self._run_dir(run_id), ignore_errors=True)

    def mark_interrupted(self) -> list[str]:
        """Mark queued or running runs whose process has died as interrupted; return their ids.

        Called when the app starts: a run left `running` by a killed process would otherwise look
        alive forever. Runs started on another host are left alone, since we cannot see its processes.
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, pid, host FROM runs WHERE status IN ('queued', 'running')"
            ).fetchall()
        host = socket.gethostname()
        orphaned = [
            row["id"]
            for row in rows
            if row["host"] == host and row["pid"] is not None and not is_process_alive(row["pid"])
        ]
        for run_id in orphaned:
            self.update(run_id, status="interrupted", message=INTERRUPTED_MESSAGE)
        return orphaned

    # Files

    def _run_dir(self, run_id: str, create: bool = False) -> Path:
        if not _RUN_ID.fullmatch(run_id):
            raise ValueError(f"{run_id!r} is not a run id.")
        folder = self.root / run_id
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    def save_checkpoint(self, run_id: str, state: dict[str, torch.Tensor]) -> None:
        """Replace the run's best checkpoint atomically.

        Tensors are cloned to CPU so tied weights do not trip safetensors' shared-memory check and the
        caller can keep training on the originals.
        """
        tensors = {name: tensor.detach().to("cpu").contiguous().clone() for name, tensor in state.items()}
        path = self._run_dir(run_id, create=True) / CHECKPOINT_FILE
        _atomic_write(path, lambda temporary: safetensors.torch.save_file(tensors, str(temporary)))

    def load_checkpoint(self, run_id: str) -> dict[str, torch.Tensor]:
        path = self._run_dir(run_id) / CHECKPOINT_FILE
        if not path.exists():
            raise FileNotFoundError(f"Run {run_id} has no checkpoint yet.")
        return safetensors.torch.load_file(str(path))

    def has_checkpoint(self, run_id: str) -> bool:
        return (self._run_dir(run_id) / CHECKPOINT_FILE).exists()

    def save_history(self, run_id: str, history: dict[str, Any]) -> None:
        """Per-epoch losses and metrics, rewritten whole after each epoch so a crash keeps the last."""
        path = self._run_dir(run_id, create=True) / HISTORY_FILE
        text = _to_json(history)
        _atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))

    def load_history(self, run_id: str) -> dict[str, Any]:
        path = self._run_dir(run_id) / HISTORY_FILE
        if not path.exists():
            raise FileNotFoundError(f"Run {run_id} has no training history yet.")
        return json.loads(path.read_text(encoding="utf-8"))

    def save_arrays(self, run_id: str, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Named numpy arrays (test forecasts and actuals) in `<name>.arrays.safetensors`."""
        path = self._arrays_path(run_id, name, create=True)
        contiguous = {key: np.ascontiguousarray(array) for key, array in arrays.items()}
        _atomic_write(path, lambda temporary: safetensors.numpy.save_file(contiguous, str(temporary)))

    def load_arrays(self, run_id: str, name: str) -> dict[str, np.ndarray]:
        path = self._arrays_path(run_id, name)
        if not path.exists():
            raise FileNotFoundError(f"Run {run_id} has no arrays named {name!r}.")
        return safetensors.numpy.load_file(str(path))

    def _arrays_path(self, run_id: str, name: str, create: bool = False) -> Path:
        if not _ARRAY_NAME.fullmatch(name):
            raise ValueError(f"Array set names may use letters, digits, '_' and '-' only, not {name!r}.")
        # The ".arrays" suffix keeps any name clear of the checkpoint's file name.
        return self._run_dir(run_id, create=create) / f"{name}.arrays.safetensors"
