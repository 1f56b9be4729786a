"""Forecasting dashboard: entry point. Page config, navigation and the shared sidebar."""

import streamlit as st

from pages import common

st.set_page_config(page_title="Forecasting dashboard", page_icon=":material/monitoring:", layout="wide")

dataset = common.current_dataset()
navigation = st.navigation(
    [
        st.Page("pages/data.py", title="Data", icon=":material/table_view:", default=True),
        st.Page("pages/explore.py", title="Explore", icon=":material/query_stats:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/forecast.py", title="Forecast", icon=":material/show_chart:"),
        st.Page("pages/attention.py", title="Attention", icon=":material/grid_on:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/leaderboard:"),
    ]
)

with st.sidebar:
    st.markdown(f"**Data set:** {dataset.name}")
    st.caption(f"{len(dataset.frame):,} rows · target {dataset.target}")
    common.window_inputs()

navigation.run()
