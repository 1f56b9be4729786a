"""The Compare page under AppTest: runs beside the baselines, and no runs yet."""

from streamlit.testing.v1 import AppTest

from core.runs.train_config import TrainConfig
from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")

FAST = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")


def test_compare_page_lists_runs_beside_the_baselines_and_exports_csv(page_runs):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value  # the page's table: what decides between runs, fitting the page
    assert list(table["row"][:3]) == ["naive", "Naive2", "seasonal naive"]
    assert len(table) == 5 and {"OWA", "MASE", "MAE", "wall time (s)"} <= set(table.columns)
    assert "device" not in table.columns and len(table.columns) <= 8
    assert list(table["wall time (s)"][:3]) == [0, 0, 0]  # a baseline fits nothing
    best = table.loc[table["MASE"].idxmin(), "row"]
    assert any(f"Best MASE: {best}." in c.value for c in at.caption)
    styles = at.dataframe[0].proto.arrow_data.styler.styles
    assert "font-weight: bold" in styles  # each metric's best row is marked
    full = at.dataframe[1].value  # every column, in the expander
    assert {"peak memory (MB)", "device", "total parameters"} <= set(full.columns)
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
