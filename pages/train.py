"""Train page: pick a model and its settings, launch a background job, watch it, cancel it.

Everything model-specific comes from the model's registry entry and its config fields' hints (see
`core.models.contract`); the page knows no model by name.
"""

import time
from dataclasses import fields

import pandas as pd
import streamlit as st

from core import plots
from core.data import FEATURES, PROTOCOLS, window_problem
from core.models.contract import SHAPE_FIELDS
from core.models.presets import preset
from core.models.registry import MODELS, label_of
from core.runs.spec import starting_spec, with_changes
from core.runs.train_config import LOSSES, OPTIMISERS, PRECISIONS, SCHEDULES
from core.training.jobs import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from core.training.runner import run_training
from core.training.trainer import resolve_device, resolve_precision
from pages import common

JOB_KEY = common.TRAIN_JOB_KEY
RUNS_SHOWN = 50  # rows of the run store's table: the newest ones
WAITING = "Waiting for the running job to finish: one job runs per device at a time."

dataset = common.current_dataset()
seq_len, pred_len = common.window_lengths()
manager, store = common.job_manager(), common.run_store()

st.title("Train")
st.caption(
    f"Data: {dataset.name} ({len(dataset.frame):,} rows, {len(dataset.channels)} channels, target "
    f"{dataset.target}); look-back {seq_len}, horizon {pred_len} (change them in the sidebar)."
)
model_name = st.selectbox(
    "Model", list(MODELS), format_func=lambda n: f"{MODELS[n].label}: {MODELS[n].description}", key="model"
)
entry = MODELS[model_name]
device = resolve_device("auto")
start = starting_spec(
    model_name,
    dataset_name=dataset.name,
    freq=dataset.freq,
    seq_len=seq_len,
    pred_len=pred_len,
    device_type=device.type,
)
notes = preset(model_name, dataset.name, device.type, pred_len, dataset.freq, seq_len).notes
if notes:
    st.info("Starting values. " + " ".join(notes), icon=":material/tune:")


def option_input(column, field, default):
    """A widget for one config field, from the hints its `option(...)` metadata gives."""
    label, hints = field.name.replace("_", " "), field.metadata
    if hints.get("choices"):
        choices, labels = list(hints["choices"]), hints.get("labels") or {}
        return column.selectbox(
            label,
            choices,
            index=choices.index(default) if default in choices else 0,
            format_func=lambda name: labels.get(name, name),
            help=hints.get("help"),
        )
    if isinstance(default, bool):
        return column.checkbox(label, value=default, help=hints.get("help"))
    if isinstance(default, int):
        return int(column.number_input(label, value=default, step=1, min_value=1, help=hints.get("help")))
    if "dropout" in field.name:
        return float(column.number_input(label, 0.0, 0.99, float(default), format="%.2f"))
    low, high = hints.get("bounds", (None, None))
    return float(
        column.number_input(label, low, high, value=float(default), format="%.3f", help=hints.get("help"))
    )


def too_short(protocol: str) -> str | None:
    """Why the loaded series cannot be cut into windows of this look-back and horizon, if it cannot."""
    try:
        return window_problem(len(dataset.frame), seq_len, pred_len, protocol)
    except ValueError as error:
        return str(error)


if problem := too_short(start.protocol):
    st.warning(problem, icon=":material/straighten:")

