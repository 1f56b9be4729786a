"""Train page: pick a model, a horizon and a budget, launch a background job, watch it, cancel it.

The simple view asks three things: the model (the one recommended for this data is marked and
chosen first), the horizon in calendar words and a budget. Everything else waits under "Advanced
settings", which shows only what applies to the choices made there. Everything model-specific comes
from the model's registry entry and its config fields' hints (see `core.models.contract`); the page
knows no model by name.
"""

import time
from dataclasses import fields

import pandas as pd
import streamlit as st

from core import horizon, plots, verdict
from core.data import FEATURES, PROTOCOLS, window_problem
from core.models.budget import BUDGETS, DESCRIPTIONS, schedule_words
from core.models.contract import SHAPE_FIELDS
from core.models.presets import preset
from core.models.registry import MODELS, label_of
from core.recommend import recommend
from core.runs.spec import default_protocol, starting_spec, with_changes
from core.runs.train_config import LOSSES, OPTIMISERS, PRECISIONS, SCHEDULES
from core.training import cost, eta
from core.training.jobs import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from core.training.runner import run_training
from core.training.trainer import TrainingError, resolve_device, resolve_precision
from pages import common

JOB_KEY = common.TRAIN_JOB_KEY
RUNS_SHOWN = 50  # rows of the run store's table: the newest ones
WAITING = "Waiting for the running job to finish: one job runs per device at a time."
PRECISION_WORDS = {"fp32": "32-bit floats", "bf16": "bfloat16", "fp16": "float16 with loss scaling"}

dataset = common.current_dataset()
data_hash = dataset.content_hash()  # which data a job trained on
seq_len, pred_len = common.window_lengths()
manager, store = common.job_manager(), common.run_store()
device = resolve_device("auto")

st.title("Train")
st.caption(
    f"Data: {dataset.name} ({len(dataset.frame):,} rows; "
    + (
        f"forecasting {dataset.target}"
        if len(dataset.channels) == 1
        else f"{len(dataset.channels)} columns, forecasting {dataset.target}"
    )
    + f"); look-back {horizon.describe(seq_len, dataset.freq).removeprefix('next ')} (change it in the "
    "sidebar)."
)
advice = recommend(len(dataset.frame), pred_len, default_protocol(dataset.name))
names = list(MODELS)


def model_words(name: str) -> str:
    words = MODELS[name].plain or MODELS[name].label
    return f"{words} (recommended for this data)" if advice and name == advice.model else words


model_name = st.selectbox(
    "Model", names, index=names.index(advice.model) if advice else 0, format_func=model_words, key="model"
)
if advice:
    look_back = (
        "" if advice.look_back == seq_len else f" It suits a look-back of {advice.look_back} steps here."
    )
    st.caption(f"Recommended for this data — {advice.reason}{look_back}")
common.horizon_input("Horizon", "train_horizon")
budget = st.radio(
    "Budget",
    BUDGETS,
    index=BUDGETS.index("standard"),
    format_func=str.capitalize,
    horizontal=True,
    key="budget",
)
entry = MODELS[model_name]


def budget_start(name: str):
    return starting_spec(
        model_name,
        dataset_name=dataset.name,
        freq=dataset.freq,
        seq_len=seq_len,
        pred_len=pred_len,
        device_type=device.type,
        budget=name,
    )


start = budget_start(budget)
st.caption(f"{DESCRIPTIONS[budget]} This run: {schedule_words(start.train)}.")
# Widget keys name what the starting values depend on, so a new choice starts its settings afresh.
SETTINGS_KEY = f"{model_name}|{dataset.name}|{seq_len}|{pred_len}"
TRAINING_KEY = f"{SETTINGS_KEY}|{budget}"


def cells(per_row: int = 4):
    """Columns, row after row, for a number of widgets that depends on the choices made."""
    while True:
        yield from st.columns(per_row)


