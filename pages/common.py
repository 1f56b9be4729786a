"""State and cached engine calls shared by the pages. The only Streamlit glue outside a page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import datasets, decompose, ingest

DATASET_KEY = "dataset"  # the loaded core.ingest.Dataset (a non-widget key)
NOTES_KEY = "dataset_notes"  # what was changed when it was loaded, shown on the Data page
DEFAULT_SEQ_LEN = 96
DEFAULT_PRED_LEN = 96


@st.cache_data(show_spinner="Loading the data set…")
def load_builtin(name: str) -> ingest.Dataset:
    return datasets.load_builtin(name)


@st.cache_data(show_spinner=False, max_entries=8)
def read_table(data: bytes, max_bytes: int) -> ingest.Table:
    return ingest.read_table(data, max_bytes=max_bytes)


@st.cache_data(show_spinner="Decomposing with STL…", max_entries=16)
def stl(values: pd.Series, period: int, robust: bool) -> decompose.Decomposition:
    return decompose.stl(values, period, robust)


def current_dataset() -> ingest.Dataset:
    """The loaded data set; ETTh1 on a session's first run."""
    if DATASET_KEY not in st.session_state:
        st.session_state[DATASET_KEY] = load_builtin(datasets.DEFAULT_DATASET)
        st.session_state[NOTES_KEY] = []
    return st.session_state[DATASET_KEY]


def set_dataset(dataset: ingest.Dataset, notes: list[str]) -> None:
    st.session_state[DATASET_KEY] = dataset
    st.session_state[NOTES_KEY] = notes


def window_lengths() -> tuple[int, int]:
    """Look-back and horizon chosen in the sidebar."""
    return (
        int(st.session_state.get("seq_len", DEFAULT_SEQ_LEN)),
        int(st.session_state.get("pred_len", DEFAULT_PRED_LEN)),
    )


def upload_limit_bytes() -> int:
    return int(st.get_option("server.maxUploadSize")) * 1024 * 1024
