"""Forecast page: one stored run's forecast in the series' own units, with its ranges and a verdict
against simple baselines; the forecasts it was checked on; downloads; and training it again.

Everything shown comes from the run's `RunResult` (`core.runs.result`), whatever the model.
"""

import io
import re
import time
from dataclasses import replace

import pandas as pd
import streamlit as st

from core import horizon, plots, verdict
from core.lm.registry import backbone_spec
from core.models.registry import MODELS
from core.runs import showcase
from core.runs.config import config_json, config_toml, spec_from_config
from core.runs.rebuild import forecast_ahead, rebuild_model
from core.runs.result import ResultMissing
from core.training import eta
from core.training.runner import run_training
from core.training.trainer import TrainingError, resolve_device
from pages import common

AUTO_FORECAST_PARAMS = 5_000_000  # models smaller than this forecast ahead as the page opens
CSV_ROWS = 500_000  # larger test-forecast ranges are offered as Parquet only
BASELINE_NAMES = {
    "naive": "Naive (repeat the last value)",
    "snaive": "Seasonal naive (repeat the last season)",
    "naive2": "Naive2 (M4's benchmark)",
}


CURRENCIES = ("£", "$", "€", "¥")


def amount(value: float, unit: str) -> str:
    """A value in the series' units as a person writes it: "£30.60", "2,660 visitors", "0.512 °C"."""
    if abs(value) >= 1000:
        number = f"{value:,.0f}"
    elif abs(value) >= 100:
        number = f"{value:,.1f}"
    else:
        number = f"{value:.3g}"
    if unit in CURRENCIES:
        return f"{unit}{value:,.2f}" if abs(value) < 1000 else f"{unit}{number}"
    return f"{number} {unit}".strip()


def duration(seconds: float | None) -> str:
    """How long a run took, in words; "under 1 s" rather than "0 s", which reads as nothing done."""
    if not seconds:
        return "?"
    return "under 1 s" if seconds < 0.5 else horizon.duration_words(seconds)


def again_words(run, seconds: float | None, times: float = 1.0) -> str:
    """How long training `run` again should take: about as long as it took (`seconds`), or, for a
    model that writes its forecast step by step, `times` as long for a horizon `times` as long."""
    where = " on the machine it was built on" if getattr(run, "showcase", False) else ""
    decodes = run.model in MODELS and MODELS[run.model].model_class.decodes
    if decodes and seconds and times > 1.5:
        return (
            f"this model writes its forecast step by step, so a horizon {times:.0f} times as long takes "
            f"roughly {times:.0f} times the {duration(seconds)} it took before{where}: "
            f"{eta.rough_words(seconds * times)}."
        )
    return f"about as long as it took before, {duration(seconds)}{where}."


def relaunch(run, dataset, changes: dict) -> None:
    """Train `run` again on `dataset` with some settings changed, and watch it on the Train page."""
    try:
        spec = replace(spec_from_config(run.config), **changes)
        device = resolve_device(spec.train.device)
    except (ValueError, TypeError, TrainingError) as error:
        st.error(f"This run's config cannot be trained again here: {error}")
        return
    st.session_state[common.TRAIN_JOB_KEY] = common.job_manager().submit(
        f"{run.name} (again)",
        lambda context: run_training(spec, dataset, common.run_store(), context),
        device=device.type,
        progress={"patience": spec.train.patience, "data": dataset.content_hash()},
    )
    st.switch_page("pages/train.py")


store = common.run_store()
runs = [r for r in store.list_runs() if r.status == "succeeded"]

st.title("Forecast")
if not runs:
    st.info("No finished run yet. Train a model on the Train page first.")
    st.stop()

ids = [r.id for r in runs]
selected = st.session_state.get(common.SELECTED_RUN_KEY)


def _when(timestamp: float | None) -> str:
    return time.strftime("%d %b %Y %H:%M", time.localtime(timestamp)) if timestamp else "?"


