"""TEMPO on tiny random backbones: decomposition without look-ahead, what trains, the pool, a fit."""

import numpy as np
import pytest
import torch

from core.decompose import decompose_windows
from core.lm import load_backbone
from core.models.contract import ForecastOutput, load_trainable_state, trainable_state
from core.models.registry import build_model
from core.models.tempo import TEMPO, TEMPOConfig
from core.runs.train_config import TrainConfig
from core.training.trainer import Trainer


def _model(backbone="tiny-random-llama", **options) -> TEMPO:
    settings = dict(
        seq_len=48, pred_len=8, n_channels=2, backbone=backbone, layers=2, period=12, patch_len=8, stride=4
    )
    settings.update(options)
    return TEMPO(TEMPOConfig(**settings))


def _seasonal_series(length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return (0.02 * t + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(length)).astype(np.float32)


@pytest.mark.parametrize("mode", ["stl", "moving_average"])
def test_the_parts_add_back_to_the_window(mode):
    windows = np.lib.stride_tricks.sliding_window_view(_seasonal_series(200), 48)[::10]
    parts = decompose_windows(windows, 12, mode)
    assert parts.shape == (len(windows), 3, 48)
    np.testing.assert_allclose(parts.sum(axis=1), windows, atol=1e-10)
    assert parts[:, 1].std() > 0.5  # the daily sine lands in the seasonal part
    model = _model(decomposition=mode)
    x = torch.tensor(np.stack([windows[:4], windows[4:8]], axis=-1))  # (4, 48, 2)
    torch.testing.assert_close(model.decompose(x).sum(dim=1), x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode", ["stl", "moving_average"])
def test_a_window_decomposition_does_not_see_later_data(mode):
    series = _seasonal_series(120)
    changed = series.copy()
    changed[48:] += 50 * np.linspace(0, 1, 72, dtype=np.float32)  # a different future
    first = _model(decomposition=mode, n_channels=1).decompose(
        torch.tensor(np.stack([series[:48], series[40:88]])[..., None])
    )
    second = _model(
        decomposition=mode, n_channels=1
    ).decompose(  # a fresh model: no cached STL
        torch.tensor(np.stack([changed[:48], changed[40:88]])[..., None])
    )
    torch.testing.assert_close(first[0], second[0], atol=0, rtol=0)  # the first window is untouched
    assert not torch.allclose(first[1], second[1])  # the second window did change


def test_stl_results_are_cached_by_window():
    model = _model(decomposition="stl", n_channels=1)
    x = torch.tensor(np.lib.stride_tricks.sliding_window_view(_seasonal_series(100), 48)[:5, :, None].copy())
    first = model.decompose(x)
    assert len(model.decomposer._cache) == 5
    torch.testing.assert_close(model.decompose(x.flip(0)), first.flip(0))
    assert len(model.decomposer._cache) == 5


@pytest.mark.parametrize("backbone", ["tiny-random-llama", "tiny-random-gpt2", "tiny-random-bert"])
def test_only_lora_prompts_embeddings_heads_and_norms_train(backbone):
    model = _model(backbone)
    body = load_backbone(backbone, layers=2).body
    groups = {"lora": 0, "norm": 0, "position": 0, "patch": 0, "prompt": 0, "head": 0}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        group = next(
            (
                g
                for g, marks in (
                    ("lora", ("lora_",)),
                    ("norm", ("norm", "ln_", "LayerNorm")),
                    ("position", ("wpe", "position_embeddings")),
                    ("patch", ("patch_embeddings.",)),
                    ("prompt", ("soft_prompts.",)),
                    ("head", ("heads.",)),
                )
                if any(mark in name for mark in marks)
            ),
            None,
        )
        assert group is not None, f"{name} should be frozen"
        groups[group] += parameter.numel()
    # LoRA: rank r times (fan-in + fan-out) for every adapted projection of the kept layers.
    targets = {"tiny-random-llama": 4, "tiny-random-gpt2": 1, "tiny-random-bert": 3}[backbone]
    adapted = [m for n, m in model.body.named_modules() if n.endswith("base_layer")]
    assert len(adapted) == 2 * targets
    expected_lora = sum(16 * sum(m.weight.shape) for m in adapted)
    assert groups["lora"] == expected_lora
    norms = sum(
        p.numel() for n, p in body.named_parameters() if any(k in n for k in ("norm", "ln_", "LayerNorm"))
    )
    assert groups["norm"] == norms
    assert (groups["position"] > 0) == (backbone != "tiny-random-llama")  # Llama has rotary positions
    width, patches = body.config.hidden_size, model.n_patches
    assert groups["patch"] == 3 * (8 * width + width)
    assert groups["head"] == 3 * (patches * width * 8 + 8)
    assert groups["prompt"] == sum(p.numel() for p in model.soft_prompts)
    # The base weights stay as loaded, and the registry's shared body is not the one adapted.
    base = dict(model.body.named_parameters())
    assert all(not p.requires_grad for n, p in base.items() if "base_layer" in n)
    assert all(p.requires_grad is False for p in body.parameters())


def test_semi_soft_prompts_start_from_the_words_of_their_part():
    model = _model()
    backbone = load_backbone("tiny-random-llama", layers=2)
    ids = backbone.tokenizer("Predict the future time step given the seasonal", add_special_tokens=False)
    expected = backbone.embed(torch.tensor([ids["input_ids"]]))[0]
    torch.testing.assert_close(model.soft_prompts[1].detach(), expected.detach())


def test_pool_keys_learn_and_picks_are_counted():
    model = _model(prompt="pool", pool_size=6, top_k=2, prompt_length=2)
    x, y = torch.randn(4, 48, 2), torch.randn(4, 8, 2)
    output = model(x)
    assert output.auxiliary_loss is not None and output.auxiliary_loss.requires_grad
    loss = model.training_loss(output, y, torch.nn.functional.mse_loss)
    loss.backward()
    assert model.pool.keys.grad is not None and model.pool.keys.grad.abs().sum() > 0
    assert model.pool.values.grad.abs().sum() > 0
    assert output.picks.shape == (4, 3, 6)  # per window: each part's picks over its channels
    assert (output.picks.sum(dim=-1) == 2 * 2).all()  # two channels, each picking k = 2 prompts
    model.eval()
    (table,) = model.explain(x[:1], ["a", "b"], None)
    assert len(table.frame) == 2 * 3  # channels × parts
    assert all(len(picked.split(", ")) == 2 for picked in table.frame["prompts picked"])


def test_parts_sum_to_the_forecast_and_checkpoints_hold_trainable_weights_only():
    torch.manual_seed(0)
    model = _model(decomposition_loss_weight=0.5).eval()
    x = torch.randn(3, 48, 2)
    output = model(x)
    torch.testing.assert_close(output.parts.sum(dim=1), output.forecast)
    state = trainable_state(model)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert set(state) == trainable
    assert not any("base_layer" in name or "embed_tokens" in name for name in state)
    torch.manual_seed(1)
    fresh = _model(decomposition_loss_weight=0.5).eval()
    load_trainable_state(fresh, state)
    torch.testing.assert_close(fresh(x).forecast, output.forecast)


def test_the_decomposition_loss_is_optional_and_compares_parts():
    x, y = torch.randn(2, 48, 2), torch.randn(2, 30, 2)
    mse = torch.nn.functional.mse_loss
    plain = _model(pred_len=30)
    output = plain(x)
    torch.testing.assert_close(plain.training_loss(output, y, mse), mse(output.forecast, y))
    weighted = _model(pred_len=30, decomposition_loss_weight=0.5)
    output = weighted(x)
    term = weighted.training_loss(output, y, mse) - mse(output.forecast, y)
    target_parts = decompose_windows(y.transpose(1, 2).reshape(4, 30).numpy(), 12, "stl")  # (B·C, 3, H)
    target_parts = torch.tensor(target_parts, dtype=torch.float32).view(2, 2, 3, 30).permute(0, 2, 3, 1)
    by_hand = 0.5 * torch.mean((output.parts - target_parts) ** 2)
    torch.testing.assert_close(term, by_hand)
    assert term.requires_grad
    target = output.select(torch.tensor([1]))  # features MS: the target channel, parts included
    only_second = weighted.training_loss(target, y[..., 1:], mse) - mse(target.forecast, y[..., 1:])
    torch.testing.assert_close(
        only_second, 0.5 * torch.mean((output.parts[..., 1:] - target_parts[..., 1:]) ** 2)
    )


def test_it_overfits_a_short_seasonal_series():
    torch.manual_seed(0)
    series = np.sin(2 * np.pi * np.arange(400) / 12).astype(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(series, 56)[::4]
    x = torch.tensor(windows[:, :48, None].copy())
    y = torch.tensor(windows[:, 48:, None].copy())
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True)
    model = _model(n_channels=1, dropout=0.0, lora_dropout=0.0, decomposition="moving_average")
    result = Trainer(model, TrainConfig(epochs=30, lr=1e-3, patience=30, precision="fp32")).fit(
        loader, loader
    )
    assert result.best_val_loss < 0.01


@pytest.mark.parametrize("name", ["tempo", "tempo_no_prompt", "tempo_no_decomposition"])
def test_every_variant_from_the_registry(name):
    model, config = build_model(
        name, seq_len=48, pred_len=8, n_channels=2, backbone="tiny-random-gpt2", layers=2, period=12
    )
    assert model(torch.randn(2, 48, 2)).forecast.shape == (2, 8, 2)
    assert len(model.heads) == (1 if name == "tempo_no_decomposition" else 3)
    assert (model.soft_prompts is None) == (name == "tempo_no_prompt")


def test_a_forward_pass_leaves_nothing_on_the_module():
    """Side outputs come back in the ForecastOutput; the module's state is its weights alone."""
    model = _model(prompt="pool", pool_size=4, top_k=1, prompt_length=1).eval()
    before = {name for name in vars(model) if not name.startswith("_")}
    buffers = dict(model.named_buffers())
    output = model(torch.randn(2, 48, 2))
    assert isinstance(output, ForecastOutput) and output.picks.sum() == 2 * 2 * 3
    assert {name for name in vars(model) if not name.startswith("_")} == before
    assert dict(model.named_buffers()).keys() == buffers.keys()


def test_bad_settings_are_plain_errors():
    with pytest.raises(ValueError, match="two full periods"):
        _model(seq_len=20, period=12, patch_len=4, stride=2)
    with pytest.raises(ValueError, match="top_k"):
        _model(prompt="pool", pool_size=2, top_k=3)
    with pytest.raises(ValueError, match="unknown decomposition"):
        _model(decomposition="fourier")
    with pytest.raises(ValueError, match="cannot be negative"):
        _model(pool_loss_weight=-1.0)
    with pytest.raises(ValueError, match="longer than the look-back"):
        _model(period=60, decomposition="moving_average")
    with pytest.raises(ValueError, match="positions"):
        _model(backbone="tiny-random-gpt2", seq_len=1200, period=12, patch_len=4, stride=1)
    with pytest.raises(ValueError, match="fixes prompt"):
        build_model("tempo_no_prompt", seq_len=48, pred_len=8, n_channels=1, prompt="pool")
