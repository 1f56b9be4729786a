"""Forecasts past the end of the data, run configs out and back in, and the comparison of runs."""

import argparse
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core import compare, metrics
from core.data import prepare, sliding_windows
from core.datasets import load_builtin
from core.evaluation import evaluate_window_baseline
from core.models import baselines
from core.run_config import config_json, config_toml, spec_from_config
from core.training.forecasts import SERIES, future_forecast, run_series
from core.training.headless import add_train_arguments, build_spec
from core.training.jobs import SUCCEEDED
from core.training.runner import RunSpec, rebuild_model, run_training
from core.training.store import RunStore
from core.training.trainer import TrainConfig
from pages import common

from .conftest import ROOT

APP = str(ROOT / "streamlit_app.py")
FAST = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")


@pytest.fixture(scope="module")
def etth1_dataset():
    return load_builtin("ETTh1")


@pytest.fixture(scope="module")
def two_runs(etth1_dataset, tmp_path_factory):
    """Two DLinear runs of one setting (target OT alone, horizon 24) with different look-backs."""
    store = RunStore(tmp_path_factory.mktemp("runs"))
    ids = [
        run_training(
            RunSpec(model="dlinear", seq_len=seq_len, pred_len=24, features="S", train=FAST),
            etth1_dataset,
            store,
        ).run_id
        for seq_len in (48, 96)
    ]
    return store, ids


def _copy_run(store: RunStore, run_id: str, model: str, keep: list[int] | None = None) -> str:
    """A stored run under another model name, optionally scoring a subset of its test windows."""
    run = store.get(run_id)
    copy = store.create_run(f"copy as {model}", model, run.config, run.dataset_name, run.dataset_hash)
    arrays = store.load_arrays(run_id, "test")
    if keep is not None:
        arrays = arrays | {
            "forecast": arrays["forecast"][keep],
            "actual": arrays["actual"][keep],
            "window_index": np.asarray(keep),
        }
    store.save_arrays(copy, "test", arrays)
    store.save_arrays(copy, SERIES, store.load_arrays(run_id, SERIES))
    store.update(copy, status="succeeded", wall_time_s=1.0)
    return copy


def test_every_row_is_scored_on_the_same_windows_as_its_stored_metrics(two_runs, etth1_dataset):
    store, ids = two_runs
    runs = [store.get(i) for i in ids]
    result = compare.compare(store, runs)
    table = result.table.set_index("row")
    assert list(table.index[:3]) == ["naive", "Naive2", "seasonal naive"]
    for run in runs:
        row = table.loc[compare.run_label(run)]
        assert row["MSE"] == pytest.approx(run.test_metrics["mse"], rel=1e-5)
        assert row["MAE"] == pytest.approx(run.test_metrics["mae"], rel=1e-5)
        assert row["MASE"] == pytest.approx(run.test_metrics["mase"], rel=1e-5)
        assert row["sMAPE (%)"] == pytest.approx(run.test_metrics["smape"], rel=1e-4)  # both in units
        assert row["trainable parameters"] == run.trainable_params and row["precision"] == "fp32"
    # The baselines agree with the protocol's own scorer on these windows.
    for name, label in (("naive", "naive"), ("snaive", "seasonal naive")):
        reference = evaluate_window_baseline(
            etth1_dataset.frame.to_numpy(),
            etth1_dataset.channels,
            model=name,
            protocol="ett-hour",
            features="S",
            target="OT",
            seq_len=96,
            pred_len=24,
            season=24,
        )
        assert table.loc[label, "MSE"] == pytest.approx(reference["mse"], rel=1e-5)  # inputs kept in float32
        assert table.loc[label, "MAE"] == pytest.approx(reference["mae"], rel=1e-5)
    assert table.loc["Naive2", "OWA"] == pytest.approx(1.0)
    assert result.windows == result.windows_available == len(store.load_arrays(ids[0], "test")["forecast"])
    # Error by horizon step averages back to each row's MSE.
    assert result.by_horizon.mean().to_dict() == pytest.approx(table["MSE"].to_dict(), rel=1e-9)


