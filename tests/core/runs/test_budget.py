"""Budgets: how long a run may train, in three words."""

import pytest

from core.models.registry import MODELS
from core.runs.budget import BUDGETS, DESCRIPTIONS, QUICK_EPOCHS, apply_budget, schedule_words
from core.runs.spec import RunSpec, starting_spec
from core.runs.train_config import TrainConfig


def _spec(epochs: int, patience: int) -> RunSpec:
    return RunSpec(model="dlinear", train=TrainConfig(epochs=epochs, patience=patience, lr=0.005))


def test_standard_is_the_spec_as_it_is():
    spec = _spec(10, 3)
    assert apply_budget(spec, "standard") == spec


def test_quick_cuts_the_schedule_short_and_says_so():
    quick = apply_budget(_spec(10, 3), "quick")
    assert (quick.train.epochs, quick.train.patience) == (QUICK_EPOCHS, 1)
    assert quick.train.lr == 0.005  # only the schedule's length changes
    assert apply_budget(_spec(2, 2), "quick").train.epochs == 2  # never longer than the standard run
    assert f"at most {QUICK_EPOCHS} epochs" in DESCRIPTIONS["quick"]


def test_thorough_gives_more_epochs_and_more_patience():
    thorough = apply_budget(_spec(10, 3), "thorough")
    assert (thorough.train.epochs, thorough.train.patience) == (20, 6)


def test_the_spec_given_is_left_unchanged():
    spec = _spec(10, 3)
    apply_budget(spec, "thorough")
    assert spec.train.epochs == 10


def test_an_unknown_budget_is_an_error():
    with pytest.raises(ValueError, match="unknown budget 'forever'"):
        apply_budget(_spec(10, 3), "forever")


@pytest.mark.parametrize("name", list(MODELS))
def test_every_budget_makes_a_valid_run_for_every_model(name):
    start = starting_spec(name, dataset_name="ETTh1", freq="h")
    lengths = [apply_budget(start, budget).train.epochs for budget in BUDGETS]
    assert lengths == sorted(lengths) and all(DESCRIPTIONS[budget] for budget in BUDGETS)


def test_a_schedule_in_words():
    assert schedule_words(_spec(10, 3)) == (
        "up to 10 epochs; it stops early after 3 epochs without improvement"
    )
    assert schedule_words(_spec(1, 1)) == "up to 1 epoch"
