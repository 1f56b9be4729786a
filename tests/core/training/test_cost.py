"""The cost model: what a run will take, from a probe of a few steps kept per model, shape and device."""

import json
from dataclasses import replace

import pytest
import torch

from core.dataset import Dataset
from core.runs.spec import starting_spec
from core.training import cost


@pytest.fixture(autouse=True)
def fresh_costs(monkeypatch, tmp_path):
    """Each test starts with no probe in memory and its own cost file."""
    monkeypatch.setattr(cost, "_memory", {})
    monkeypatch.setattr(cost, "cost_file", lambda: tmp_path / "run_costs.json")


@pytest.fixture(scope="module")
def series(etth1_dataset):
    return Dataset(etth1_dataset.frame.iloc[:2000], "OT", "Transformer oil, 2000 hours", freq="h")


def _spec(series, model="dlinear", budget="standard", **options):
    spec = starting_spec(model, dataset_name=series.name, freq="h", seq_len=48, pred_len=12, budget=budget)
    return replace(spec, features="S", model_options=spec.model_options | options)


def test_the_workload_counts_every_pass_of_the_protocol(series):
    spec = _spec(series)
    plan = cost.plan(spec, series)
    # 70/10/20 of 2,000 rows; look-back 48, horizon 12: 1,341 training windows, 189 and 389 others.
    assert plan.workload == cost.Workload(
        epochs=spec.train.epochs,
        patience=spec.train.patience,
        train_windows=1341 // spec.train.batch_size * spec.train.batch_size,  # full batches only
        val_windows=189,
        test_windows=389,
    )
    assert plan.cost is None and plan.estimate() is None  # nothing probed yet
    quick = cost.plan(replace(spec, train=replace(spec.train, train_windows=256)), series)
    assert quick.workload.train_windows == 256


def test_an_estimate_adds_up_the_passes():
    work = cost.Workload(epochs=3, patience=1, train_windows=100, val_windows=20, test_windows=30)
    figures = cost.Cost(build_s=5.0, train_s=0.1, forecast_s=0.01, measured_at=0.0)
    estimate = cost.estimate(work, figures)
    # 5 s to build + 3 × (100 × 0.1 + 20 × 0.01) + 30 × 0.01: the bands reuse the best epoch's
    # validation forecasts, so only the test windows are forecast after training.
    assert estimate.seconds == pytest.approx(5 + 3 * 10.2 + 0.3)
    assert estimate.upper_bound  # patience 1 of 3 epochs: it may stop sooner
    assert not cost.estimate(replace(work, patience=3), figures).upper_bound


def test_a_probe_is_measured_once_and_kept_for_the_same_shape(series):
    spec = _spec(series)
    figures = cost.probe(spec, series, steps=2)
    assert figures.train_s > 0 and figures.forecast_s > 0 and figures.build_s > 0
    assert cost.plan(spec, series).cost == figures
    assert cost.plan(spec, series).estimate().seconds > figures.build_s
    # Kept on disk too: a new process (an empty memory) reads it back.
    cost._memory.clear()
    assert cost.plan(spec, series).cost == figures
    # A different shape (a longer horizon) or precision is a different key: not measured yet.
    longer = replace(spec, pred_len=24)
    assert cost.plan(longer, series).cost is None
    assert cost.plan(replace(spec, train=replace(spec.train, precision="bf16")), series).cost is None


def test_the_key_ignores_the_datas_values_and_words_but_not_the_backbone_depth(series):
    spec = _spec(series, "time_llm", backbone="tiny-random-llama")
    device = torch.device("cpu")
    options = dict(spec.model_options, input_mean=[1.0], input_std=[2.0], description="oil")
    key = cost.cost_key(spec, 1, device, "fp32", options)
    assert key == cost.cost_key(spec, 1, device, "fp32", options | {"description": "other words"})
    assert key != cost.cost_key(spec, 1, device, "fp32", options | {"layers": 1})
    assert key != cost.cost_key(spec, 7, device, "fp32", options)


def test_a_damaged_cost_file_is_measured_again(series, tmp_path):
    (tmp_path / "run_costs.json").write_text("{ not json")
    assert cost.plan(_spec(series), series).cost is None
    cost.probe(_spec(series), series, steps=1)
    assert json.loads((tmp_path / "run_costs.json").read_text())  # rewritten whole


def test_a_model_that_decodes_its_forecasts_gets_no_estimate(series):
    plan = cost.plan(_spec(series, "proxy_tuned", budget="quick"), series)
    assert plan.workload is None and plan.estimate() is None


def test_a_probe_of_a_one_cycle_schedule_is_timed_at_a_constant_rate(series):
    """One-cycle over a probe's few steps would warm up over no whole step (torch divides by it)."""
    spec = _spec(series, "patchtst")
    assert spec.train.schedule == "onecycle"
    assert cost.probe(spec, series, steps=2).train_s > 0