# Enter in a field does not submit: a spreadsheet habit must not start a training job.
with st.form(f"train_{model_name}", enter_to_submit=False):
    st.markdown("**Data**")
    left, middle, right = st.columns(3)
    if entry.target_only:
        features = left.selectbox(
            "Features", ["S"], disabled=True, help="S: the target only; the only choice for this model."
        )
        left.caption(f"{entry.label} forecasts the target series alone.")
    else:
        offered = [f for f in FEATURES if not (entry.multivariate and f == "S")]
        features = left.selectbox(
            "Features",
            offered,
            index=offered.index(start.features),
            help="M: all channels in and out; S: the target only; MS: all in, target out.",
        )
        if entry.multivariate:
            left.caption(f"{entry.label} reads the channels together, so it needs them all (M or MS).")
    protocol = middle.selectbox("Split", PROTOCOLS, index=PROTOCOLS.index(start.protocol))
    drop_last = right.checkbox("Drop the last incomplete test batch", value=False)

    st.markdown(f"**{entry.label}**")
    if entry.note:
        st.caption(entry.note)
    options = {}
    described = [f for f in fields(entry.config_class) if f.metadata.get("describes_data")]
    option_fields = [
        f
        for f in fields(entry.config_class)
        if f.name not in SHAPE_FIELDS
        and f.name not in entry.fixed
        and not f.metadata.get("automatic")
        and not f.metadata.get("describes_data")
    ]
    columns = st.columns(4)
    for i, field in enumerate(option_fields):
        default = start.model_options.get(field.name, field.default)
        options[field.name] = option_input(columns[i % 4], field, default)
    for field in described:
        options[field.name] = st.text_input(
            "Describe the data for the model",
            value=dataset.description,
            max_chars=300,
            placeholder="e.g. Hourly electricity load of one building, in kW.",
            help=field.metadata.get("help"),
        )
    defaults = start.train
    st.markdown("**Training**")
    row = st.columns(4)
    training = {
        "epochs": int(row[0].number_input("Epochs", 1, 500, defaults.epochs)),
        "batch_size": int(row[1].number_input("Batch size", 1, 4096, defaults.batch_size)),
        "lr": float(row[2].number_input("Learning rate", 1e-6, 1.0, defaults.lr, format="%.5f")),
        "optimiser": row[3].selectbox("Optimiser", OPTIMISERS, index=OPTIMISERS.index(defaults.optimiser)),
    }
    row = st.columns(4)
    training["schedule"] = row[0].selectbox(
        "Schedule",
        SCHEDULES,
        index=SCHEDULES.index(defaults.schedule),
        help="cosine: annealed per epoch to eta min; onecycle: warm up to max lr, then anneal, every batch.",
    )
    training["patience"] = int(row[1].number_input("Early-stopping patience", 1, 100, defaults.patience))
    if entry.own_loss:
        row[2].caption(f"Loss: {entry.label} trains on an objective of its own.")
    else:
        training["loss"] = row[2].selectbox("Loss", LOSSES, index=LOSSES.index(defaults.loss))
    training["precision"] = row[3].selectbox(
        "Precision",
        PRECISIONS,
        index=PRECISIONS.index(defaults.precision),
        help="auto picks what this machine runs natively and fastest; it is shown below.",
    )
    row = st.columns(4)
    training["grad_clip"] = (
        float(row[0].number_input("Gradient clip (0: off)", 0.0, 100.0, defaults.grad_clip or 0.0)) or None
    )
    training["weight_decay"] = float(
        row[1].number_input("Weight decay", 0.0, 1.0, defaults.weight_decay, format="%.4f")
    )
    training["momentum"] = float(row[2].number_input("SGD momentum", 0.0, 0.999, defaults.momentum))
    training["nesterov"] = row[3].checkbox("Nesterov", value=defaults.nesterov)
    row = st.columns(4)
    training["min_delta"] = float(
        row[0].number_input("Early-stopping min delta", 0.0, 1.0, defaults.min_delta, format="%.4f")
    )
    max_lr = float(
        row[1].number_input(
            "One-cycle max lr",
            1e-6,
            1.0,
            defaults.max_lr or defaults.lr,
            format="%.5f",
            help="The peak of one-cycle (unset: the learning rate).",
        )
    )
    training["max_lr"] = None if defaults.max_lr is None and max_lr == training["lr"] else max_lr
    training["pct_start"] = float(
        row[2].number_input("One-cycle warm-up share", 0.01, 0.99, defaults.pct_start)
    )
    training["eta_min"] = float(
        row[3].number_input("Cosine eta min", 0.0, 1.0, defaults.eta_min, format="%.6f")
    )
    row = st.columns(4)
    training["t_max"] = (
        int(row[0].number_input("Cosine T max (epochs, 0: all)", 0, 500, defaults.t_max or 0)) or None
    )
    training["seed"] = int(row[1].number_input("Seed", 0, 2**31 - 1, defaults.seed))
    launched = st.form_submit_button("Launch training", type="primary")

