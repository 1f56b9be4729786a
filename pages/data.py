"""Data page: the loaded series, and loading another one (built-in, upload, or the Hub)."""

import hashlib
import logging

import streamlit as st

from core import datasets, ingest, plots
from core.dataset import AmbiguousDateOrder, ColumnMapping, DataError
from pages import common

DATE_ORDERS = {"Day first (31/12/2024)": True, "Month first (12/31/2024)": False}
MANY_CHANNELS = 20  # more possible extra channels than this go into an expander
LISTED = 10  # a problem's message names this many columns; more are listed on request
CANDIDATE_KEY = "candidate"  # (name, bytes, source) of a Hub file under review, not yet loaded
UPLOADS_KEY = "uploads_loaded"  # bumped after each load, which gives the uploader a fresh, empty key
FAILED_LOAD_KEY = "failed_load"  # why the last click on a load button did not load, shown once

dataset = common.current_dataset()
seq_len, pred_len = common.window_lengths()

st.title("Data")
st.header(dataset.name)
if dataset.description:
    st.caption(dataset.description)
summary = dataset.summary()
columns = st.columns(4)
columns[0].metric("Rows", f"{summary['rows']:,}")
columns[1].metric("Channels", summary["channels"])
columns[2].metric("Frequency", summary["frequency"])
columns[3].metric("Target", summary["target"])
st.caption(f"From {summary['start']} to {summary['end']} · source: {dataset.source}")
notes = st.session_state.get(common.NOTES_KEY, [])
if notes:
    st.info("\n".join(f"- {note}" for note in notes))

shown = st.multiselect(
    "Channels to plot", dataset.channels, default=[dataset.target], key=f"shown_{dataset.name}"
)
if shown:
    st.plotly_chart(
        plots.series_figure(dataset.frame, shown, dataset.name), width="stretch", key="loaded_chart"
    )


def load(prepare, *args, **kwargs) -> None:
    """Button callback: `prepare(*args, **kwargs)` gives (dataset, notes) or raises DataError.

    Running as a callback, before the page is drawn, lets the whole page (sidebar included) show
    the new data set at once. On failure the loaded data set stays and the reason is shown.
    """
    try:
        new_dataset, notes = prepare(*args, **kwargs)
    except DataError as error:
        st.session_state[FAILED_LOAD_KEY] = str(error)
        return
    common.set_dataset(new_dataset, [f"Loaded '{new_dataset.name}'."] + notes)
    st.session_state.pop(CANDIDATE_KEY, None)
    st.session_state[UPLOADS_KEY] = st.session_state.get(UPLOADS_KEY, 0) + 1


def show_failed_load() -> None:
    if FAILED_LOAD_KEY in st.session_state:
        st.error(st.session_state.pop(FAILED_LOAD_KEY))
        st.caption(f"'{dataset.name}' is still loaded.")


def prepare_builtin():
    # Read the choice from the widget state: callbacks see this click's values, bound args the last run's.
    chosen = common.load_builtin(st.session_state["builtin"])
    ingest.require_rows(chosen, sum(common.window_lengths()))
    return chosen, []


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def review_candidate(name: str, data: bytes, source: str) -> None:
    """Any failure while reviewing a file ends in a plain message; the loaded data set stays."""
    try:
        _review_candidate(name, data, source)
    except Exception as error:  # a file no rule foresaw: never show a traceback
        logging.getLogger(__name__).exception("reviewing %s failed", name)
        st.error(
            f"This file could not be read ({type(error).__name__}: {error}). Check that it is a CSV "
            "with one header row and one row per time step."
        )
        st.caption(f"'{dataset.name}' is still loaded.")


def date_order(key: str) -> None:
    """The question a file with dates such as 03/01/2024 leaves open: no choice until one is made."""
    st.radio("How are the dates written?", list(DATE_ORDERS), index=None, key=key, horizontal=True)


