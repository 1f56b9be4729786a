"""Forecast page: one stored run's forecasts in the series' own units, a forecast past the end of the
data, downloads of the forecasts and the run's config, and a relaunch from that config."""

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.models.registry import MODELS
from core.run_config import config_json, config_toml, spec_from_config
from core.training.forecasts import (
    PART_NAMES,
    SERIES,
    forecast_table,
    future_forecast,
    run_series,
    unscale,
    unscale_parts,
)
from core.training.runner import rebuild_model, run_training
from core.training.trainer import TrainingError, resolve_device
from pages import common

store = common.run_store()
runs = [r for r in store.list_runs() if r.status == "succeeded"]

st.title("Forecast")
if not runs:
    st.info("No finished run yet. Train a model on the Train page first.")
    st.stop()

ids = [r.id for r in runs]
selected = st.session_state.get(common.SELECTED_RUN_KEY)
run = st.selectbox(
    "Run",
    runs,
    index=ids.index(selected) if selected in ids else 0,
    format_func=lambda r: (
        f"{r.name} · {r.id} · features {r.config.get('features')}, look-back {r.config.get('seq_len')}, "
        f"horizon {r.config.get('pred_len')} · test MSE {r.test_metrics.get('mse', float('nan')):.4f}"
    ),
)
label = MODELS[run.model].label if run.model in MODELS else run.model
st.caption(
    f"{label} on {run.dataset_name} · precision {run.precision} on {run.device} · best epoch "
    f"{run.best_epoch} · {run.wall_time_s or 0:.1f} s · {run.trainable_params:,} trainable parameters"
)
metrics = run.test_metrics
columns = st.columns(4)
for column, name in zip(columns, ["mse", "mae", "rmse", "mase"], strict=True):
    column.metric(name.upper(), f"{metrics.get(name, float('nan')):.4f}")
st.caption(
    f"Over {metrics.get('windows', '?')} test windows, on values standardised with training-split "
    "statistics, as the published tables use. The Compare page adds MAPE, sMAPE and OWA in the series' "
    "own units, beside the naive, seasonal naive and Naive2 baselines."
)

try:
    arrays = store.load_arrays(run.id, "test")
except FileNotFoundError as error:
    st.error(f"This run's forecasts are missing from the run store: {error}")
    st.stop()
try:
    series = run_series(store.load_arrays(run.id, SERIES), run.config)
except FileNotFoundError:
    series = None  # runs stored before the whole series was kept: the window view only
forecast, actual = unscale(arrays)
configurations = list(metrics.get("configurations") or {}) if "base_forecast" in arrays else []
seq_len, pred_len = run.config["seq_len"], run.config["pred_len"]
future_key = f"future_{run.id}"


@st.cache_data(show_spinner="Writing the CSV…", max_entries=4)
def forecast_csv(run_id: str, channels: tuple[str, ...]) -> bytes:
    """Built once per run (it can reach tens of megabytes), not on every rerun of the page."""
    forecast, actual = unscale(store.load_arrays(run_id, "test"))
    return forecast_table(forecast, actual, list(channels)).to_csv(index=False, float_format="%.6g").encode()


def band(name: str, window: int, channel: int) -> dict[str, np.ndarray]:
    """A sampling run's 10–90 % band of one window and channel in the series' units, if it has one."""
    if f"{name}_lower" not in arrays:
        return {}
    mean, std = arrays["scaler_mean"].reshape(-1)[channel], arrays["scaler_std"].reshape(-1)[channel]
    return {
        "lower": arrays[f"{name}_lower"][window, :, channel] * std + mean,
        "upper": arrays[f"{name}_upper"][window, :, channel] * std + mean,
    }


channels = run.config.get("channels_out") or [f"channel {i + 1}" for i in range(forecast.shape[2])]
left, right = st.columns(2)
window = 0
if len(forecast) > 1:
    label = "Decoded test window" if configurations else "Test window"
    window = left.slider(label, 1, len(forecast), len(forecast), key=f"window_{run.id}") - 1