if launched and (problem := too_short(protocol)):
    st.error(f"Not launched. {problem}")
    launched = False
if launched:
    settings = {"features": features, "protocol": protocol, "drop_last_batch": 32 if drop_last else None}
    try:
        spec = with_changes(start, settings, training, options)
    except (ValueError, TypeError) as error:
        st.error(f"These settings cannot train: {error}.")
        st.stop()
    chosen = dataset
    st.session_state[JOB_KEY] = manager.submit(
        f"{entry.label} on {dataset.name}",
        lambda context: run_training(spec, chosen, store, context),
        device=device.type,
    )

_, auto_reason = resolve_precision("auto", device, entry.cpu_autocast)
st.caption(
    f"Device: {device}; precision auto means {auto_reason}. Jobs run one at a time per device; later "
    "ones wait in the queue."
)


def _eta(snapshot) -> str:
    progress = snapshot.progress
    done, total = progress.get("step_global_step", 0), progress.get("step_total_steps", 0)
    if not done or not snapshot.started_at:
        return "estimating…"
    remaining = (time.time() - snapshot.started_at) / done * (total - done)
    return f"about {remaining:.0f} s left (at most; early stopping may end it sooner)"


def plain(error: str) -> str:
    """The message of an error we raise for users, without the exception's class name."""
    for name in ("TrainingError: ", "ValueError: ", "DataError: "):
        if error.startswith(name):
            return error[len(name) :]
    return error


def cancel_button(snapshot) -> None:
    st.button("Cancel", key=f"cancel_{snapshot.id}", on_click=manager.cancel, args=(snapshot.id,))


def show_job(snapshot) -> None:
    progress = snapshot.progress
    st.subheader(f"{snapshot.name}: {snapshot.state}")
    if snapshot.state == QUEUED:  # nothing has run yet: no progress, speed or loss to show
        st.info(WAITING, icon=":material/hourglass_empty:")
        cancel_button(snapshot)
        return
    if "precision" in progress:
        st.caption(f"Precision {progress['precision_reason']}")
    total = progress.get("step_total_steps") or 1
    done = progress.get("step_global_step", 0)
    phase = progress.get("phase")
    if not snapshot.finished:
        if phase:
            st.caption(f"Now {phase}.")
        if phase not in (None, "training") and progress.get("phase_total"):  # a phase with its own count
            finished, count = progress.get("phase_done", 0), progress["phase_total"]
            st.progress(min(finished / count, 1.0), text=f"{phase}: {finished} of {count}")
        elif "step_global_step" not in progress:  # no step yet: the model is being built or read
            st.progress(0.0, text=f"{phase or 'starting'}: the first training step comes next")
        else:
            st.progress(
                min(done / total, 1.0),
                text=f"epoch {progress['step_epoch']}, step {progress['step_step']} of "
                f"{progress['step_steps_per_epoch']} · {_eta(snapshot)}",
            )
            scaled = progress.get("precision") == "fp16"  # only fp16 trains with a loss scale
            metrics = st.columns(3 if scaled else 2)
            metrics[0].metric("Samples per second", f"{progress['step_samples_per_s']:,.0f}")
            metrics[1].metric("Step loss", f"{progress['step_loss']:.4f}")
            if scaled:
                scale = progress.get("step_loss_scale")
                metrics[2].metric("Loss scale (fp16)", "-" if scale is None else f"{scale:g}")
        cancel_button(snapshot)
    steps = progress.get("steps", {})
    if progress.get("epochs") or steps.get("loss"):
        left, right = st.columns(2)
        left.plotly_chart(
            plots.training_figure(progress.get("epochs", []), steps.get("loss")),
            width="stretch",
            key=f"loss_{snapshot.id}",  # a stable key: the chart updates in place, no flicker
        )
        right.plotly_chart(
            plots.learning_rate_figure(steps.get("lr", []), steps.get("loss_scale")),
            width="stretch",
            key=f"lr_{snapshot.id}",
        )
    if snapshot.state == SUCCEEDED:
        test = progress.get("test_metrics", {})
        st.success(
            f"Test (best checkpoint, {test.get('windows', '?')} windows, scaled values): "
            f"MSE {test.get('mse', float('nan')):.4f}, MAE {test.get('mae', float('nan')):.4f}."
        )
        if test.get("variants"):
            st.caption(
                f"Forecast {test['windows']} of {test.get('windows_available', '?')} test windows (evenly "
                f"spaced), {len(test['variants'])} ways; the figures above are the "
                f"{test.get('variant_name', 'main')} forecast's. MSE and MAE on scaled values (lower is "
                "better):"
            )
            st.dataframe(plots.variants_table(test["variants"]))
        if progress.get("run_id"):
            st.session_state[common.SELECTED_RUN_KEY] = progress["run_id"]
            st.page_link("pages/forecast.py", label="See its forecast", icon=":material/show_chart:")
    elif snapshot.state == FAILED:
        st.error(f"The run failed: {plain(snapshot.error)}")
    elif snapshot.state == CANCELLED:
        st.warning("The run was cancelled; its best checkpoint so far is kept in the run store.")