def test_sMAPE_MAPE_and_OWA_are_in_the_series_units(two_runs, etth1_dataset):
    store, ids = two_runs
    results = [compare.compare(store, [store.get(i)]).table.set_index("row") for i in ids]
    # The baselines read ten seasons before each window whichever runs are chosen.
    for column in ("MSE", "sMAPE (%)", "MASE"):
        assert list(results[0].loc[["naive", "Naive2", "seasonal naive"], column]) == list(
            results[1].loc[["naive", "Naive2", "seasonal naive"], column]
        )
    run, table = store.get(ids[1]), results[1]
    ot = etth1_dataset.frame["OT"].to_numpy(dtype=np.float32).astype(np.float64)
    first = 11520  # the first test target of the ETT protocol: 16 months of hours
    history, actual = sliding_windows(ot[first - 240 : 14400, None], 240, 24)
    naive2 = baselines.naive2_windows(history, 24, 24)
    data = prepare(etth1_dataset.frame.to_numpy(), etth1_dataset.channels, "OT", "S", "ett-hour", 96)
    units = data.scaler.inverse_transform
    forecast = units(store.load_arrays(run.id, "test")["forecast"].reshape(-1, 1)).reshape(actual.shape)
    smape_run, smape_naive2 = metrics.smape(actual, forecast), metrics.smape(actual, naive2)
    assert table.loc[compare.run_label(run), "sMAPE (%)"] == pytest.approx(smape_run, rel=1e-6)
    assert table.loc["Naive2", "sMAPE (%)"] == pytest.approx(smape_naive2, rel=1e-9)
    # ETTh1's OT holds exact zeros in the test rows: MAPE is undefined there, not a huge number.
    assert (actual == 0).any() and table.loc[compare.run_label(run), "MAPE (%)"] == np.inf
    mase_naive2 = table.loc["Naive2", "MASE"]
    expected = metrics.owa(smape_run, table.loc[compare.run_label(run), "MASE"], smape_naive2, mase_naive2)
    assert table.loc[compare.run_label(run), "OWA"] == pytest.approx(expected, rel=1e-6)


def test_a_run_on_a_subset_of_windows_narrows_every_row_to_it(two_runs):
    store, ids = two_runs
    subset = [0, 100, 500, 900]
    partial = _copy_run(store, ids[0], "proxy_tuned", keep=subset)
    result = compare.compare(store, [store.get(ids[0]), store.get(partial)])
    assert result.windows == len(subset) and result.windows_available > len(subset)
    assert any("4 test windows" in note for note in result.notes)
    table = result.table.set_index("row")
    # The full run, cut to the same windows, scores exactly as its subset copy does.
    assert table.loc[compare.run_label(store.get(ids[0])), "MSE"] == pytest.approx(
        table.loc[compare.run_label(store.get(partial)), "MSE"]
    )
    arrays = store.load_arrays(ids[0], "test")
    assert table.loc[compare.run_label(store.get(partial)), "MSE"] == pytest.approx(
        metrics.mse(arrays["actual"][subset], arrays["forecast"][subset])
    )


def test_ablations_follow_their_parent_and_other_settings_are_refused(two_runs, etth1_dataset):
    store, ids = two_runs
    ablation = _copy_run(store, ids[0], "time_llm_no_llm")
    parent = _copy_run(store, ids[0], "time_llm")
    result = compare.compare(store, [store.get(i) for i in (ablation, ids[0], parent)])
    models = list(result.table["model"])
    assert models.index("Time-LLM") + 1 == models.index("Time-LLM without the LLM (ablation)")
    assert (
        result.table.set_index("model").loc["Time-LLM without the LLM (ablation)", "ablation of"]
        == "Time-LLM"
    )
    other = run_training(
        RunSpec(model="dlinear", seq_len=48, pred_len=12, features="S", train=FAST), etth1_dataset, store
    ).run_id
    with pytest.raises(ValueError, match="different targets"):
        compare.compare(store, [store.get(ids[0]), store.get(other)])
    groups = compare.settings(store.list_runs())
    assert [r.id for r in groups[compare.setting_of(store.get(other))]] == [other]
    assert {ablation, parent, *ids} <= {r.id for r in groups[compare.setting_of(store.get(ids[0]))]}


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([4, 7, 12, 24]),
    st.integers(0, 2),
    st.floats(0.0, 5.0),
)
def test_naive2_of_windows_is_naive2_of_each_window(seed, season, extra_seasons, amplitude):
    rng = np.random.default_rng(seed)
    length = season * (3 + extra_seasons) + int(rng.integers(0, season))
    t = np.arange(length)
    x = 10 + amplitude * np.sin(2 * np.pi * t / season)[None, :, None] + rng.normal(0, 0.5, (3, length, 2))
    x[2, :, 1] -= 20  # non-positive values: the naive forecast
    got = baselines.naive2_windows(x, 9, season)
    for b in range(3):
        for c in range(2):
            series = x[b, :, c]
            expected = baselines.naive2(series, 9, season) if (series > 0).all() else np.repeat(series[-1], 9)
            np.testing.assert_allclose(got[b, :, c], expected, rtol=1e-9)