channel = right.selectbox(
    "Channel", range(len(channels)), index=len(channels) - 1, format_func=channels.__getitem__
)

if series is not None:
    borders = run.config["borders"]
    column = series.channels_in.index(channels[channel])
    history = pd.Series(series.values[:, column], index=series.index)
    # Scored rows of each split: validation and test start `seq_len` rows into their borders.
    spans = {
        "train": (borders["train"][0], borders["train"][1]),
        "validation": (borders["val"][0] + seq_len, borders["val"][1]),
        "test": (borders["test"][0] + seq_len, borders["test"][1]),
    }
    last = len(series.index) - 1
    splits = {name: (series.index[a], series.index[min(b, last)]) for name, (a, b) in spans.items()}
    position = int(arrays["window_index"][window]) if "window_index" in arrays else window
    first = spans["test"][0] + position
    test_frame = pd.DataFrame(
        {"forecast": forecast[window, :, channel], "actual": actual[window, :, channel]}
        | band("proxy", window, channel),
        index=series.index[first : first + pred_len],
    )
    future = st.session_state.get(future_key)
    future_frame = None
    if future is not None and channels[channel] in future:
        name = channels[channel]
        future_frame = pd.DataFrame({"forecast": future[name]}, index=future.index)
        if f"{name} 10%" in future:
            future_frame["lower"], future_frame["upper"] = future[f"{name} 10%"], future[f"{name} 90%"]
    at_end = future_frame is not None and (
        st.radio(
            "Show",
            ["the test window", "the end of the data"],
            index=1,
            horizontal=True,
            key=f"focus_{run.id}",
            help="Where the chart opens; the range slider below it moves along the whole series.",
        )
        == "the end of the data"
    )
    if at_end:
        start = max(len(series.index) - 4 * pred_len - seq_len, 0)
        focus = (series.index[start], future_frame.index[-1])
    else:
        focus = (
            series.index[max(first - 2 * seq_len, 0)],
            series.index[min(first + 2 * pred_len, len(history) - 1)],
        )
    st.plotly_chart(
        plots.forecast_overview_figure(
            history, splits, test_frame, future_frame, focus, title=channels[channel]
        ),
        width="stretch",
    )
    unused = len(series.index) - spans["test"][1]
    st.caption(
        f"The whole series with its training (green), validation (orange) and test (red) rows shaded. "
        f"Test window {position + 1} is drawn where it falls; drag the range slider to move along the data."
        + (
            f" The last {unused} rows belong to no split (the {run.config['protocol']} protocol stops "
            "before them); the forecast past the end reads them."
            if unused > 0
            else ""
        )
        + (
            " The band spans the 10% to 90% quantiles of the sampled forecasts."
            if "lower" in test_frame
            else ""
        )
    )

if configurations:
    history_window, future_window, bands = plots.proxy_window(arrays, window, seq_len, configurations)
    st.plotly_chart(
        plots.proxy_figure(
            history_window, future_window, bands, title=f"{channels[channel]}: {', '.join(bands)}"
        ),
        width="stretch",
    )
    decoded, available = len(forecast), metrics.get("windows_available", "?")
    position = int(arrays["window_index"][window]) + 1
    st.caption(
        f"Decoded window {window + 1} of {decoded}: test window {position} of {available}. Dashed lines "
        "are each configuration's median of its samples; the bands span their 10% to 90% quantiles."
    )
    st.dataframe(
        plots.configurations_table(metrics["configurations"], ("mse", "mae", "smape", "mase", "nll")),
        column_config={
            name: st.column_config.NumberColumn(format="%.4f")
            for name in ("MSE", "MAE", "sMAPE", "MASE", "NLL")
        },
    )
    st.caption(
        f"Metrics over the {decoded} decoded test windows of {available} available (evenly spaced: decoding "
        "every window would take hours on a CPU). MSE, MAE and MASE on scaled values like every run's, "
        "sMAPE in percent of the series' own units; NLL is the negative log-likelihood of the true "
        "future per time step, in the series' own units (LLMTime's definition; lower is better). "
        "The metrics at the top are the proxy's. "
        f"Malformed samples: {metrics.get('redrawn', 0)} redrawn, {metrics.get('dropped', 0)} dropped "
        f"(still malformed after every redraw); {metrics.get('tokens_per_s', float('nan')):.0f} tokens "
        "decoded per second."
    )
