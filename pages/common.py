"""State and cached engine calls shared by the pages. The only Streamlit glue outside a page."""

from __future__ import annotations

import streamlit as st

from core import datasets, decompose, horizon, ingest
from core.data import fitting_lengths, split_borders
from core.dataset import ColumnMapping, Dataset, Problem, Table
from core.runs.spec import default_protocol

DATASET_KEY = "dataset"  # the loaded core.dataset.Dataset (a non-widget key)
NOTES_KEY = "dataset_notes"  # what was changed when it was loaded, shown on the Data page
SELECTED_RUN_KEY = "selected_run"  # the run the Forecast page opens with
TRAIN_JOB_KEY = "train_job"  # this session's last training job id (the Train page watches it)
DEFAULT_SEQ_LEN = 96
DEFAULT_PRED_LEN = 96


@st.cache_data(show_spinner="Loading the data set…")
def load_builtin(name: str) -> Dataset:
    return datasets.load_builtin(name)


@st.cache_data(show_spinner=False, max_entries=8)
def read_table(data: bytes, max_bytes: int) -> Table:
    return ingest.read_table(data, max_bytes=max_bytes)


def current_dataset() -> Dataset:
    """The loaded data set; ETTh1 on a session's first run."""
    if DATASET_KEY not in st.session_state:
        st.session_state[DATASET_KEY] = load_builtin(datasets.DEFAULT_DATASET)
        st.session_state[NOTES_KEY] = []
    return st.session_state[DATASET_KEY]


def set_dataset(dataset: Dataset, notes: list[str]) -> None:
    """Load `dataset` (from a callback, before the page and its sidebar are drawn). A look-back and
    horizon too long for it are shortened to ones it can be cut into, and the notes say so."""
    st.session_state[DATASET_KEY] = dataset
    fitted = fit_window_lengths(dataset)
    st.session_state[NOTES_KEY] = notes + ([fitted] if fitted else [])


def fit_window_lengths(dataset: Dataset) -> str | None:
    """Shorten the look-back and horizon to what `dataset` holds, if they are too long for it; the
    horizon becomes a calendar choice where one fits. The lengths chosen before are remembered, and
    come back with the next data set that holds them (unless the user set others meanwhile). What
    changed, in words, or None."""
    seq_len, pred_len = st.session_state.get(CHOSEN_KEY) or window_lengths()
    protocol = default_protocol(dataset.name)
    fitting = fitting_lengths(len(dataset.frame), seq_len, pred_len, protocol)
    if fitting is None:
        return None  # nothing fits: the pages say why
    if fitting == (seq_len, pred_len):
        if st.session_state.pop(CHOSEN_KEY, None) is None:
            return None
        _set_lengths(seq_len, pred_len)
        return (
            f"The look-back is back to {horizon.span(seq_len, dataset.freq)} and the horizon to the "
            f"{horizon.describe(pred_len, dataset.freq)}, as set before a shorter series was loaded."
        )
    offered = horizon.choices(dataset.freq, fitting[1])
    wanted = horizon.default(dataset.freq, fitting[1]).steps if offered else fitting[1]
    look_back, steps = fitting_lengths(len(dataset.frame), seq_len, wanted, protocol) or fitting
    st.session_state.setdefault(CHOSEN_KEY, (seq_len, pred_len))
    _set_lengths(look_back, steps)
    changed = [
        f"the look-back is now {horizon.span(look_back, dataset.freq)} (it was {seq_len} steps)"
        if look_back != seq_len
        else "",
        f"the horizon is now the {horizon.describe(steps, dataset.freq)} (it was {pred_len} steps)"
        if steps != pred_len
        else "",
    ]
    return (
        f"This series has {len(dataset.frame):,} rows, too few for the look-back and horizon set before, so "
        f"{' and '.join(c for c in changed if c)}. Change them in the sidebar."
    )


LOOK_BACK_KEY = "look_back"  # canonical values, kept even on runs where the sidebar is not drawn
HORIZON_KEY = "horizon"
CHOSEN_KEY = "chosen_lengths"  # the lengths set before a short series shortened them


def _set_lengths(look_back: int, steps: int) -> None:
    st.session_state[LOOK_BACK_KEY] = st.session_state["seq_len"] = look_back
    st.session_state[HORIZON_KEY] = steps


def window_lengths() -> tuple[int, int]:
    """Look-back and horizon chosen in the sidebar."""
    return (
        int(st.session_state.get(LOOK_BACK_KEY, DEFAULT_SEQ_LEN)),
        int(st.session_state.get(HORIZON_KEY, DEFAULT_PRED_LEN)),
    )


def _store(widget_key: str, key: str) -> None:
    st.session_state[key] = st.session_state[widget_key]
    st.session_state.pop(CHOSEN_KEY, None)  # the user's own choice now


def _longest_horizon(n_rows: int, seq_len: int, protocol: str) -> int:
    """The most steps ahead that leave every split a whole window with this look-back, 0 when none
    does: validation and test need a horizon of their own rows, training a look-back more."""
    try:
        borders = split_borders(n_rows, seq_len, protocol)
    except ValueError:  # the protocol needs more rows than the data has
        return 0
    return min(end - start - seq_len for start, end in borders.values())


