"""The Explore page under Streamlit's AppTest: every part drawn, and a plain message when the
look-back is longer than the series."""

from core import stats
from tests.pages.conftest import open_app, texts


def test_explore_page_draws_everything():
    at = open_app()
    at.switch_page("pages/explore.py").run()
    assert not at.exception and not at.error
    headers = texts(at.header) + texts(at.subheader)
    assert "Seasonal-trend decomposition (STL)" in headers and "Patching" in headers
    assert at.number_input(key=[n.key for n in at.number_input if n.key.startswith("period_")][0]).value == 24
    strengths = [m.value for m in at.metric]
    assert len(strengths) == 2 and all(0 <= float(v) <= 1 for v in strengths)
    formula = " ".join(texts(at.markdown))
    assert "⌊(96 − 16) / 8⌋ + 2 = **12 patches**" in formula
    window = at.session_state["dataset"].frame["OT"].to_numpy()[-96:]
    assert at.code[0].value == stats.prompt_text(window, at.session_state["dataset"].description, 96, 96)


def test_explore_says_when_the_look_back_is_longer_than_the_series():
    at = open_app()
    at.selectbox(key="builtin").set_value("El Niño")
    at.button(key="load_builtin").click().run()
    at.session_state["look_back"] = 1000
    at.switch_page("pages/explore.py").run()
    assert not at.exception
    assert any("fewer than the look-back of 1000" in text for text in texts(at.error))
