""" "Forecast this series": one click from a loaded series to a stored, judged forecast.

The model, look-back and learning-rate grid come from `core.recommend`; the rate is chosen on the
validation split alone (each try trains with early stopping and never reads the test split), then
the chosen setting trains once more into the store, is tested, and gets its bands and verdict like
any run. Training is seeded, so the stored run is the try that won.
"""

from __future__ import annotations

from dataclasses import replace

from core import horizon
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
        {"epochs": chosen.epochs, "patience": chosen.patience},
        {},
    )
    return spec, chosen


def forecast_series(
    dataset: Dataset, pred_len: int, store: RunStore, context: JobContext | None = None
) -> RunOutcome:
    """Choose the learning rate on validation, then train, test and store the forecast."""
    spec, chosen = plan(dataset, pred_len)
    losses = {}
    for i, rate in enumerate(chosen.learning_rates, start=1):
        if context is not None:
            context.report(
                phase=f"choosing the learning rate: trying {rate:g} ({i} of {len(chosen.learning_rates)})"
            )
        trial = replace(spec, train=replace(spec.train, lr=rate))
        losses[rate] = run_training(trial, dataset, None, context, validate_only=True).val_loss
    best = min(losses, key=losses.get)
    if context is not None:
        context.report(phase="training the chosen setting", learning_rates=losses)
    outcome = run_training(replace(spec, train=replace(spec.train, lr=best)), dataset, store, context)
    tried = ", ".join(f"{rate:g} ({loss:.4f})" for rate, loss in losses.items())
    store.update(
        outcome.run_id,
        message=f"Learning rate {best:g}, the lowest validation loss of those tried: {tried}.",
    )
    return outcome
