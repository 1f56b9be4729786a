"""The job manager: results, failures, cooperative cancel, per-device limits, thread safety."""

import dataclasses
import threading
import time

import pytest

from core.training.jobs import (
    CANCELLED,
    FAILED,
    MAX_MESSAGES,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    JobManager,
)

TIMEOUT = 10  # seconds; a broken manager fails the test instead of hanging it


def _wait_until(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def test_job_succeeds_with_its_result():
    manager = JobManager()
    job_id = manager.submit("answer", lambda context: 42)
    snapshot = manager.wait(job_id, timeout=TIMEOUT)
    assert snapshot.state == SUCCEEDED and snapshot.finished
    assert snapshot.result == 42
    assert snapshot.name == "answer" and snapshot.device == "cpu"
    assert snapshot.error is None
    assert snapshot.created_at <= snapshot.started_at <= snapshot.finished_at


def test_exception_fails_the_job_and_the_manager_carries_on():
    manager = JobManager()

    def broken(context):
        raise ValueError("learning rate must be positive")

    failed = manager.wait(manager.submit("broken", broken), timeout=TIMEOUT)
    assert failed.state == FAILED
    assert failed.error == "ValueError: learning rate must be positive"
    assert failed.traceback.startswith("Traceback")
    assert "in broken" in failed.traceback

    after = manager.wait(manager.submit("after", lambda context: "fine"), timeout=TIMEOUT)
    assert after.state == SUCCEEDED and after.result == "fine"


def test_running_job_is_cancelled_cooperatively():
    manager = JobManager()

    def loop(context):
        for step in range(100_000):
            context.check_cancelled()
            context.report(step=step)
            time.sleep(0.002)
        return "ran to the end"

    job_id = manager.submit("loop", loop)
    _wait_until(lambda: manager.get(job_id).progress.get("step", 0) >= 3)
    assert manager.get(job_id).state == RUNNING
    manager.cancel(job_id)

    snapshot = manager.wait(job_id, timeout=TIMEOUT)
    assert snapshot.state == CANCELLED
    assert snapshot.result is None
    assert 3 <= snapshot.progress["step"] < 99_999


def test_job_that_returns_after_cancel_counts_as_cancelled():
    manager = JobManager()

    def polite(context):
        _wait_until(lambda: context.cancelled)
        return "partial"

    job_id = manager.submit("polite", polite)
    _wait_until(lambda: manager.get(job_id).state == RUNNING)
    manager.cancel(job_id)
    snapshot = manager.wait(job_id, timeout=TIMEOUT)
    assert snapshot.state == CANCELLED and snapshot.result == "partial"


def test_cancelled_queued_job_never_runs():
    manager = JobManager(max_concurrent=1)
    gate = threading.Event()
    ran = threading.Event()
    blocker = manager.submit("blocker", lambda context: gate.wait(TIMEOUT))
    _wait_until(lambda: manager.get(blocker).state == RUNNING)
    queued = manager.submit("queued", lambda context: ran.set())
    assert manager.get(queued).state == QUEUED
    assert [job.id for job in manager.active()] == [queued, blocker]

    manager.cancel(queued)
    assert manager.get(queued).state == CANCELLED
    gate.set()
    assert manager.wait(blocker, timeout=TIMEOUT).state == SUCCEEDED
    # Its worker takes the freed slot, sees the cancel and exits without calling the function.
    _wait_until(lambda: not any(thread.name.startswith(f"job-{queued}") for thread in threading.enumerate()))
    assert not ran.is_set()
    assert manager.wait(manager.submit("later", lambda context: 1), timeout=TIMEOUT).state == SUCCEEDED
    assert manager.wait(queued, timeout=TIMEOUT).state == CANCELLED
    assert manager.active() == []


def _record_intervals(manager: JobManager, count: int, device: str = "cpu") -> list[tuple[float, float]]:
    intervals = []

    def sleeper(context):
        start = time.monotonic()
        time.sleep(0.05)
        intervals.append((start, time.monotonic()))

    job_ids = [manager.submit(f"sleeper-{index}", sleeper, device=device) for index in range(count)]
    assert all(manager.wait(job_id, timeout=TIMEOUT).state == SUCCEEDED for job_id in job_ids)
    return sorted(intervals)


def test_one_slot_runs_jobs_one_at_a_time():
    intervals = _record_intervals(JobManager(max_concurrent=1), count=3)
    for (_, first_end), (second_start, _) in zip(intervals, intervals[1:], strict=False):
        assert second_start >= first_end


def test_two_slots_run_jobs_together():
    manager = JobManager(max_concurrent=2)
    both_running = threading.Barrier(2, timeout=TIMEOUT)  # breaks unless both jobs run at once
    job_ids = [manager.submit(f"pair-{index}", lambda context: both_running.wait()) for index in range(2)]
    assert [manager.wait(job_id, timeout=TIMEOUT).state for job_id in job_ids] == [SUCCEEDED] * 2


def test_limits_are_per_device():
    manager = JobManager(max_concurrent={"cpu": 1, "cuda": 1})
    both_running = threading.Barrier(2, timeout=TIMEOUT)
    cpu = manager.submit("cpu", lambda context: both_running.wait(), device="cpu")
    gpu = manager.submit("gpu", lambda context: both_running.wait(), device="cuda")
    assert manager.wait(cpu, timeout=TIMEOUT).state == SUCCEEDED
    assert manager.wait(gpu, timeout=TIMEOUT).state == SUCCEEDED


def test_snapshots_are_copies():
    manager = JobManager()

    def reporter(context):
        history = {"loss": [1.0]}
        context.report(history=history, epoch=1)
        history["loss"].append(0.5)  # the caller keeps mutating what it reported
        context.log("epoch 1 done")

    job_id = manager.submit("reporter", reporter)
    snapshot = manager.wait(job_id, timeout=TIMEOUT)
    snapshot.progress["history"]["loss"].append(99.0)
    snapshot.progress["epoch"] = 7

    again = manager.get(job_id)
    assert again.progress == {"history": {"loss": [1.0]}, "epoch": 1}
    assert again.messages == ("epoch 1 done",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.state = FAILED


def test_log_keeps_the_latest_messages():
    manager = JobManager()

    def chatty(context):
        for index in range(MAX_MESSAGES + 50):
            context.log(f"line {index}")

    snapshot = manager.wait(manager.submit("chatty", chatty), timeout=TIMEOUT)
    assert len(snapshot.messages) == MAX_MESSAGES
    assert snapshot.messages[-1] == f"line {MAX_MESSAGES + 49}"


def test_threads_submitting_at_once_all_get_jobs():
    manager = JobManager(max_concurrent=4)
    start = threading.Barrier(8, timeout=TIMEOUT)
    job_ids = []
    ids_lock = threading.Lock()

    def submit(index: int) -> None:
        start.wait()
        job_id = manager.submit(f"job-{index}", lambda context: index)
        with ids_lock:
            job_ids.append(job_id)

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)

    assert len(set(job_ids)) == 8
    results = sorted(manager.wait(job_id, timeout=TIMEOUT).result for job_id in job_ids)
    assert results == list(range(8))
    assert {job.id for job in manager.list()} == set(job_ids)


def test_list_is_newest_first_and_unknown_ids_are_rejected():
    manager = JobManager()
    first = manager.submit("first", lambda context: 1)
    second = manager.submit("second", lambda context: 2)
    assert [job.id for job in manager.list()] == [second, first]
    with pytest.raises(KeyError, match="No job with id"):
        manager.get("nope")
    with pytest.raises(ValueError, match="at least 1"):
        JobManager(max_concurrent={"cuda": 0})


def test_a_job_starts_with_the_progress_it_was_submitted_with_and_its_reports_are_timed():
    manager = JobManager()
    settings = {"patience": 3}

    def phases(context):
        context.report(phase="building the model")
        context.report(phase="training")

    job_id = manager.submit("timed", phases, progress=settings)
    settings["patience"] = 99  # the job keeps its own copy
    snapshot = manager.wait(job_id, timeout=TIMEOUT)
    assert snapshot.progress["patience"] == 3
    timing = snapshot.progress["timing"]  # what core.training.eta estimates the time left from
    assert timing["phase"] == "training"
    assert snapshot.started_at <= timing["phase_started_at"] <= snapshot.finished_at
