"""The Train page under AppTest: the simple view (model, horizon, budget), the advanced settings that
show only what applies, launch, watch with the time left, cancel and queue jobs."""

import re
import time
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from core.models.budget import QUICK_EPOCHS
from core.models.registry import MODELS
from core.recommend import recommend
from core.training.jobs import SUCCEEDED
from core.training.trainer import cpu_has_native_bf16
from pages import common
from tests.conftest import ROOT

VERDICT = re.compile(r"(lower error than|Worse than|About as accurate as) (repeating|the M4)")
APP = str(ROOT / "streamlit_app.py")


def _train_page(dataset=None, look_back: int = 48, horizon: int = 24) -> AppTest:
    """The Train page with a short look-back and horizon, so that test runs take seconds."""
    at = AppTest.from_file(APP, default_timeout=60)
    if dataset is not None:
        at.session_state["dataset"] = dataset
    at.session_state["look_back"] = look_back
    at.session_state["horizon"] = horizon
    at.run()
    at.switch_page("pages/train.py").run()
    return at


def _number(at: AppTest, label: str):
    return at.number_input[[n.label for n in at.number_input].index(label)]


def _box(at: AppTest, label: str):
    return at.selectbox[[s.label for s in at.selectbox].index(label)]


def _set_epochs(at: AppTest, epochs: int) -> None:
    _number(at, "Epochs").set_value(epochs)


def _launch(at: AppTest) -> AppTest:
    return at.button(key="launch").click().run()


class Launcher:
    """A job manager that runs a job's function at once, which records the spec it would train."""

    def submit(self, name, function, device="cpu", progress=None):
        function(None)
        return "job"

    def list(self):
        return []

    def active(self):
        return []

    def get(self, job_id):
        raise KeyError(job_id)


@pytest.fixture
def launched(runs_dir, monkeypatch):
    """The specs the page launches, recorded instead of trained."""
    from core.training import runner

    specs = []
    with monkeypatch.context() as patch:  # undone before the run store's fixture clears the job manager
        patch.setattr(runner, "run_training", lambda spec, *args, **kwargs: specs.append(spec))
        patch.setattr(common, "job_manager", lambda: Launcher())
        yield specs


def test_launch_watch_and_open_the_forecast(runs_dir):
    at = _train_page()
    assert not at.exception
    assert any("No training job yet" in i.value for i in at.info)
    at.selectbox(key="model").set_value("dlinear").run()
    _set_epochs(at, 2)
    _launch(at)
    assert not at.exception
    job_id = at.session_state["train_job"]
    snapshot = common.job_manager().wait(job_id, timeout=120)
    assert snapshot.state == SUCCEEDED, snapshot.error
    at.run()
    assert not at.exception
    verdicts = [e.value for e in [*at.success, *at.warning, *at.error]]
    assert any(VERDICT.search(v) for v in verdicts), verdicts  # the verdict, in words
    assert any("Research protocol, standardised values: MSE" in c.value for c in at.caption)
    assert at.session_state["selected_run"] == snapshot.progress["run_id"]
    run = common.run_store().get(snapshot.progress["run_id"])
    assert run.status == "succeeded" and run.config["seq_len"] == 48 and run.config["train"]["epochs"] == 2

    at.switch_page("pages/forecast.py").run()
    assert not at.exception and at.title[0].value == "Forecast"
    mae = next(m for m in at.metric if m.label == "Typical error")  # of the target, in its units
    assert float(mae.value) == pytest.approx(run.test_metrics["units"]["OT"]["mae"], rel=1e-2)

    # Another data set loaded: the finished job is named, not shown as if it were this data's.
    from core.datasets import load_builtin

    at.session_state["dataset"] = load_builtin("ILI")
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any("on another data set than the one loaded now: its results" in c.value for c in at.caption)
    assert not any(VERDICT.search(e.value) for e in [*at.success, *at.warning, *at.error])


