"""Starting settings per model and data set: the Time-LLM paper's table, scaled for a CPU."""

import pytest

from core.models.contract import CPU_EPOCHS, CPU_LAYERS
from core.models.presets import preset
from core.models.registry import MODELS
from core.models.time_llm import paper_row
from core.runs.train_config import TrainConfig


@pytest.mark.parametrize(
    "name, row, matched",
    [
        ("ETTh1", "etth", True),
        ("ETTm2", "ettm", True),
        ("ILI", "ili", True),
        ("national_illness", "ili", True),
        ("M4 Hourly", "short", True),
        ("weather", "large", True),
        ("my_sales.csv", "etth", False),
    ],
)
def test_rows_by_data_set_name(name, row, matched):
    assert paper_row(name) == (row, matched)


def test_ili_and_m4_use_100_prototypes_and_their_own_learning_rates():
    ili, m4 = preset("time_llm", "ILI"), preset("time_llm", "M4 Hourly", horizon=48)
    assert ili.model_options["n_prototypes"] == 100 and ili.train_options["lr"] == 1e-2
    assert m4.model_options == dict(n_prototypes=100, d_model=32, n_heads=8, layers=CPU_LAYERS)
    assert m4.train_options["loss"] == "smape" and m4.train_options["batch_size"] == 32
    assert any("twice the horizon (96)" in note for note in m4.notes)


def test_etth1_on_a_cpu_is_scaled_down_and_says_so():
    etth1 = preset("time_llm", "ETTh1", "cpu")
    assert etth1.model_options["n_prototypes"] == 1000 and etth1.model_options["layers"] == CPU_LAYERS
    assert etth1.train_options["epochs"] == CPU_EPOCHS and etth1.train_options["batch_size"] == 16
    assert any("Scaled for this CPU" in note and "50" in note for note in etth1.notes)
    TrainConfig(**etth1.train_options)  # every value is one TrainConfig accepts


def test_a_gpu_keeps_the_whole_backbone_and_more_epochs():
    etth1 = preset("time_llm", "ETTh1", "cuda")
    assert etth1.model_options["layers"] == 30 and etth1.train_options["epochs"] == 50
    assert not any("Scaled for this CPU" in note for note in etth1.notes)


def test_an_unknown_data_set_starts_from_the_etth1_row_and_the_ablations_share_it():
    notes = preset("time_llm_no_llm", "sales").notes
    assert any("not in the paper's table" in note for note in notes)


def test_other_models_keep_their_own_defaults():
    assert preset("dlinear", "ILI").train_options == MODELS["dlinear"].train_defaults
    assert preset("dlinear", "ILI").notes == []
    with pytest.raises(ValueError, match="unknown model"):
        preset("nope", "ETTh1")


def test_tempo_takes_its_period_from_the_frequency_and_avoids_stl_on_short_windows():
    hourly = preset("tempo", "ETTh1", "cpu", 96, "h", 336)
    assert hourly.model_options == {"period": 24}
    assert hourly.train_options["lr"] == 1e-3 and hourly.train_options["schedule"] == "cosine"
    assert hourly.train_options["patience"] == 5 and hourly.train_options["epochs"] == CPU_EPOCHS
    weekly = preset("tempo_no_prompt", "ILI", "cpu", 24, "W-TUE", 96)
    assert weekly.model_options == {"period": 52, "decomposition": "moving_average"}
    assert any("moving-average" in note for note in weekly.notes)
    steps = preset("tempo", "counts.csv", "cpu", 24, None, 96)
    assert steps.model_options == {} and any("no calendar frequency" in note for note in steps.notes)


def test_tempo_without_decomposition_gets_no_decomposition_settings():
    plain = preset("tempo_no_decomposition", "ETTh1", "cpu", 96, "h", 36)
    assert plain.model_options == {} and not any("period" in note for note in plain.notes)
    short = preset("tempo", "ILI", "cpu", 24, "W-TUE", 36)
    assert any("less than one period" in note for note in short.notes)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_preset_is_a_valid_training_config(name):
    start = preset(name, "ETTh1", "cpu", 96, "h", 336)
    TrainConfig(**start.train_options)
    assert set(start.model_options) <= {f for f in MODELS[name].config_class.__dataclass_fields__}
