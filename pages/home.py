"""Home page: the three steps from a series to a forecast you can judge, on one page.

1. Load a series (upload a CSV right here, or keep the example).
2. Get a forecast: one click trains the recommended model (`core.training.oneclick`).
3. See how good it is: the verdict against simple baselines, then the Forecast page.
"""

import time
from dataclasses import replace

import streamlit as st

from core import horizon, ingest
from core.dataset import AmbiguousDateOrder, DataError
from core.recommend import recommend
from core.runs.spec import default_protocol
from pages import common

ONE_CLICK_KEY = "one_click_job"  # the job of this session's last one-click forecast
UPLOAD_ERROR_KEY = "home_upload_error"  # (file name, why it was not loaded)
UPLOADS_KEY = "home_uploads"  # files offered so far: each gets a fresh uploader
DATE_QUESTION_KEY = "home_date_question"  # (file name, bytes, question) of a file waiting for an answer
DAY_FIRST, MONTH_FIRST = "day first (31/01/2024)", "month first (01/31/2024)"

dataset = common.current_dataset()

st.title("Forecast a time series")
st.markdown(
    "Load a series of numbers over time, such as sales, energy use or temperatures. The app trains a "
    "forecasting model on its past, checks it on a stretch of data it never saw, and tells you in plain "
    "words whether it beats simply repeating the past, with a range the future is likely to fall in."
)


def load_file(name: str, data: bytes, dayfirst: bool | None = None) -> None:
    """Read, check and load a file; on failure keep the loaded series and say why. A file whose
    dates read both day first and month first waits for the user to say which."""
    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    st.session_state.pop(DATE_QUESTION_KEY, None)
    try:
        table = common.read_table(data, common.upload_limit_bytes())
        mapping = replace(ingest.suggest_mapping(table), dayfirst=dayfirst)
        loaded, notes = ingest.load_dataset(table, mapping, name, source="upload")
    except AmbiguousDateOrder as question:
        st.session_state[DATE_QUESTION_KEY] = (name, data, str(question))
        return
    except DataError as error:
        st.session_state[UPLOAD_ERROR_KEY] = (name, str(error))
        return
    except Exception as error:  # a file no rule foresaw: a plain message, never a traceback
        st.session_state[UPLOAD_ERROR_KEY] = (name, f"It could not be read ({type(error).__name__}).")
        return
    common.set_dataset(loaded, [f"Loaded '{loaded.name}'."] + notes)
    st.session_state.pop(ONE_CLICK_KEY, None)


def load_upload() -> None:
    """Uploader callback; the next uploader starts empty (a rejected file must not look loaded)."""
    count = st.session_state.get(UPLOADS_KEY, 0)
    upload = st.session_state.get(f"home_upload_{count}")
    st.session_state[UPLOADS_KEY] = count + 1
    if upload is not None:
        load_file(upload.name, upload.getvalue())


def answer_date_order() -> None:
    """Date-order callback: load the waiting file the way the user reads its dates."""
    name, data, _ = st.session_state[DATE_QUESTION_KEY]
    load_file(name, data, dayfirst=st.session_state["home_date_order"] == DAY_FIRST)


st.header("1. Load a series")
summary = dataset.summary()
sub_daily = any(word in horizon.step_words(dataset.freq) for word in ("hour", "minute", "second"))
start, end = (
    str(summary[key]) if sub_daily else str(summary[key]).removesuffix(" 00:00:00")
    for key in ("start", "end")
)
st.markdown(
    f"**Loaded: {dataset.name}** — {summary['rows']:,} rows, {summary['frequency']}, from {start} to {end}. "
    f"The forecast is of **{dataset.target}**."
)
if dataset.description:
    st.caption(dataset.description)
left, right = st.columns([3, 2])
left.file_uploader(
    "Upload your own CSV: a date column and one or more columns of numbers",
    type=["csv", "tsv", "txt"],
    key=f"home_upload_{st.session_state.get(UPLOADS_KEY, 0)}",
    on_change=load_upload,
)
if DATE_QUESTION_KEY in st.session_state:
    name, _, message = st.session_state[DATE_QUESTION_KEY]
    left.warning(f"'{name}': {message}")
    left.radio(
        "How are its dates written?",
        [DAY_FIRST, MONTH_FIRST],
        index=None,
        key="home_date_order",
        on_change=answer_date_order,
    )
    left.caption(f"'{dataset.name}' stays loaded until you answer.")