def option_input(column, field, default, key: str):
    """A widget for one config field, from the hints its `option(...)` metadata gives."""
    label, hints = field.name.replace("_", " "), field.metadata
    if hints.get("choices"):
        choices, labels = list(hints["choices"]), hints.get("labels") or {}
        return column.selectbox(
            label,
            choices,
            index=choices.index(default) if default in choices else 0,
            format_func=lambda name: str(labels.get(name, name)),
            help=hints.get("help"),
            key=key,
        )
    if isinstance(default, bool):
        return column.checkbox(label, value=default, help=hints.get("help"), key=key)
    if isinstance(default, int):
        return int(
            column.number_input(label, value=default, step=1, min_value=1, help=hints.get("help"), key=key)
        )
    if "dropout" in field.name:
        return float(column.number_input(label, 0.0, 0.99, float(default), format="%.2f", key=key))
    low, high = hints.get("bounds", (None, None))
    return float(
        column.number_input(
            label, low, high, value=float(default), format="%.3f", help=hints.get("help"), key=key
        )
    )


def data_settings() -> dict:
    """Features, split and the last test batch."""
    st.markdown("**Data**")
    left, middle, right = st.columns(3)
    if entry.target_only:
        features = left.selectbox(
            "Features",
            ["S"],
            disabled=True,
            help="S: the target only; the only choice for this model.",
            key=f"{SETTINGS_KEY}|features",
        )
        left.caption(f"{entry.label} forecasts the target series alone.")
    else:
        offered = [f for f in FEATURES if not (entry.multivariate and f == "S")]
        features = left.selectbox(
            "Features",
            offered,
            index=offered.index(start.features),
            help="M: all channels in and out; S: the target only; MS: all in, target out.",
            key=f"{SETTINGS_KEY}|features",
        )
        if entry.multivariate:
            left.caption(f"{entry.label} reads the channels together, so it needs them all (M or MS).")
    protocol = middle.selectbox(
        "Split", PROTOCOLS, index=PROTOCOLS.index(start.protocol), key=f"{SETTINGS_KEY}|split"
    )
    drop_last = right.checkbox("Drop the last incomplete test batch", value=False, key=f"{SETTINGS_KEY}|drop")
    return {"features": features, "protocol": protocol, "drop_last_batch": 32 if drop_last else None}


def model_settings() -> dict:
    """The model's own options, from its config's fields and their hints."""
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
    cell = cells()
    for field in option_fields:
        default = start.model_options.get(field.name, field.default)
        options[field.name] = option_input(next(cell), field, default, f"{TRAINING_KEY}|model|{field.name}")
    for field in described:
        options[field.name] = st.text_input(
            "Describe the data for the model",
            value=dataset.description,
            max_chars=300,
            placeholder="e.g. Hourly electricity load of one building, in kW.",
            help=field.metadata.get("help"),
            key=f"{SETTINGS_KEY}|{field.name}",
        )
    return options


