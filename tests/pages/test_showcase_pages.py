"""A fresh clone's pages with no run of the user's own: the shipped showcase fills Attention and
Compare, marked as the showcase, with how and when it was trained."""

import pytest
from streamlit.testing.v1 import AppTest

from core.runs.showcase import SHOWCASE_DIR, SHOWCASE_ENV, showcase_store
from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")
pytestmark = pytest.mark.skipif(showcase_store(SHOWCASE_DIR) is None, reason="showcase/ is missing")


@pytest.fixture
def fresh_clone(runs_dir, monkeypatch):
    """No run of the user's own; the showcase as shipped."""
    monkeypatch.setenv(SHOWCASE_ENV, str(SHOWCASE_DIR))
    common.run_store.clear()
    yield
    common.run_store.clear()


def test_attention_opens_on_the_showcase_time_llm_run(fresh_clone):
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("pages/attention.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    chosen = at.selectbox[0]
    assert chosen.value.model == "time_llm" and chosen.value.showcase
    assert chosen.format_func(chosen.value).startswith("Showcase · Time-LLM")
    assert any(c.value.startswith("Showcase run, shipped with the app: trained 20") for c in at.caption)
    assert "text prototypes" in at.get("plotly_chart")[0].proto.spec  # the attention map, drawn


def test_compare_shows_the_showcase_rows_beside_the_baselines(fresh_clone):
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    rows = list(table["row"])
    assert rows[:3] == ["naive", "Naive2", "seasonal naive"]
    assert sum(row.startswith("showcase · ") for row in rows) >= 2
    # ETTh1's target has zeros, so no row has a MAPE: the column is left out, not shown as "None".
    assert "sMAPE (%)" in at.dataframe[1].value.columns and "MAPE (%)" not in at.dataframe[1].value.columns
    # The proxy run decodes 8 past windows: it is left out at first, and the page says why.
    assert any("Not shown at first" in c.value and "forecast only 8 of" in c.value for c in at.caption)


def test_the_train_page_gives_the_time_the_showcase_proxy_run_took_as_a_guide(fresh_clone):
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="model").set_value("proxy_tuned").run()
    assert not at.exception, at.exception
    notes = [c.value for c in at.caption if c.value.startswith("No time estimate before launch")]
    assert notes and "As a guide, the stored run “Showcase · Proxy-tuned decoding" in notes[0], notes
    assert "on the machine it was built on to train and check 8 past forecasts of 24 steps each" in notes[0]
    # The page's settings (standard budget: 16 past forecasts; the default horizon of 96 hours)
    # decode 16 x 96 steps against the stored run's 8 x 24.
    assert (
        "These settings decode up to 16 past forecasts of 96 steps, roughly 8 times as much: expect about "
        "4 h 30 min on a machine like that one." in notes[0]
    )


def test_training_the_showcase_proxy_run_again_for_a_longer_horizon_says_how_much_longer(fresh_clone):
    (proxy,) = [r for r in common.run_store().list_runs() if r.model == "proxy_tuned"]
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state[common.SELECTED_RUN_KEY] = proxy.id
    at.session_state[common.HORIZON_KEY] = 96  # the run forecasts 24 steps
    at.run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    assert any(
        "a horizon 4 times as long takes roughly 4 times the 33 min 10 s it took before on the machine it "
        "was built on: about 2 h 10 min." in c.value
        for c in at.caption
    ), [c.value for c in at.caption]