@pytest.mark.parametrize("features", ["S", "MS", "M"])
def test_the_forecast_past_the_end_reads_the_last_rows(etth1_dataset, tmp_path, features):
    store = RunStore(tmp_path)
    spec = RunSpec(model="dlinear", seq_len=48, pred_len=24, features=features, train=FAST)
    run_id = run_training(spec, etth1_dataset, store).run_id
    run = store.get(run_id)
    series = run_series(store.load_arrays(run_id, SERIES), run.config)
    model = rebuild_model(store, run_id)
    future = future_forecast(model, series, 48, 24)
    last = etth1_dataset.frame.index[-1]
    assert list(future.index) == list(pd.date_range(last, periods=25, freq="h")[1:])
    assert list(future.columns) == run.config["channels_out"]
    # By hand: the last 48 rows of the data, scaled with the training rows' statistics.
    data = prepare(etth1_dataset.frame.to_numpy(), etth1_dataset.channels, "OT", features, "ett-hour", 48)
    frame = etth1_dataset.frame[data.columns].to_numpy()[-48:]
    with torch.no_grad():
        out = model(torch.tensor(data.scaler.transform(frame)[None], dtype=torch.float32)).numpy()[0]
    out = data.scaler.inverse_transform(out)[:, data.output_index]
    np.testing.assert_allclose(future.to_numpy(), out, rtol=1e-4, atol=1e-4)


def test_a_downloaded_config_trains_the_same_run_again(two_runs, etth1_dataset, tmp_path):
    store, ids = two_runs
    run = store.get(ids[0])
    toml_path = tmp_path / "run.toml"
    toml_path.write_text(config_toml(run))
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    from_toml, data = build_spec(parser.parse_args(["--config", str(toml_path)]))
    assert data == "ETTh1"
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


# --- the pages ---


@pytest.fixture
def page_runs(two_runs, monkeypatch, tmp_path):
    """The two runs in a store of this test's own, which the pages open."""
    store, ids = two_runs
    shutil.copytree(store.root, tmp_path, dirs_exist_ok=True)
    copy = RunStore(tmp_path)
    for run in copy.list_runs():  # other tests add runs to the shared store
        if run.id not in ids:
            copy.delete(run.id)
    copy.close()
    monkeypatch.setenv("FORECAST_RUNS_DIR", str(tmp_path))
    common.run_store.clear()
    common.job_manager.clear()  # a relaunched job must not show on later tests' Train page
    yield ids
    common.run_store.clear()
    common.job_manager.clear()


def test_forecast_page_draws_splits_forecasts_ahead_and_offers_downloads(page_runs):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[common.SELECTED_RUN_KEY] = page_runs[0]
    at.run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    overview = at.get("plotly_chart")[0].proto.spec
    assert "rangeslider" in overview and "validation" in overview and "test forecast" in overview
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Every test forecast (CSV)", "Run config (JSON)", "Run config (TOML)"]
    at.button(key=f"ahead_{page_runs[0]}").click().run()
    assert not at.exception, at.exception
    future = at.session_state[f"future_{page_runs[0]}"]
    assert len(future) == 24 and list(future.columns) == ["OT"]
    assert '"forecast"' in at.get("plotly_chart")[0].proto.spec
    assert "Download the forecast past the end (CSV)" in [b.proto.label for b in at.get("download_button")]


def test_forecast_page_trains_a_run_again_from_its_config(page_runs):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[common.SELECTED_RUN_KEY] = page_runs[0]
    at.run()
    at.switch_page("pages/forecast.py").run()
    at.button(key=f"again_{page_runs[0]}").click().run()
    assert not at.exception, at.exception
    snapshot = common.job_manager().wait(at.session_state[common.TRAIN_JOB_KEY], timeout=120)
    assert snapshot.state == SUCCEEDED, snapshot.error
    again = common.run_store().get(snapshot.progress["run_id"])
    first = common.run_store().get(page_runs[0])
    assert again.config == first.config and again.test_metrics["mse"] == pytest.approx(
        first.test_metrics["mse"]
    )


def test_compare_page_lists_runs_beside_the_baselines_and_exports_csv(page_runs):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table["row"][:3]) == ["naive", "Naive2", "seasonal naive"]
    assert len(table) == 5 and {"OWA", "MASE", "wall time (s)", "peak memory (MB)", "device"} <= set(
        table.columns
    )
    assert [b.proto.label for b in at.get("download_button")] == ["Download the table (CSV)"]
    charts = at.get("plotly_chart")
    assert len(charts) == 2 and '"bar"' in charts[0].proto.spec and "horizon step" in charts[1].proto.spec


def test_compare_page_without_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_RUNS_DIR", str(tmp_path))
    common.run_store.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("pages/compare.py").run()
        assert not at.exception
        assert any("No finished run yet" in i.value for i in at.info)
    finally:
        common.run_store.clear()