elif series is None:
    st.plotly_chart(
        plots.forecast_figure(
            actual[window, :, channel], forecast[window, :, channel], title=channels[channel]
        ),
        width="stretch",
    )
parts = unscale_parts(arrays)
if parts is not None:
    st.plotly_chart(
        plots.parts_figure(
            parts[window, :, :, channel], PART_NAMES[parts.shape[1]], "What each part contributes"
        ),
        width="stretch",
    )
    st.caption(
        "TEMPO forecasts each part of the decomposed window on its own; the parts add up to the forecast "
        "above (the channel's mean is counted in the trend)."
    )

st.subheader("Past the end of the data")
if series is None:
    st.info("This run was stored before the whole series was kept with it; train it again to forecast ahead.")
else:
    slow = (
        " Decoding samples with the language models takes a minute or more on a CPU."
        if configurations
        else ""
    )
    st.caption(
        f"The trained model reads the last {seq_len} rows of the data and forecasts the {pred_len} steps "
        f"after {series.index[-1]}.{slow}"
    )
    if st.button("Forecast past the end", icon=":material/trending_flat:", key=f"ahead_{run.id}"):
        try:
            with st.spinner("Loading the model and forecasting…"):
                model = rebuild_model(store, run.id)
                st.session_state[future_key] = future_forecast(
                    model, series, seq_len, pred_len, seed=run.config["train"].get("seed", 0)
                )
            st.rerun()
        except Exception as error:  # a damaged checkpoint, a model that no longer loads: say so, plainly
            st.error(f"The forecast past the end could not be made: {error}")
    future = st.session_state.get(future_key)
    if future is not None:
        st.dataframe(future, height=240)
        st.download_button(
            "Download the forecast past the end (CSV)",
            future.to_csv(float_format="%.6g").encode(),
            file_name=f"forecast_ahead_{run.id}.csv",
            mime="text/csv",
        )

st.subheader("Downloads and relaunch")
left, middle, right = st.columns(3)
left.download_button(
    "Every test forecast (CSV)",
    forecast_csv(run.id, tuple(channels)),
    file_name=f"forecast_{run.id}.csv",
    mime="text/csv",
)
middle.download_button(
    "Run config (JSON)", config_json(run).encode(), file_name=f"{run.id}.json", mime="application/json"
)
right.download_button(
    "Run config (TOML)", config_toml(run).encode(), file_name=f"{run.id}.toml", mime="text/plain"
)
dataset = common.current_dataset()
same_data = dataset.content_hash() == run.dataset_hash
st.caption(
    "The TOML file trains the run again from a terminal: `python -m core train --config <file>`. "
    + (
        "The button below trains it again here, on the same data."
        if same_data
        else f"To train it again here, load the data it was trained on ({run.dataset_name}) on the Data "
        f"page: the loaded data set, {dataset.name}, is not it."
    )
)
if st.button(
    "Train again with these settings", icon=":material/replay:", key=f"again_{run.id}", disabled=not same_data
):
    try:
        spec = spec_from_config(run.config)
        device = resolve_device(spec.train.device)
    except (ValueError, TypeError, TrainingError) as error:
        st.error(f"This run's config cannot be trained again here: {error}")
    else:
        st.session_state[common.TRAIN_JOB_KEY] = common.job_manager().submit(
            f"{run.name} (again)",
            lambda context: run_training(spec, dataset, store, context),
            device=device.type,
        )
        st.switch_page("pages/train.py")
