"""The Compare page under AppTest: runs beside the baselines, and no runs yet."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.datasets import load_builtin
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.runner import run_training
from pages import common
from tests.conftest import ROOT

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