def _review_candidate(name: str, data: bytes, source: str) -> None:
    """Parse a file, let the user map its columns, show what is wrong, and load it on request."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    try:
        table = common.read_table(data, common.upload_limit_bytes())
    except DataError as error:
        st.error(str(error))
        st.caption(f"'{dataset.name}' is still loaded.")
        return
    for note in table.notes:
        st.caption(note)

    suggestion = ingest.suggest_mapping(table)
    mapping_columns = st.columns(3)
    id_column = series_id = None
    if table.id_candidates:
        id_column = mapping_columns[0].selectbox(
            "Series id column (long layout)", table.id_candidates, key=f"id_{digest}"
        )
        series_id = mapping_columns[1].selectbox(
            "Series", ingest.series_ids(table, id_column), key=f"series_{digest}_{id_column}"
        )
        mapping_columns = st.columns(3)
    timestamp = mapping_columns[0].selectbox(
        "Timestamp column", table.timestamp_candidates + [ingest.NO_TIMESTAMP], key=f"time_{digest}"
    )
    numeric = table.numeric_candidates
    target = mapping_columns[1].selectbox(
        "Target", numeric, index=numeric.index(suggestion.target), key=f"target_{digest}"
    )
    # Every suggested column but the chosen target, the suggested target included when another
    # is chosen. The key follows the target, so a new target starts from this default.
    suggested = {*suggestion.channels, suggestion.target}
    others = [c for c in numeric if c != target]
    channels_key = f"channels_{digest}_{target}"
    default = [c for c in others if c in suggested]
    place = mapping_columns[2]
    if len(others) > MANY_CHANNELS:  # a wide file: a thousand chips would push the page a long way down
        place = place.expander(f"Extra channels ({len(others):,} columns)")
    channels = place.multiselect("Extra channels", others, default=default, key=channels_key)
    description = st.text_input(
        "Describe the series in a sentence (language-model prompts will use it)",
        key=f"description_{digest}",
    )
    order_key = f"dayfirst_{digest}_{timestamp}"
    mapping = ColumnMapping(
        None if timestamp == ingest.NO_TIMESTAMP else timestamp,
        target,
        channels,
        id_column,
        series_id,
        dayfirst=DATE_ORDERS.get(st.session_state.get(order_key)),
    )
    label = name if series_id is None else f"{name} [{series_id}]"
    try:
        candidate, problems = common.review_upload(
            data, common.upload_limit_bytes(), mapping, label, description, source, seq_len + pred_len
        )
    except AmbiguousDateOrder as question:  # only the user can tell: ask, and build again
        st.warning(str(question))
        date_order(order_key)
        st.caption(f"'{dataset.name}' is still loaded.")
        return
    except DataError as error:
        st.error(str(error))
        st.caption(f"'{dataset.name}' is still loaded.")
        return
    if order_key in st.session_state:  # asked before: the answer stays in sight, and can change
        date_order(order_key)

    for note in candidate.notes:
        st.caption(note)
    summary = candidate.summary()
    st.caption(
        f"{summary['rows']:,} rows · {_plural(summary['channels'], 'channel')} · {summary['frequency']} · "
        f"{summary['start']} to {summary['end']}"
    )
    with st.expander("Preview of the target", expanded=True):
        st.plotly_chart(
            plots.series_figure(candidate.frame, [candidate.target], label),
            width="stretch",
            key="candidate_chart",
        )
    for problem in problems:
        worth_a_look = problem.needs_repair or problem.warning
        show = st.error if problem.blocking else st.warning if worth_a_look else st.info
        show(problem.message)
        if len(problem.columns) > LISTED:  # one message for many columns, each of them on request
            with st.expander(f"Show all {len(problem.columns):,} columns"):
                st.write(", ".join(problem.columns))
    if ingest.blocking(problems):  # no repair can fix these: offer none, and no button
        st.caption(f"'{dataset.name}' is still loaded.")
        return
    sort = drop_duplicates = True
    fill = "interpolate"
    if ingest.needs_repair(problems):
        st.markdown("**Repair before loading**")
        repair_columns = st.columns(3)
        sort = repair_columns[0].checkbox("Sort by time", value=True, key=f"sort_{digest}")
        drop_duplicates = repair_columns[1].checkbox(
            "Drop repeated timestamps (keep the first)", value=True, key=f"dedupe_{digest}"
        )
        fill_label = repair_columns[2].radio(
            "Fill gaps and missing values",
            ["Linear interpolation", "Carry the last value forward"],
            key=f"fill_{digest}",
        )
        fill = "interpolate" if fill_label == "Linear interpolation" else "ffill"
    st.button(
        "Repair and load" if ingest.needs_repair(problems) else "Load this series",
        type="primary",
        key=f"load_{digest}",
        on_click=load,
        # The click loads the series again from the table, with the chosen repairs, as the
        # command line loads a file.
        args=(ingest.load_dataset, table, mapping, label),
        kwargs=dict(
            description=description,
            source=source,
            min_rows=seq_len + pred_len,
            sort=sort,
            drop_duplicates=drop_duplicates,
            fill=fill,
        ),
    )
    show_failed_load()


st.subheader("Load another series")
source = st.radio(
    "Source",
    ["Built-in data sets", "Upload a CSV or TSV", "Hugging Face Hub"],
    horizontal=True,
    key="source",
)
if source == "Built-in data sets":
    st.selectbox(
        "Data set",
        list(datasets.BUILT_INS),
        format_func=lambda n: f"{n}: {datasets.BUILT_INS[n].description}",
        key="builtin",
    )
    st.button("Load", type="primary", key="load_builtin", on_click=load, args=(prepare_builtin,))
    show_failed_load()
elif source == "Upload a CSV or TSV":
    uploaded = st.file_uploader(
        "CSV or TSV with a header row; a date column is found automatically",
        type=["csv", "tsv", "txt"],
        key=f"upload_{st.session_state.get(UPLOADS_KEY, 0)}",
    )
    if uploaded is not None:
        review_candidate(uploaded.name, uploaded.getvalue(), f"uploaded file {uploaded.name}")
else:
    hub_columns = st.columns([2, 2, 1])
    repo_id = hub_columns[0].text_input("Dataset repository (owner/name)", key="hub_repo")
    filename = hub_columns[1].text_input("File in the repository", key="hub_file")
    hub_columns[2].write("")
    if hub_columns[2].button("Fetch", key="hub_fetch"):
        try:
            with st.spinner("Downloading from the Hugging Face Hub…"):
                data, _ = datasets.fetch_hub_csv(repo_id, filename)
        except DataError as error:
            st.error(str(error))
        else:
            st.session_state[CANDIDATE_KEY] = (f"{repo_id}/{filename}", data, f"Hugging Face Hub: {repo_id}")
    if CANDIDATE_KEY in st.session_state:
        review_candidate(*st.session_state[CANDIDATE_KEY])
