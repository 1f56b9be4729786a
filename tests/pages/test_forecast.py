"""The Forecast page under AppTest: splits, forecasts ahead, downloads, relaunch, plain errors."""

import pytest
from streamlit.testing.v1 import AppTest

from core import verdict
from core.datasets import load_builtin
from core.runs.train_config import TrainConfig
from core.training.jobs import SUCCEEDED
from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")

FAST = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")


def test_forecast_page_gives_a_verdict_errors_in_units_ranges_and_downloads(page_runs):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[common.SELECTED_RUN_KEY] = page_runs[0]
    at.session_state[common.HORIZON_KEY] = 24  # the run's own horizon: no offer to train again
    at.run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    verdicts = [e.value for e in [*at.success, *at.warning, *at.error]]
    run = common.run_store().get(page_runs[0])
    expected = verdict.verdict(run.test_metrics, run.config["freq"]).headline
    assert any(expected in v for v in verdicts), verdicts
    shown = {m.label: m.value for m in at.metric}
    run = common.run_store().get(page_runs[0])
    assert shown["Typical error"] == f"{run.test_metrics['units']['OT']['mae']:.3g}"  # ETTh1 has no unit
    assert shown["80% range held"] == f"{run.test_metrics['coverage_80']:.0%}"
    # The chart opens on the forecast past the end of the data, made as the page opened.
    future = at.session_state[f"future_{page_runs[0]}"]
    assert len(future) == 24 and list(future.columns) == [
        "channel",
        "forecast",
        "lower_80",
        "upper_80",
        "lower_95",
        "upper_95",
    ]
    overview = at.get("plotly_chart")[0].proto.spec
    assert "rangeslider" in overview and "validation part" in overview and "80% range" in overview
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "The forecast of the next day (24 hours) (CSV, with its ranges)",
        "Download as CSV",
        "Download as Parquet",
        "Run config (JSON)",
        "Run config (TOML)",
    ]
    at.radio(key=f"focus_{page_runs[0]}").set_value("test").run()
    assert not at.exception, at.exception
    overview = at.get("plotly_chart")[0].proto.spec
    assert "past forecast" in overview and "what happened" in overview


def test_a_changed_horizon_offers_to_train_again_for_it(page_runs):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[common.SELECTED_RUN_KEY] = page_runs[0]
    at.session_state[common.HORIZON_KEY] = 48
    at.run()
    at.switch_page("pages/forecast.py").run()
    assert any("now asks for the next 2 days (48 hours)" in i.value for i in at.info)
    # a model that does not decode takes about as long for 48 steps as for 24
    assert any("about as long as it took before" in c.value for c in at.caption)
    at.button(key=f"reach_{page_runs[0]}").click().run()
    assert not at.exception, at.exception
    snapshot = common.job_manager().wait(at.session_state[common.TRAIN_JOB_KEY], timeout=120)
    assert snapshot.state == SUCCEEDED, snapshot.error
    assert common.run_store().get(snapshot.progress["run_id"]).config["pred_len"] == 48


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


def test_a_damaged_checkpoint_gives_a_plain_message_and_other_data_disable_relaunch(page_runs, tmp_path):
    (tmp_path / page_runs[0] / "best.safetensors").write_bytes(b"\x00" * 10)  # cut short by a crash
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[common.SELECTED_RUN_KEY] = page_runs[0]
    at.session_state[common.DATASET_KEY] = load_builtin("Sunspots")  # not the data of the run
    at.run()
    at.switch_page("pages/forecast.py").run()  # a small model forecasts ahead as the page opens
    assert not at.exception, at.exception
    assert any("could not be made" in e.value for e in at.error)
    assert f"future_{page_runs[0]}" not in at.session_state
    assert at.button(key=f"again_{page_runs[0]}").disabled
    assert any("load the data it was trained on (ETTh1)" in c.value for c in at.caption)


def test_forecast_page_without_runs(runs_dir):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception
    assert any("No finished run yet" in i.value for i in at.info)