@st.fragment(run_every=1.0)
def monitor() -> None:
    """Redrawn every second: the running jobs, then the queued ones in the order they will run, then
    this session's last job and the newest one overall, so a reloaded page or a second tab still
    sees a job that has just finished."""
    jobs = manager.list()  # newest first
    waiting = [s for s in reversed(jobs) if s.state == RUNNING] + [
        s for s in reversed(jobs) if s.state == QUEUED
    ]
    shown = {s.id: s for s in waiting}
    if JOB_KEY in st.session_state:
        try:
            last = manager.get(st.session_state[JOB_KEY])
        except KeyError:  # a job of an earlier job manager (the server's resources were cleared)
            pass
        else:
            shown.setdefault(last.id, last)
    if jobs:
        shown.setdefault(jobs[0].id, jobs[0])
    if not shown:
        st.info("No training job yet: choose the settings above and launch one.")
    for snapshot in shown.values():
        show_job(snapshot)


def _when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else ""


@st.fragment(run_every=5.0)
def runs_table() -> None:
    """Every kind of run in the store, failed, cancelled and interrupted ones too; one query and a
    file check per run, so it is cheap enough to draw on every rerun."""
    with st.expander("Runs in the store", expanded=False):
        runs = store.list_runs()[:RUNS_SHOWN]
        st.caption(
            f"The newest {RUNS_SHOWN} runs, newest first. Interrupted and cancelled runs keep their best "
            f"checkpoint so far in their run folder, `{store.root / '<id>'}`; succeeded runs are shown on "
            "the Forecast and Compare pages."
        )
        if not runs:
            st.caption("No run in the store yet.")
            return
        table = pd.DataFrame(
            {
                "name": [run.name for run in runs],
                "id": [run.id for run in runs],
                "model": [label_of(run.model) for run in runs],
                "data set": [run.dataset_name for run in runs],
                "status": [run.status for run in runs],
                "best epoch": pd.array([run.best_epoch for run in runs], dtype="Int64"),
                "checkpoint kept": [store.has_checkpoint(run.id) for run in runs],
                "finished": [_when(run.finished_at) for run in runs],
                "message": [run.message or "" for run in runs],
            }
        )
        st.dataframe(table, hide_index=True)


monitor()
runs_table()
