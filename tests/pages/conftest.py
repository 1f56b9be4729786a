"""What the page tests share: the app's path, opening it, and a run store of each test's own."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.runs.store import RunStore
from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


def open_app() -> AppTest:
    """The app run once, at its first page (Start here), without an exception."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """An empty run store and job list for this test: both are process-wide in the app."""
    monkeypatch.setenv("FORECAST_RUNS_DIR", str(tmp_path))
    common.run_store.clear()
    common.job_manager.clear()
    yield tmp_path
    common.run_store.clear()
    common.job_manager.clear()


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