def _load_weekly_app():
    """A button that loads 30 weekly rows through `common.set_dataset`, as the Start and Data pages'
    callbacks do, beside the sidebar's look-back and horizon."""
    import pandas as pd
    import streamlit as st

    from core.dataset import Dataset
    from pages import common

    index = pd.date_range("2024-01-07", periods=30, freq="W-SUN", name="timestamp")
    weekly = Dataset(
        pd.DataFrame({"Visitors": range(100, 130)}, index=index), "Visitors", "weekly.csv", freq="W-SUN"
    )
    st.button("Load", key="load", on_click=common.set_dataset, args=(weekly, ["Loaded 'weekly.csv'."]))
    long = common.load_builtin("ILI")
    st.button("Load ILI", key="load_ili", on_click=common.set_dataset, args=(long, ["Loaded 'ILI'."]))
    common.window_inputs()


def test_a_short_series_shortens_the_look_back_and_horizon_it_is_loaded_with(runs_dir):
    at = AppTest.from_function(_load_weekly_app, default_timeout=60).run()
    at.button(key="load").click().run()
    assert not at.exception
    # 21 training rows, 3 validation: a horizon of the next 2 weeks (a calendar choice within 3)
    # and a look-back of 9 weeks, which leaves training 11 windows.
    assert (at.session_state["look_back"], at.session_state["horizon"]) == (9, 2)
    assert at.number_input(key="seq_len").value == 9
    assert at.selectbox(key="sidebar_horizon").value == 2
    note = at.session_state["dataset_notes"][-1]
    assert note == (
        "This series has 30 rows, too few for the look-back and horizon set before, so the look-back is now "
        "9 weeks (it was 96 steps) and the horizon is now the next 2 weeks (it was 96 steps). Change them "
        "in the sidebar."
    )
    # A long series next: the lengths set before come back.
    at.button(key="load_ili").click().run()
    assert (at.session_state["look_back"], at.session_state["horizon"]) == (96, 96)
    assert at.number_input(key="seq_len").value == 96
    assert at.session_state["dataset_notes"][-1].startswith("The look-back is back to 96 weeks")
    # Lengths the user sets after a shortening are theirs: a long series keeps them.
    at.button(key="load").click().run()
    at.number_input(key="seq_len").set_value(6).run()
    at.button(key="load_ili").click().run()
    assert at.session_state["look_back"] == 6


def test_a_second_session_sees_the_running_job(runs_dir):
    first = _train_page()
    _set_epochs(first, 200)
    _launch(first)
    job_id = first.session_state["train_job"]
    try:
        second = AppTest.from_file(APP, default_timeout=60).run()
        second.switch_page("pages/train.py").run()
        assert not second.exception
        assert any(job_id in b.key for b in second.button if b.key and b.key.startswith("cancel_"))
        second.button(key=f"cancel_{job_id}").click().run()
    finally:
        common.job_manager().cancel(job_id)
    assert common.job_manager().wait(job_id, timeout=60).state == "cancelled"


def test_a_new_session_sees_a_finished_job_with_its_metrics(runs_dir):
    first = _train_page()
    _set_epochs(first, 1)
    _launch(first)
    assert common.job_manager().wait(first.session_state["train_job"], timeout=120).state == SUCCEEDED
    reloaded = AppTest.from_file(APP, default_timeout=60).run()
    reloaded.switch_page("pages/train.py").run()
    assert not reloaded.exception
    assert any(VERDICT.search(e.value) for e in [*reloaded.success, *reloaded.warning, *reloaded.error])


