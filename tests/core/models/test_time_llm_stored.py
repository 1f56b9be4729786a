"""Time-LLM's stored forms: runs stored before the architecture options rebuild as they were trained."""

from dataclasses import asdict

import pytest
import torch

from core.models.contract import CheckpointMismatch, trainable_state
from core.models.registry import rebuild
from core.models.time_llm import TimeLLM, TimeLLMConfig
from core.runs.rebuild import rebuild_model
from core.runs.store import RunStore

SETTINGS = dict(
    seq_len=32,
    pred_len=8,
    n_channels=2,
    backbone="tiny-random-llama",
    layers=2,
    n_prototypes=20,
    d_model=16,
    d_ff=8,
    n_heads=4,
    patch_len=8,
    stride=4,
)


def _trained(**options) -> TimeLLM:
    """A model whose weights differ from a fresh one's, so that loading them is visible."""
    torch.manual_seed(3)
    model = TimeLLM(TimeLLMConfig(**SETTINGS | options))
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn_like(parameter))
    return model.eval()


def _old_config(model: TimeLLM) -> dict:
    """The config as a run stored it before `reprogramming_width` and `patch_embedding` existed."""
    stored = asdict(model.config)
    del stored["reprogramming_width"], stored["patch_embedding"]
    return stored


def test_an_old_stored_config_rebuilds_the_old_architecture_and_loads_its_weights(tmp_path):
    old = _trained(reprogramming_width="narrow", patch_embedding="linear")
    store = RunStore(tmp_path)
    run_id = store.create_run("old", "time_llm", {"model_config": _old_config(old)}, "ETTh1", "hash")
    store.save_checkpoint(run_id, trainable_state(old))
    model = rebuild_model(store, run_id)
    assert model.config.reprogramming_width == "narrow" and model.config.patch_embedding == "linear"
    assert isinstance(model.patch_embedding, torch.nn.Linear) and model.reprogramming.d_keys == 16
    x = torch.randn(2, 32, 2)
    with torch.no_grad():
        torch.testing.assert_close(model(x).forecast, old(x).forecast, rtol=0, atol=1e-6)


def test_a_new_stored_config_keeps_its_own_fields():
    new = _trained()
    model = rebuild("time_llm", asdict(new.config))
    assert model.config.reprogramming_width == "official" and model.config.patch_embedding == "conv"
    model.load_trainable_state(trainable_state(new))
    x = torch.randn(2, 32, 2)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x).forecast, new(x).forecast, rtol=0, atol=1e-6)


def test_new_weights_do_not_load_into_an_old_config():
    new = _trained()
    model = rebuild("time_llm", _old_config(new))  # the fields lost: the old architecture
    with pytest.raises(CheckpointMismatch):  # the names differ; never a silent mix
        model.load_trainable_state(trainable_state(new))
