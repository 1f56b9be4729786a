"""Attention page: which text prototypes each patch of a test window attends to (Time-LLM runs),
and which pool prompts each part picks (TEMPO runs with a prompt pool)."""

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core import plots
from core.models.time_llm import nearest_tokens
from core.training.runner import rebuild_model, stored_test_windows
from pages import common

SHOWN_PROTOTYPES = 30  # columns of the heatmap: the prototypes this window attends to most

store = common.run_store()
runs = [
    r
    for r in store.list_runs()
    if r.status == "succeeded"
    and (r.model.startswith("time_llm") or r.config.get("model_config", {}).get("prompt") == "pool")
]

st.title("Attention")
if not runs:
    st.info(
        "No finished Time-LLM run, nor TEMPO run with a prompt pool, yet. Train one on the Train page "
        "(model: Time-LLM, or TEMPO with prompt: pool)."
    )
    st.stop()

run = st.selectbox(
    "Run",
    runs,
    format_func=lambda r: f"{r.name} · {r.id} · test MSE {r.test_metrics.get('mse', float('nan')):.4f}",
)


@st.cache_resource(max_entries=2, show_spinner="Loading the run's model…")
def model_of(run_id: str):
    return rebuild_model(common.run_store(), run_id)


@st.cache_data(max_entries=2, show_spinner="Finding each prototype's nearest words…")
def prototype_words(run_id: str) -> list[str]:
    model = model_of(run_id)
    with torch.no_grad():
        words = nearest_tokens(model.prototypes(), model.vocabulary, model.tokenizer)
    return [f"#{i} {' / '.join(w)}" for i, w in enumerate(words)]


def pick_window(container, count: int, key: str) -> int:
    """A test window by its index (the last one first); no slider when there is only one."""
    if count == 1:
        container.caption("The test split holds one window.")
        return 0
    return container.slider("Test window", 0, count - 1, count - 1, key=key)


def show_prompt_picks(run, model, windows: np.ndarray) -> None:
    """TEMPO with a pool: how often each part picked each prompt over the test windows, and what
    one window's parts picked."""
    names = list(model.part_names)
    if model.untrained_backbone:
        st.warning(f"The backbone '{model.config.backbone}' is untrained (random weights).")
    counts = store.load_arrays(run.id, "test").get("prompt_counts")
    if counts is not None:
        st.plotly_chart(plots.prompt_counts_figure(counts, names), width="stretch")
        st.caption(
            f"Each of {counts.shape[1]} pool prompts, counted whenever a part of a test window (per "
            f"channel) put it among its top {model.config.top_k}."
        )
    window_index = pick_window(st, len(windows), f"pool_window_{run.id}")
    x = torch.tensor(windows[window_index : window_index + 1], dtype=torch.float32)
    picks = model.explain(x).chosen  # (C, parts, k)
    channels = run.config.get("channels_in") or [f"channel {c + 1}" for c in range(model.config.n_channels)]
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "channel": channels[c],
                    "part": names[p],
                    "prompts picked": ", ".join(map(str, row.tolist())),
                }
                for c in range(picks.shape[0])
                for p, row in enumerate(picks[c])
            ]
        ),
        hide_index=True,
    )


try:
    model = model_of(run.id)
    windows = stored_test_windows(store, run.id)
except (FileNotFoundError, KeyError) as error:
    st.error(
        f"This run cannot be explained: {error}. Runs stored before attention maps existed lack test inputs."
    )
    st.stop()
if run.model.startswith("tempo"):
    show_prompt_picks(run, model, windows)
    st.stop()
config = model.config
if model.backbone.untrained:
    st.warning(f"The backbone '{config.backbone}' is untrained (random weights): its words mean nothing.")
names = run.config.get("channels_in") or [f"channel {c + 1}" for c in range(config.n_channels)]
left, middle, right = st.columns(3)
window_index = pick_window(left, len(windows), f"attention_window_{run.id}")
channel = middle.selectbox(
    "Channel", range(config.n_channels), index=config.n_channels - 1, format_func=names.__getitem__
)
head = right.selectbox("Head", ["mean of heads", *range(config.n_heads)], format_func=str)

x = torch.tensor(windows[window_index : window_index + 1], dtype=torch.float32)  # (1, L, C)
explanation = model.explain(x)
weights = explanation.attention[channel]  # (K, P, V') for this channel (B = 1)
weights = weights.mean(0) if head == "mean of heads" else weights[head]  # (P, V')
weights = weights.numpy()
labels = prototype_words(run.id)
top = np.argsort(-weights.mean(0))[:SHOWN_PROTOTYPES]
st.plotly_chart(
    plots.attention_figure(
        weights[:, top], [labels[i] for i in top], "Patches × the prototypes they attend to most"
    ),
    width="stretch",
)
st.caption(
    f"{weights.shape[1]} prototypes in all; the {len(top)} with the highest mean weight for this window "
    "are shown. Each prototype is named by the three vocabulary tokens nearest to it (cosine similarity "
    "of embeddings)."
)

patch = (
    st.slider("Patch", 1, weights.shape[0], 1, key=f"attention_patch_{run.id}") - 1
    if weights.shape[0] > 1
    else 0
)
raw = x[0, :, channel].numpy()
if config.input_mean is not None:
    raw = raw * config.input_std[channel] + config.input_mean[channel]
st.plotly_chart(plots.window_patch_figure(raw, config.patch_len, config.stride, patch), width="stretch")
best = np.argsort(-weights[patch])[:5]
st.dataframe(
    pd.DataFrame({"prototype": [labels[i] for i in best], "weight": weights[patch, best].round(4)}),
    hide_index=True,
)
st.markdown("**The prompt this window was given**")
st.code(explanation.prompts[channel], language=None, wrap_lines=True)