def training_settings() -> dict:
    """How the run trains; a setting shows only when the optimiser, schedule, loss or device it
    belongs to is chosen (the others keep their starting values, which then do nothing)."""
    defaults, cell = start.train, cells()

    def number(label: str, name: str, low, high, value, **kwargs):
        return next(cell).number_input(label, low, high, value, key=f"{TRAINING_KEY}|{name}", **kwargs)

    def choice(label: str, name: str, offered, value, **kwargs):
        index = offered.index(value) if value in offered else 0
        return next(cell).selectbox(label, offered, index=index, key=f"{TRAINING_KEY}|{name}", **kwargs)

    st.markdown("**Training**")
    training = {
        "epochs": int(number("Epochs", "epochs", 1, 500, defaults.epochs)),
        "batch_size": int(number("Batch size", "batch_size", 1, 4096, defaults.batch_size)),
        "lr": float(number("Learning rate", "lr", 1e-6, 1.0, defaults.lr, format="%.5f")),
        "optimiser": choice("Optimiser", "optimiser", list(OPTIMISERS), defaults.optimiser),
    }
    if training["optimiser"] == "sgd":
        training["momentum"] = float(number("SGD momentum", "momentum", 0.0, 0.999, defaults.momentum))
        training["nesterov"] = next(cell).checkbox(
            "Nesterov", value=defaults.nesterov, key=f"{TRAINING_KEY}|nesterov"
        )
    if training["optimiser"] == "rmsprop":
        training["rmsprop_alpha"] = float(
            number("RMSprop alpha", "rmsprop_alpha", 0.0, 0.9999, defaults.rmsprop_alpha, format="%.4f")
        )
    training["schedule"] = choice(
        "Schedule",
        "schedule",
        list(SCHEDULES),
        defaults.schedule,
        help="cosine: annealed per epoch to eta min; onecycle: warm up to max lr, then anneal, every batch.",
    )
    if training["schedule"] == "cosine":
        t_max = int(number("Cosine T max (epochs, 0: all)", "t_max", 0, 500, defaults.t_max or 0))
        training["t_max"] = t_max or None
        training["eta_min"] = float(
            number("Cosine eta min", "eta_min", 0.0, 1.0, defaults.eta_min, format="%.6f")
        )
    if training["schedule"] == "onecycle":
        max_lr = float(
            number(
                "One-cycle max lr",
                "max_lr",
                1e-6,
                1.0,
                defaults.max_lr or defaults.lr,
                format="%.5f",
                help="The peak of one-cycle (unset: the learning rate).",
            )
        )
        training["max_lr"] = None if defaults.max_lr is None and max_lr == training["lr"] else max_lr
        training["pct_start"] = float(
            number("One-cycle warm-up share", "pct_start", 0.01, 0.99, defaults.pct_start)
        )
    windows = int(
        number(
            "Training windows per epoch (0: all)",
            "train_windows",
            0,
            10_000_000,
            defaults.train_windows or 0,
            help="At most this many training windows per epoch, evenly spaced over the whole training "
            "split. Validation and test always use every window.",
        )
    )
    training["train_windows"] = windows or None
    training["patience"] = int(number("Early-stopping patience", "patience", 1, 100, defaults.patience))
    training["min_delta"] = float(
        number("Early-stopping min delta", "min_delta", 0.0, 1.0, defaults.min_delta, format="%.4f")
    )
    if entry.own_loss:
        next(cell).caption(f"Loss: {entry.label} trains on an objective of its own.")
    else:
        training["loss"] = choice("Loss", "loss", list(LOSSES), defaults.loss)
    offered = [p for p in PRECISIONS if p != "fp16" or device.type == "cuda"]  # fp16 needs a GPU's scaler
    training["precision"] = choice(
        "Precision",
        "precision",
        offered,
        defaults.precision,
        help="auto picks what this machine runs fastest; the line under these settings says which.",
    )
    grad_clip = float(number("Gradient clip (0: off)", "grad_clip", 0.0, 100.0, defaults.grad_clip or 0.0))
    training["grad_clip"] = grad_clip or None
    training["weight_decay"] = float(
        number("Weight decay", "weight_decay", 0.0, 1.0, defaults.weight_decay, format="%.4f")
    )
    training["seed"] = int(number("Seed", "seed", 0, 2**31 - 1, defaults.seed))
    return training


def too_short(protocol: str) -> str | None:
    """Why the loaded series cannot be cut into windows of this look-back and horizon, if it cannot."""
    try:
        return window_problem(len(dataset.frame), seq_len, pred_len, protocol)
    except ValueError as error:
        return str(error)


def precision_words(chosen: str) -> str:
    """The precision the run will train in on this machine, in words, and why."""
    try:
        precision, reason = resolve_precision(chosen, device, entry.cpu_autocast)
    except TrainingError as error:
        return f"It cannot train in {chosen} here: {error}."
    why = "as chosen under Advanced settings" if chosen != "auto" else reason.split(": ", 1)[-1]
    return f"It will train in {PRECISION_WORDS[precision]} on this {device.type.upper()} ({why})."


def plain(error: str) -> str:
    """The message of an error we raise for users, without the exception's class name."""
    for name in ("TrainingError: ", "ValueError: ", "DataError: "):
        if error.startswith(name):
            return error[len(name) :]
    return error


def stored_time(name: str, spec) -> str:
    """As a guide, how long the latest finished stored run of this model took, in words, and how much
    more `spec` decodes than it did ('' if there is no such run). Decoding dominates such a run, and
    grows with the past forecasts decoded times their length."""
    done = [
        r
        for r in store.list_runs()
        if r.model == name and r.status == "succeeded" and r.wall_time_s and r.test_metrics.get("windows")
    ]
    if not done:
        return ""
    run = max(done, key=lambda r: r.finished_at or 0)
    windows, steps = run.test_metrics["windows"], run.config.get("pred_len")
    where = " on the machine it was built on" if run.showcase else ""
    words = (
        f" As a guide, the stored run “{common.run_words(run)}” took "
        f"{horizon.duration_words(run.wall_time_s)}{where} to train and check {windows:,} past forecasts"
        + (f" of {steps} steps each." if steps else ".")
    )
    wanted = spec.model_options.get("test_windows") if spec is not None else None
    if steps and wanted:
        ratio = (wanted * spec.pred_len) / (windows * steps)
        these = f" These settings decode up to {wanted:,} past forecasts of {spec.pred_len} steps"
        if ratio > 1.5:
            words += (
                f"{these}, roughly {ratio:.0f} times as much: expect "
                f"{eta.rough_words(run.wall_time_s * ratio)} on a machine like that one."
            )
        elif ratio >= 2 / 3:
            words += f"{these}: expect about as long."
        else:
            words += f"{these}: expect less."
    return words