run = st.selectbox(
    "Run",
    runs,
    index=ids.index(selected) if selected in ids else 0,
    format_func=lambda r: f"{common.run_words(r)} · trained {_when(r.finished_at)} · {r.id}",
)
if run.showcase:
    st.caption(showcase.describe(run))


try:
    result = common.run_result(run.id)
except ResultMissing as error:
    st.error(f"This run's forecasts cannot be shown: {error}.")
    st.stop()
cost = result.cost
metrics = result.metrics
freq = run.config.get("freq")
channels = result.channels
target = run.config.get("target")
channel = (
    st.selectbox(
        "Series",
        range(len(channels)),
        index=channels.index(target) if target in channels else len(channels) - 1,
        format_func=channels.__getitem__,
        key=f"channel_{run.id}",
        help="The run forecasts these columns; the verdict and errors below are the chosen one's.",
    )
    if len(channels) > 1
    else 0
)
name = channels[channel]
unit = (run.config.get("units") or {}).get(name, "")
found = verdict.verdict(metrics, freq)
span = horizon.describe(result.pred_len, freq)
st.caption(
    f"{result.label}, forecasting the {span} from the {horizon.span(result.seq_len, freq)} before · "
    f"took {duration(cost.wall_time_s)} to train and check"
)
if found is None:
    st.info(
        "This run was stored before runs were compared with simple baselines; train it again for a verdict."
    )
elif found.better is True:
    st.success(f"**{found.headline}** {found.caution}", icon=":material/thumb_up:")
elif found.better is False:
    st.error(f"**{found.headline}** {found.advice} {found.caution}", icon=":material/thumb_down:")
else:
    st.warning(f"**{found.headline}** {found.advice} {found.caution}", icon=":material/balance:")
errors = (metrics.get("units") or {}).get(name)
columns = st.columns(4)
if errors:
    columns[0].metric(
        "Typical error",
        amount(errors["mae"], unit),
        help="The mean absolute error (MAE) over every past forecast it was checked on, in the series' own "
        "units: how far off a forecast typically is.",
    )
    columns[1].metric(
        "Large misses (RMSE)",
        amount(errors["rmse"], unit),
        help="Root mean squared error: like the typical error, but large misses count more.",
    )
for column, level in zip(columns[2:], (80, 95), strict=True):
    if f"coverage_{level}" in metrics:
        column.metric(
            f"{level}% range held",
            f"{metrics[f'coverage_{level}']:.0%}",
            help=f"How often the actual value fell inside the {level}% range on the past forecasts it was "
            f"checked on; close to {level}% means the range is honest. "
            + (
                "The ranges come from the errors on a stretch held back before the test (split "
                "conformal prediction), updated as each past forecast's outcome became known."
                if metrics.get("intervals") == "split conformal, rolled forward"
                else "The ranges are the spread of the model's own samples."
            ),
        )
if not result.bands and metrics.get("calibration_windows") is not None:
    st.caption(
        f"No range: the stretch held back for it holds {metrics['calibration_windows']} past forecasts, "
        "too few to estimate one (an 80% range needs at least 4, a 95% range 19). A longer series would "
        "give one."
    )
st.caption(
    f"Checked on {metrics.get('windows', '?'):,} past forecasts of data the model never saw in training."
)
with st.expander("Research protocol: standardised errors, as the published tables report them"):
    table = {key.upper(): [metrics.get(key, float("nan"))] for key in ("mse", "mae", "rmse", "mase", "smape")}
    st.dataframe(
        pd.DataFrame(table, index=[result.label]),
        column_config={k: st.column_config.NumberColumn(format="%.4f") for k in table},
    )
    baselines = metrics.get("baselines") or {}
    if baselines:
        st.dataframe(
            pd.DataFrame(
                {
                    "MSE": [b["mse"] for b in baselines.values()],
                    "MAE": [b["mae"] for b in baselines.values()],
                    "MASE": [b["mase"] for b in baselines.values()],
                    f"{result.label} better on": [
                        f"{b['model_wins']:.0%} of windows" for b in baselines.values()
                    ],
                },
                index=[BASELINE_NAMES.get(b, b) for b in baselines],
            ),
            column_config={k: st.column_config.NumberColumn(format="%.4f") for k in ("MSE", "MAE", "MASE")},
        )
    st.caption(
        "MSE, MAE and RMSE on values standardised with the training part's mean and spread, over every "
        "output column; MASE divides the error by that of repeating the last season in the training part; "
        "sMAPE is in percent. The baselines forecast the same test windows."
    )
