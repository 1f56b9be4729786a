"""Forecast page: one stored run's forecasts in the series' own units, a forecast past the end of the
data, downloads of the forecasts and the run's config, and a relaunch from that config.

Everything shown comes from the run's `RunResult` (`core.runs.result`), whatever the model.
"""

import re

import pandas as pd
import streamlit as st

from core import plots
from core.runs.config import config_json, config_toml, spec_from_config
from core.runs.rebuild import forecast_ahead, rebuild_model
from core.runs.result import ResultMissing
from core.training.runner import run_training
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


try:
    result = common.run_result(run.id)
except ResultMissing as error:
    st.error(f"This run's forecasts cannot be shown: {error}.")
    st.stop()
cost = result.cost
st.caption(
    f"{result.label} on {run.dataset_name} · precision {cost.precision} on {cost.device} · best epoch "
    f"{run.best_epoch} · {cost.wall_time_s or 0:.1f} s · {cost.trainable_params or 0:,} trainable parameters"
)
metrics = result.metrics
columns = st.columns(4)
for column, name in zip(columns, ["mse", "mae", "rmse", "mase"], strict=True):
    column.metric(name.upper(), f"{metrics.get(name, float('nan')):.4f}")
st.caption(
    f"Over {metrics.get('windows', '?')} test windows, on values standardised with training-split "
    "statistics, as the published tables use. The Compare page adds MAPE, sMAPE and OWA in the series' "
    "own units, beside the naive, seasonal naive and Naive2 baselines."
)
for note in result.notes:
    st.caption(note)


@st.cache_data(show_spinner="Writing the CSV…", max_entries=4)
def forecast_csv(run_id: str) -> bytes:
    """Built once per run (it can reach tens of megabytes), not on every rerun of the page."""
    return common.run_result(run_id).forecast_table().to_csv(index=False, float_format="%.6g").encode()


def band_columns(bands: dict, window: int, channel: int) -> dict:
    """The widest band of one window and channel as `lower` and `upper` columns, if there is one."""
    if not bands:
        return {}
    band = bands[max(bands)]
    return {"lower": band.lower[window, :, channel], "upper": band.upper[window, :, channel]}


def band_caption(bands: dict) -> str:
    if not bands:
        return ""
    coverage = max(bands)
    return f" The band is the model's central {coverage:.0%} interval."


channels = result.channels
future_key = f"future_{run.id}"
# Downloads say which run they came from: its name (model and data set) and id.
file_stem = re.sub(r"[^A-Za-z0-9]+", "_", f"{run.name or run.model}").strip("_").lower() + f"_{run.id}"
left, right = st.columns(2)
window = 0
if len(result.window_index) > 1:
    label = "Test window" if len(result.window_index) == result.windows_available else "Forecast test window"
    window = (
        left.slider(label, 1, len(result.window_index), len(result.window_index), key=f"window_{run.id}") - 1
    )
channel = right.selectbox(
    "Channel", range(len(channels)), index=len(channels) - 1, format_func=channels.__getitem__
)
series = result.series
position = int(result.window_index[window])
rows = result.window_rows(window)  # the series' rows this window's forecast covers

if series is not None:
    spans = result.spans
    column = series.channels_in.index(channels[channel])
    history = pd.Series(series.values[:, column], index=series.index)
    last = len(series.index) - 1
    splits = {
        name: (series.index[a], series.index[min(b, last)])
        for name, (a, b) in (("train", spans.train), ("validation", spans.validation), ("test", spans.test))
    }
    test_frame = pd.DataFrame(
        {"forecast": result.forecast[window, :, channel], "actual": result.actual[window, :, channel]}
        | band_columns(result.bands, window, channel),
        index=series.index[rows],
    )
    future = st.session_state.get(future_key)
    future_frame = None
    if future is not None and channels[channel] in future:
        name = channels[channel]
        future_frame = pd.DataFrame({"forecast": future[name]}, index=future.index)
        bounds = [c for c in future.columns if c.startswith(f"{name} ") and c.endswith("%")]
        if len(bounds) >= 2:
            future_frame["lower"], future_frame["upper"] = future[bounds[0]], future[bounds[-1]]
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
        start = max(len(series.index) - 4 * result.pred_len - result.seq_len, 0)
        focus = (series.index[start], future_frame.index[-1])
    else:
        focus = (
            series.index[max(rows.start - 2 * result.seq_len, 0)],
            series.index[min(rows.start + 2 * result.pred_len, last)],
        )
    st.plotly_chart(
        plots.forecast_overview_figure(
            history, splits, test_frame, future_frame, focus, title=channels[channel]
        ),
        width="stretch",
    )
    st.caption(
        f"The whole series with its training (green), validation (orange) and test (red) rows shaded; "
        f"the chart opens on test window {position + 1} (one of the forecasts scored on data the model "
        "never trained on), and the range slider below it moves along the rest."
        + (
            f" The last {spans.unused} rows belong to no split (the {run.config['protocol']} protocol stops "
            "before them); the forecast past the end reads them."
            if spans.unused > 0
            else ""
        )
        + band_caption(result.bands)
    )
