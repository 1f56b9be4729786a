"""Background jobs: run long functions (training) in threads, report progress, cancel politely.

The dashboard reaches one process-wide `JobManager` through `st.cache_resource`, so a job survives
a page reload and every session sees the same jobs; pages poll `get()` for snapshots. Worker threads
never call `st.*`: a job talks to the outside only through its `JobContext` (progress, log lines,
the cancel flag) and its return value, which keeps this module free of Streamlit and usable from the
CLI and tests.

Every report also passes a `core.training.eta.Clock`, which notes when phases, steps and epochs
happened, so a page can say how long a job has left.

Each job gets its own daemon thread that first waits on a per-device semaphore, so at most
`max_concurrent` jobs run on one device (one GPU is not shared by two trainings by default) while
the rest wait as queued.
"""

from __future__ import annotations

import copy
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.training.eta import Clock

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "interrupted",  # never set here (a dead process takes its jobs along); shared with the run store
)
FINISHED_STATES = (SUCCEEDED, FAILED, CANCELLED, INTERRUPTED)
MAX_MESSAGES = 200  # log lines kept per job; older ones drop off so a chatty job cannot grow forever


class Cancelled(Exception):
    """Raised inside a job (usually by `JobContext.check_cancelled`) to stop it cooperatively."""


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job at one moment, safe to read and mutate without locks.

    `progress` is deep-copied; `result` is shared, since it may be large (a trained model).
    """

    id: str
    name: str
    device: str
    state: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    progress: dict[str, Any]
    messages: tuple[str, ...]
    result: Any
    error: str | None
    traceback: str | None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


@dataclass(eq=False)
class Job:
    """A job's live state; every field is read and written under `lock` (the events are internal)."""

    id: str
    name: str
    function: Callable[[JobContext], Any]
    device: str = "cpu"
    state: str = QUEUED
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    messages: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_MESSAGES))
    result: Any = None
    error: str | None = None
    traceback: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    done_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def snapshot(self) -> JobSnapshot:
        with self.lock:
            return JobSnapshot(
                id=self.id,
                name=self.name,
                device=self.device,
                state=self.state,
                created_at=self.created_at,
                started_at=self.started_at,
                finished_at=self.finished_at,
                progress=copy.deepcopy(self.progress),
                messages=tuple(self.messages),
                result=self.result,
                error=self.error,
                traceback=self.traceback,
            )

    def finish(self, state: str, expected: tuple[str, ...] = (QUEUED, RUNNING), **fields: Any) -> bool:
        """Move to a final state if the job is still in an `expected` state; say whether it moved.

        Checking and moving under one lock is what keeps a cancel and a starting worker from racing.
        """
        with self.lock:
            if self.state not in expected:
                return False
            self.state = state
            self.finished_at = time.time()
            for name, value in fields.items():
                setattr(self, name, value)
        self.done_event.set()
        return True


class JobContext:
    """What a job function sees of its job: the cancel flag, progress reports and a log."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._clock = Clock()

    @property
    def cancelled(self) -> bool:
        return self._job.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Call between steps: raises `Cancelled` once someone has asked the job to stop."""
        if self.cancelled:
            raise Cancelled(f"Job {self._job.name!r} was cancelled.")

    def report(self, **fields: Any) -> None:
        """Merge fields into the job's progress, with the times the clock notes of them; values are
        copied so the caller may keep mutating them."""
        copied = copy.deepcopy(fields) | self._clock.observe(fields, time.time())
        with self._job.lock:
            self._job.progress.update(copied)

    def log(self, message: str) -> None:
        with self._job.lock:
            self._job.messages.append(message)


class JobManager:
    """Runs submitted functions in background threads, at most `max_concurrent` per device.

    `max_concurrent` is one limit for every device, or a dict per device (devices not named get 1).
    """

    def __init__(self, max_concurrent: dict[str, int] | int = 1) -> None:
        limits = max_concurrent.values() if isinstance(max_concurrent, dict) else [max_concurrent]
        if any(limit < 1 for limit in limits):
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent!r}.")
        self._max_concurrent = max_concurrent
        self._jobs: dict[str, Job] = {}  # insertion order is submission order
        self._slots: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        name: str,
        function: Callable[[JobContext], Any],
        *,
        device: str = "cpu",
        progress: dict[str, Any] | None = None,
    ) -> str:
        """Queue `function(context)` to run in the background and return the job's id at once.
        `progress` holds what the job's watchers know before it reports (its settings)."""
        job = Job(
            id=uuid.uuid4().hex[:12],
            name=name,
            function=function,
            device=device,
            progress=copy.deepcopy(progress or {}),
        )
        with self._lock:
            self._jobs[job.id] = job
        worker = threading.Thread(target=self._work, args=(job,), name=f"job-{job.id}-{name}", daemon=True)
        worker.start()
        return job.id

    def cancel(self, job_id: str) -> None:
        """Ask a job to stop: a queued job is cancelled at once, a running one at its next check."""
        job = self._job(job_id)
        job.cancel_event.set()
        job.finish(CANCELLED, expected=(QUEUED,))

    def get(self, job_id: str) -> JobSnapshot:
        return self._job(job_id).snapshot()

    def active(self) -> list[JobSnapshot]:
        """Jobs still queued or running, newest first."""
        return [snapshot for snapshot in self.list() if not snapshot.finished]

    def wait(self, job_id: str, timeout: float | None = None) -> JobSnapshot:
        """Block until the job finishes or `timeout` seconds pass; check `.finished` on the result."""
        job = self._job(job_id)
        job.done_event.wait(timeout)
        return job.snapshot()

    def list(self) -> list[JobSnapshot]:
        """Every job this process has seen, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [job.snapshot() for job in reversed(jobs)]

    def _job(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(f"No job with id {job_id!r}.")
        return job

    def _slot(self, device: str) -> threading.Semaphore:
        with self._lock:
            if device not in self._slots:
                limit = self._max_concurrent
                if isinstance(limit, dict):
                    limit = limit.get(device, 1)
                self._slots[device] = threading.Semaphore(limit)
            return self._slots[device]

    def _work(self, job: Job) -> None:
        """The worker thread: wait for a slot on the device, run the job, record how it ended."""
        with self._slot(job.device):
            with job.lock:
                if job.state != QUEUED:  # cancelled while it waited for a slot
                    return
                job.state = RUNNING
                job.started_at = time.time()
            self._run(job)

    @staticmethod
    def _run(job: Job) -> None:
        try:
            result = job.function(JobContext(job))
        except Cancelled:
            job.finish(CANCELLED)
        except Exception as error:  # a failed job must not take the manager or other jobs with it
            job.finish(FAILED, error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc())
        else:
            # A function that notices the flag and simply returns still counts as cancelled.
            job.finish(CANCELLED if job.cancel_event.is_set() else SUCCEEDED, result=result)