for note in result.notes:
    st.caption(note)
_, wanted = common.window_lengths()
if wanted != result.pred_len:
    dataset_now = common.current_dataset()
    if dataset_now.content_hash() == run.dataset_hash:
        st.info(
            f"This run forecasts the {span}; the sidebar now asks for the "
            f"{horizon.describe(wanted, freq)}. A trained model's reach is fixed.",
            icon=":material/straighten:",
        )
        st.caption(
            "Training it again starts from scratch with this run's settings: "
            + again_words(run, cost.wall_time_s, times=wanted / result.pred_len)
        )
        if st.button(f"Train it again for the {horizon.describe(wanted, freq)}", key=f"reach_{run.id}"):
            relaunch(run, dataset_now, {"pred_len": wanted})


@st.cache_data(show_spinner=False, max_entries=4)
def test_table_bytes(run_id: str, first: int, last: int, kind: str) -> bytes:
    """Test forecasts `first` to `last` as a file, written when a download is clicked."""
    table = common.run_result(run_id).forecast_table(first, last)
    if kind == "csv":
        return table.to_csv(index=False, float_format="%.6g").encode()
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue()


def band_columns(bands: dict, window: int, channel: int) -> dict:
    """`lower_80`, `upper_80`, `lower_95`, … of one window and channel, for the charts."""
    return {
        f"{side}_{round(level * 100)}": getattr(band, side)[window, :, channel]
        for level, band in sorted(bands.items())
        for side in ("lower", "upper")
    }


def band_caption(bands: dict) -> str:
    if not bands:
        return ""
    levels = " and ".join(f"{level:.0%}" for level in sorted(bands))
    return f" The shaded ranges are where the value should fall {levels} of the time."


def future_table(run_id: str) -> pd.DataFrame:
    """The forecast past the end of the data; the page keeps it for the session."""
    found = common.run_result(run_id)
    with st.spinner("Forecasting past the end of the data…"):
        return found.future_frame(forecast_ahead(rebuild_model(store, run_id), found))


future_key = f"future_{run.id}"
# Downloads say which run they came from: its name (model and data set) and id.
file_stem = re.sub(r"[^A-Za-z0-9]+", "_", f"{run.name or run.model}").strip("_").lower() + f"_{run.id}"
series = result.series
# Small models forecast ahead as the page opens; a model that decodes digit by digit never does,
# however small: its cost is the decoding (minutes on a CPU), not its size.
cheap = (cost.total_params or 0) < AUTO_FORECAST_PARAMS and not MODELS[run.model].model_class.decodes
if series is not None and cheap and future_key not in st.session_state:
    try:
        st.session_state[future_key] = future_table(run.id)
    except Exception as error:  # a damaged checkpoint, a model that no longer loads: say so, plainly
        st.error(f"The forecast past the end of the data could not be made: {error}")
future = st.session_state.get(future_key)

st.subheader(f"{name}: the forecast")
view = "future"
if series is not None and future is not None:
    view = st.radio(
        "Show",
        ["future", "test"],
        format_func={
            "future": f"the {span} after the data",
            "test": "a past stretch the model never saw, with what really happened",
        }.get,
        horizontal=True,
        key=f"focus_{run.id}",
    )
else:
    view = "test"
window = len(result.window_index) - 1
if view == "test" and len(result.window_index) > 1:
    window = (
        st.slider(
            "Which past forecast (1 = the earliest of the test part)",
            1,
            len(result.window_index),
            len(result.window_index),
            key=f"window_{run.id}",
        )
        - 1
    )
position = int(result.window_index[window])
rows = result.window_rows(window)  # the series' rows this window's forecast covers

