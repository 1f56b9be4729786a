"""Attention page: how a trained model explains its forecast of one test window.

Which runs can explain themselves, and how, is said by their registry entry (`explains`); the
explanation is a list of panels (`core.explain`) drawn here by kind, whichever model made it. Prompt
picks counted over every test window come from the run's stored result.
"""

import streamlit as st

from core import plots
from core.explain import Heatmap, Table, Text
from core.models.registry import MODELS
from core.runs import showcase
from core.runs.rebuild import explain_window, rebuild_model
from core.runs.result import ResultMissing
from pages import common

store = common.run_store()


def explains(run) -> bool:
    entry = MODELS.get(run.model)
    if run.status != "succeeded" or entry is None or entry.explains is None:
        return False
    return entry.explains.when is None or entry.explains.when(run.config.get("model_config", {}))


runs = [r for r in store.list_runs() if explains(r)]

st.title("Attention")
if not runs:
    kinds = sorted(
        {f"{e.label} ({e.explains.label})" for e in MODELS.values() if e.explains and not e.parent}
    )
    st.info(
        "No finished run of a model that explains its forecasts yet. Train one on the Train page: "
        + "; ".join(kinds)
        + "."
    )
    st.stop()

run = st.selectbox(
    "Run",
    runs,
    format_func=lambda r: (
        f"{common.run_words(r)} · {r.id} · test MSE {r.test_metrics.get('mse', float('nan')):.4f}"
    ),
)
entry = MODELS[run.model]
st.caption(f"{entry.label}: {entry.explains.label}.")
if run.showcase:
    st.caption(showcase.describe(run) + " Train your own on the Train page; it will be listed first.")


@st.cache_resource(max_entries=2, show_spinner="Loading the run's model…")
def model_of(run_id: str):
    return rebuild_model(common.run_store(), run_id)


try:
    model = model_of(run.id)
    result = common.run_result(run.id)
except (ResultMissing, FileNotFoundError, KeyError, ValueError) as error:
    st.error(f"This run cannot be explained: {error}.")
    st.stop()
if model.untrained_backbone:
    st.warning("This model's language model is untrained (random weights): what it attends to means nothing.")

if result.picks is not None:
    st.plotly_chart(plots.prompt_counts_figure(result.picks, result.part_names), width="stretch")
    st.caption(
        f"Each of {result.picks.shape[1]} pool prompts, counted whenever a part of a test window (per "
        "channel) picked it."
    )

channels = list(run.config.get("channels_in") or [])
count = len(result.test_windows())
left, right = st.columns(2)
if count == 1:
    left.caption("The test split holds one window.")
    window = 0
else:
    window = left.slider("Test window", 1, count, count, key=f"explain_window_{run.id}") - 1
channel = None
if entry.explains.per_channel:
    channel = right.selectbox(
        "Channel", range(len(channels)), index=len(channels) - 1, format_func=channels.__getitem__
    )

try:
    panels = explain_window(model, result, window, channel)
except (ValueError, NotImplementedError) as error:
    st.error(f"This run cannot be explained: {error}.")
    st.stop()
for i, panel in enumerate(panels):
    if isinstance(panel, Heatmap):
        layer = 0
        if len(panel.layers) > 1:
            layer = panel.layers.index(st.selectbox("Show", panel.layers, key=f"layer_{run.id}_{i}"))
        st.plotly_chart(plots.heatmap_figure(panel, layer), width="stretch")
    elif isinstance(panel, Table):
        st.markdown(f"**{panel.title}**")
        st.dataframe(panel.frame, hide_index=True)
    elif isinstance(panel, Text):
        st.markdown(f"**{panel.title}**")
        st.code(panel.text, language=None, wrap_lines=True)
    if panel.caption:
        st.caption(panel.caption)
