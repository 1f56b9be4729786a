"""Explore page: STL decomposition, patching, RevIN and the prompt statistics of one channel."""

import pandas as pd
import streamlit as st

from core import decompose, patching, plots, stats
from pages import common

dataset = common.current_dataset()
seq_len, pred_len = common.window_lengths()
key = dataset.content_hash()

st.title("Explore")
channel = st.selectbox(
    "Channel", dataset.channels, index=dataset.channels.index(dataset.target), key=f"channel_{key}"
)
series = dataset.frame[channel]

st.header("Seasonal-trend decomposition (STL)")
proposal = decompose.propose_period(series.to_numpy(), dataset.freq)
left, right = st.columns(2)
period = left.number_input(
    "Period (steps per seasonal cycle)",
    min_value=2,
    max_value=max(2, len(series) // 2),
    value=proposal.period or 2,
    key=f"period_{key}_{channel}",
)
robust = right.checkbox(
    "Robust (down-weights outliers)",
    value=True,
    key=f"robust_{key}",
    help="statsmodels STL with robust=True: outer iterations re-weight points with large residuals.",
)
st.caption(f"Proposed period: {proposal.reason}")
try:
    result = common.stl(series, int(period), robust)
except ValueError as error:
    st.error(f"STL could not run: {error}.")
else:
    strength = st.columns(2)
    strength[0].metric("Strength of trend", f"{result.trend_strength:.2f}")
    strength[1].metric("Strength of seasonality", f"{result.seasonal_strength:.2f}")
    st.caption(
        "Strength = max(0, 1 − Var(residual) / Var(component + residual)): near 1 the component "
        "dominates, near 0 it is noise."
    )
    st.plotly_chart(plots.decomposition_figure(result, f"{dataset.name}: {channel}"), width="stretch")

st.header("One look-back window")
if len(series) < seq_len:
    st.error(
        f"The series has {len(series)} rows, fewer than the look-back of {seq_len}; lower it in the sidebar."
    )
    st.stop()
end = st.slider(
    "Window ends at row",
    min_value=seq_len,
    max_value=len(series),
    value=len(series),
    key=f"window_end_{key}",
    help=f"The {seq_len} rows before this one form the window (the sidebar's look-back).",
)
window = series.iloc[end - seq_len : end]
values = window.to_numpy(dtype=float)

st.subheader("Patching")
left, right = st.columns(2)
patch_len = left.number_input("Patch length Lp", 1, seq_len, min(16, seq_len), key="patch_len")
stride = right.number_input("Stride S", 1, seq_len, min(8, seq_len), key="stride")
count = patching.patch_count(seq_len, int(patch_len), int(stride))
st.markdown(
    f"P = ⌊(T − Lp) / S⌋ + 2 = ⌊({seq_len} − {patch_len}) / {stride}⌋ + 2 = **{count} patches**; "
    f"the end is padded with the last value repeated {stride} times."
)
st.plotly_chart(plots.patches_figure(values, int(patch_len), int(stride)), width="stretch")

st.subheader("Reversible instance normalisation (RevIN)")
normalised, mean, std = stats.revin_normalise(values)
st.caption(
    f"Each window is shifted by its mean ({mean:.4g}) and divided by its standard deviation "
    f"({std:.4g}); the model forecasts in these units and the forecast is mapped back."
)
st.plotly_chart(plots.revin_figure(values, normalised, window.index), width="stretch")

st.subheader("The prompt Time-LLM reads for this window")
found = stats.prompt_statistics(values)
st.dataframe(
    pd.DataFrame(
        {
            "statistic": ["min", "max", "median", "trend", "top-5 lags"],
            "value": [
                f"{found.minimum[0]:.4g}",
                f"{found.maximum[0]:.4g}",
                f"{found.median[0]:.4g}",
                found.trend[0],
                ", ".join(map(str, found.lags[0])),
            ],
        }
    ),
    hide_index=True,
)
st.code(stats.prompt_text(values, dataset.description, seq_len, pred_len), language=None, wrap_lines=True)
st.caption(
    "Exactly the text the model builds for this window: the data set's description (from the Data "
    "page; the Train page's description box starts from it, and what is typed there is what the model "
    "reads), the task, and the window's statistics in the series' own units."
)
st.plotly_chart(
    plots.autocorrelation_figure(stats.autocorrelation(values, len(values) - 1), list(found.lags[0])),
    width="stretch",
)
