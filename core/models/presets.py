"""A model's starting settings for a data set: the same for the Train page, the command line and
the benches.

They are the registry entry's training defaults, then its preset for the data (the papers' choices,
scaled down where a CPU demands it), with notes that say in plain words where each value came
from. The presets themselves live in the model files, beside the papers they quote.
"""

from __future__ import annotations

from core.models.budget import check_budget, generic
from core.models.contract import DataFacts, Preset
from core.models.registry import spec_of


def preset(
    model: str,
    dataset_name: str,
    device_type: str = "cpu",
    horizon: int = 96,
    freq: str | None = None,
    look_back: int = 96,
    budget: str = "standard",
) -> Preset:
    """Starting settings for `model` on the data set called `dataset_name` (of frequency `freq`) with
    this look-back and horizon, on a `device_type` machine, under `budget` (see core.models.budget)."""
    spec = spec_of(model)
    facts = DataFacts(dataset_name, freq, look_back, horizon, device_type, check_budget(budget))
    start = (
        Preset(train_options=dict(spec.train_defaults)) if spec.preset is None else spec.preset(spec, facts)
    )
    return start if spec.own_budgets else generic(spec, start, budget)
