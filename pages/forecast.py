"""Forecast page: one stored run's test forecasts, in the series' own units, and a download."""

import streamlit as st

from core import plots
from core.training.forecasts import PART_NAMES, forecast_table, unscale, unscale_parts
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
    format_func=lambda r: f"{r.name} · {r.id} · test MSE {r.test_metrics.get('mse', float('nan')):.4f}",
)
st.caption(
    f"{run.model} on {run.dataset_name} · precision {run.precision} on {run.device} · best epoch "
    f"{run.best_epoch} · {run.wall_time_s or 0:.1f} s · {run.trainable_params:,} trainable parameters"
)
metrics = run.test_metrics
columns = st.columns(5)
for column, name in zip(columns, ["mse", "mae", "rmse", "smape", "mase"], strict=True):
    column.metric(name.upper(), f"{metrics.get(name, float('nan')):.4f}")
st.caption("Metrics on values standardised with training-split statistics, as the published tables use.")

try:
    arrays = store.load_arrays(run.id, "test")
except FileNotFoundError as error:
    st.error(f"This run's forecasts are missing from the run store: {error}")
    st.stop()
forecast, actual = unscale(arrays)
configurations = list(metrics.get("configurations") or {}) if "base_forecast" in arrays else []


@st.cache_data(show_spinner="Writing the CSV…", max_entries=4)
def forecast_csv(run_id: str, channels: tuple[str, ...]) -> bytes:
    """Built once per run (it can reach tens of megabytes), not on every rerun of the page."""
    forecast, actual = unscale(store.load_arrays(run_id, "test"))
    return forecast_table(forecast, actual, list(channels)).to_csv(index=False, float_format="%.6g").encode()


channels = run.config.get("channels_out") or [f"channel {i + 1}" for i in range(forecast.shape[2])]
left, right = st.columns(2)
window = 0
if len(forecast) > 1:
    label = "Decoded test window" if configurations else "Test window"
    window = left.slider(label, 0, len(forecast) - 1, len(forecast) - 1, key=f"window_{run.id}")
channel = right.selectbox(
    "Channel", range(len(channels)), index=len(channels) - 1, format_func=channels.__getitem__
)
if configurations:
    history, future, bands = plots.proxy_window(arrays, window, run.config["seq_len"], configurations)
    st.plotly_chart(
        plots.proxy_figure(history, future, bands, title=f"{channels[channel]}: {', '.join(bands)}"),
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
        "every window would take hours on a CPU). MSE, MAE, sMAPE and MASE on scaled values like every "
        "run's; NLL is the negative log-likelihood of the true future per time step, in the series' own "
        "units (LLMTime's definition; lower is better). The metrics at the top are the proxy's. "
        f"Malformed samples: {metrics.get('redrawn', 0)} redrawn, {metrics.get('dropped', 0)} dropped "
        f"(still malformed after every redraw); {metrics.get('tokens_per_s', float('nan')):.0f} tokens "
        "decoded per second."
    )
else:
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
st.download_button(
    "Download every test forecast (CSV)",
    forecast_csv(run.id, tuple(channels)),
    file_name=f"forecast_{run.id}.csv",
    mime="text/csv",
)
