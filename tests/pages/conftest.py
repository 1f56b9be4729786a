"""What the page tests share: the app's path, opening it, and a run store of each test's own."""

import pytest
from streamlit.testing.v1 import AppTest

from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


def open_app() -> AppTest:
    """The app run once, at its first page (Data), without an exception."""
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