def test_bad_options_give_a_plain_failure(runs_dir):
    at = _train_page()
    at.selectbox[[s.label for s in at.selectbox].index("Split")].set_value("ett-minute")  # ETTh1 is too short
    _launch(at)
    assert any(e.value.startswith("Not launched.") and "needs 57600 rows" in e.value for e in at.error)
    assert "train_job" not in at.session_state  # refused before a job started
    at.selectbox(key="model").set_value("patchtst").run()
    at.number_input[[n.label for n in at.number_input].index("n heads")].set_value(5)  # 16 is not a multiple
    _launch(at)
    snapshot = common.job_manager().wait(at.session_state["train_job"], timeout=60)
    assert snapshot.state == "failed"
    at.run()
    assert any("not divisible by 5 heads" in e.value and "Error" not in e.value for e in at.error)


def test_time_llm_starts_from_the_papers_row_for_the_loaded_data(runs_dir):
    from core.datasets import load_builtin

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["dataset"] = load_builtin("ILI")
    at.session_state["look_back"] = 96
    at.session_state["horizon"] = 24
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="model").set_value("time_llm").run()
    assert not at.exception
    inputs = {n.label: n.value for n in at.number_input}
    assert inputs["n prototypes"] == 100 and inputs["layers"] == 6 and inputs["Learning rate"] == 0.01
    notes = " ".join(i.value for i in at.info)
    assert "ILI row" in notes and "Scaled for this CPU" in notes


def test_time_llm_launches_from_the_page_with_a_tiny_backbone(runs_dir):
    from core.datasets import load_builtin

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["dataset"] = load_builtin("Sunspots")  # small: one epoch takes seconds
    at.session_state["look_back"] = 32
    at.session_state["horizon"] = 8
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="model").set_value("time_llm").run()
    at.selectbox[[s.label for s in at.selectbox].index("backbone")].set_value("tiny-random-llama")
    for label, value in (("layers", 2), ("n prototypes", 40), ("Epochs", 1), ("Batch size", 64)):
        at.number_input[[n.label for n in at.number_input].index(label)].set_value(value)
    _launch(at)
    assert not at.exception
    snapshot = common.job_manager().wait(at.session_state["train_job"], timeout=120)
    assert snapshot.state == SUCCEEDED, snapshot.error
    run = common.run_store().get(snapshot.progress["run_id"])
    assert run.config["model_options"]["backbone"] == "tiny-random-llama"
    assert run.config["model_options"]["description"]  # the data set's description reached the prompt


def test_tempo_launches_from_the_page_with_its_knobs(runs_dir):
    from core.datasets import load_builtin

    etth1 = load_builtin("ETTh1")
    sample = replace(etth1, frame=etth1.frame.iloc[:1500], name="hourly sample")  # hourly, and quick
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["dataset"] = sample
    at.session_state["look_back"] = 36
    at.session_state["horizon"] = 8
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="model").set_value("tempo").run()
    notes = " ".join(i.value for i in at.info)
    assert "TEMPO paper" in notes and "Seasonal period 24" in notes and "moving-average" in notes
    boxes = {s.label: s for s in at.selectbox}
    assert boxes["decomposition"].value == "moving_average"  # a 36-step window cannot hold two days
    boxes["prompt"].set_value("pool")
    boxes["backbone"].set_value("tiny-random-llama")
    boxes["Features"].set_value("S")
    for label, value in (("layers", 2), ("Epochs", 1), ("Batch size", 64), ("patch len", 8), ("stride", 4)):
        at.number_input[[n.label for n in at.number_input].index(label)].set_value(value)
    _launch(at)
    assert not at.exception
    snapshot = common.job_manager().wait(at.session_state["train_job"], timeout=180)
    assert snapshot.state == SUCCEEDED, snapshot.error
    config = common.run_store().get(snapshot.progress["run_id"]).config["model_config"]
    assert (
        config["prompt"] == "pool" and config["period"] == 24 and config["decomposition"] == "moving_average"
    )


@pytest.fixture
def fresh_jobs(runs_dir):
    """No jobs of other tests in the process-wide job manager, and none of this test left behind."""
    common.job_manager.clear()
    yield runs_dir
    common.job_manager.clear()


