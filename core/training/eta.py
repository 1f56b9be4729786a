"""How long a training job has left, in words: "about 4 min left", "about 1 h 20 min left".

A `Clock` watches a job's progress reports as they happen (the job's `JobContext` feeds it every
report) and keeps the few times an estimate needs: when each phase began, when the last training
step ended, and how long each epoch's validation took (from its last step to its epoch report, which
also covers saving a checkpoint). `remaining` turns them into seconds:

    steps left × time per step + validations left × time per validation + one more pass for the test

where the time per step is the wall time of the steps after the first (which warms up: on a CPU
it took a small model as long as a hundred later steps), batches loaded included. Until the first
epoch ends no validation has been timed and the estimate counts steps alone, so it runs short by
the validations' share (a tenth or so of an epoch). Early stopping may end a run sooner, so the
estimate is an upper bound whenever the patience allows a stop before the last epoch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.horizon import duration_words

TIMING = "timing"  # the progress field a Clock writes
TRAINING = "training"  # the phase the runner reports while the loop runs
MINUTE, HOUR = 60, 3600


@dataclass
class Timing:
    """What a Clock has seen, in `time.time()` seconds; stored in a job's progress as a dict."""

    phase: str | None = None
    phase_started_at: float | None = None
    last_event_at: float | None = None  # the training phase's start, its last step or epoch end
    first_step_seconds: float | None = None  # the first step warms up (allocations, kernels): apart
    stepping_seconds: float = 0.0  # wall time of the later training steps, batches loaded included
    validation_seconds: list[float] = field(default_factory=list)  # one per finished epoch


class Clock:
    """Keeps a job's `Timing` from its progress reports, in the job's own thread."""

    def __init__(self) -> None:
        self.timing = Timing()

    def observe(self, fields: dict, now: float) -> dict:
        """Note what a report says happened at `now`; returns the fields to merge into progress
        (none when the report tells of no phase, step or epoch)."""
        timing, noted = self.timing, False
        if "phase" in fields and fields["phase"] != timing.phase:
            timing.phase, timing.phase_started_at, noted = fields["phase"], now, True
            if fields["phase"] == TRAINING:
                timing.last_event_at = now
        if timing.last_event_at is not None:
            if "step_global_step" in fields:
                if timing.first_step_seconds is None:
                    timing.first_step_seconds = now - timing.last_event_at
                else:
                    timing.stepping_seconds += now - timing.last_event_at
                timing.last_event_at, noted = now, True
            epochs = fields.get("epochs")
            if epochs is not None and len(epochs) > len(timing.validation_seconds):
                timing.validation_seconds.append(now - timing.last_event_at)
                timing.last_event_at, noted = now, True
        return {TIMING: asdict(timing)} if noted else {}


@dataclass(frozen=True)
class Estimate:
    seconds: float  # left until the job ends, counting every epoch
    upper_bound: bool  # early stopping may end it sooner


def remaining(progress: dict, now: float) -> Estimate | None:
    """The time left of a training job whose progress is `progress`; None before its first step."""
    timing = progress.get(TIMING) or {}
    done, total = progress.get("step_global_step"), progress.get("step_total_steps")
    per_epoch = progress.get("step_steps_per_epoch")
    if not done or not total or not per_epoch or timing.get("first_step_seconds") is None:
        return None
    validations = timing.get("validation_seconds") or []
    per_step = timing["stepping_seconds"] / (done - 1) if done > 1 else timing["first_step_seconds"]
    per_validation = sum(validations) / len(validations) if validations else 0.0
    epochs_left = total // per_epoch - len(validations)  # the current epoch's validation still to come
    left = (total - done) * per_step + (epochs_left + 1) * per_validation  # + 1: the test pass
    left -= now - timing["last_event_at"]  # already spent on the next step or validation
    history = progress.get("epochs") or []
    counter = history[-1]["counter"] if history else 0
    patience = progress.get("patience")
    # A stop before the last epoch needs the counter to reach the patience with an epoch to spare.
    may_stop = epochs_left >= 2 and (patience is None or counter + epochs_left - 1 >= patience)
    return Estimate(max(left, 0.0), may_stop)


def rough_words(seconds: float) -> str:
    """A duration estimated in advance, as roughly as it is known: "about 40 s", "about 4 min",
    "about 2 h 10 min", "about 3 days"."""
    if seconds < MINUTE:
        return f"about {max(int(round(seconds / 10)) * 10, 10)} s"
    if seconds < HOUR:
        return f"about {int(round(seconds / MINUTE))} min"
    if seconds < 48 * HOUR:
        return f"about {duration_words(round(seconds / 600) * 600)}"
    return f"about {int(round(seconds / (24 * HOUR)))} days"


def left_words(seconds: float) -> str:
    """Time left, rounded as a person would: "less than a minute left", "about 4 min left",
    "about 1 h 20 min left" (to 5 minutes once it is over an hour)."""
    if seconds < MINUTE:
        return "less than a minute left"
    if seconds < HOUR - 30:
        return f"about {int(seconds / MINUTE + 0.5)} min left"
    hours, minutes = divmod(int(seconds / (5 * MINUTE) + 0.5) * 5, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


def describe(progress: dict, started_at: float | None, now: float) -> str:
    """One line on a running job's time. While it trains: the time left ("about 4 min left, at
    most: early stopping may end it sooner"); before its first step and after its last epoch: what
    it is doing and for how long ("building the model… 12 s")."""
    phase = progress.get("phase") or "starting"
    estimate = remaining(progress, now) if phase == TRAINING else None
    if estimate is not None:
        words = left_words(estimate.seconds)
        return f"{words}, at most: early stopping may end it sooner" if estimate.upper_bound else words
    timing = progress.get(TIMING) or {}
    since = timing.get("phase_started_at") if timing.get("phase") == phase else started_at
    if phase == TRAINING:
        phase = "training: the first step is running"
    return f"{phase}… {duration_words(now - since)}" if since is not None else f"{phase}…"
