"""The proxy-tuned forecaster through the contract: tuning the expert, its settings, a whole run."""

from functools import partial

import numpy as np
import pytest
import torch

from core.lm.load import smollm2_tokenizer
from core.models.proxy_tuned import ProxyConfig, ProxyTuned
from core.proxy.serialize import (
    Alphabet,
    NumberFormat,
    window_text,
)
from core.proxy.windows import lm_windows
from core.runs.train_config import TrainConfig
from core.training.trainer import Trainer

# ---------------------------------------------------------------- the expert


def _forecaster(**options) -> ProxyTuned:
    from tests.conftest import TINY_PROXY

    return ProxyTuned(
        ProxyConfig(**(TINY_PROXY | dict(pred_len=6, input_mean=[20.0], input_std=[5.0]) | options))
    )


@pytest.mark.parametrize(
    "small, tune, trained",
    [("numeric", "full", "expert.lm."), ("numeric", "lora", "lora_"), ("tiny-random-llama", "lora", "lora_")],
)
def test_a_few_expert_steps_lower_its_loss_on_held_out_windows(small, tune, trained):
    """The runner's Trainer tunes the forecaster itself: the expert (every weight of the numeric
    model, or LoRA adapters), on text, with the language-model loss the forecaster states."""
    model = _forecaster(lora_rank=8, small=small, tune=tune)
    series = 20 + 5 * np.sin(np.arange(400) * 2 * np.pi / 12)
    make = dict(serialise=model.window, end_id=model.alphabet.end_id, pad_id=model.pad_id)
    train = lm_windows(series[:300], 24, 6, max_windows=64, **make)
    held_out = lm_windows(series[300:], 24, 6, max_windows=16, **make)
    trainer = Trainer(model, TrainConfig(epochs=3, batch_size=8, lr=1e-2, precision="fp32", patience=3))
    loader = torch.utils.data.DataLoader(held_out, batch_size=8)
    before = trainer.evaluate_loss(loader)
    fit = trainer.fit(torch.utils.data.DataLoader(train, batch_size=8, shuffle=True), loader)
    assert fit.best_val_loss < before - 0.1
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(trained in n and n.startswith("expert.") for n in trainable)
    # the base model and the anti-expert never enter a checkpoint; the chosen alpha does
    assert set(model.trainable_state()) == trainable | {"chosen_alpha"}
    trainable_count, total = model.parameter_counts()
    assert total > sum(p.numel() for p in model.parameters())  # the held base model counts


def test_lm_windows_label_every_real_token_and_ignore_padding():
    tokenizer = smollm2_tokenizer()
    alphabet = Alphabet(tokenizer)
    data = lm_windows(
        np.linspace(1, 50, 120),
        24,
        6,
        partial(window_text, alphabet=alphabet, number_format=NumberFormat(2), context_tokens=256, horizon=6),
        max_windows=10,
        end_id=alphabet.end_id,
        pad_id=tokenizer.pad_token_id,
    )
    x, y = data.tensors
    assert len(x) == 10 and x.shape[1] == 2
    assert torch.equal(y == -100, x[:, 1] == 0)
    assert torch.equal(torch.where(x[:, 1] == 1, x[:, 0], -100), y)


def test_the_forecaster_checks_its_settings():
    with pytest.raises(ValueError, match="features S"):
        ProxyTuned(ProxyConfig(n_channels=2, base="tiny-random-llama"))
    with pytest.raises(ValueError, match="temperature"):
        ProxyTuned(ProxyConfig(temperature=0, base="tiny-random-llama"))
    with pytest.raises(ValueError, match="numeric Llama .* reads at most 1023; set context tokens to 1023"):
        ProxyTuned(ProxyConfig(base="tiny-random-llama", context_tokens=2000))
    with pytest.raises(ValueError, match="pretrained again"):  # a run tuned from other numeric weights
        ProxyTuned(ProxyConfig(base="tiny-random-llama", small_weights="0123456789abcdef"))


