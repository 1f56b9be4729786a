"""The Forecast page under AppTest: splits, forecasts ahead, downloads, relaunch, plain errors."""

import pytest
from streamlit.testing.v1 import AppTest

from core.datasets import load_builtin
from core.runs.train_config import TrainConfig
from core.training.jobs import SUCCEEDED
from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")

FAST = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")


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


def test_forecast_page_without_runs(runs_dir):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception
    assert any("No finished run yet" in i.value for i in at.info)