else:
    st.plotly_chart(
        plots.forecast_figure(
            result.actual[window, :, channel], result.forecast[window, :, channel], title=channels[channel]
        ),
        width="stretch",
    )

if result.variants:
    steps = series.index[rows] if series is not None else pd.RangeIndex(result.pred_len)
    look_back = slice(rows.start - result.seq_len, rows.start)
    history_window = (
        pd.Series(
            series.values[look_back, series.channels_in.index(channels[channel])],
            index=series.index[look_back],
        )
        if series is not None
        else pd.Series(dtype=float)
    )
    variant_frames = {
        name: pd.DataFrame(
            {"forecast": variant.forecast[window, :, channel]} | band_columns(variant.bands, window, channel),
            index=steps,
        )
        for name, variant in result.variants.items()
    }
    st.plotly_chart(
        plots.variants_figure(
            history_window,
            pd.Series(result.actual[window, :, channel], index=steps),
            variant_frames,
            title=f"{channels[channel]}: {', '.join(result.variants)}",
        ),
        width="stretch",
    )
    forecast, available = len(result.window_index), result.windows_available
    st.caption(
        f"Forecast window {window + 1} of {forecast}: test window {position + 1} of {available}. The same "
        f"trained model forecast each window {len(result.variants)} ways; dashed lines are each one's "
        f"forecast.{band_caption(next(iter(result.variants.values())).bands)}"
    )
    st.dataframe(
        plots.variants_table(metrics.get("variants") or {}),
        column_config={
            name: st.column_config.NumberColumn(format="%.4f")
            for name in ("MSE", "MAE", "sMAPE", "MASE", "NLL")
        },
    )
    extra = {key: metrics[key] for key in ("redrawn", "dropped", "tokens_per_s") if key in metrics}
    st.caption(
        f"Metrics over the {forecast} forecast test windows of {available} available (evenly spaced). MSE, "
        "MAE and MASE on scaled values like every run's, sMAPE in percent of the series' own units; NLL is "
        "the negative log-likelihood of the true future per time step, in the series' own units (lower "
        f"is better). The metrics at the top are the {metrics.get('variant_name') or 'main'} forecast's."
        + (
            f" Malformed samples: {extra.get('redrawn', 0)} redrawn, {extra.get('dropped', 0)} dropped "
            f"(still malformed after every redraw); {extra.get('tokens_per_s', float('nan')):.0f} tokens "
            "decoded per second."
            if extra
            else ""
        )
    )

if result.parts is not None:
    st.plotly_chart(
        plots.parts_figure(
            result.parts[window, :, :, channel], result.part_names, "What each part contributes"
        ),
        width="stretch",
    )
    st.caption(
        "The model forecasts each part of the decomposed window on its own; the parts add up to the "
        "forecast above (the channel's mean is counted in the first part)."
    )

st.subheader("Past the end of the data")
if series is None:
    st.info("This run was stored before the whole series was kept with it; train it again to forecast ahead.")
else:
    st.caption(
        f"The trained model reads the last {result.seq_len} rows of the data and forecasts the "
        f"{result.pred_len} steps after {series.index[-1]}."
    )
    if st.button("Forecast past the end", icon=":material/trending_flat:", key=f"ahead_{run.id}"):
        try:
            with st.spinner("Loading the model and forecasting…"):
                predictions = forecast_ahead(rebuild_model(store, run.id), result)
                st.session_state[future_key] = result.future_frame(predictions)
            st.rerun()
        except Exception as error:  # a damaged checkpoint, a model that no longer loads: say so, plainly
            st.error(f"The forecast past the end could not be made: {error}")
    future = st.session_state.get(future_key)
    if future is not None:
        st.dataframe(future, height=240)
        st.download_button(
            "Download the forecast past the end (CSV)",
            future.to_csv(float_format="%.6g").encode(),
            file_name=f"{file_stem}_forecast_ahead.csv",
            mime="text/csv",
        )

st.subheader("Downloads and relaunch")
left, middle, right = st.columns(3)
left.download_button(
    "Every test forecast (CSV)",
    forecast_csv(run.id),
    file_name=f"{file_stem}_test_forecasts.csv",
    mime="text/csv",
)
middle.download_button(
    "Run config (JSON)", config_json(run).encode(), file_name=f"{file_stem}.json", mime="application/json"
)
right.download_button(
    "Run config (TOML)", config_toml(run).encode(), file_name=f"{file_stem}.toml", mime="text/plain"
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
