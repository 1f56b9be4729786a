"""Train page: pick a model and its settings, launch a background job, watch it, cancel it."""

import time
from dataclasses import fields

import pandas as pd
import streamlit as st

from core import plots
from core.backbones import backbone_choices
from core.data import FEATURES, PROTOCOLS
from core.models.presets import preset
from core.models.registry import MODELS
from core.proxy.lm import LABELS as CHOICE_LABELS
from core.training.jobs import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from core.training.runner import RunSpec, default_protocol, run_training
from core.training.trainer import (
    LOSSES,
    OPTIMISERS,
    PRECISIONS,
    SCHEDULES,
    TrainConfig,
    resolve_device,
    resolve_precision,
)
from pages import common

JOB_KEY = common.TRAIN_JOB_KEY
# Set from the sidebar and the data, not here: the shapes, and the scaler's statistics that the
# runner hands to models whose prompts describe the series in its own units.
AUTOMATIC_FIELDS = {"seq_len", "pred_len", "n_channels", "input_mean", "input_std"}
# Models that forecast the target alone (features fixed to S) and train on a loss of their own.
TARGET_ONLY = {"proxy_tuned"}
# Bounds of float options where the config's own check ("a number") is looser than what makes sense.
FLOAT_BOUNDS = {
    "proxy_tuned": {
        "alpha": (0.0, None),
        "temperature": (0.01, None),
        "top_p": (0.01, 1.0),
        "scale_quantile": (0.01, 1.0),
        "scale_offset": (0.0, None),
    }
}
DECODING = "decoding the test windows"  # the proxy runner's phase while it decodes
RUNS_SHOWN = 50  # rows of the run store's table: the newest ones
WAITING = "Waiting for the running job to finish: one job runs per device at a time."
PROXY_NOTE = (
    "alpha weighs the expert's steer (expert − untuned small model) added to the base model's "
    "logits: 0 is the base model alone, 1 is the paper's proxy-tuning; the default 0.3 stayed stable "
    "with the offline small model, while at 1 its numbers ran long (see the README). samples: "
    "forecasts drawn per window (their median is the forecast, their 10%–90% quantiles the band); "
    "temperature and top p shape each draw. digits: digits kept after the implied decimal point of "
    "each rescaled value. test windows: decoding is the costly part (every test window would take "
    "hours on a CPU), so an evenly spaced subset of at most this many windows is decoded, three ways "
    "each (base, expert, proxy). train windows: serialised windows the expert is tuned on per epoch."
)

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
device = resolve_device("auto")
starting = preset(model_name, dataset.name, device.type, pred_len, dataset.freq, seq_len)
defaults = TrainConfig(**starting.train_options)
if starting.notes:
    st.info("Starting values. " + " ".join(starting.notes), icon=":material/tune:")