def horizon_input(label: str, widget_key: str) -> None:
    """A horizon chosen in calendar words ("next 7 days (168 hours)"), written through to the steps
    every page reads (`window_lengths`). The choices fit the loaded data, with the look-back, under
    its standard split; a horizon that no longer fits (another data set, a longer look-back) becomes
    the longest one that does."""
    dataset = current_dataset()
    seq_len, steps = window_lengths()
    longest = _longest_horizon(len(dataset.frame), seq_len, default_protocol(dataset.name))
    offered = {choice.steps: choice.label for choice in horizon.choices(dataset.freq, longest)}
    if steps > longest and offered:
        steps = st.session_state[HORIZON_KEY] = max(offered)
        st.toast(f"Horizon set to {offered[steps]}: the longest that fits this data and look-back.")
    offered.setdefault(steps, horizon.nearest(steps, dataset.freq, longest).label)  # a count of its own
    st.session_state[widget_key] = steps  # the other horizon input may have changed it
    st.selectbox(
        label,
        sorted(offered),
        format_func=offered.get,
        key=widget_key,
        on_change=_store,
        args=(widget_key, HORIZON_KEY),
        help="How far ahead a model forecasts. The choices fit the loaded data with this look-back.",
    )


def window_inputs() -> None:
    """The sidebar's look-back (in steps) and horizon (in calendar words), writing through to the
    canonical keys."""
    st.session_state["seq_len"] = window_lengths()[0]  # a new data set may have shortened it
    st.number_input(
        "Look-back (steps)",
        min_value=2,
        max_value=4096,
        step=1,
        key="seq_len",
        on_change=_store,
        args=("seq_len", LOOK_BACK_KEY),
        help="How many past steps a model reads (L).",
    )
    horizon_input("Horizon", "sidebar_horizon")


def upload_limit_bytes() -> int:
    return int(st.get_option("server.maxUploadSize")) * 1024 * 1024


# The training modules import torch (about a second); only the pages that train pay for it.


@st.cache_resource
def job_manager():
    """One job manager for the whole server process: jobs outlive page reloads and sessions."""
    from core.training.jobs import JobManager

    return JobManager(max_concurrent=1)


@st.cache_resource
def run_store():
    """The user's run store with the shipped showcase runs beside it (`core.runs.showcase`); runs
    left running by a process that died are marked interrupted once."""
    from core.runs.showcase import RunsView, showcase_store
    from core.runs.store import RunStore

    store = RunStore()
    store.mark_interrupted()
    return RunsView(store, showcase_store())


def run_words(run) -> str:
    """A run's name as the run pickers show it: shipped showcase runs say so first."""
    return f"Showcase · {run.name}" if getattr(run, "showcase", False) else str(run.name)


@st.cache_resource(max_entries=4, show_spinner="Reading the run's results…")
def run_result(run_id: str):
    """A finished run's results never change: read once per run for every page, not on every rerun."""
    from core.runs.result import load_result

    return load_result(run_store(), run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def review_upload(
    data: bytes,
    max_bytes: int,
    mapping: ColumnMapping,
    name: str,
    description: str,
    source: str,
    min_rows: int,
) -> tuple[Dataset, list[Problem]]:
    """An upload built with a column mapping, and what `inspect` finds in it: the same bytes and
    choices give the same answer, so a rerun of the Data page does not read the file again."""
    table = read_table(data, max_bytes)
    dataset = ingest.build_dataset(
        table, mapping, name, description=description, source=source, min_rows=min_rows
    )
    return dataset, ingest.inspect(dataset)


# The Explore page's heavy results, keyed on the data set's content hash and the channel: the
# frame itself is passed unhashed (the leading underscore), so a rerun costs no hashing of it.


@st.cache_data(show_spinner="Looking for a repeating cycle…", max_entries=32)
def period_proposal(content_hash: str, channel: str, _dataset: Dataset) -> decompose.PeriodProposal:
    return decompose.propose_period(_dataset.frame[channel].to_numpy(), _dataset.freq)


@st.cache_data(show_spinner="Splitting the series into trend and pattern…", max_entries=16)
def channel_stl(
    content_hash: str, channel: str, period: int, robust: bool, _dataset: Dataset
) -> decompose.Decomposition:
    return decompose.stl(_dataset.frame[channel], period, robust)


def show_alpha_curve(test: dict, key: str) -> None:
    """Proxy decoding's alpha: the validation curve it was chosen on, and what it means, in words."""
    from core import plots

    curve = test.get("alpha_curve")
    if not curve:
        return
    alpha = float(test.get("alpha", 1.0))
    st.plotly_chart(plots.alpha_figure(curve, alpha, "How strongly the tuned expert steers"), key=key)
    how = (
        f"was chosen on {test.get('alpha_windows', '?')} windows of the validation part (never the test "
        f"part): α = {alpha:g} gave what really happened there the lowest negative log-likelihood"
        if test.get("alpha_chosen_on") == "validation"
        else f"was fixed in the settings at {alpha:g}; the curve shows what the validation windows said"
    )
    st.caption(
        f"The forecast is the language model's next digits, nudged by a small model tuned on this series "
        f"(minus the same small model before tuning): α says how hard; a higher α follows the tuned model "
        f"more. α {how}. At α = 0 the language model writes alone; α = 1 is the method's standard setting "
        "(proxy-tuning, Liu et al., 2024). The table of forecasts above has both, for comparison. NLL: how "
        "surprised the forecast is by what really happened, per step (lower is better)."
    )