def test_a_queued_job_is_shown_waiting_after_the_running_one(fresh_jobs):
    at = _train_page()
    at.selectbox(key="model").set_value("dlinear").run()
    _set_epochs(at, 200)
    _launch(at)
    manager = common.job_manager()
    running = at.session_state["train_job"]
    queued = None
    try:
        for _ in range(400):  # the first job takes the device's one slot and steps within moments
            if "step_global_step" in manager.get(running).progress:
                break
            time.sleep(0.05)
        _launch(at)  # a second launch waits behind the first
        queued = at.session_state["train_job"]
        assert queued != running and manager.get(queued).state == "queued"
        assert not at.exception
        name = manager.get(queued).name
        assert [h.value for h in at.subheader] == [f"{name}: running", f"{name}: queued"]
        assert any(i.value.startswith("Waiting for the running job to finish") for i in at.info)
        assert len(at.get("progress")) == 1 and len(at.metric) == 2  # the running job's (fp32: no loss scale)
        assert all(queued not in chart.key for chart in at.get("plotly_chart") if chart.key)
        cancels = [b.key for b in at.button if b.key and b.key.startswith("cancel_")]
        assert cancels == [f"cancel_{running}", f"cancel_{queued}"]
    finally:
        for job_id in (queued, running):
            if job_id:
                manager.cancel(job_id)
    assert manager.wait(queued, timeout=60).state == "cancelled"
    assert manager.wait(running, timeout=60).state == "cancelled"


def test_the_run_store_table_lists_runs_that_did_not_succeed(fresh_jobs):
    import torch

    from core.runs.store import INTERRUPTED_MESSAGE

    store = common.run_store()
    ids = {}
    for status in ("succeeded", "interrupted", "failed"):
        ids[status] = store.create_run(f"{status} run", "dlinear", {}, "ETTh1", "abc123", status="running")
    store.update(ids["succeeded"], status="succeeded", best_epoch=3, finished_at=time.time())
    store.save_checkpoint(ids["succeeded"], {"weight": torch.zeros(2)})
    store.update(ids["interrupted"], status="interrupted", best_epoch=1, message=INTERRUPTED_MESSAGE)
    store.save_checkpoint(ids["interrupted"], {"weight": torch.zeros(2)})
    store.update(ids["failed"], status="failed", finished_at=time.time(), message="Out of <b>memory</b>.")

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    expander = next(e for e in at.expander if e.label == "Runs in the store")
    assert not expander.proto.expanded  # collapsed until opened
    assert any(str(store.root) in c.value for c in expander.caption)
    table = expander.dataframe[0].value.set_index("id")
    assert table.loc[ids["succeeded"], "status"] == "succeeded"
    assert table.loc[ids["failed"], "message"] == "Out of <b>memory</b>."  # plain text, as stored
    interrupted = table.loc[ids["interrupted"]]
    assert interrupted["status"] == "interrupted" and interrupted["message"] == INTERRUPTED_MESSAGE
    assert interrupted["best epoch"] == 1 and interrupted["name"] == "interrupted run"
    assert bool(interrupted["checkpoint kept"]) and not table.loc[ids["failed"], "checkpoint kept"]
    assert interrupted["finished"] == "" and table.loc[ids["failed"], "finished"].startswith("20")
    assert list(table.index) == [ids["failed"], ids["interrupted"], ids["succeeded"]]  # newest first


