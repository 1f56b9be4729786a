"""Explore page: what one channel looks like to a forecaster, in plain words.

Trend and seasonality (STL), one look-back window cut into patches, rescaled (RevIN) and
described in the text Time-LLM reads, and how the window resembles its own past. Each section says
in a sentence what it shows and why it matters; the formulas sit in "How this is computed" boxes.
"""

import pandas as pd
import streamlit as st

from core import decompose, patching, plots, stats
from pages import common

dataset = common.current_dataset()
seq_len, pred_len = common.window_lengths()
key = dataset.content_hash()
unit = decompose.step_unit(dataset.freq)

st.title("Explore")
st.caption("What one channel of the data looks like to a forecaster, section by section.")
channel = st.selectbox(
    "Channel", dataset.channels, index=dataset.channels.index(dataset.target), key=f"channel_{key}"
)
series = dataset.frame[channel]

st.header("Seasonal-trend decomposition (STL)")
st.caption(
    "The series split into a slow trend, a seasonal pattern that repeats every cycle (a day, a week…), "
    "and what is left over: a forecaster can carry the trend and a clear pattern forward, not the rest."
)
proposal = common.period_proposal(key, channel, dataset)
st.markdown(proposal.reason)
left, right = st.columns(2)
period = left.number_input(
    "Cycle length (steps)",
    min_value=2,
    max_value=max(2, len(series) // 2),
    value=proposal.period or 2,
    key=f"period_{key}_{channel}",
    help="How many steps one repeat of the pattern takes, e.g. 24 for a daily pattern in hourly data.",
)
robust = right.checkbox(
    "Resist outliers (slower)",
    value=False,
    key=f"robust_{key}",
    help="Fits again and again, each time trusting less the points that sit far from the fit, so a "
    "few spikes do not bend the trend. About four times slower.",
)
try:
    result = common.channel_stl(key, channel, int(period), robust, dataset)
except ValueError as error:
    st.error(f"The split could not be made: {error}.")
else:
    strength = st.columns(2)
    strength[0].metric(
        "Strength of trend",
        f"{result.trend_strength:.2f}",
        help="0: no trend, 1: the trend explains all the movement apart from the seasonal pattern.",
    )
    strength[1].metric(
        "Strength of seasonality",
        f"{result.seasonal_strength:.2f}",
        help="0: no seasonal pattern, 1: the pattern explains all the movement around the trend.",
    )
    st.markdown(
        f"**{decompose.describe_strength(result.trend_strength).capitalize()} trend and "
        f"{decompose.describe_seasonality(result, proposal)} seasonal pattern of "
        f"{decompose.describe_period(int(period), dataset.freq)}.**"
    )
    st.plotly_chart(plots.decomposition_figure(result, f"{dataset.name}: {channel}"), width="stretch")
    st.caption(
        "Top: the series (grey) and its slow trend (blue). Bottom: what is left once the trend and "
        "the seasonal pattern are taken out; the larger it is, the less a forecaster can predict."
        + (
            f" Each line is drawn with at most {plots.DRAWN_POINTS:,} points, keeping the highest and "
            "lowest value of every stretch, so no peak is lost."
            if len(series) > plots.DRAWN_POINTS
            else ""
        )
    )
    st.plotly_chart(plots.seasonal_figure(result), width="stretch")
    st.caption(
        "The seasonal pattern over its last cycles, as it adds to or takes from the trend; drag the "
        "slider under the chart to look further back."
        + (
            f" The last {plots.DRAWN_POINTS:,} steps are drawn point for point, earlier ones as their "
            "highs and lows only."
            if len(series) > plots.DRAWN_POINTS
            else ""
        )
    )
    with st.expander("How this is computed"):
        st.markdown(
            f"""
- **STL** (seasonal-trend decomposition by LOESS, Cleveland et al. 1990, from statsmodels) splits
  the series into trend + seasonal + residual, which add back to it exactly. The seasonal smoother
  spans {result.seasonal_smoother} cycles (statsmodels' default is 7, which lets the pattern follow
  noise: on a random walk it reports a strength of seasonality of about 0.3). Each LOESS is
  evaluated every ⌈window / 10⌉ points and interpolated, as R's `stl()` does.
- **Resist outliers** is STL's robust mode: 15 passes that down-weight points with large
  residuals (R's `stl()` counts, one inner pass each). It is off by default because it takes
  about four times as long.
- **Strength** (Wang, Smith and Hyndman, 2006): F = max(0, 1 − Var(residual) / Var(component +
  residual)); near 1 the component dominates, near 0 it is noise.
- **The proposed cycle** is the natural one of the frequency (a day of hourly data, a year of
  weekly data) when the autocorrelation at that lag is above 0.1, else the strongest
  autocorrelation peak up to 400 steps. It is called seasonal only when the strength at
  that cycle is at least {decompose.CLEAR_STRENGTH} and above what noise alone reaches over as
  many cycles (about 3 / cycles: over few cycles STL fits a pattern to anything), and the
  step-to-step changes also recur at that lag (autocorrelation above 2/√n): a high
  autocorrelation alone can be mere persistence.
"""
        )

st.header("One look-back window")
st.caption(
    f"A forecaster reads a fixed stretch of recent steps, the look-back ({seq_len} steps, set in the "
    f"sidebar), and forecasts the next {pred_len}. Choose where the window ends to see what it reads."
)
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
if dataset.has_time_index:
    st.caption(f"This window runs from {window.index[0]} to {window.index[-1]}.")
else:
    st.caption(f"This window holds rows {window.index[0]} to {window.index[-1]}.")

st.subheader("Patching: the window cut into short pieces")
left, right = st.columns(2)
patch_len = int(left.number_input("Piece length (steps)", 1, seq_len, min(16, seq_len), key="patch_len"))
stride = int(right.number_input("A new piece every (steps)", 1, seq_len, min(8, seq_len), key="stride"))
count = patching.patch_count(seq_len, patch_len, stride)
st.caption(
    "Time-LLM and the other patch-based models do not read the window value by value: they cut it "
    f"into {count} overlapping pieces (patches) of {patch_len} steps, a new one every {stride} steps, "
    "and read each piece as a language model reads a word, which lets them see short shapes rather "
    "than single points."
)
st.plotly_chart(
    plots.patches_figure(values, patch_len, stride, window.index, channel),
    width="stretch",
)
with st.expander("How this is computed"):
    st.markdown(
        f"P = ⌊(T − Lp) / S⌋ + 2 = ⌊({seq_len} − {patch_len}) / {stride}⌋ + 2 = **{count} patches**, "
        f"with T the look-back, Lp the patch length and S the stride. The end of the window is padded "
        f"with its last value repeated {stride} times (the open circles), so that the last steps also "
        "start a patch. The models call the same code (`core/patching.py`), so this is what they see."
    )

st.subheader("Rescaling each window (RevIN)")
normalised, mean, std = stats.revin_normalise(values)
st.caption(
    "Before reading a window the model shifts it to an average of 0 and stretches it to a spread of "
    "1, so that what it learned at one level works at any level; its forecast is scaled back to the "
    "series' units afterwards."
)
st.plotly_chart(plots.revin_figure(values, normalised, window.index), width="stretch")
with st.expander("How this is computed"):
    st.markdown(
        f"Reversible instance normalisation (Kim et al., 2022), per window and channel: "
        f"x̂ = (x − μ) / σ with this window's mean μ = {mean:.4g} and σ = √(variance + 10⁻⁵) = "
        f"{std:.4g}. The forecast ŷ is mapped back as ŷ · σ + μ."
    )

st.subheader("The text Time-LLM reads with this window")
st.caption(
    "Time-LLM is a forecaster built on a language model: with every window it is given a short text "
    "saying what the data are, what to forecast, and a few facts about the window. This is that text."
)
found = stats.prompt_statistics(values)
acf = stats.autocorrelation(values, len(values) - 1)
st.dataframe(
    pd.DataFrame(
        {
            "fact": [
                "lowest value",
                "highest value",
                "middle value (median)",
                "direction over the window",
                "most similar steps back (top-5 lags)",
            ],
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
st.markdown(stats.describe_lags(found.lags[0], acf, unit))
st.code(stats.prompt_text(values, dataset.description, seq_len, pred_len), language=None, wrap_lines=True)
with st.expander("How this is computed"):
    st.markdown(
        "Exactly the text the model builds for this window: the data set's description (from the "
        "Data page; the Train page's description box starts from it, and what is typed there is what "
        "the model reads), the task, and the window's statistics in the series' own units. The "
        "direction compares the window's last value with its first. The lags are the five with the "
        "highest autocorrelation, computed without wrapping the window's end onto its start, lag 0 "
        "left out (the official Time-LLM code includes it, so there it always wins)."
    )

st.subheader("How the window resembles its own past")
st.caption(
    "Each bar says how closely the window moves with a copy of itself shifted back by that many steps "
    "(1: in step, 0: unrelated, below 0: opposite). Tall bars near the left mean the recent past is a "
    "good guide; a tall bar further out means a pattern that repeats. The red bars are the lags in the "
    "prompt."
)
st.plotly_chart(plots.autocorrelation_figure(acf, list(found.lags[0]), unit), width="stretch")
