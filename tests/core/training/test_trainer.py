"""The training loop: schedules, early stopping, loss scaling, precision, checkpoints, dropout."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from core.models.contract import (
    CheckpointMismatch,
    Forecaster,
    ForecastOutput,
    load_trainable_state,
    trainable_state,
)
from core.models.registry import MODELS, build_model
from core.runs.train_config import TrainConfig
from core.training import trainer as trainer_module
from core.training.trainer import EarlyStopping, Trainer, TrainingError, resolve_precision


def _loaders(n=64, seq_len=16, pred_len=4, channels=2, batch=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, seq_len, channels, generator=generator)
    y = x[:, -pred_len:, :] * 0.5  # learnable: the forecast is half the last steps
    data = TensorDataset(x, y)
    return DataLoader(data, batch_size=batch, shuffle=False), DataLoader(data, batch_size=batch)


class _Linear(Forecaster):
    """The smallest forecaster: one linear map of the flattened window."""

    def __init__(self, seq_len=16, pred_len=4, extra: float | None = None):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(1), nn.Linear(seq_len * 2, pred_len * 2), nn.Unflatten(1, (pred_len, 2))
        )
        self.extra = extra  # a constant training term of its own, to see it reach the loss

    def forward(self, x):
        auxiliary = None if self.extra is None else torch.tensor(self.extra)
        return ForecastOutput(self.net(x), auxiliary_loss=auxiliary)


def _model(seq_len=16, pred_len=4, extra=None):
    return _Linear(seq_len, pred_len, extra)


def _fit(config: TrainConfig, **callbacks):
    train, val = _loaders()
    return Trainer(_model(), config, **callbacks).fit(train, val)


def test_constant_schedule_keeps_the_rate():
    result = _fit(TrainConfig(epochs=2, lr=0.01, schedule="constant", precision="fp32"))
    assert result.history["step"]["lr"] == [0.01] * 16


def test_cosine_schedule_steps_per_epoch():
    result = _fit(
        TrainConfig(epochs=4, lr=0.1, schedule="cosine", t_max=4, eta_min=0.0, precision="fp32", patience=9)
    )
    per_epoch = [e["lr"] for e in result.history["epoch"]]
    expected = [0.1 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)]
    assert per_epoch == pytest.approx(expected)
    steps = result.history["step"]["lr"]
    assert steps[:8] == pytest.approx([expected[0]] * 8) and steps[8:16] == pytest.approx([expected[1]] * 8)


def test_onecycle_is_stepped_after_every_batch():
    """Built and never stepped, one-cycle trains at max_lr / 25 throughout; here it must move."""
    result = _fit(
        TrainConfig(epochs=3, lr=0.1, max_lr=0.1, schedule="onecycle", pct_start=0.3, precision="fp32")
    )
    lrs = result.history["step"]["lr"]
    assert len(lrs) == 24
    assert lrs[0] == pytest.approx(0.1 / 25)
    peak = lrs.index(max(lrs))
    assert max(lrs) == pytest.approx(0.1, rel=0.05) and 5 <= peak <= 8  # 30 % of 24 steps
    assert lrs[-1] < lrs[0] / 100  # anneals far below the start
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1 : peak + 1], strict=True))


def test_early_stopping_counter_semantics():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert stopper.update(1.0) and stopper.counter == 0
    assert not stopper.update(0.95) and stopper.counter == 1  # not better by more than min_delta
    assert stopper.update(0.8) and stopper.counter == 0  # resets on improvement
    assert not stopper.update(0.9) and not stopper.early_stop
    assert not stopper.update(0.85) and stopper.early_stop and stopper.counter == 2


def test_training_stops_early_and_reloads_the_best_weights():
    train, val = _loaders()
    model = _model()
    saved = []
    trainer = Trainer(
        model, TrainConfig(epochs=30, lr=0.5, patience=2, precision="fp32"), on_improvement=saved.append
    )
    result = trainer.fit(train, val)
    assert result.stopped_early and result.epochs_run < 30
    assert result.epochs_run == result.best_epoch + 2
    assert len(saved) >= 1
    final = trainable_state(model)
    assert all(torch.equal(final[k], saved[-1][k]) for k in final)
    assert trainer.evaluate_loss(val) == pytest.approx(result.best_val_loss, rel=1e-5)


def test_the_loss_goes_down():
    result = _fit(TrainConfig(epochs=20, lr=0.01, precision="fp32", patience=20))
    epochs = result.history["epoch"]
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"] / 5


@pytest.mark.parametrize("optimiser", ["sgd", "rmsprop", "adam", "adamw"])
def test_every_optimiser_trains_only_trainable_parameters(optimiser):
    model = _model()
    frozen = model.net[1].bias
    frozen.requires_grad_(False)
    before = frozen.clone()
    train, val = _loaders()
    config = TrainConfig(
        epochs=2, lr=0.01, optimiser=optimiser, nesterov=optimiser == "sgd", precision="fp32"
    )
    Trainer(model, config).fit(train, val)
    assert torch.equal(frozen, before)
    assert "net.1.bias" not in trainable_state(model)


def test_grad_scaler_skips_a_step_with_an_inf_gradient():
    """fp16 on the CPU with torch.amp.GradScaler("cpu"): an injected inf gradient skips the step."""
    model = _model()
    calls = {"n": 0}

    def poison(grad):
        calls["n"] += 1
        return grad * float("inf") if calls["n"] == 3 else grad

    model.net[1].weight.register_hook(poison)
    steps = []
    train, val = _loaders()
    trainer = Trainer(model, TrainConfig(epochs=1, lr=0.01, precision="fp16"), on_step=steps.append)
    result = trainer.fit(train, val)
    assert result.precision == "fp16" and result.skipped_steps == 1
    assert steps[2].skipped and not steps[1].skipped
    assert steps[2].loss_scale == steps[1].loss_scale / 2  # the scale is lowered after an overflow
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_bf16_autocast_trains_with_fp32_master_weights():
    model = _model()
    train, val = _loaders()
    result = Trainer(model, TrainConfig(epochs=3, lr=0.01, precision="bf16")).fit(train, val)
    assert result.precision == "bf16"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert math.isfinite(result.best_val_loss)


def test_auto_precision_on_the_cpu_is_the_measured_fp32():
    precision, reason = resolve_precision("auto", torch.device("cpu"))
    assert precision == "fp32" and "measured" in reason
    assert resolve_precision("fp16", torch.device("cpu"))[0] == "fp16"


@pytest.mark.parametrize("native", [True, False])
def test_a_language_model_s_bf16_on_the_cpu_only_where_the_cpu_has_it(native, monkeypatch):
    """bf16 autocast is emulated, and many times slower than fp32, on a CPU without native bf16."""
    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: native)
    precision, reason = resolve_precision("auto", torch.device("cpu"), "bf16")
    assert precision == ("bf16" if native else "fp32")
    assert native or "no native bf16" in reason
    assert resolve_precision("bf16", torch.device("cpu"), "bf16")[0] == "bf16"  # asked for: as asked


def test_a_diverging_loss_fails_with_a_plain_message():
    model = _model()
    with torch.no_grad():
        model.net[1].weight.fill_(float("nan"))
    train, val = _loaders()
    with pytest.raises(TrainingError, match="training diverged"):
        Trainer(model, TrainConfig(epochs=1, precision="fp32")).fit(train, val)


def test_cancellation_is_checked_between_steps():
    class Stop(Exception):
        pass

    seen = []

    def should_stop():
        if len(seen) == 5:
            raise Stop

    train, val = _loaders()
    with pytest.raises(Stop):
        Trainer(
            _model(), TrainConfig(epochs=3, precision="fp32"), on_step=seen.append, should_stop=should_stop
        ).fit(train, val)
    assert len(seen) == 5


# Every window forecaster (a model with a loss of its own writes text; its LoRA dropout is peft's).
@pytest.mark.parametrize("name", [n for n in MODELS if not MODELS[n].own_loss])
def test_every_model_honours_dropout(name):
    tiny = {}
    if name.startswith("time_llm"):
        tiny = dict(backbone="tiny-random-llama", layers=2, n_prototypes=20, d_ff=8)
    elif name.startswith("tempo"):
        tiny = dict(backbone="tiny-random-llama", layers=2, period=8)
    model, config = build_model(name, seq_len=32, pred_len=8, n_channels=3, dropout=0.5, **tiny)
    assert config.dropout == 0.5
    x = torch.randn(4, 32, 3)
    model.train()
    torch.manual_seed(0)
    first = model(x).forecast
    torch.manual_seed(1)
    assert not torch.allclose(first, model(x).forecast)  # dropout is active in training
    model.eval()
    assert torch.allclose(model(x).forecast, model(x).forecast) and model(x).forecast.shape == (4, 8, 3)


def test_unknown_model_options_are_refused():
    with pytest.raises(ValueError, match="no option"):
        build_model("dlinear", seq_len=32, pred_len=8, n_channels=3, d_model=64)


def test_bad_config_values_are_refused():
    with pytest.raises(ValueError, match="unknown schedule"):
        TrainConfig(schedule="step")


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_gradient_clipping_acts_on_true_gradients(precision):
    """One SGD step with clipping at 1e-6 moves the weights by lr × 1e-6 in norm.

    Under fp16 this holds only if the scaled gradients are unscaled before clipping: clipping the
    scaled ones would leave a step 65,536 times too small. The data are small so that the scaled
    gradients stay finite in fp16 and the first step is not skipped.
    """
    torch.manual_seed(0)
    model = _model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    x, y = torch.randn(8, 16, 2) * 0.01, torch.randn(8, 4, 2) * 0.01
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    config = TrainConfig(epochs=1, lr=1.0, optimiser="sgd", momentum=0.0, grad_clip=1e-6, precision=precision)
    result = Trainer(model, config).fit(loader, loader)
    assert result.skipped_steps == 0
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert float(torch.linalg.vector_norm(after - before)) == pytest.approx(1e-6, rel=0.02)


def test_a_non_finite_validation_loss_fails_the_run():
    train, _ = _loaders()
    bad = DataLoader(TensorDataset(torch.full((8, 16, 2), float("inf")), torch.zeros(8, 4, 2)), batch_size=8)
    with pytest.raises(TrainingError, match="validation loss became"):
        Trainer(_model(), TrainConfig(epochs=2, precision="fp32")).fit(train, bad)


def test_checkpoints_load_strictly():
    model = _model()
    state = trainable_state(model)
    load_trainable_state(model, state)
    with pytest.raises(CheckpointMismatch, match="does not fit"):
        load_trainable_state(model, {"model." + k: v for k, v in state.items()})


def test_smape_loss_trains():
    result = _fit(TrainConfig(epochs=5, lr=0.01, loss="smape", precision="fp32", patience=5))
    epochs = result.history["epoch"]
    assert 0 < epochs[-1]["train_loss"] < epochs[0]["train_loss"] <= 200


def test_peak_memory_is_recorded_on_the_cpu():
    assert _fit(TrainConfig(epochs=1, precision="fp32")).peak_memory_mb > 10


def test_a_model_training_term_joins_the_training_loss_but_not_the_validation_loss():
    train, val = _loaders()
    torch.manual_seed(0)
    plain = Trainer(_model(), TrainConfig(epochs=1, precision="fp32")).fit(train, val)
    torch.manual_seed(0)  # the same initial weights
    extra = Trainer(_model(extra=5.0), TrainConfig(epochs=1, precision="fp32")).fit(train, val)
    assert extra.history["step"]["loss"][0] == pytest.approx(plain.history["step"]["loss"][0] + 5.0, rel=1e-4)
    assert extra.best_val_loss < 5.0  # validation scores the forecast alone


def test_predict_returns_typed_outputs_and_actuals():
    train, _ = _loaders()
    trainer = Trainer(_model(), TrainConfig(epochs=1, precision="fp32"))
    output, actual = trainer.predict(train)
    assert isinstance(output, ForecastOutput) and output.parts is None
    assert output.forecast.shape == actual.shape == (64, 4, 2) and output.forecast.dtype == torch.float32
