"""The time a training job has left: the clock's arithmetic, its words, and a real run it predicts."""

import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import default_collate

from core.dataset import Dataset
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training import eta, runner
from core.training.jobs import SUCCEEDED, JobManager
from core.windows import make_loader

STEPS_PER_EPOCH, EPOCHS = 4, 3


def _report(clock: eta.Clock, progress: dict, now: float, **fields) -> None:
    """What `JobContext.report` does: the fields and the clock's note of them into the progress."""
    progress.update(fields)
    progress.update(clock.observe(fields, now))


def _step(clock, progress, now, step: int) -> None:
    _report(
        clock,
        progress,
        now,
        step_global_step=step,
        step_total_steps=STEPS_PER_EPOCH * EPOCHS,
        step_steps_per_epoch=STEPS_PER_EPOCH,
        step_epoch=(step - 1) // STEPS_PER_EPOCH + 1,
    )


def _epoch(clock, progress, now, number: int, counter: int = 0) -> None:
    epochs = progress.get("epochs", []) + [{"epoch": number, "counter": counter}]
    _report(clock, progress, now, epochs=epochs)


def test_before_the_first_step_it_says_what_is_happening_and_for_how_long():
    clock, progress = eta.Clock(), {}
    assert eta.describe(progress, started_at=100.0, now=103.0) == "starting… 3 s"
    _report(clock, progress, 104.0, phase="reading the language model")
    assert eta.describe(progress, 100.0, 116.0) == "reading the language model… 12 s"
    _report(clock, progress, 120.0, phase="training")
    assert eta.remaining(progress, 121.0) is None
    assert eta.describe(progress, 100.0, 121.0) == "training: the first step is running… 1 s"


def test_steps_and_validations_are_timed_apart_and_the_first_step_is_left_out():
    """Steps of 1 s after a 5 s first step, validations of 2 s: the estimate counts each."""
    clock, progress = eta.Clock(), {"patience": EPOCHS}
    _report(clock, progress, 0.0, phase="training")
    _step(clock, progress, 5.0, 1)  # warming up
    for step in (2, 3, 4):
        _step(clock, progress, 5.0 + step - 1, step)
    # 8 steps of 1 s, this epoch's validation and the 2 after it unknown yet, no test pass timed
    assert eta.remaining(progress, 8.0).seconds == pytest.approx(8.0)
    _epoch(clock, progress, 10.0, 1)  # its validation took 2 s
    # 8 steps, 2 validations and a test pass of 2 s each
    assert eta.remaining(progress, 10.0).seconds == pytest.approx(8 + 3 * 2)
    assert eta.remaining(progress, 10.5).seconds == pytest.approx(8 + 3 * 2 - 0.5)  # counts down
    for step in (5, 6, 7, 8):
        _step(clock, progress, 10.0 + step - 4, step)
    estimate = eta.remaining(progress, 14.0)
    assert estimate.seconds == pytest.approx(4 + 3 * 2) and not estimate.upper_bound
    assert progress[eta.TIMING]["validation_seconds"] == [2.0]


def test_it_is_an_upper_bound_only_while_early_stopping_can_end_the_run_sooner():
    def estimate(patience, counter=0):
        clock, progress = eta.Clock(), {"patience": patience}
        _report(clock, progress, 0.0, phase="training")
        for step in range(1, STEPS_PER_EPOCH + 1):
            _step(clock, progress, float(step), step)
        _epoch(clock, progress, 5.0, 1, counter)
        return eta.remaining(progress, 5.0)

    assert estimate(patience=1).upper_bound  # two epochs to go: the next may stop it
    assert not estimate(patience=2).upper_bound  # the counter cannot reach 2 before the last epoch
    assert estimate(patience=2, counter=1).upper_bound
    assert estimate(patience=None).upper_bound  # unknown: say so


