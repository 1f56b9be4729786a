"""Budgets: quick, standard and paper, as every model's starting settings read them."""

import pytest

from core.models.budget import BUDGETS, DESCRIPTIONS, QUICK_EPOCHS, schedule_words
from core.models.contract import QUICK_BATCH, QUICK_LAYERS, QUICK_TRAIN_WINDOWS
from core.models.registry import MODELS
from core.models.tempo import QUICK_TEMPO_LAYERS
from core.runs.spec import starting_spec
from core.runs.train_config import TrainConfig


def _start(model: str, budget: str, **facts):
    return starting_spec(
        model, dataset_name="ETTh1", freq="h", seq_len=96, pred_len=24, budget=budget, **facts
    )


def test_standard_is_the_preset_as_it_was():
    standard = _start("dlinear", "standard")
    assert (standard.train.epochs, standard.train.patience, standard.train.lr) == (10, 3, 0.005)
    assert standard.budget == "standard" and standard.train.train_windows is None


def test_quick_cuts_a_small_model_s_schedule_short():
    quick = _start("dlinear", "quick")
    assert (quick.train.epochs, quick.train.patience) == (QUICK_EPOCHS, 1)
    assert quick.train.lr == 0.005  # only the schedule's length changes
    assert quick.budget == "quick"


@pytest.mark.parametrize(
    "model, layers",
    [("time_llm", QUICK_LAYERS), ("time_llm_no_llm", QUICK_LAYERS), ("tempo", QUICK_TEMPO_LAYERS)],
)
def test_quick_language_model_runs_keep_few_layers_and_a_strided_share_of_windows(model, layers):
    quick, standard = _start(model, "quick"), _start(model, "standard")
    assert quick.model_options["layers"] == layers
    assert quick.train.train_windows == QUICK_TRAIN_WINDOWS and standard.train.train_windows is None
    assert quick.train.batch_size == QUICK_BATCH
    assert quick.train.epochs <= standard.train.epochs


def test_paper_takes_the_papers_settings():
    patchtst = _start("patchtst", "paper")
    assert (patchtst.train.epochs, patchtst.train.lr) == (100, 1e-4)
    time_llm = _start("time_llm", "paper")
    assert time_llm.model_options["layers"] == 30  # all of SmolLM2's layers (the paper: all 32 of LLaMA)
    assert time_llm.train.epochs == 50 and time_llm.model_options["n_prototypes"] == 1000
    assert _start("dlinear", "paper").train.epochs == 10  # DLinear's paper schedule is the standard one


def test_an_unknown_budget_is_an_error():
    with pytest.raises(ValueError, match="unknown budget 'forever'"):
        _start("dlinear", "forever")


@pytest.mark.parametrize("name", list(MODELS))
def test_every_budget_makes_a_valid_run_for_every_model(name):
    lengths = [_start(name, budget).train.epochs for budget in BUDGETS]
    assert lengths[0] <= lengths[1] <= lengths[2]
    assert all(DESCRIPTIONS[budget] for budget in BUDGETS)


def test_a_schedule_in_words():
    assert schedule_words(TrainConfig(epochs=10, patience=3)) == (
        "up to 10 epochs; it stops early after 3 epochs without improvement"
    )
    assert schedule_words(TrainConfig(epochs=1, patience=1)) == "up to 1 epoch"
    assert schedule_words(TrainConfig(epochs=1, patience=1, train_windows=1024)).endswith(
        "over at most 1,024 evenly spaced training windows per epoch"
    )


def test_on_a_gpu_the_standard_time_llm_keeps_every_layer():
    """A GPU affords SmolLM2 whole: all 30 layers in the standard budget (bf16 autocast, or fp16 with
    the loss scaler where bf16 is missing: see core.training.trainer.resolve_precision)."""
    spec = _start("time_llm", "standard", device_type="cuda")
    assert spec.model_options["layers"] == 30 and spec.train.precision == "auto"