@pytest.mark.parametrize("name", list(MODELS))
def test_the_page_and_the_command_line_start_a_model_alike(name, launched):
    """Launching from the page with every field as it opens (the standard budget) gives the run that
    `python -m core train --data ETTh1 --model <name>` gives: the same settings, the same resolved
    model config."""
    import argparse

    from core.data import prepare
    from core.datasets import load_builtin
    from core.models.registry import build_config
    from core.training import runner
    from core.training.headless import add_train_arguments, build_request, resolve_spec

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="model").set_value(name).run()
    _launch(at)
    assert not at.exception, at.exception
    (from_page,) = launched

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    etth1 = load_builtin("ETTh1")
    from_cli = resolve_spec(build_request(parser.parse_args(["--data", "ETTh1", "--model", name])), etth1)
    assert from_page.train == from_cli.train
    settings = ("model", "seq_len", "pred_len", "features", "protocol", "target", "drop_last_batch")
    assert [getattr(from_page, k) for k in settings] == [getattr(from_cli, k) for k in settings]

    def resolved(spec):
        data = prepare(etth1.frame.to_numpy(), etth1.channels, etth1.target, spec.features, spec.protocol, 96)
        options = runner.model_options(spec, etth1, data)
        return build_config(name, seq_len=96, pred_len=96, n_channels=len(data.columns), **options)

    assert resolved(from_page) == resolved(from_cli)


def test_enter_in_a_field_does_not_launch(launched):
    """Without a form, Enter in a field commits its value and reruns the page; only the button
    launches a run."""
    at = _train_page()
    assert not at.get("form")
    _set_epochs(at, 2)
    at.run()
    _number(at, "Learning rate").set_value(0.01).run()
    at.selectbox(key="model").set_value("time_llm").run()
    at.text_input[0].set_value("Hourly oil temperature of a transformer.").run()  # the data's description
    assert launched == [] and "train_job" not in at.session_state
    assert at.button(key="launch").proto.type == "primary"
    _launch(at)
    assert len(launched) == 1 and launched[0].model_options["description"].startswith("Hourly oil")


def test_a_series_too_short_for_the_look_back_is_refused_before_launch(runs_dir):
    from core.datasets import load_builtin

    at = _train_page(load_builtin("ILI"), look_back=700)  # 966 weekly rows: 676 to train on
    warning = " ".join(w.value for w in at.warning)
    assert "training part has 676 rows" in warning and "look-back of at most 579" in warning
    _launch(at)
    assert any(e.value.startswith("Not launched.") for e in at.error)
    assert "train_job" not in at.session_state


def test_the_simple_view_recommends_a_model_and_asks_the_horizon_in_words(runs_dir):
    from core.datasets import load_builtin

    at = _train_page(look_back=96, horizon=96)
    advice = recommend(17420, 96, "ett-hour")
    model = at.selectbox(key="model")
    assert model.value == advice.model  # chosen first
    assert model.format_func(advice.model) == f"{MODELS[advice.model].plain} (recommended for this data)"
    assert all("recommended" not in model.format_func(name) for name in MODELS if name != advice.model)
    assert any(advice.reason in c.value for c in at.caption)
    horizon = at.selectbox(key="train_horizon")
    assert horizon.value == 96 and horizon.format_func(96) == "next 4 days (96 hours)"
    assert horizon.format_func(168) == "next 7 days (168 hours)"
    assert at.radio(key="budget").value == "standard"
    assert any(
        "usual schedule for this data and this machine. This run: up to 10 epochs" in c.value
        for c in at.caption
    )
    advanced = next(e for e in at.expander if e.label == "Advanced settings")
    assert not advanced.proto.expanded and advanced.selectbox(key="dlinear|ETTh1|96|96|split")

    weekly = _train_page(load_builtin("ILI"), look_back=96, horizon=13)
    assert weekly.selectbox(key="train_horizon").format_func(13) == "next 13 weeks"


def test_every_model_is_listed_by_a_plain_sentence():
    for name, entry in MODELS.items():
        assert entry.plain and "(" not in entry.plain and "et al." not in entry.plain, name


def test_the_horizon_on_the_page_is_the_one_every_page_reads(runs_dir):
    at = _train_page(look_back=96, horizon=96)
    at.selectbox(key="train_horizon").set_value(168).run()
    assert at.session_state["horizon"] == 168
    assert _number(at, "Epochs").value == 10  # the settings start afresh for the new horizon


