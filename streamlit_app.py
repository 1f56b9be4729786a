"""Forecasting dashboard: entry point. Page config, navigation and the shared sidebar.

The navigation is drawn here, in the sidebar, from `PAGES`; Streamlit's own list of the files in
`pages/` is switched off (`client.showSidebarNavigation` in .streamlit/config.toml), so a first
load never flashes it.
"""

import importlib
import threading

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


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server, after the first page is drawn: import in the background what later pages
    need and what takes seconds to import (statsmodels' STL for Explore, torch for training), so
    that no first visit to those pages waits for it."""
    thread = threading.Thread(
        target=_import, args=(("statsmodels.tsa.seasonal", "torch", "core.training.runner"),), daemon=True
    )
    thread.start()
    return thread


warm_up()
