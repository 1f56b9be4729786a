"""The home page under AppTest: the three steps, and the one-click forecast landing on its verdict."""

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from core import verdict
from core.dataset import Dataset
from core.training.jobs import SUCCEEDED
from pages import common
from pages.home import ONE_CLICK_KEY
from tests.pages.conftest import APP


def test_the_app_opens_on_three_steps_with_its_own_page_links(runs_dir):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["1. Load a series", "2. Get a forecast", "3. See how good it is"]
    # The horizon in calendar words: the sidebar's, so that the two never disagree.
    horizon = at.selectbox(key="home_horizon")
    assert horizon.value == 96 and horizon.format_func(horizon.value) == "next 4 days (96 hours)"
    assert any(b.label == "Forecast this series" for b in at.button)
    links = [link.proto.label for link in at.get("page_link")]
    sidebar = ["Start here", "Data", "Explore", "Train", "Forecast", "Attention", "Compare"]
    assert [label for label in links if label in sidebar] == sidebar
    horizon.set_value(24).run()
    assert at.session_state[common.HORIZON_KEY] == 24
    assert at.selectbox(key="home_horizon").format_func(24) == "next day (24 hours)"


def test_one_click_trains_the_recommended_model_and_lands_on_its_forecast(runs_dir):
    rng = np.random.default_rng(0)
    hours = np.arange(1500)
    values = 10 + 3 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.3, hours.size)
    index = pd.date_range("2024-01-01", periods=hours.size, freq="h", name="timestamp")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[common.DATASET_KEY] = Dataset(
        pd.DataFrame({"sales": values}, index=index), "sales", "shop", freq="h"
    )
    at.session_state[common.NOTES_KEY] = []
    at.run()
    assert any("Model: DLinear" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Forecast this series").click().run()
    assert not at.exception, at.exception
    snapshot = common.job_manager().wait(at.session_state[ONE_CLICK_KEY], timeout=300)
    assert snapshot.state == SUCCEEDED, snapshot.error
    at.run()  # the progress block sees the finished job and opens the Forecast page
    assert not at.exception, at.exception
    assert at.session_state[common.SELECTED_RUN_KEY] == snapshot.progress["run_id"]
    assert [t.value for t in at.title] == ["Forecast"]
    run = common.run_store().get(snapshot.progress["run_id"])
    expected = verdict.verdict(run.test_metrics, "h").headline
    assert "repeating" in expected and any(expected in e.value for e in [*at.success, *at.warning, *at.error])


def test_a_file_whose_dates_read_both_ways_waits_for_the_user_to_say_which(runs_dir):
    from pages.home import DATE_QUESTION_KEY, DAY_FIRST

    lines = ["date,visitors"] + [
        f"{day:02d}/01/2024 {hour:02d}:00,{100 + 10 * (hour % 24 > 8) + day}"
        for day in range(1, 13)
        for hour in range(24)
    ]
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[DATE_QUESTION_KEY] = ("visits.csv", "\n".join(lines).encode(), "Which way?")
    at.run()
    assert any("'visits.csv': Which way?" in w.value for w in at.warning)
    assert at.session_state[common.DATASET_KEY].name == "ETTh1"
    at.radio(key="home_date_order").set_value(DAY_FIRST).run()
    assert not at.exception, at.exception
    loaded = at.session_state[common.DATASET_KEY]
    assert loaded.name == "visits.csv" and loaded.freq == "h"
    assert (
        str(loaded.frame.index[0]) == "2024-01-01 00:00:00"
        and str(loaded.frame.index[-1]) == "2024-01-12 23:00:00"
    )