def time_estimates(specs: dict) -> None:
    """How long each budget would take on this data and machine, from the measured cost model
    (`core.training.cost`); a model without a language model is measured at once (it takes a
    moment), a language model's budgets when asked (a few steps each)."""
    try:
        plans = {name: cost.plan(spec, dataset) for name, spec in specs.items()}
    except (ValueError, TypeError) as error:
        st.caption(f"No time estimate: {plain(str(error))}")
        return
    if any(p.workload is None for p in plans.values()):
        st.caption(
            f"No time estimate before launch for {entry.label}: sampling its forecasts digit by digit costs "
            "far more than a training step shows. The progress bar estimates the time left once it runs."
            + stored_time(model_name, specs.get(budget))
        )
        return
    missing = [name for name, p in plans.items() if p.cost is None]
    busy = bool(manager.active())  # a probe beside a running job would slow both and time neither
    if missing and not MODELS[model_name].cpu_autocast and not busy:  # no language model: a moment
        measure(specs, missing, plans)
    elif budget in missing:
        # A language model: the chosen budget only (a paper budget's model alone takes long to build).
        if st.button(
            f"Estimate this run's time ({budget} budget)",
            key="estimate",
            disabled=busy,
            help="Builds the model and times a few training steps and forecasts, once for this machine "
            "and these shapes: for a language model a minute or more, longer while the machine is busy. "
            "Pick another budget and estimate it the same way.",
        ):
            measure(specs, [budget], plans)
    known = {name: p.estimate() for name, p in plans.items() if p.cost is not None}
    if known:
        words = [
            f"**{name.capitalize()}** {'at most ' if e.upper_bound else ''}{eta.rough_words(e.seconds)}"
            + (" (this run)" if name == budget else "")
            for name, e in ((b, known[b]) for b in BUDGETS if b in known)
        ]
        st.markdown("Time on this machine: " + " · ".join(words))
        chosen = known.get(budget)
        if chosen is not None and chosen.seconds > 3600:
            st.warning(
                f"This run would take {eta.rough_words(chosen.seconds).removeprefix('about ')} or so on this "
                "machine. The quick budget gives a first look far sooner; the paper budget is meant for a "
                "GPU.",
                icon=":material/schedule:",
            )


def measure(specs: dict, names: list[str], plans: dict) -> None:
    with st.spinner(f"Measuring {len(names)} budget{'s' if len(names) != 1 else ''}: a few steps each…"):
        for name in names:
            try:
                cost.probe(specs[name], dataset)
            except Exception as error:  # noqa: BLE001 - a probe that fails must not take the page down
                st.caption(f"The {name} budget could not be measured: {plain(str(error))}")
                continue
            plans[name] = cost.plan(specs[name], dataset)


with st.expander("Advanced settings"):
    notes = preset(model_name, dataset.name, device.type, pred_len, dataset.freq, seq_len, budget).notes
    if notes:
        st.info("Starting values. " + " ".join(notes), icon=":material/tune:")
    st.caption("A new model, data set, look-back, horizon or budget starts these settings afresh.")
    settings = data_settings()
    options = model_settings()
    training = training_settings()

if problem := too_short(settings["protocol"]):
    st.warning(problem, icon=":material/straighten:")
st.caption(
    f"{precision_words(training['precision'])} Jobs run one at a time per device; later ones wait in the "
    "queue."
)
if not problem:
    try:
        chosen_spec = with_changes(start, settings, training, options)
    except (ValueError, TypeError):
        chosen_spec = None  # the launch button says what is wrong
    if chosen_spec is not None:
        others = {
            name: with_changes(budget_start(name), settings, {}, {}) for name in BUDGETS if name != budget
        }
        time_estimates({budget: chosen_spec, **others})
