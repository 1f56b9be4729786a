"""The Explore page under Streamlit's AppTest: every section drawn with its plain caption, the patch
chart over time, the seasonal pattern over its last cycles, no seasonality claimed for a random walk,
and a plain message when the look-back is longer than the series."""

import json

import numpy as np
import pandas as pd

from core import stats
from core.dataset import Dataset
from core.datasets import load_builtin
from tests.pages.conftest import open_app, texts


def open_explore(dataset: Dataset | None = None):
    at = open_app()
    if dataset is not None:
        at.session_state["dataset"] = dataset
    at.switch_page("pages/explore.py").run()
    assert not at.exception and not at.error
    return at


def chart(at, title: str) -> dict:
    """The figure of the page's chart whose title (or a subplot title) starts with `title`."""
    for element in at.get("plotly_chart"):
        figure = json.loads(element.proto.spec)
        titles = [figure["layout"].get("title", {}).get("text") or ""]
        titles += [note.get("text", "") for note in figure["layout"].get("annotations", [])]
        if any(text.startswith(title) for text in titles):
            return figure
    raise AssertionError(f"no chart titled {title!r}")


def test_explore_page_draws_everything_with_plain_captions():
    at = open_explore()
    headers = texts(at.header) + texts(at.subheader)
    assert "Seasonal-trend decomposition (STL)" in headers
    assert "Patching: the window cut into short pieces" in headers
    assert at.number_input(key=[n.key for n in at.number_input if n.key.startswith("period_")][0]).value == 24
    strengths = [m.value for m in at.metric]
    assert len(strengths) == 2 and all(0 <= float(v) <= 1 for v in strengths)
    captions = " ".join(texts(at.caption))
    assert "The series split into a slow trend, a seasonal pattern that repeats every cycle" in captions
    assert "cut it into 12 overlapping pieces (patches) of 16 steps, a new one every 8 steps" in captions
    assert "shifts it to an average of 0 and stretches it to a spread of 1" in captions
    assert "Time-LLM is a forecaster built on a language model" in captions
    assert "how closely the window moves with a copy of itself shifted back" in captions
    markdown = " ".join(texts(at.markdown))
    assert "Proposed: 24 steps (1 day), the natural cycle of data recorded every hour." in markdown
    assert "The window looks most like itself 1, 2, 3, 4 and 5 hours back" in markdown
    assert "persistent from hour to hour" in markdown
    # The formulas live in the "How this is computed" boxes.
    assert [e.label for e in at.expander] == ["How this is computed"] * 4
    assert "⌊(96 − 16) / 8⌋ + 2 = **12 patches**" in markdown
    assert "F = max(0, 1 − Var(residual) / Var(component +" in markdown
    window = at.session_state["dataset"].frame["OT"].to_numpy()[-96:]
    assert at.code[0].value == stats.prompt_text(window, at.session_state["dataset"].description, 96, 96)


def test_the_patch_chart_has_time_on_its_x_axis():
    at = open_explore()
    index = at.session_state["dataset"].frame.index[-96:]
    figure = chart(at, "The look-back window")
    window, first_patch = figure["data"][0], figure["data"][1]
    assert pd.Timestamp(window["x"][0]) == index[0] and pd.Timestamp(window["x"][-1]) == index[-1]
    assert pd.Timestamp(first_patch["x"][0]) == index[0]
    assert figure["layout"]["xaxis2"]["title"]["text"] == "time"
    assert figure["layout"]["yaxis2"]["title"]["text"] == "patch"


def test_long_series_are_drawn_thin_and_the_seasonal_pattern_over_its_last_cycles():
    at = open_explore()
    index = at.session_state["dataset"].frame.index  # 17,420 hourly rows
    decomposition = chart(at, "The series and its slow trend")
    assert all(len(trace["x"]) <= 5000 for trace in decomposition["data"])
    seasonal = chart(at, "The seasonal pattern, last 8 cycles of 24 steps")
    assert all(len(trace["x"]) <= 5000 for trace in seasonal["data"])
    start, end = (pd.Timestamp(x) for x in seasonal["layout"]["xaxis"]["range"])
    assert (start, end) == (index[-8 * 24], index[-1])
    assert seasonal["layout"]["xaxis"]["rangeslider"]["visible"]
    labels = [b["label"] for b in seasonal["layout"]["xaxis"]["rangeselector"]["buttons"]]
    assert labels == ["2 cycles", "4 cycles", "8 cycles", "all drawn"]
    assert any("at most 5,000 points" in text for text in texts(at.caption))


def test_a_random_walk_is_said_to_show_no_clear_seasonality():
    """Exchange-rate-like data: a week back the series looks alike (r ≈ 0.99) only because it moves slowly."""
    index = pd.date_range("2000-01-01", periods=3000, freq="D", name="timestamp")
    walk = np.cumsum(np.random.default_rng(0).normal(size=len(index)))
    at = open_explore(Dataset(pd.DataFrame({"rate": walk}, index=index), "rate", "walk", freq="D"))
    markdown = " ".join(texts(at.markdown))
    assert "No clear seasonality." in markdown and "confirmed" not in markdown
    assert "that is persistence, not a repeating pattern" in markdown
    assert float(at.metric[1].value) < 0.1
    assert "No clear trend and no clear seasonal pattern" not in markdown  # the trend is strong
    assert "no clear seasonal pattern of 7 steps (1 week)" in markdown


def test_explore_says_when_the_look_back_is_longer_than_the_series():
    at = open_app()
    at.session_state["dataset"] = load_builtin("El Niño")  # 732 monthly rows
    at.session_state["look_back"] = 1000
    at.switch_page("pages/explore.py").run()
    assert not at.exception
    assert any("fewer than the look-back of 1000" in text for text in texts(at.error))
