"""The one-click forecast: settings chosen on validation only, then one stored, judged run."""

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset
from core.models.contract import Forecaster
from core.runs.store import RunStore
from core.training import oneclick


@pytest.fixture(scope="module")
def hourly():
    """A daily cycle with a slow trend and noise: 1,500 hourly rows, split 70/10/20."""
    rng = np.random.default_rng(0)
    hours = np.arange(1500)
    values = 10 + 3 * np.sin(2 * np.pi * hours / 24) + hours / 500 + rng.normal(0, 0.3, hours.size)
    index = pd.date_range("2024-01-01", periods=hours.size, freq="h", name="timestamp")
    return Dataset(
        pd.DataFrame({"load": values}, index=index), "load", "load", freq="h", units={"load": "kW"}
    )


def test_the_learning_rate_is_chosen_on_validation_and_the_test_split_is_read_once(
    hourly, tmp_path, monkeypatch
):
    tested = []
    original = Forecaster.test_predictions

    def counting(self, context):
        tested.append(1)
        return original(self, context)

    monkeypatch.setattr(Forecaster, "test_predictions", counting)
    store = RunStore(tmp_path)
    outcome = oneclick.forecast_series(hourly, 24, store)
    assert len(tested) == 1  # the tries never read the test split; the stored run reads it once
    run = store.get(outcome.run_id)
    assert run.status == "succeeded" and run.name == "Forecast of load, next day (24 hours) (DLinear)"
    assert run.config["units"] == {"load": "kW"} and run.config["features"] == "S"
    tried = {
        float(part.split(" (")[0]): float(part.split(" (")[1].rstrip(")."))
        for part in run.message.split(": ")[1].split(", ")
    }
    assert set(tried) == {3e-4, 1e-3, 3e-3}
    assert run.config["train"]["lr"] == min(tried, key=tried.get)
    assert run.message.startswith(f"Learning rate {run.config['train']['lr']:g}")
    assert {"skill", "coverage_80", "coverage_95", "baselines"} <= set(run.test_metrics)


def test_a_series_too_short_for_the_horizon_is_refused_in_words(hourly):
    short = Dataset(hourly.frame.iloc[:60], "load", "short", freq="h")
    with pytest.raises(oneclick.TooShort, match="too few to forecast the 2 days"):
        oneclick.plan(short, 48)


def test_a_validation_only_try_is_never_stored(hourly, tmp_path):
    from core.training.runner import run_training

    spec, _ = oneclick.plan(hourly, 24)
    with pytest.raises(ValueError, match="not stored"):
        run_training(spec, hourly, RunStore(tmp_path), validate_only=True)


def test_a_40_row_file_trains_with_smaller_batches_and_no_infinite_range(tmp_path):
    rng = np.random.default_rng(1)
    index = pd.date_range("2024-01-01", periods=40, freq="D", name="timestamp")
    values = 50 + 5 * np.sin(2 * np.pi * np.arange(40) / 7) + rng.normal(0, 1, 40)
    short = Dataset(pd.DataFrame({"visits": values}, index=index), "visits", "short", freq="D")
    spec, _ = oneclick.plan(short, 4)
    assert spec.train.batch_size < 32
    store = RunStore(tmp_path)
    outcome = oneclick.forecast_series(short, 4, store)
    test = outcome.test_metrics
    assert store.get(outcome.run_id).status == "succeeded"
    assert outcome.wall_time_s >= store.get(outcome.run_id).wall_time_s - 1e-6  # the tries included
    # Its validation part holds too few forecasts for a 95 % range: none is claimed.
    assert test["calibration_windows"] < 19 and "coverage_95" not in test
