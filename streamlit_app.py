"""Forecasting dashboard: entry point. Page config, navigation and the shared sidebar.

The navigation is drawn here, in the sidebar, from `PAGES`; Streamlit's own list of the files in
`pages/` is switched off (`client.showSidebarNavigation` in .streamlit/config.toml), so a first
load never flashes it.
"""

import importlib
import threading

import pandas as pd
import streamlit as st

from pages import common

st.set_page_config(page_title="Forecasting dashboard", page_icon=":material/monitoring:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Start here", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/table_view:"),
    st.Page("pages/explore.py", title="Explore", icon=":material/query_stats:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/show_chart:"),
    st.Page("pages/attention.py", title="Attention", icon=":material/grid_on:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/leaderboard:"),
]

dataset = common.current_dataset()
navigation = st.navigation(PAGES, position="hidden")

with st.sidebar:
    for page in PAGES:
        st.page_link(page)
    st.divider()
    st.markdown(f"**Data set:** {dataset.name}")
    st.caption(f"{len(dataset.frame):,} rows · target {dataset.target}")
    common.window_inputs()

navigation.run()


def _import(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(module)
    # Plotly reads its template and every trace class on its first figure (about 0.8 s here).
    from core import plots

    plots.series_figure(pd.DataFrame({"warm-up": [0.0, 1.0]}), ["warm-up"])


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server, after the first page is drawn, in the background: import what later pages
    need and what takes seconds to import (statsmodels' STL for Explore, scipy's filters for the
    baselines, torch and the part of it an optimiser loads first), and draw one chart, which loads
    plotly's template; so that no first visit to a page waits for them."""
    thread = threading.Thread(
        target=_import,
        args=(
            ("statsmodels.tsa.seasonal", "scipy.ndimage", "torch", "torch._dynamo", "core.training.runner"),
        ),
        daemon=True,
    )
    thread.start()
    return thread


warm_up()