def test_compare_table_from_sliding_windows_matches_by_hand(two_runs):
    """The seasonal naive row, recomputed from the stored test inputs by hand."""
    store, ids = two_runs
    run = store.get(ids[1])
    arrays = store.load_arrays(run.id, "test")
    x, y = sliding_windows(arrays["inputs"], 96, 24)
    snaive = np.concatenate([x[:, -24:, :]], axis=1)
    table = compare.compare(store, [run]).table.set_index("row")
    assert table.loc["seasonal naive", "MSE"] == pytest.approx(metrics.mse(y, snaive), rel=1e-9)


def test_a_run_whose_files_are_gone_is_left_out_with_a_note(two_runs):
    store, ids = two_runs
    gone = _copy_run(store, ids[0], "patchtst")
    shutil.rmtree(store.root / gone)
    result = compare.compare(store, [store.get(ids[0]), store.get(gone)])
    assert gone not in set(result.table["run id"].dropna())
    assert any(gone in note and "left out" in note for note in result.notes)
    with pytest.raises(ValueError, match="none of these runs"):
        compare.compare(store, [store.get(gone)])


def test_config_json_is_strict_json(two_runs):
    import json

    store, ids = two_runs
    run = store.get(ids[0])
    run.test_metrics = run.test_metrics | {"mape": float("inf"), "owa": float("nan")}
    record = json.loads(config_json(run), parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert record["test_metrics"]["mape"] is None and record["test_metrics"]["owa"] is None
    assert record["config"]["seq_len"] == 48


def test_a_damaged_checkpoint_gives_a_plain_message_and_other_data_disable_relaunch(page_runs, tmp_path):
    (tmp_path / page_runs[0] / "best.safetensors").write_bytes(b"\x00" * 10)  # cut short by a crash
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[common.SELECTED_RUN_KEY] = page_runs[0]
    at.session_state[common.DATASET_KEY] = load_builtin("Sunspots")  # not the data of the run
    at.run()
    at.switch_page("pages/forecast.py").run()
    at.button(key=f"ahead_{page_runs[0]}").click().run()
    assert not at.exception, at.exception
    assert any("could not be made" in e.value for e in at.error)
    assert f"future_{page_runs[0]}" not in at.session_state
    assert at.button(key=f"again_{page_runs[0]}").disabled
    assert any("load the data it was trained on (ETTh1)" in c.value for c in at.caption)


def test_s_and_ms_runs_of_one_target_compare_and_m_runs_do_not(two_runs, etth1_dataset):
    store, ids = two_runs
    ms = run_training(
        RunSpec(model="dlinear", seq_len=48, pred_len=24, features="MS", train=FAST), etth1_dataset, store
    )
    m = run_training(
        RunSpec(model="dlinear", seq_len=48, pred_len=24, features="M", train=FAST), etth1_dataset, store
    )
    s_run, ms_run, m_run = store.get(ids[0]), store.get(ms.run_id), store.get(m.run_id)
    assert compare.setting_of(s_run) == compare.setting_of(ms_run) != compare.setting_of(m_run)
    assert "target OT (features S or MS)" in compare.setting_of(ms_run).label
    assert "all 7 channels (features M)" in compare.setting_of(m_run).label
    table = compare.compare(store, [s_run, ms_run]).table.set_index("row")
    assert table.loc[compare.run_label(ms_run), "MSE"] == pytest.approx(ms.test_metrics["mse"], rel=1e-5)
    m_table = compare.compare(store, [m_run]).table.set_index("row")
    assert m_table.loc[compare.run_label(m_run), "MSE"] == pytest.approx(m.test_metrics["mse"], rel=1e-5)
    with pytest.raises(ValueError, match="different targets"):
        compare.compare(store, [s_run, m_run])


def test_a_toml_relaunches_a_run_on_an_uploaded_file_with_its_column_choice(tmp_path):
    """The Data page's choice (target 'load', 'temp' as the one extra channel, 'noise' left out)
    travels in the TOML, so the command line reads the CSV into the same data set."""
    import tomllib

    from core import ingest
    from core.training.headless import build_run, load_data

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
    mapping = ingest.ColumnMapping(suggested.timestamp, "load", ["temp"])
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
    again_spec, data, columns = build_run(parser.parse_args(["--config", str(tmp_path / "run.toml")]))
    again = load_data(data, columns, again_spec.target)
    assert again.channels == dataset.channels and again.target == "load"
    assert again.content_hash() == run.dataset_hash
    with pytest.raises(ValueError, match="neither a built-in data set"):
        load_data(str(tmp_path / "missing.csv"))


def json_string(path) -> str:
    import json

    return json.dumps(str(path))