def test_a_report_that_tells_of_no_phase_step_or_epoch_adds_no_timing():
    clock = eta.Clock()
    assert clock.observe({"loss": 1.0}, 1.0) == {}
    assert clock.observe({"step_global_step": 1}, 2.0) == {}  # a step before the training phase
    assert eta.TIMING in clock.observe({"phase": "training"}, 3.0)


@pytest.mark.parametrize(
    "seconds, words",
    [
        (0, "less than a minute left"),
        (59, "less than a minute left"),
        (60, "about 1 min left"),
        (240, "about 4 min left"),
        (3500, "about 58 min left"),
        (3590, "about 1 h left"),
        (4800, "about 1 h 20 min left"),
        (4950, "about 1 h 25 min left"),
        (26 * 3600, "about 26 h left"),
    ],
)
def test_time_left_in_words(seconds, words):
    assert eta.left_words(seconds) == words


def test_durations_in_words():
    assert [eta.duration_words(s) for s in (0, 12.4, 60, 245, 3600, 4830)] == [
        "0 s",
        "12 s",
        "1 min",
        "4 min 5 s",
        "1 h",
        "1 h 20 min",
    ]


def test_the_words_say_at_most_when_early_stopping_may_end_it_sooner():
    clock, progress = eta.Clock(), {"patience": 1, "phase": "training"}
    _report(clock, progress, 0.0, phase="training")
    for step in range(1, STEPS_PER_EPOCH + 1):
        _step(clock, progress, 60.0 * step, step)
    _epoch(clock, progress, 300.0, 1)
    assert eta.describe(progress, 0.0, 300.0) == (
        "about 11 min left, at most: early stopping may end it sooner"
    )


BATCH_SECONDS = 0.04  # every batch, training or validation, takes this long to load


@pytest.fixture
def steady_batches(monkeypatch):
    """Batches that take a steady time on a shared CPU: each loads for `BATCH_SECONDS`, and torch
    computes on one thread (two threads on two busy cores made steps vary forty-fold)."""

    def loader(*args, **kwargs):
        made = make_loader(*args, **kwargs)

        def slow_collate(batch):
            time.sleep(BATCH_SECONDS)
            return default_collate(batch)

        made.collate_fn = slow_collate
        return made

    monkeypatch.setattr(runner, "make_loader", loader)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_a_real_run_ends_within_30_percent_of_the_estimate_from_a_tenth_of_its_steps(
    steady_batches, tmp_path
):
    rows, epochs = 800, 10
    hours = np.arange(rows)
    noise = np.random.default_rng(0).standard_normal(rows)
    frame = pd.DataFrame(
        {"value": np.sin(2 * np.pi * hours / 24) + 0.1 * noise},
        index=pd.date_range("2024-01-01", periods=rows, freq="h", name="timestamp"),
    )
    series = Dataset(frame, "value", "daily cycle", freq="h")
    spec = RunSpec(
        model="dlinear",
        seq_len=48,
        pred_len=24,
        features="S",
        protocol="ratio",
        train=TrainConfig(epochs=epochs, patience=epochs, batch_size=32, precision="fp32"),
    )
    store, manager = RunStore(tmp_path), JobManager()

    def train(context):
        return runner.run_training(spec, series, store, context)

    job = manager.submit("timed", train, progress={"patience": epochs})
    estimates = {}  # share of the steps done -> (when, estimate)
    while not (snapshot := manager.get(job)).finished:
        progress, now = snapshot.progress, time.time()
        if progress.get("phase") == "training" and (estimate := eta.remaining(progress, now)):
            share = progress["step_global_step"] / progress["step_total_steps"]
            for wanted in (0.1, 0.5):
                if share >= wanted and wanted not in estimates:
                    estimates[wanted] = (now, estimate)
        time.sleep(0.02)
    assert snapshot.state == SUCCEEDED, snapshot.error
    assert set(estimates) == {0.1, 0.5}
    for when, estimate in estimates.values():
        truth = snapshot.finished_at - when
        assert estimate.seconds == pytest.approx(truth, rel=0.3)
        assert not estimate.upper_bound  # patience covers every epoch: nothing can end it sooner