if series is not None:
    spans = result.spans
    column = series.channels_in.index(name)
    history = pd.Series(series.values[:, column], index=series.index)
    last = len(series.index) - 1
    splits = {
        split: (series.index[a], series.index[min(b, last)])
        for split, (a, b) in (
            ("training", spans.train),
            ("validation", spans.validation),
            ("test", spans.test),
        )
    }
    test_frame = None
    if view == "test":
        test_frame = pd.DataFrame(
            {"forecast": result.forecast[window, :, channel], "actual": result.actual[window, :, channel]}
            | band_columns(result.bands, window, channel),
            index=series.index[rows],
        )
    future_frame = None
    if view == "future" and future is not None:
        future_frame = future.loc[future["channel"] == name].drop(columns="channel")
    if future_frame is not None:
        start = max(len(series.index) - 4 * result.pred_len, 0)  # a few horizons of history before it
        focus = (series.index[start], future_frame.index[-1])
    else:
        focus = (
            series.index[max(rows.start - 2 * result.seq_len, 0)],
            series.index[min(rows.start + 2 * result.pred_len, last)],
        )
    st.plotly_chart(
        plots.forecast_overview_figure(
            history, splits, test_frame, future_frame, focus, title=name, unit=unit
        ),
        width="stretch",
    )
    st.caption(
        (
            f"The dashed line is the forecast of the {span} after the last row ({series.index[-1]})."
            if view == "future"
            else f"The dashed line is the forecast made at {series.index[rows.start - 1]} (test window "
            f"{position + 1}), beside what really happened (solid)."
        )
        + band_caption(result.bands)
        + " Drag the slider under the chart to move along the whole series; the shading marks the parts "
        "the model trained on, was tuned on, and was tested on."
        + (
            f" The last {spans.unused} rows belong to no part (the {run.config['protocol']} protocol stops "
            "before them); the forecast past the end reads them."
            if spans.unused > 0
            else ""
        )
    )
