"""How much a run may cost, in three words a person chooses from before launch.

- **standard**: the model's starting settings for this data and machine (its preset), as before.
- **quick**: a first look. Every model trains at most 3 epochs and stops after one
  without improvement. The language-model methods also keep fewer backbone layers, a short schedule
  and an evenly spaced share of the training windows (`TrainConfig.train_windows`: strided from the
  split's first window to its last, so the whole training split is still seen). Validation and test
  always use every window: a quick run is scored by the same protocol as any other.
- **paper**: the settings of the model's paper (for Time-LLM the seed's table: the whole backbone
  and 50 to 100 epochs), which are meant for a GPU.

A model's preset reads the budget (`DataFacts.budget`) when its entry says `own_budgets` (the
language-model methods, whose quick and paper settings live beside their papers in the model files);
`generic` applies the rules below to every other model. Every budget is defined here or there and
nowhere else; `core.runs.spec.starting_spec` is where they are applied.
"""

from __future__ import annotations

from core.models.contract import ModelSpec, Preset

BUDGETS = ("quick", "standard", "paper")
QUICK_EPOCHS = 3  # at most this many epochs: a first look, not the best the model can do
QUICK_PATIENCE = 1  # stop after one epoch without improvement

DESCRIPTIONS = {
    "quick": f"A first look: at most {QUICK_EPOCHS} epochs, stopping after "
    f"{QUICK_PATIENCE} epoch without improvement; a language model also keeps fewer layers and trains on "
    "an evenly spaced share of the windows. It is tested on every test window like any run.",
    "standard": "The model's usual schedule for this data and this machine.",
    "paper": "The settings of the model's paper: for the language-model methods the whole backbone and "
    "tens of epochs, which is work for a GPU.",
}


def check_budget(budget: str) -> str:
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
    return budget


def generic(spec: ModelSpec, start: Preset, budget: str) -> Preset:
    """A model's starting settings under `budget`, for models whose preset does not read it: quick
    shortens the schedule and takes the entry's `quick_options` (its own cost knobs, such as how many
    windows proxy decoding samples); paper takes the entry's `paper_train` (its paper's settings)."""
    train, notes = dict(start.train_options), list(start.notes)
    options = dict(start.model_options)
    if budget == "quick":
        options.update(spec.quick_options)
        train["epochs"] = min(train.get("epochs", QUICK_EPOCHS), QUICK_EPOCHS)
        train["patience"] = min(train.get("patience", QUICK_PATIENCE), QUICK_PATIENCE)
        notes.append(
            f"Quick budget: at most {QUICK_EPOCHS} epochs, stopping after {QUICK_PATIENCE} epoch without "
            "improvement."
        )
    elif budget == "paper":
        if spec.paper_train:
            train.update(spec.paper_train)
            notes.append(f"Paper budget: {spec.paper_note}")
        else:
            notes.append("Paper budget: the paper's schedule is the standard one for this model.")
    return Preset(model_options=options, train_options=train, notes=notes)


def schedule_words(train) -> str:
    """What a training schedule means in time, in words: "up to 10 epochs; it stops early after 3
    epochs without improvement" (`train` is a RunSpec's TrainConfig)."""
    epochs, patience = train.epochs, train.patience
    words = f"up to {epochs} epoch{'s' if epochs != 1 else ''}"
    if patience < epochs:
        words += f"; it stops early after {patience} epoch{'s' if patience != 1 else ''} without improvement"
    if train.train_windows is not None:
        words += f", over at most {train.train_windows:,} evenly spaced training windows per epoch"
    return words