def test_only_the_settings_that_apply_are_shown():
    at = _train_page()

    def shown():
        return (
            {n.label for n in at.number_input}
            | {c.label for c in at.checkbox}
            | {s.label for s in at.selectbox}
        )

    assert _box(at, "Optimiser").value == "adam" and _box(at, "Schedule").value == "cosine"
    assert {"SGD momentum", "Nesterov", "RMSprop alpha", "One-cycle max lr"}.isdisjoint(shown())
    assert {"Cosine T max (epochs, 0: all)", "Cosine eta min", "Loss"} <= shown()
    _box(at, "Optimiser").set_value("sgd").run()
    assert {"SGD momentum", "Nesterov"} <= shown() and "RMSprop alpha" not in shown()
    _box(at, "Optimiser").set_value("rmsprop").run()
    assert "RMSprop alpha" in shown() and "Nesterov" not in shown()
    _box(at, "Schedule").set_value("onecycle").run()
    assert {"One-cycle max lr", "One-cycle warm-up share"} <= shown()
    assert "Cosine eta min" not in shown()
    assert "fp16" not in _box(at, "Precision").options  # fp16 needs a GPU's loss scaling
    at.selectbox(key="model").set_value("proxy_tuned").run()
    assert "Loss" not in shown()  # it trains on an objective of its own


def test_switching_model_starts_its_settings_afresh():
    at = _train_page()
    _set_epochs(at, 7)
    at.run()
    at.selectbox(key="model").set_value("patchtst").run()
    assert _number(at, "Epochs").value == 6  # PatchTST's own start
    at.selectbox(key="model").set_value("dlinear").run()
    assert _number(at, "Epochs").value == 10


def test_a_budget_sets_the_schedule_it_launches_with(launched):
    at = _train_page()
    at.radio(key="budget").set_value("quick").run()
    assert _number(at, "Epochs").value == QUICK_EPOCHS and _number(at, "Early-stopping patience").value == 1
    assert any(
        c.value.startswith("A first look")
        and f"This run: up to {QUICK_EPOCHS} epochs; it stops early after 1 epoch without improvement."
        in c.value
        for c in at.caption
    )
    _launch(at)
    assert (launched[0].train.epochs, launched[0].train.patience) == (QUICK_EPOCHS, 1)
    assert launched[0].budget == "quick"
    at.radio(key="budget").set_value("paper").run()
    _launch(at)
    assert (launched[1].train.epochs, launched[1].train.patience) == (10, 3)  # DLinear's paper schedule
    assert launched[1].budget == "paper"


def test_the_precision_is_said_in_words_for_this_machine():
    at = _train_page()
    assert any(c.value.startswith("It will train in 32-bit floats on this CPU") for c in at.caption)
    at.selectbox(key="model").set_value("time_llm").run()
    words = "bfloat16" if cpu_has_native_bf16() else "32-bit floats"  # bf16 only where the CPU has it
    assert any(c.value.startswith(f"It will train in {words} on this CPU") for c in at.caption)
    _box(at, "Precision").set_value("fp32").run()
    assert any("32-bit floats on this CPU (as chosen under Advanced settings)" in c.value for c in at.caption)


def _progress_texts(at: AppTest) -> list[str]:
    return [bar.proto.text for bar in at.get("progress")]


def test_a_running_job_says_what_it_does_then_the_time_left(fresh_jobs):
    at = _train_page()
    _set_epochs(at, 200)
    _launch(at)
    manager, job_id = common.job_manager(), at.session_state["train_job"]
    try:
        texts = _progress_texts(at.run())
        assert texts and re.search(r"… \d+ s$|left", texts[0])  # at once: what it does and for how long
        deadline = time.time() + 60
        while "left" not in " ".join(texts) and time.time() < deadline:
            time.sleep(0.2)
            texts = _progress_texts(at.run())
        (text,) = texts
        assert re.match(r"epoch \d+ of 200, step \d+ of \d+ · (about|less than)", text)
        assert text.endswith("left, at most: early stopping may end it sooner")  # patience 3 of 200 epochs
    finally:
        manager.cancel(job_id)
    assert manager.wait(job_id, timeout=60).state == "cancelled"