def test_a_forecast_past_the_data_decodes_fresh_samples_into_scaled_values():
    model = _forecaster()
    window = (20 + 5 * np.sin(np.arange(36) * 2 * np.pi / 12) - 20.0) / 5.0  # scaled like training
    ahead = model.forecast_ahead(window[:, None], [0], seed=3)
    assert ahead.forecast.shape == (1, 6, 1) and np.isnan(ahead.actual).all()
    band = ahead.bands[0.8]
    assert np.all(band.lower <= band.upper) and np.isfinite(ahead.forecast).all()


def test_a_proxy_run_end_to_end_stores_three_forecasts_and_reloads(tmp_path):
    from core.datasets import load_builtin
    from core.runs.rebuild import rebuild_model
    from core.runs.result import load_result
    from core.runs.spec import RunSpec
    from core.runs.store import RunStore
    from core.training.runner import run_training
    from tests.conftest import TINY_PROXY

    store = RunStore(tmp_path)
    spec = RunSpec(
        model="proxy_tuned",
        seq_len=36,
        pred_len=4,
        features="S",
        model_options=TINY_PROXY,
        train=TrainConfig(epochs=1, batch_size=8),
    )
    outcome = run_training(spec, load_builtin("ILI"), store)
    run = store.get(outcome.run_id)
    assert run.status == "succeeded" and run.trainable_params > 0
    result = load_result(store, outcome.run_id)
    assert result.forecast.shape == result.actual.shape == (2, 4, 1)
    metrics = run.test_metrics
    assert metrics["windows"] == 2 and metrics["windows_available"] > 100
    assert set(result.variants) == {"base", "expert", "proxy", "proxy_alpha_1"}
    assert result.variant_name == "proxy"
    # alpha was chosen on validation windows, among six, and is the one with the lowest NLL there
    curve = metrics["alpha_curve"]
    assert list(curve) == ["0", "0.25", "0.5", "1", "1.5", "2"] and metrics["alpha_windows"] == 3
    assert metrics["alpha"] == min((value, float(alpha)) for alpha, value in curve.items())[1]
    assert metrics["alpha_chosen_on"] == "validation"
    for variant in result.variants.values():
        assert np.all(variant.bands[0.8].lower <= variant.bands[0.8].upper)
        assert np.all(variant.bands[0.95].lower <= variant.bands[0.8].lower + 1e-6)
        assert np.isfinite(variant.metrics["nll"])
    assert metrics["mse"] == pytest.approx(metrics["variants"]["proxy"]["mse"])
    assert metrics["nll"] == pytest.approx(metrics["variants"]["proxy"]["nll"])
    np.testing.assert_allclose(result.forecast, result.variants["proxy"].forecast)
    # the actual values are the test split's, scaled like every other run's
    start = int(result.window_index[1])
    assert np.allclose(
        result.actual_scaled[1, :, 0], result.test_inputs[start + 36 : start + 40, 0], atol=1e-6
    )
    model = rebuild_model(store, outcome.run_id)  # the stored weights load strictly
    stored = store.load_checkpoint(outcome.run_id)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in stored.items())
    assert float(model.chosen_alpha) == metrics["alpha"]  # a reload forecasts with the chosen alpha
    with pytest.raises(ValueError, match="features S"):
        run_training(RunSpec(**{**spec.__dict__, "features": "M"}), load_builtin("ILI"), store)


def test_the_command_line_defaults_proxy_runs_to_the_target_alone():
    import argparse

    from core.datasets import load_builtin
    from core.training.headless import add_train_arguments, build_request, resolve_spec

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    ili = load_builtin("ILI")
    request = build_request(
        parser.parse_args(["--data", "ILI", "--model", "proxy_tuned", "--set", "alpha=0.5"])
    )
    spec = resolve_spec(request, ili)
    assert spec.features == "S" and spec.model_options["alpha"] == 0.5 and request.data == "ILI"
    assert (
        resolve_spec(build_request(parser.parse_args(["--data", "ILI", "--model", "dlinear"])), ili).features
        == "M"
    )


def test_a_run_of_the_earlier_cut_down_small_model_says_to_train_it_again():
    from core.models.registry import rebuild

    stored = {"seq_len": 96, "pred_len": 24, "n_channels": 1, "small": "smollm2-135m", "small_layers": 4}
    with pytest.raises(ValueError, match="SmolLM2 cut to its first layers.*train it again"):
        rebuild("proxy_tuned", stored)
