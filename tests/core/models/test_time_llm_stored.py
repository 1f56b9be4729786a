"""Time-LLM's stored forms: runs stored before the architecture options rebuild as they were trained,
and the compact inference state (V' × D prototypes instead of the V → V' map) forecasts alike."""

from dataclasses import asdict

import pytest
import torch

from core.models.contract import CheckpointMismatch, trainable_state
from core.models.registry import rebuild
from core.models.time_llm import TimeLLM, TimeLLMConfig
from core.runs.rebuild import rebuild_model
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.trainer import Trainer

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


@pytest.mark.parametrize("options", [{}, {"reprogramming_width": "narrow", "patch_embedding": "linear"}])
def test_the_compact_state_forecasts_and_explains_as_the_full_model(options):
    full = _trained(**options)
    compact_state = full.compact_state()
    assert "mapping.weight" not in compact_state and "mapping.bias" not in compact_state
    assert compact_state["prototypes"].shape == (20, 64)  # V' × D
    assert set(compact_state) - {"prototypes"} == set(trainable_state(full)) - {
        "mapping.weight",
        "mapping.bias",
    }
    compact = TimeLLM(TimeLLMConfig(**SETTINGS | options))
    compact.load_trainable_state(compact_state)
    assert compact.compact and compact.mapping is None and not compact.training
    x = torch.randn(3, 32, 2)
    with torch.no_grad():
        torch.testing.assert_close(compact(x).forecast, full(x).forecast, rtol=0, atol=1e-6)
    torch.testing.assert_close(compact.prototypes(), full.prototypes().detach(), rtol=0, atol=1e-6)
    for ours, theirs in zip(
        compact.explain(x[:1], ["a", "b"], 1), full.explain(x[:1], ["a", "b"], 1), strict=True
    ):
        assert type(ours) is type(theirs) and ours.title == theirs.title
        if hasattr(ours, "values"):
            torch.testing.assert_close(
                torch.as_tensor(ours.values), torch.as_tensor(theirs.values), rtol=0, atol=1e-6
            )
            assert ours.columns == theirs.columns and ours.rows == theirs.rows
        elif hasattr(ours, "frame"):
            assert ours.frame.equals(theirs.frame)
        else:
            assert ours.text == theirs.text
    # Its own state is the compact one again, and it loads once more.
    again = compact.trainable_state()
    assert set(again) == set(compact_state)
    compact.load_trainable_state(again)


def test_the_compact_state_is_far_smaller_than_the_full_one():
    full = _trained()
    size = lambda state: sum(t.numel() for t in state.values())  # noqa: E731
    dropped = full.mapping.weight.numel() + full.mapping.bias.numel()
    assert size(full.compact_state()) == size(trainable_state(full)) - dropped + 20 * 64


def test_a_compact_model_refuses_to_train():
    compact = TimeLLM(TimeLLMConfig(**SETTINGS))
    compact.load_trainable_state(_trained().compact_state())
    with pytest.raises(RuntimeError, match="compact"):
        compact.train()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.randn(8, 32, 2), torch.randn(8, 8, 2)), batch_size=4
    )
    with pytest.raises(RuntimeError, match="compact"):
        Trainer(compact, TrainConfig(epochs=1, precision="fp32")).fit(loader, loader)
    compact.eval()  # evaluation stays allowed
    with pytest.raises(CheckpointMismatch, match="compact"):
        compact.load_trainable_state(trainable_state(_trained()))


def test_a_compact_state_of_the_wrong_shape_is_refused():
    state = _trained().compact_state()
    state["prototypes"] = state["prototypes"][:5]
    model = TimeLLM(TimeLLMConfig(**SETTINGS))
    with pytest.raises(CheckpointMismatch, match="prototypes"):
        model.load_trainable_state(state)
    assert not model.compact  # left as it was