else:
    st.plotly_chart(
        plots.forecast_figure(
            result.actual[window, :, channel], result.forecast[window, :, channel], title=name
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
            {"forecast": variant.forecast[window, :, channel]}
            | {  # the 80 % band of each (the 10 % and 90 % quantiles of its samples)
                side: getattr(variant.bands[0.8], side)[window, :, channel]
                for side in ("lower", "upper")
                if 0.8 in variant.bands
            },
            index=steps,
        )
        for name, variant in result.variants.items()
    }
    options = run.config.get("model_config", {})
    if options.get("base") and backbone_spec(options["base"]).untrained:
        st.warning(
            f"This run's language model, {options['base']}, has random weights (it exists for tests): its "
            "forecasts say nothing about what a language model can do. Train it again with a real one."
        )
    st.plotly_chart(
        plots.variants_figure(
            history_window,
            pd.Series(result.actual[window, :, channel], index=steps),
            variant_frames,
            title=f"{channels[channel]}: the same window forecast {len(result.variants)} ways",
        ),
        width="stretch",
    )
    forecast, available = len(result.window_index), result.windows_available
    same = (
        " The two proxy-tuned lines coincide: α = 1 was the one chosen."
        if metrics.get("alpha") == 1.0 and "proxy_alpha_1" in result.variants
        else ""
    )
    st.caption(
        f"Forecast window {window + 1} of {forecast}: test window {position + 1} of {available}. The same "
        f"trained model forecast each window {len(result.variants)} ways; dashed lines are each one's "
        f"forecast.{band_caption(next(iter(result.variants.values())).bands)}{same}"
        + (
            f" Language model: {options['base']}; small model: {options.get('small')}."
            if options.get("base")
            else ""
        )
    )
    st.dataframe(
        plots.variants_table(metrics.get("variants") or {}),
        column_config={
            name: st.column_config.NumberColumn(format="%.4f")
            for name in ("MSE", "MAE", "sMAPE", "MASE", "NLL")
        },
    )
    common.show_alpha_curve(metrics, key=f"alpha_{run.id}")
    extra = {key: metrics[key] for key in ("redrawn", "dropped", "tokens_per_s") if key in metrics}
    st.caption(
        f"Metrics over the {forecast} forecast test windows of {available} available (evenly spaced). MSE, "
        "MAE and MASE on scaled values like every run's, sMAPE in percent of the series' own units; NLL is "
        "the negative log-likelihood of the true future per time step, in the series' own units: how "
        "surprised the forecast was by what really happened (lower is better; it can be below zero). "
        f"The metrics at the top are the {verdict.variant_label(metrics.get('variant_name') or 'main')} "
        "forecast's."
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

st.subheader("Downloads")
if series is None:
    st.info("This run was stored before the whole series was kept with it; train it again to forecast ahead.")
elif future is None:
    st.caption(
        f"The trained model reads the last {horizon.span(result.seq_len, freq)} "
        f"of the data and forecasts the {span} after {series.index[-1]}. This model is "
        "large, so it forecasts on request."
    )
    if st.button("Forecast past the end", icon=":material/trending_flat:", key=f"ahead_{run.id}"):
        try:
            st.session_state[future_key] = future_table(run.id)
            st.rerun()
        except Exception as error:  # a damaged checkpoint, a model that no longer loads: say so, plainly
            st.error(f"The forecast past the end could not be made: {error}")
if future is not None:
    with st.expander(f"The forecast of the {span} as a table"):
        st.dataframe(future, height=240)
    st.download_button(
        f"The forecast of the {span} (CSV, with its ranges)",
        future.to_csv(float_format="%.6g").encode(),
        file_name=f"{file_stem}_forecast_ahead.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )

count = len(result.window_index)
with st.expander("The past forecasts it was checked on (test part)"):
    first, last = (1, count)
    if count > 1:
        first, last = st.slider(
            "Forecasts to include (1 = the earliest)",
            1,
            count,
            (max(1, count - 99), count),
            key=f"range_{run.id}",
        )
    rows_out = (last - first + 1) * result.pred_len * len(channels)
    st.caption(
        f"{rows_out:,} rows: one per forecast, step ahead and column, with its time stamp, the actual value, "
        "the forecast and its 80% and 95% ranges."
    )
    if rows_out <= CSV_ROWS:
        st.download_button(
            "Download as CSV",
            lambda: test_table_bytes(run.id, first, last, "csv"),
            file_name=f"{file_stem}_test_forecasts_{first}-{last}.csv",
            mime="text/csv",
            on_click="ignore",
        )
    else:
        st.caption(
            f"Ranges over {CSV_ROWS:,} rows come as Parquet (pandas, R and Excel's Power Query open it)."
        )
    st.download_button(
        "Download as Parquet",
        lambda: test_table_bytes(run.id, first, last, "parquet"),
        file_name=f"{file_stem}_test_forecasts_{first}-{last}.parquet",
        mime="application/vnd.apache.parquet",
        on_click="ignore",
    )

with st.expander("Settings of this run, and training it again"):
    left, right = st.columns(2)
    left.download_button(
        "Run config (JSON)",
        config_json(run).encode(),
        file_name=f"{file_stem}.json",
        mime="application/json",
        on_click="ignore",
    )
    right.download_button(
        "Run config (TOML)",
        config_toml(run).encode(),
        file_name=f"{file_stem}.toml",
        mime="text/plain",
        on_click="ignore",
    )
    dataset = common.current_dataset()
    same_data = dataset.content_hash() == run.dataset_hash
    st.caption(
        "The TOML file trains the run again from a terminal: `python -m core train --config <file>`. "
        + (
            "The button below trains it again here, on the same data, from scratch: "
            + again_words(run, cost.wall_time_s)
            if same_data
            else f"To train it again here, load the data it was trained on ({run.dataset_name}) on the Data "
            f"page: the loaded data set, {dataset.name}, is not it."
        )
    )
    if st.button(
        "Train again with these settings",
        icon=":material/replay:",
        key=f"again_{run.id}",
        disabled=not same_data,
    ):
        relaunch(run, dataset, {})
