"""The showcase: finished runs that ship with the project, so that a fresh clone's Attention, Compare
and Forecast pages have something to show before anyone trains.

`bench/showcase.py` (`make showcase`) trains them under the project's protocol on bundled data and
writes them to `showcase/`: `runs.json` holds each run's record (its settings, metrics and how, when
and on what machine it was trained), and a folder per run holds its arrays and weights in
safetensors, as a run store does. A Time-LLM run keeps only its compact state: the V' × D text
prototypes a forecast reads, not the map from the whole vocabulary that made them.

The showcase is read-only: `ShowcaseStore` refuses every write. `RunsView` sets it beside the user's
own store: listing and reading see both (showcase runs after the user's, marked `showcase`), every
write goes to the user's store. A user run never shares an id with a showcase run: ids are random.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

from core.horizon import duration_words
from core.runs.store import PROJECT_ROOT, RunRecord, RunStore

SHOWCASE_DIR = PROJECT_ROOT / "showcase"
SHOWCASE_ENV = "FORECAST_SHOWCASE"
RECORDS = "runs.json"
_RECORD_FIELDS = {f.name for f in fields(RunRecord)}


class ReadOnly(PermissionError):
    """A write was asked of the shipped showcase."""


class ShowcaseStore(RunStore):
    """The shipped runs: the records in `runs.json`, the files in one folder per run; read-only."""

    def __init__(self, root: Path | str = SHOWCASE_DIR) -> None:  # no SQLite: nothing is written
        self.root = Path(root)
        path = self.root / RECORDS
        records = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
        self._records = {
            record["id"]: RunRecord(**{k: v for k, v in record.items() if k in _RECORD_FIELDS}, showcase=True)
            for record in records
        }

    def close(self) -> None:
        return None

    def get(self, run_id: str) -> RunRecord:
        if run_id not in self._records:
            raise KeyError(f"No run with id {run_id!r}.")
        return self._records[run_id]

    def list_runs(self) -> list[RunRecord]:
        """In the order `runs.json` lists them: Time-LLM first, so the Attention page opens on it."""
        return list(self._records.values())

    def mark_interrupted(self) -> list[str]:
        return []

    def _refuse(self, *args, **kwargs):
        raise ReadOnly("The showcase runs ship with the app and cannot be changed or deleted.")

    create_run = update = delete = save_checkpoint = save_history = save_arrays = _refuse


def showcase_store(root: Path | str | None = None) -> ShowcaseStore | None:
    """The shipped showcase, or None when there is none (a build without it). `$FORECAST_SHOWCASE`
    names another folder, or `none` for no showcase at all."""
    chosen = os.environ.get(SHOWCASE_ENV, "")
    if root is None and chosen.lower() == "none":
        return None
    root = Path(root or chosen or SHOWCASE_DIR)
    return ShowcaseStore(root) if (root / RECORDS).is_file() else None


class RunsView:
    """The user's run store with the showcase beside it (see the module docstring)."""

    def __init__(self, user: RunStore, showcase: ShowcaseStore | None):
        self.user, self.showcase = user, showcase

    def __getattr__(self, name: str):  # writes, and anything else, are the user's store's
        return getattr(self.user, name)

    def _owner(self, run_id: str) -> RunStore:
        if self.showcase is not None and run_id in self.showcase._records:
            return self.showcase
        return self.user

    def list_runs(self) -> list[RunRecord]:
        shown = self.showcase.list_runs() if self.showcase is not None else []
        return self.user.list_runs() + shown

    def get(self, run_id: str) -> RunRecord:
        return self._owner(run_id).get(run_id)

    def delete(self, run_id: str) -> None:
        self._owner(run_id).delete(run_id)

    def load_checkpoint(self, run_id: str):
        return self._owner(run_id).load_checkpoint(run_id)

    def has_checkpoint(self, run_id: str) -> bool:
        return self._owner(run_id).has_checkpoint(run_id)

    def load_history(self, run_id: str):
        return self._owner(run_id).load_history(run_id)

    def load_arrays(self, run_id: str, name: str):
        return self._owner(run_id).load_arrays(run_id, name)


def describe(run: RunRecord) -> str:
    """How and when a showcase run was trained, in one line."""
    how = run.config.get("showcase") or {}
    words = f"trained {how.get('trained_on', 'when the app was built')}"
    if how.get("budget"):
        words += f" at the {how['budget']} budget"
    if how.get("wall_time_s"):
        words += f", in {duration_words(how['wall_time_s'])}"
    if how.get("machine"):
        words += f" on {how['machine'].removeprefix('a ')}"
    return (
        f"Showcase run, shipped with the app: {words}. It is here to show what the pages draw, and "
        "is judged against the simple rules like any run."
    )
