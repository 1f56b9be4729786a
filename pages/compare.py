"""Compare page: every finished run of one setting beside the naive, seasonal naive and Naive2
baselines, scored again on the same test windows, with their cost; the table exports as CSV."""

import numpy as np
import streamlit as st

from core import plots
from core.runs import compare
from pages import common

store = common.run_store()
groups = compare.settings(store.list_runs())

st.title("Compare")
if not groups:
    st.info("No finished run yet. Train a model on the Train page first; its run will appear here.")
    st.stop()

loaded_hash = common.current_dataset().content_hash()
choices = list(groups)
# Open with the loaded data set's newest setting when it has one.
default = next((i for i, s in enumerate(choices) if s.dataset_hash == loaded_hash), 0)
setting = st.selectbox(
    "Runs that forecast the same targets",
    choices,
    index=default,
    format_func=lambda s: f"{s.label} ({len(groups[s])} run{'s' if len(groups[s]) > 1 else ''})",
)
runs = groups[setting]
elsewhere = [
    other
    for other, members in groups.items()
    if other != setting
    and other.dataset_hash == setting.dataset_hash
    and any(getattr(run, "showcase", False) for run in members)
]
if elsewhere and not any(getattr(run, "showcase", False) for run in runs):
    st.caption(
        "The shipped showcase runs on this data set forecast something else, so they are compared apart: "
        + "; ".join(f"“{other.label}”" for other in elsewhere)
        + ". Pick that above to see them."
    )
# Runs that scored every test window by default: one that decoded a few would narrow every row to them.
complete = [
    r for r in runs if r.test_metrics.get("windows_available") in (None, r.test_metrics.get("windows"))
]
chosen = st.multiselect(
    "Runs",
    runs,
    default=complete or runs,
    format_func=compare.run_label,
    help="A run that decodes a subset of test windows narrows the comparison to the windows it has.",
)
partial = [r for r in runs if r not in complete and r not in chosen]
if complete and partial:
    st.caption(
        "Not shown at first: "
        + "; ".join(
            f"{compare.run_label(r)}, which forecast only {r.test_metrics['windows']:,} of the "
            f"{r.test_metrics['windows_available']:,} past windows"
            for r in partial
        )
        + ". Adding it compares every run on those windows only."
    )
if not chosen:
    st.info("Pick at least one run.")
    st.stop()


@st.cache_data(show_spinner="Scoring every run and the baselines on the same windows…", max_entries=8)
def scored(run_ids: tuple[str, ...]) -> compare.Comparison:
    return compare.compare(store, [store.get(run_id) for run_id in run_ids])


try:
    result = scored(tuple(sorted(run.id for run in chosen)))
except (ValueError, FileNotFoundError) as error:
    st.error(f"These runs cannot be compared: {error}")
    st.stop()

metric_labels = list(compare.METRIC_COLUMNS.values())
table = result.table
full_table = table.drop(columns=["kind", "run id"]).replace([np.inf, -np.inf], np.nan)
if not full_table["ablation of"].any():
    full_table = full_table.drop(columns=["ablation of"])
# A metric no row has (MAPE when an actual value is zero) is left out: the grid would say "None".
full_table = full_table.drop(
    columns=[c for c in metric_labels if c in full_table and full_table[c].isna().all()]
)
# The page shows what decides between runs; every column is in the expander and the download.
SHOWN = ["row", "MAE", "MSE", "MASE", "OWA", "sMAPE (%)", "wall time (s)", "trainable parameters"]
compact = full_table[[c for c in SHOWN if c in full_table.columns]]
best_metrics = [c for c in compact.columns if c in metric_labels and compact[c].notna().any()]


def mark_best(frame):
    """The lowest value of each metric in bold on green: the best row for that metric."""
    numbers = {c: "{:.4f}" for c in frame.columns if c in metric_labels}
    numbers |= {"wall time (s)": "{:.1f}", "peak memory (MB)": "{:.0f}"}
    numbers |= {c: "{:,.0f}" for c in ("trainable parameters", "total parameters")}
    return frame.style.highlight_min(
        subset=best_metrics, props="font-weight: bold; background-color: #d9f2d9"
    ).format({c: f for c, f in numbers.items() if c in frame.columns}, na_rep="")


formats = {
    **{label: st.column_config.NumberColumn(format="%.4f") for label in metric_labels},
    "wall time (s)": st.column_config.NumberColumn("time to fit (s)", format="%.1f"),
    "peak memory (MB)": st.column_config.NumberColumn(format="%.0f"),
    "trainable parameters": st.column_config.NumberColumn("parameters trained", format="localized"),
    "total parameters": st.column_config.NumberColumn(format="localized"),
}
st.caption(
    "Errors here are on standardised values, so that data sets and columns compare: the Forecast page "
    "gives each run's typical error in the series' own units."
)
st.dataframe(mark_best(compact), hide_index=True, column_config=formats, width="stretch")
winners = {
    label: compact.loc[compact[label].idxmin(), "row"] for label in ("MAE", "MASE") if label in best_metrics
}
if winners:
    st.caption(
        "Lower is better in every error column; the best row of each is in bold on green. "
        + " ".join(f"Best {label}: {row}." for label, row in winners.items())
    )
with st.expander("Every column"):
    st.dataframe(mark_best(full_table), hide_index=True, column_config=formats)
st.markdown(
    f"""
- **Windows:** {result.windows} test windows of {result.windows_available}, the same for every row.
- **MSE, MAE, RMSE:** on values standardised with the training rows' statistics, as published tables use.
- **MAPE, sMAPE:** percent of the series' own units; MAPE is left out where an actual value is zero.
- **MASE:** against the seasonal naive error on the training rows. **OWA:** against Naive2 on these
  windows (Naive2 is 1; below 1 beats it). The baselines read the ten seasons before each window.
- **Time to fit (wall time):** the whole run: building the model (loading a language model
  included), training with its validation, and the test (decoding, for a model that decodes). The
  baselines fit nothing: 0 s. **Peak memory:** the GPU's peak,
  or on a CPU the whole process's peak resident memory (the dashboard's included), so it compares only
  runs made in the same process.
"""
)
for note in result.notes:
    (st.warning if "Scored on the" in note else st.caption)(note)
st.download_button(
    "Download the table (CSV)",
    table.to_csv(index=False, float_format="%.6g").encode(),
    file_name="comparison.csv",
    mime="text/csv",
    on_click="ignore",
)

st.subheader("Accuracy side by side")
left, right = st.columns([4, 1])
shown = left.multiselect(
    "Metrics", metric_labels, default=["MSE", "MAE", "MASE", "OWA"], help="Lower is better for every one."
)
log_scale = right.toggle(
    "Log scale",
    help="When one row's errors dwarf the others' (often the naive forecast's), a log axis "
    "keeps every bar readable.",
)
if shown:
    st.plotly_chart(plots.grouped_bars_figure(table, shown, log_scale=log_scale), width="stretch")

st.subheader("Error by horizon step")
baselines = tuple(table.loc[table["kind"] == "baseline", "row"])
st.plotly_chart(
    plots.horizon_error_figure(result.by_horizon, dotted=baselines, log_scale=log_scale), width="stretch"
)
st.caption("Baselines dotted. Errors usually grow with the horizon; a model that helps should stay below.")