def test_a_run_cancelled_in_its_first_epoch_says_nothing_was_saved(fresh_jobs):
    at = _train_page()
    _number(at, "Batch size").set_value(1).run()  # thousands of steps per epoch
    _launch(at)
    manager, job_id = common.job_manager(), at.session_state["train_job"]
    deadline = time.time() + 60
    while "step_global_step" not in manager.get(job_id).progress and time.time() < deadline:
        time.sleep(0.05)
    manager.cancel(job_id)
    assert manager.wait(job_id, timeout=60).state == "cancelled"
    at.run()
    warnings = [w.value for w in at.warning]
    assert (
        "The run was cancelled; nothing was saved: the run stopped before its first epoch ended." in warnings
    )


def test_a_run_cancelled_after_an_epoch_says_which_checkpoint_is_kept(fresh_jobs):
    at = _train_page()
    _set_epochs(at, 200)
    _number(at, "Batch size").set_value(512).run()
    _launch(at)
    manager, job_id = common.job_manager(), at.session_state["train_job"]
    deadline = time.time() + 60
    while not manager.get(job_id).progress.get("epochs") and time.time() < deadline:
        time.sleep(0.05)
    manager.cancel(job_id)
    snapshot = manager.wait(job_id, timeout=60)
    at.run()
    run_id = snapshot.progress["run_id"]
    assert common.run_store().has_checkpoint(run_id)
    assert (
        f"The run was cancelled; its best checkpoint so far (epoch 1) is kept in the run store, run {run_id}."
        in [w.value for w in at.warning]
    )


def test_the_sidebar_asks_the_horizon_in_words_and_keeps_it_valid(runs_dir):
    """Under AppTest the app's script (and its sidebar) runs on the first run only, so each case
    starts an app of its own."""
    from core.datasets import load_builtin

    at = AppTest.from_file(APP, default_timeout=60).run()
    sidebar = at.sidebar.selectbox(key="sidebar_horizon")
    assert sidebar.value == 96 and sidebar.format_func(24) == "next day (24 hours)"
    assert [n.label for n in at.sidebar.number_input] == ["Look-back (steps)"]
    sidebar.set_value(24).run()
    assert at.session_state["horizon"] == 24

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["horizon"] = 120
    at.session_state["dataset"] = load_builtin("ILI")  # 97 validation rows: 120 weeks ahead cannot fit
    at.run()
    assert at.session_state["horizon"] == 52
    assert at.sidebar.selectbox(key="sidebar_horizon").format_func(52) == "next 52 weeks"
    assert any("Horizon set to next 52 weeks" in t.value for t in at.toast)


def test_each_budget_s_time_is_shown_before_launch(runs_dir, monkeypatch, tmp_path):
    """A small model's budgets are measured at once; a language model's only when asked."""
    from core.training import cost

    monkeypatch.setattr(cost, "_memory", {})
    monkeypatch.setattr(cost, "cost_file", lambda: tmp_path / "run_costs.json")
    at = _train_page()
    at.selectbox(key="model").set_value("dlinear").run()
    times = [m.value for m in at.markdown if m.value.startswith("Time on this machine:")]
    assert len(times) == 1
    assert all(f"**{name}**" in times[0] for name in ("Quick", "Standard", "Paper"))
    assert "(this run)" in times[0] and "about" in times[0]
    at.selectbox(key="model").set_value("time_llm").run()
    assert not any(m.value.startswith("Time on this machine:") for m in at.markdown)
    assert at.button(key="estimate").proto.label == "Estimate this run's time (standard budget)"
    probed = []
    monkeypatch.setattr(cost, "probe", lambda spec, dataset, **kwargs: probed.append(spec.budget))
    at.button(key="estimate").click().run()
    assert probed == ["standard"]  # the chosen budget only: a paper budget's model takes long to build
