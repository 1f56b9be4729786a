"""How much time a run may take, in three words a non-programmer can choose from.

A budget changes only how long a run trains: "standard" is the model's starting spec as it is,
"quick" cuts the schedule short for a first look, "thorough" gives it more epochs and more patience.
Every budget is defined here and nowhere else.
"""

from __future__ import annotations

from dataclasses import replace

from core.runs.spec import RunSpec

BUDGETS = ("quick", "standard", "thorough")
QUICK_EPOCHS = 3  # at most this many epochs: a first look, not the best the model can do
QUICK_PATIENCE = 1  # stop after one epoch without improvement
THOROUGH_FACTOR = 2  # twice the epochs and twice the patience of the standard run

DESCRIPTIONS = {
    "quick": f"A first look: at most {QUICK_EPOCHS} epochs, stopping after {QUICK_PATIENCE} epoch without "
    "improvement.",
    "standard": "The model's usual schedule for this data.",
    "thorough": f"Up to {THOROUGH_FACTOR}× the epochs, with {THOROUGH_FACTOR}× the patience before stopping "
    "early: slower, sometimes better.",
}


def apply_budget(spec: RunSpec, budget: str) -> RunSpec:
    """`spec` trained for the time `budget` allows; the spec itself is left unchanged."""
    train = spec.train
    if budget == "quick":
        train = replace(
            train, epochs=min(train.epochs, QUICK_EPOCHS), patience=min(train.patience, QUICK_PATIENCE)
        )
    elif budget == "thorough":
        train = replace(
            train, epochs=train.epochs * THOROUGH_FACTOR, patience=train.patience * THOROUGH_FACTOR
        )
    elif budget != "standard":
        raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
    return replace(spec, train=train)


def schedule_words(spec: RunSpec) -> str:
    """What a spec's schedule means in time, in words: "up to 10 epochs; it stops early after 3
    epochs without improvement"."""
    epochs, patience = spec.train.epochs, spec.train.patience
    words = f"up to {epochs} epoch{'s' if epochs != 1 else ''}"
    if patience < epochs:
        words += f"; it stops early after {patience} epoch{'s' if patience != 1 else ''} without improvement"
    return words
