"""Forecasting dashboard: entry point. Page config, navigation and the shared sidebar."""

import streamlit as st

from pages import common

st.set_page_config(page_title="Forecasting dashboard", page_icon="📈", layout="wide")

dataset = common.current_dataset()
navigation = st.navigation(
    [
        st.Page("pages/data.py", title="Data", icon="🗂️", default=True),
        st.Page("pages/explore.py", title="Explore", icon="🔎"),
    ]
)

with st.sidebar:
    st.markdown(f"**Data set:** {dataset.name}")
    st.caption(f"{len(dataset.frame):,} rows · target {dataset.target}")
    st.number_input(
        "Look-back (steps)", min_value=2, max_value=4096, value=common.DEFAULT_SEQ_LEN, step=1,
        key="seq_len", help="How many past steps a model reads (L).",
    )  # fmt: skip
    st.number_input(
        "Horizon (steps)", min_value=1, max_value=1024, value=common.DEFAULT_PRED_LEN, step=1,
        key="pred_len", help="How many future steps a model forecasts (H).",
    )  # fmt: skip

navigation.run()
