""" "Forecast this series": one click from a loaded series to a stored, judged forecast.

The model, look-back and learning-rate grid come from `core.recommend`; the rate is chosen on the
validation split alone (each try trains with early stopping and never reads the test split), then
the chosen setting trains once more into the store, is tested, and gets its bands and verdict like
any run. Training is seeded, so the stored run is the try that won.
"""

from __future__ import annotations

import time
from dataclasses import replace

from core import horizon
from core.data import split_borders
from core.dataset import Dataset
from core.models.registry import spec_of
from core.recommend import Recommendation, recommend
from core.runs.spec import RunSpec, default_protocol, starting_spec, with_changes
from core.runs.store import RunStore
from core.training.jobs import JobContext
from core.training.runner import RunOutcome, run_training


class TooShort(ValueError):
    """The series cannot hold a look-back and this horizon in each of its splits."""


def plan(dataset: Dataset, pred_len: int) -> tuple[RunSpec, Recommendation]:
    """The run the one-click forecast trains (before its learning rate is chosen), and why."""
    protocol = default_protocol(dataset.name)
    chosen = recommend(len(dataset.frame), pred_len, protocol)
    if chosen is None:
        raise TooShort(
            f"The series has {len(dataset.frame):,} rows: too few to forecast the "
            f"{horizon.describe(pred_len, dataset.freq).removeprefix('next ')} ahead and still keep "
            "separate rows to check the forecast on. Choose a shorter horizon or load a longer series."
        )
    spec = starting_spec(
        chosen.model,
        dataset_name=dataset.name,
        freq=dataset.freq,
        seq_len=chosen.look_back,
        pred_len=pred_len,
    )
    spec = with_changes(
        spec,
        {
            "features": chosen.features,
            "protocol": protocol,
            "name": f"Forecast of {dataset.target}, {horizon.describe(pred_len, dataset.freq)} "
            f"({spec_of(chosen.model).label})",
        },
        {
            "epochs": chosen.epochs,
            "patience": chosen.patience,
            "batch_size": batch_size(spec, dataset, protocol),
        },
        {},
    )
    return spec, chosen


def batch_size(spec: RunSpec, dataset: Dataset, protocol: str) -> int:
    """The model's batch size, or smaller for a short series: at least four batches of training
    windows, so that a 40-row file trains instead of failing on "no full batch"."""
    start, end = split_borders(len(dataset.frame), spec.seq_len, protocol)["train"]
    windows = end - start - spec.seq_len - spec.pred_len + 1
    return max(1, min(spec.train.batch_size, windows // 4))


def forecast_series(
    dataset: Dataset, pred_len: int, store: RunStore, context: JobContext | None = None
) -> RunOutcome:
    """Choose the learning rate on validation, then train, test and store the forecast."""
    spec, chosen = plan(dataset, pred_len)
    started = time.perf_counter()
    losses = {}
    count = len(chosen.learning_rates) + 1
    for i, rate in enumerate(chosen.learning_rates, start=1):
        if context is not None:  # a field of its own: the runner's phases overwrite `phase`
            context.report(one_click_step=f"step {i} of {count}: trying a learning rate ({rate:g})")
        trial = replace(spec, train=replace(spec.train, lr=rate))
        losses[rate] = run_training(trial, dataset, None, context, validate_only=True).val_loss
    best = min(losses, key=losses.get)
    if context is not None:
        context.report(
            one_click_step=f"step {count} of {count}: training the best setting and checking it",
            learning_rates=losses,
        )
    outcome = run_training(replace(spec, train=replace(spec.train, lr=best)), dataset, store, context)
    tried = ", ".join(f"{rate:g} ({loss:.4f})" for rate, loss in losses.items())
    outcome.wall_time_s = time.perf_counter() - started  # the click's whole cost, the tries included
    store.update(
        outcome.run_id,
        wall_time_s=outcome.wall_time_s,
        message=f"Learning rate {best:g}, the lowest validation loss of those tried: {tried}.",
    )
    return outcome