with st.form(f"train_{model_name}"):
    st.markdown("**Data**")
    left, middle, right = st.columns(3)
    if model_name in TARGET_ONLY:
        features = left.selectbox(
            "Features", ["S"], disabled=True, help="S: the target only; the only choice for this model."
        )
        left.caption("The language model writes the target series alone.")
    else:
        features = left.selectbox(
            "Features",
            FEATURES,
            help="M: all channels in and out; S: the target only; MS: all in, target out.",
        )
    protocol_default = default_protocol(dataset.name)
    protocol = middle.selectbox("Split", PROTOCOLS, index=PROTOCOLS.index(protocol_default))
    drop_last = right.checkbox("Drop the last incomplete test batch", value=False)

    st.markdown(f"**{MODELS[model_name].label}**")
    if model_name == "proxy_tuned":
        st.caption(PROXY_NOTE)
    bounds = FLOAT_BOUNDS.get(model_name, {})
    options = {}
    config_class = MODELS[model_name].config_class
    fixed = MODELS[model_name].fixed
    option_fields = [
        f for f in fields(config_class) if f.name not in AUTOMATIC_FIELDS | set(fixed) | {"description"}
    ]
    columns = st.columns(4)
    for i, field in enumerate(option_fields):
        column, label = columns[i % 4], field.name.replace("_", " ")
        default = starting.model_options.get(field.name, field.default)
        if field.name == "backbone":
            labels = {spec.name: spec.label for spec in backbone_choices()}
            options["backbone"] = column.selectbox(
                "backbone",
                list(labels),
                format_func=labels.get,
                help="The frozen language model.",
            )
        elif field.metadata.get("choices"):
            choices = list(field.metadata["choices"])
            options[field.name] = column.selectbox(
                label,
                choices,
                index=choices.index(default),
                format_func=lambda name: CHOICE_LABELS.get(name, name),
            )
        elif isinstance(default, bool):
            options[field.name] = column.checkbox(label, value=default)
        elif isinstance(default, int):
            options[field.name] = int(column.number_input(label, value=default, step=1, min_value=1))
        elif "dropout" in field.name:
            options[field.name] = float(column.number_input(label, 0.0, 0.99, float(default), format="%.2f"))
        else:
            low, high = bounds.get(field.name, (None, None))
            options[field.name] = float(
                column.number_input(label, low, high, value=float(default), format="%.3f")
            )

    if "description" in {f.name for f in fields(config_class)}:
        options["description"] = st.text_input(
            "Describe the data for the prompt",
            value=dataset.description,
            max_chars=300,
            placeholder="e.g. Hourly electricity load of one building, in kW.",
            help="The language model reads this before the series; empty leaves it out of the prompt.",
        )
    st.markdown("**Training**")
    row = st.columns(4)
    epochs = row[0].number_input("Epochs", 1, 500, defaults.epochs)
    batch_size = row[1].number_input("Batch size", 1, 4096, defaults.batch_size)
    lr = row[2].number_input("Learning rate", 1e-6, 1.0, defaults.lr, format="%.5f")
    optimiser = row[3].selectbox("Optimiser", OPTIMISERS, index=OPTIMISERS.index(defaults.optimiser))
    row = st.columns(4)
    schedule = row[0].selectbox(
        "Schedule",
        SCHEDULES,
        index=SCHEDULES.index(defaults.schedule),
        help="cosine: annealed per epoch to eta min; onecycle: warm up to max lr, then anneal, every batch.",
    )
    patience = row[1].number_input("Early-stopping patience", 1, 100, defaults.patience)
    if model_name in TARGET_ONLY:
        loss = defaults.loss  # unused: the expert trains on its own objective
        row[2].caption("Loss: the expert trains on the language model's next-token loss.")
    else:
        loss = row[2].selectbox("Loss", LOSSES, index=LOSSES.index(defaults.loss))
    precision = row[3].selectbox(
        "Precision",
        PRECISIONS,
        help="auto picks what this machine runs natively and fastest; it is shown below.",
    )
    row = st.columns(4)
    grad_clip = row[0].number_input("Gradient clip (0: off)", 0.0, 100.0, 0.0)
    weight_decay = row[1].number_input("Weight decay", 0.0, 1.0, defaults.weight_decay, format="%.4f")
    momentum = row[2].number_input("SGD momentum", 0.0, 0.999, defaults.momentum)
    nesterov = row[3].checkbox("Nesterov", value=defaults.nesterov)
    row = st.columns(4)
    min_delta = row[0].number_input("Early-stopping min delta", 0.0, 1.0, defaults.min_delta, format="%.4f")
    max_lr = row[1].number_input(
        "One-cycle max lr",
        1e-6,
        1.0,
        defaults.max_lr or defaults.lr,
        format="%.5f",
        help="The peak of one-cycle.",
    )
    pct_start = row[2].number_input("One-cycle warm-up share", 0.01, 0.99, defaults.pct_start)
    eta_min = row[3].number_input("Cosine eta min", 0.0, 1.0, defaults.eta_min, format="%.6f")
    row = st.columns(4)
    t_max = row[0].number_input("Cosine T max (epochs, 0: all)", 0, 500, defaults.t_max or 0)
    seed = row[1].number_input("Seed", 0, 2**31 - 1, defaults.seed)
    launched = st.form_submit_button("Launch training", type="primary")

if launched:
    try:
        train = TrainConfig(
            epochs=int(epochs),
            batch_size=int(batch_size),
            lr=float(lr),
            optimiser=optimiser,
            schedule=schedule,
            max_lr=float(max_lr),
            pct_start=float(pct_start),
            eta_min=float(eta_min),
            t_max=int(t_max) or None,
            weight_decay=float(weight_decay),
            min_delta=float(min_delta),
            patience=int(patience),
            loss=loss,
            precision=precision,
            grad_clip=float(grad_clip) or None,
            seed=int(seed),
            momentum=float(momentum),
            nesterov=nesterov,
        )
    except ValueError as error:
        st.error(f"These settings cannot train: {error}.")
        st.stop()
    spec = RunSpec(
        model=model_name,
        seq_len=seq_len,
        pred_len=pred_len,
        features=features,
        protocol=protocol,
        drop_last_batch=32 if drop_last else None,
        model_options=options,
        train=train,
    )
    chosen = dataset
    st.session_state[JOB_KEY] = manager.submit(
        f"{MODELS[model_name].label} on {dataset.name}",
        lambda context: run_training(spec, chosen, store, context),
        device=device.type,
    )

_, auto_reason = resolve_precision("auto", device)
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
    then = ", then the test windows are decoded" if "phase" in progress else ""
    return f"about {remaining:.0f} s left (at most; early stopping may end it sooner){then}"


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
        if phase == DECODING and progress.get("decode_total"):
            decoded, decodes = progress.get("decode_done", 0), progress["decode_total"]
            st.progress(
                min(decoded / decodes, 1.0),
                text=f"decoding test windows: {decoded} of {decodes} (each window once per configuration)",
            )
        else:
            st.progress(
                min(done / total, 1.0),
                text=f"epoch {progress.get('step_epoch', 0)}, step {progress.get('step_step', 0)} of "
                f"{progress.get('step_steps_per_epoch', '?')} · {_eta(snapshot)}",
            )
            metrics = st.columns(3)
            metrics[0].metric("Samples per second", f"{progress.get('step_samples_per_s', 0):,.0f}")
            metrics[1].metric("Step loss", f"{progress.get('step_loss', float('nan')):.4f}")
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
        if test.get("configurations"):
            st.caption(
                f"Decoded {test['windows']} of {test.get('windows_available', '?')} test windows (evenly "
                "spaced); the figures above are the proxy's. MSE and MAE on scaled values, NLL per time "
                "step in the series' units (lower is better):"
            )
            st.dataframe(plots.configurations_table(test["configurations"], ("mse", "mae", "nll")))
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
                "model": [MODELS[run.model].label if run.model in MODELS else run.model for run in runs],
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