if UPLOAD_ERROR_KEY in st.session_state:
    name, message = st.session_state[UPLOAD_ERROR_KEY]
    left.error(f"'{name}' was not loaded. {message}")
    left.caption(f"'{dataset.name}' is still loaded.")
right.caption(
    "The Data page shows every column, lets you pick another target or an example data set, and "
    "explains anything odd in a file."
)
right.page_link("pages/data.py", label="Review the data", icon=":material/table_view:")
for note in st.session_state.get(common.NOTES_KEY, [])[1:]:
    st.caption(note)

st.header("2. Get a forecast")
protocol = default_protocol(dataset.name)
common.horizon_input("How far ahead?", "home_horizon")  # the same horizon as the sidebar's
_, steps_ahead = common.window_lengths()
plan = recommend(len(dataset.frame), steps_ahead, protocol)
if plan is None:
    st.warning(
        f"The series has {len(dataset.frame):,} rows: too few to learn from, check and forecast "
        f"{horizon.describe(steps_ahead, dataset.freq)}. Choose a shorter horizon, or load a longer series."
    )
    st.stop()
st.caption(
    f"Model: {plan.reason} It reads the last {horizon.span(plan.look_back, dataset.freq)} to forecast, and "
    "tries a few learning rates, keeping the one that does best on a stretch of data held back for "
    "choosing settings."
)


def launch() -> None:
    from core.training.oneclick import forecast_series
    from core.training.trainer import resolve_device

    store, target, steps = common.run_store(), dataset, steps_ahead
    st.session_state[ONE_CLICK_KEY] = common.job_manager().submit(
        f"Forecast of {target.target} on {target.name}",
        lambda context: forecast_series(target, steps, store, context),
        device=resolve_device("auto").type,
    )


st.button("Forecast this series", type="primary", icon=":material/auto_graph:", on_click=launch)


def plain(error: str | None) -> str:
    """An error's message without its class name: the people reading it do not program."""
    message = str(error or "")
    head, _, rest = message.partition(": ")
    return rest if rest and head.replace("Error", "").isalpha() and head.endswith("Error") else message


@st.fragment(run_every=1.0)
def progress() -> None:
    """The one-click job's progress; when it is done, the way to its forecast."""
    from core.training import eta
    from core.training.jobs import CANCELLED, FAILED, QUEUED, SUCCEEDED

    job_id = st.session_state.get(ONE_CLICK_KEY)
    if job_id is None:
        return
    try:
        job = common.job_manager().get(job_id)
    except KeyError:  # a job of an earlier server process
        return
    report = job.progress
    if job.state == QUEUED:
        st.info("Waiting for another training job to finish first.", icon=":material/hourglass_empty:")
        return
    if not job.finished:
        now = time.time()
        done, total = report.get("step_global_step", 0), report.get("step_total_steps") or 0
        step = report.get("one_click_step", "getting ready")
        st.progress(
            min(done / total, 1.0) if total else 0.0,
            text=f"{step} · {eta.describe(report, job.started_at, now)} · "
            f"{now - (job.started_at or now):.0f} s so far",
        )
        return
    if job.state == FAILED:
        st.error(f"The forecast could not be made: {plain(job.error)}")
    elif job.state == CANCELLED:
        st.warning("The forecast was cancelled.")
    elif job.state == SUCCEEDED and report.get("run_id"):
        st.session_state[common.SELECTED_RUN_KEY] = report["run_id"]
        st.session_state.pop(ONE_CLICK_KEY, None)
        st.switch_page("pages/forecast.py")


progress()

st.header("3. See how good it is")
st.markdown(
    "The forecast opens on the **Forecast** page with a verdict in words: how much better (or worse) it "
    "is than repeating the last day, week or value, on data the model never saw, and in your own units. "
    "The **Compare** page puts every run side by side with those simple baselines."
)
left, right = st.columns(2)
left.page_link("pages/forecast.py", label="Forecasts", icon=":material/show_chart:")
right.page_link("pages/compare.py", label="Compare runs", icon=":material/leaderboard:")
