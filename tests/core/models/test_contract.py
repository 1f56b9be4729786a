"""Every registry entry through the whole contract, on tiny data: build, train, predict, store,
rebuild, forecast again from the checkpoint, forecast past the data, and explain when it says so.

No model is named here: a config is shrunk by its fields (a tiny random language model for a
`backbone`, few layers, few prototypes), so a new registry entry is checked without a line changed.
"""

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
import torch

from core.dataset import Dataset
from core.explain import Heatmap, Table, Text
from core.models.contract import Forecaster, ForecastOutput, PredictionContext
from core.models.registry import MODELS
from core.runs.rebuild import explain_window, forecast_ahead, rebuild_model
from core.runs.result import load_result
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.runner import run_training
from core.training.trainer import Trainer
from tests.conftest import TINY_PROXY

SEQ_LEN, PRED_LEN = 32, 4
# Small values for config fields, whichever model has them.
TINY_FIELDS = {
    "backbone": "tiny-random-llama",
    "layers": 2,
    "n_prototypes": 16,
    "d_ff": 8,
    "d_model": 16,
    "n_heads": 4,
    "hidden": 8,
    "period": 8,
    "patch_len": 8,
    "stride": 4,
    "pool_size": 4,
    **TINY_PROXY,
}


def _tiny_options(name: str) -> dict:
    names = {f.name for f in fields(MODELS[name].config_class)} - set(MODELS[name].fixed)
    return {key: value for key, value in TINY_FIELDS.items() if key in names}


@pytest.fixture(scope="module")
def tiny_data() -> Dataset:
    """300 hours of three related channels: a daily cycle, a lagged copy and noise."""
    rng = np.random.default_rng(0)
    hours = np.arange(300)
    daily = np.sin(2 * np.pi * hours / 24)
    frame = pd.DataFrame(
        {
            "load": 10 + 3 * daily + rng.normal(0, 0.3, 300),
            "temperature": 20 + 5 * np.roll(daily, 3) + rng.normal(0, 0.5, 300),
            "price": 50 + rng.normal(0, 2, 300).cumsum() * 0.1,
        },
        index=pd.date_range("2024-01-01", periods=300, freq="h", name="timestamp"),
    )
    dataset = Dataset(frame, "load", "tiny hourly", "Hourly load of a small plant, in kW.", "made in a test")
    dataset.freq = "h"
    return dataset


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_keeps_the_contract(name, tiny_data, tmp_path):
    entry = MODELS[name]
    store = RunStore(tmp_path)
    spec = RunSpec(
        model=name,
        seq_len=SEQ_LEN,
        pred_len=PRED_LEN,
        features="S" if entry.target_only else "M",
        model_options=_tiny_options(name),
        train=TrainConfig(epochs=1, batch_size=16, precision="fp32"),
    )
    outcome = run_training(spec, tiny_data, store)
    run = store.get(outcome.run_id)
    assert run.status == "succeeded" and run.best_epoch == 1 and store.has_checkpoint(run.id)
    result = load_result(store, run.id)
    outputs = 1 if entry.target_only else 3
    assert result.forecast.shape[1:] == (PRED_LEN, outputs) and np.isfinite(result.forecast).all()
    assert len(result.window_index) == outcome.test_metrics["windows"] <= result.windows_available
    # Every model's forecasts get 80 % and 95 % bands (conformal, or its samples') and a verdict.
    assert sorted(result.bands) == [0.8, 0.95]
    assert {"coverage_80", "coverage_95", "skill", "baselines", "units"} <= set(outcome.test_metrics)
    assert result.metrics["mse"] == pytest.approx(
        float(np.mean((result.forecast_scaled - result.actual_scaled) ** 2)), rel=1e-5
    )

    # Rebuilt from its config and checkpoint, the model forecasts the stored test windows again.
    model = rebuild_model(store, run.id)
    assert isinstance(model, Forecaster) and not model.training
    trainer = Trainer(model, TrainConfig(precision="fp32"))
    data = _protocol_data(tiny_data, spec)
    again = model.test_predictions(
        PredictionContext(
            data=data,
            seq_len=SEQ_LEN,
            pred_len=PRED_LEN,
            batch_size=64,
            drop_last_batch=None,
            seed=spec.train.seed,
            device=trainer.device,
            precision="fp32",
            predict=trainer.predict,
            report=lambda **fields: None,
            check_cancelled=lambda: None,
        )
    )
    np.testing.assert_array_equal(again.window_index, result.window_index)
    np.testing.assert_allclose(again.forecast, result.forecast_scaled, rtol=1e-4, atol=1e-4)

    # A window forecaster's forward pass returns a typed output and leaves no state behind.
    if not entry.own_loss:
        before = {key for key in vars(model) if not key.startswith("_")}
        x = torch.as_tensor(np.ascontiguousarray(result.test_windows()[:2]), dtype=torch.float32)
        with torch.no_grad():
            output = model(x)
        assert isinstance(output, ForecastOutput) and output.forecast.shape == (2, PRED_LEN, x.shape[2])
        assert {key for key in vars(model) if not key.startswith("_")} == before

    ahead = result.future_frame(forecast_ahead(model, result))
    assert ahead.index[0] > tiny_data.frame.index[-1]
    assert len(ahead) == PRED_LEN * len(result.channels) and set(ahead["channel"]) == set(result.channels)
    numbers = ahead.drop(columns="channel")
    assert {"lower_80", "upper_80"} <= set(numbers.columns) and np.isfinite(numbers.to_numpy()).all()

    explains = entry.explains is not None and (
        entry.explains.when is None or entry.explains.when(run.config["model_config"])
    )
    if explains:
        channel = len(run.config["channels_in"]) - 1 if entry.explains.per_channel else None
        panels = explain_window(model, result, 0, channel)
        assert panels and all(isinstance(panel, Heatmap | Table | Text) for panel in panels)
        for panel in panels:
            if isinstance(panel, Heatmap):
                assert panel.values.shape == (len(panel.layers), len(panel.rows), len(panel.columns))
                assert np.isfinite(panel.values).all()
    else:
        with pytest.raises(NotImplementedError):
            explain_window(model, result, 0, None)


def _protocol_data(dataset: Dataset, spec: RunSpec):
    from core.data import prepare

    return prepare(
        dataset.frame.to_numpy(), dataset.channels, dataset.target, spec.features, "ratio", spec.seq_len
    )


def test_the_fields_shrink_every_model():
    """Every config field that makes a model slow on a CPU has a tiny value here."""
    slow = {"backbone", "base", "small", "layers", "n_prototypes", "d_model", "samples", "train_windows"}
    for name, entry in MODELS.items():
        names = {f.name for f in fields(entry.config_class)} - set(entry.fixed)
        assert names & slow <= set(TINY_FIELDS), name
