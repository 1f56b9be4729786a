"""The entry script under Streamlit's AppTest: the app opens on the Data page with ETTh1 loaded."""

from tests.pages.conftest import open_app


def test_app_opens_with_etth1_loaded():
    at = open_app()
    assert at.session_state["dataset"].name == "ETTh1"
    assert at.title[0].value == "Forecast a time series"  # the home page, "Start here"
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Data"
    assert [m.value for m in at.metric][:2] == ["17,420", "7"]
    assert "every hour (h)" in [m.value for m in at.metric]