# A button, not a form: settings react as they change, and Enter in a field only commits its value.
if st.button("Launch training", type="primary", key="launch"):
    if problem:
        st.error(f"Not launched. {problem}")
    else:
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
            # "at most" only when it can stop early; the data, so that another data set's job is told apart
            progress={"patience": spec.train.patience, "data": data_hash},
        )


def cancel_button(snapshot) -> None:
    st.button("Cancel", key=f"cancel_{snapshot.id}", on_click=manager.cancel, args=(snapshot.id,))


def show_job(snapshot) -> None:
    progress = snapshot.progress
    if snapshot.finished and progress.get("data") not in (None, data_hash):
        # A finished job on data no longer loaded: its charts and verdict would read as this data's.
        st.caption(
            f"Your last job, {snapshot.name}, {snapshot.state}, on another data set than the one loaded now"
            + (": its results are on the Forecast and Compare pages." if snapshot.state == SUCCEEDED else ".")
        )
        return
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
        time_words = eta.describe(progress, snapshot.started_at, time.time())
        if phase not in (None, "training") and progress.get("phase_total"):  # a phase with its own count
            finished, count = progress.get("phase_done", 0), progress["phase_total"]
            st.progress(min(finished / count, 1.0), text=f"{phase}: {finished} of {count} · {time_words}")
        elif phase != "training" or "step_global_step" not in progress:  # before or after the steps
            st.progress(min(done / total, 1.0), text=time_words)
        else:
            st.progress(
                min(done / total, 1.0),
                text=f"epoch {progress['step_epoch']} of {total // progress['step_steps_per_epoch']}, step "
                f"{progress['step_step']} of {progress['step_steps_per_epoch']} · {time_words}",
            )
            # Only fp16 trains with a loss scale, and only a GPU is offered fp16.
            scaled = progress.get("precision") == "fp16" and snapshot.device != "cpu"
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
        run_id = progress.get("run_id")
        freq = store.get(run_id).config.get("freq") if run_id else dataset.freq
        found = verdict.verdict(test, freq)
        if found is not None:
            show = st.success if found.better else st.error if found.better is False else st.warning
            show(f"**{found.headline}** {found.advice} {found.caution}")
        st.caption(
            f"Checked on {test.get('windows', '?')} test forecasts (best checkpoint). Research protocol, "
            f"standardised values: MSE {test.get('mse', float('nan')):.4f}, MAE "
            f"{test.get('mae', float('nan')):.4f}."
        )
        if test.get("variants"):
            st.caption(
                f"Forecast {test['windows']} of {test.get('windows_available', '?')} test windows (evenly "
                f"spaced), {len(test['variants'])} ways; the figures above are the "
                f"{test.get('variant_name', 'main')} forecast's. MSE and MAE on scaled values (lower is "
                "better):"
            )
            st.dataframe(plots.variants_table(test["variants"]))
        common.show_alpha_curve(test, key=f"alpha_{snapshot.id}")
        if progress.get("run_id"):
            st.session_state[common.SELECTED_RUN_KEY] = progress["run_id"]
            st.page_link("pages/forecast.py", label="See its forecast", icon=":material/show_chart:")
    elif snapshot.state == FAILED:
        st.error(f"The run failed: {plain(snapshot.error)}")
    elif snapshot.state == CANCELLED:
        st.warning(f"The run was cancelled; {kept(snapshot)}")


def kept(snapshot) -> str:
    """What a cancelled job left in the run store, as the store has it."""
    if snapshot.started_at is None:
        return "it had not started, so nothing was saved."
    run_id = snapshot.progress.get("run_id")
    if not run_id or not store.has_checkpoint(run_id):
        return "nothing was saved: the run stopped before its first epoch ended."
    improved = [info["epoch"] for info in snapshot.progress.get("epochs", []) if info.get("improved")]
    best = f" (epoch {improved[-1]})" if improved else ""
    return f"its best checkpoint so far{best} is kept in the run store, run {run_id}."


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
        runs = getattr(store, "user", store).list_runs()[:RUNS_SHOWN]  # the user's own, not the showcase
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
