"""A run's settings as JSON and TOML, and back as the same run, on built-in and uploaded data."""

import argparse

import numpy as np
import pandas as pd
import pytest

from core.dataset import ColumnMapping
from core.models.contract import QUICK_LAYERS, QUICK_TRAIN_WINDOWS
from core.runs.config import config_json, config_toml, spec_from_config
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.headless import add_train_arguments, build_request, resolve_spec
from core.training.runner import run_training
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")

FAST = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")


def test_a_downloaded_config_trains_the_same_run_again(two_runs, etth1_dataset, tmp_path):
    store, ids = two_runs
    run = store.get(ids[0])
    toml_path = tmp_path / "run.toml"
    toml_path.write_text(config_toml(run))
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    request = build_request(parser.parse_args(["--config", str(toml_path)]))
    assert request.data == "ETTh1"
    from_toml = resolve_spec(request, etth1_dataset)
    original = RunSpec(
        model="dlinear", seq_len=48, pred_len=24, features="S", protocol="ett-hour", target="OT", train=FAST
    )
    import json

    from_json = spec_from_config(json.loads(config_json(run)))
    assert from_toml == original == spec_from_config(run.config) == from_json
    again = run_training(from_toml, etth1_dataset, store)
    assert again.test_metrics["mse"] == pytest.approx(run.test_metrics["mse"], rel=1e-6)


def test_config_toml_escapes_what_a_user_typed(two_runs):
    import tomllib

    store, ids = two_runs
    run = store.get(ids[0])
    run.name = 'quote " backslash \\ newline \n tab \t'
    run.config = run.config | {"model_options": {"description": 'a "described"\nseries', "weird key": 1.5}}
    parsed = tomllib.loads(config_toml(run))
    assert parsed["model_options"] == {"description": 'a "described"\nseries', "weird key": 1.5}


def test_config_json_is_strict_json(two_runs):
    import json

    store, ids = two_runs
    run = store.get(ids[0])
    run.test_metrics = run.test_metrics | {"mape": float("inf"), "owa": float("nan")}
    record = json.loads(config_json(run), parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert record["test_metrics"]["mape"] is None and record["test_metrics"]["owa"] is None
    assert record["config"]["seq_len"] == 48


def test_a_toml_relaunches_a_run_on_an_uploaded_file_with_its_column_choice(tmp_path):
    """The Data page's choice (target 'load', 'temp' as the one extra channel, 'noise' left out)
    travels in the TOML, so the command line reads the CSV into the same data set."""
    import tomllib

    from core import ingest
    from core.training.headless import load_data

    rng = np.random.default_rng(0)
    hours = pd.date_range("2024-01-01", periods=400, freq="h")
    frame = pd.DataFrame(
        {
            "time": hours.strftime("%Y-%m-%d %H:%M"),
            "load": 10 + np.sin(np.arange(400) / 24 * 2 * np.pi) + rng.normal(0, 0.1, 400),
            "noise": rng.normal(0, 1, 400),
            "temp": 5 + rng.normal(0, 1, 400),
        }
    )
    path = tmp_path / "meter.csv"
    frame.to_csv(path, index=False)
    table = ingest.read_table(path.read_bytes())
    suggested = ingest.suggest_mapping(table)
    assert suggested.target != "load"  # the choice below differs from the suggestion
    mapping = ColumnMapping(suggested.timestamp, "load", ["temp"])
    dataset = ingest.build_dataset(table, mapping, "meter.csv")
    store = RunStore(tmp_path / "runs")
    train = TrainConfig(epochs=1, batch_size=32, precision="fp32")
    spec = RunSpec(model="dlinear", seq_len=48, pred_len=12, features="MS", train=train)
    run = store.get(run_training(spec, dataset, store).run_id)

    text = config_toml(run).replace('data = "meter.csv"', f"data = {json_string(path)}")
    assert (
        tomllib.loads(text)["columns"] == ["temp", "load"]
        or tomllib.loads(text)["columns"] == dataset.channels
    )
    (tmp_path / "run.toml").write_text(text)
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    request = build_request(parser.parse_args(["--config", str(tmp_path / "run.toml")]))
    again = load_data(request.data, request.columns, request.settings.get("target"))
    assert again.channels == dataset.channels and again.target == "load"
    assert again.content_hash() == run.dataset_hash
    with pytest.raises(ValueError, match="neither a built-in data set"):
        load_data(str(tmp_path / "missing.csv"))


def json_string(path) -> str:
    import json

    return json.dumps(str(path))


def test_the_command_line_budget_starts_the_settings_and_flags_override_it(etth1_dataset):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)

    def spec(*flags):
        args = ["--data", "ETTh1", "--model", "time_llm", "--seq-len", "96", "--pred-len", "24", *flags]
        return resolve_spec(build_request(parser.parse_args(args)), etth1_dataset)

    quick = spec("--budget", "quick")
    assert quick.budget == "quick" and quick.model_options["layers"] == QUICK_LAYERS
    assert quick.train.train_windows == QUICK_TRAIN_WINDOWS
    mixed = spec("--budget", "quick", "--epochs", "2", "--set", "layers=3")
    assert (mixed.train.epochs, mixed.model_options["layers"], mixed.train.train_windows) == (
        2,
        3,
        QUICK_TRAIN_WINDOWS,
    )
    assert spec().budget == "standard" and spec().model_options["layers"] == 6
    with pytest.raises(SystemExit):
        spec("--budget", "forever")
