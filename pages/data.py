"""Data page: the loaded series, and loading another one (built-in, upload, or the Hub)."""

import hashlib

import streamlit as st

from core import datasets, ingest, plots
from pages import common

NO_TIMESTAMP = "none (equally spaced rows)"
CANDIDATE_KEY = "candidate"  # (name, bytes, source) of a file under review, not yet loaded

dataset = common.current_dataset()
seq_len, pred_len = common.window_lengths()

st.title("Data")
st.caption(dataset.description or dataset.source)
summary = dataset.summary()
columns = st.columns(4)
columns[0].metric("Rows", f"{summary['rows']:,}")
columns[1].metric("Channels", summary["channels"])
columns[2].metric("Frequency", summary["frequency"])
columns[3].metric("Target", summary["target"])
st.caption(f"From {summary['start']} to {summary['end']} · source: {dataset.source}")
for note in st.session_state.get(common.NOTES_KEY, []):
    st.info(note)

shown = st.multiselect(
    "Channels to plot", dataset.channels, default=[dataset.target], key=f"shown_{dataset.name}"
)
if shown:
    st.plotly_chart(plots.series_figure(dataset.frame, shown, dataset.name), width="stretch")


def load(new_dataset: ingest.Dataset, notes: list[str]) -> None:
    common.set_dataset(new_dataset, [f"Loaded '{new_dataset.name}'."] + notes)
    st.session_state.pop(CANDIDATE_KEY, None)
    st.rerun()


def review_candidate(name: str, data: bytes, source: str) -> None:
    """Parse a file, let the user map its columns, show what is wrong, and load it on request."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    try:
        table = common.read_table(data, common.upload_limit_bytes())
    except ingest.DataError as error:
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
        "Timestamp column", table.timestamp_candidates + [NO_TIMESTAMP], key=f"time_{digest}"
    )
    numeric = table.numeric_candidates
    target = mapping_columns[1].selectbox(
        "Target", numeric, index=numeric.index(suggestion.target), key=f"target_{digest}"
    )
    channels = mapping_columns[2].multiselect(
        "Extra channels",
        [c for c in numeric if c != target],
        default=[c for c in suggestion.channels if c != target],
        key=f"channels_{digest}_{target}",
    )
    description = st.text_input(
        "Describe the series in a sentence (language-model prompts will use it)",
        key=f"description_{digest}",
    )
    mapping = ingest.ColumnMapping(
        None if timestamp == NO_TIMESTAMP else timestamp, target, channels, id_column, series_id
    )
    label = name if series_id is None else f"{name} [{series_id}]"
    try:
        candidate = ingest.build_dataset(
            table, mapping, label, description=description, source=source,
            min_rows=seq_len + pred_len,
        )  # fmt: skip
    except ingest.DataError as error:
        st.error(str(error))
        st.caption(f"'{dataset.name}' is still loaded.")
        return

    summary = candidate.summary()
    st.caption(
        f"{summary['rows']:,} rows · {summary['channels']} channels · {summary['frequency']} · "
        f"{summary['start']} to {summary['end']}"
    )
    problems = ingest.inspect(candidate)
    for problem in problems:
        (st.warning if problem.needs_repair else st.info)(problem.message)
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
    button = "Repair and load" if ingest.needs_repair(problems) else "Load this series"
    if st.button(button, type="primary", key=f"load_{digest}"):
        repaired, changes = ingest.repair(candidate, sort=sort, drop_duplicates=drop_duplicates, fill=fill)
        left = [p.message for p in ingest.inspect(repaired) if p.needs_repair]
        if left:
            st.error("Still not usable after the chosen repairs: " + " ".join(left))
            return
        try:
            ingest.require_rows(repaired, seq_len + pred_len)
        except ingest.DataError as error:
            st.error(str(error))
            return
        load(repaired, changes)


st.subheader("Load another series")
source = st.radio(
    "Source",
    ["Built-in data sets", "Upload a CSV or TSV", "Hugging Face Hub"],
    horizontal=True,
    key="source",
)
if source == "Built-in data sets":
    name = st.selectbox(
        "Data set",
        list(datasets.BUILT_INS),
        format_func=lambda n: f"{n}: {datasets.BUILT_INS[n].description}",
        key="builtin",
    )
    if st.button("Load", type="primary", key="load_builtin"):
        try:
            chosen = common.load_builtin(name)
            ingest.require_rows(chosen, seq_len + pred_len)
        except ingest.DataError as error:
            st.error(str(error))
        else:
            load(chosen, [])
elif source == "Upload a CSV or TSV":
    uploaded = st.file_uploader(
        "CSV or TSV with a header row; a date column is found automatically",
        type=["csv", "tsv", "txt"],
        key="upload",
    )
    if uploaded is not None:
        review_candidate(uploaded.name, uploaded.getvalue(), "upload")
else:
    hub_columns = st.columns([2, 2, 1])
    repo_id = hub_columns[0].text_input("Dataset repository (owner/name)", key="hub_repo")
    filename = hub_columns[1].text_input("File in the repository", key="hub_file")
    hub_columns[2].write("")
    if hub_columns[2].button("Fetch", key="hub_fetch"):
        try:
            with st.spinner("Downloading from the Hugging Face Hub…"):
                data, _ = datasets.fetch_hub_csv(repo_id, filename)
        except ingest.DataError as error:
            st.error(str(error))
        else:
            st.session_state[CANDIDATE_KEY] = (f"{repo_id}/{filename}", data, f"Hugging Face Hub: {repo_id}")
    if CANDIDATE_KEY in st.session_state:
        review_candidate(*st.session_state[CANDIDATE_KEY])
