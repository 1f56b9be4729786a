"""The Train page under AppTest: launch, watch, cancel and queue jobs; settings from the contract."""

import time
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from core.models.registry import MODELS
from core.training.jobs import SUCCEEDED
from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


def _train_page() -> AppTest:
    """The Train page with a short look-back and horizon, so that test runs take seconds."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["look_back"] = 48
    at.session_state["horizon"] = 24
    at.run()
    at.switch_page("pages/train.py").run()
    return at


def _set_epochs(at: AppTest, epochs: int) -> None:
    at.number_input[[n.label for n in at.number_input].index("Epochs")].set_value(epochs)


def test_launch_watch_and_open_the_forecast(runs_dir):
    at = _train_page()
    assert not at.exception
    assert any("No training job yet" in i.value for i in at.info)
    at.selectbox(key="model").set_value("dlinear").run()
    _set_epochs(at, 2)
    at.button[0].click().run()  # the form's "Launch training"
    assert not at.exception
    job_id = at.session_state["train_job"]
    snapshot = common.job_manager().wait(job_id, timeout=120)
    assert snapshot.state == SUCCEEDED, snapshot.error
    at.run()
    assert not at.exception
    assert any("MSE" in s.value for s in at.success)
    assert at.session_state["selected_run"] == snapshot.progress["run_id"]
    run = common.run_store().get(snapshot.progress["run_id"])
    assert run.status == "succeeded" and run.config["seq_len"] == 48 and run.config["train"]["epochs"] == 2

    at.switch_page("pages/forecast.py").run()
    assert not at.exception and at.title[0].value == "Forecast"
    assert [m.label for m in at.metric][:2] == ["MSE", "MAE"]
    assert float(at.metric[0].value) == pytest.approx(run.test_metrics["mse"], abs=1e-4)


def test_a_second_session_sees_the_running_job(runs_dir):
    first = _train_page()
    _set_epochs(first, 200)
    first.button[0].click().run()
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
    first.button[0].click().run()
    assert common.job_manager().wait(first.session_state["train_job"], timeout=120).state == SUCCEEDED
    reloaded = AppTest.from_file(APP, default_timeout=60).run()
    reloaded.switch_page("pages/train.py").run()
    assert not reloaded.exception
    assert any("MSE" in s.value for s in reloaded.success)


def test_bad_options_give_a_plain_failure(runs_dir):
    at = _train_page()
    at.selectbox[[s.label for s in at.selectbox].index("Split")].set_value("ett-minute")  # ETTh1 is too short
    at.button[0].click().run()
    assert any(e.value.startswith("Not launched.") and "needs 57600 rows" in e.value for e in at.error)
    assert "train_job" not in at.session_state  # refused before a job started
    at.selectbox(key="model").set_value("patchtst").run()
    at.number_input[[n.label for n in at.number_input].index("n heads")].set_value(5)  # 16 is not a multiple
    at.button[0].click().run()
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
    at.button[0].click().run()
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
    at.button[0].click().run()
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
    at.button[0].click().run()
    manager = common.job_manager()
    running = at.session_state["train_job"]
    queued = None
    try:
        for _ in range(400):  # the first job takes the device's one slot and steps within moments
            if "step_global_step" in manager.get(running).progress:
                break
            time.sleep(0.05)
        at.button[0].click().run()  # a second launch waits behind the first
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
def test_the_page_and_the_command_line_start_a_model_alike(name, runs_dir, monkeypatch):
    """Launching from the page with every field as it opens gives the run that `python -m core train
    --data ETTh1 --model <name>` gives: the same settings, the same resolved model config."""
    import argparse

    from core.data import prepare
    from core.datasets import load_builtin
    from core.models.registry import build_config
    from core.training import runner
    from core.training.headless import add_train_arguments, build_request, resolve_spec

    launched = []
    monkeypatch.setattr(runner, "run_training", lambda spec, *args, **kwargs: launched.append(spec))

    class Launcher:  # runs the job's function at once, which records the spec it would train
        def submit(self, name, function, device="cpu"):
            function(None)
            return "job"

        def list(self):
            return []

        def get(self, job_id):
            raise KeyError(job_id)

    with monkeypatch.context() as patch:  # undone before the fixture clears the real job manager
        patch.setattr(common, "job_manager", lambda: Launcher())
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("pages/train.py").run()
        at.selectbox(key="model").set_value(name).run()
        at.button[0].click().run()
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


def test_enter_in_a_field_does_not_launch_and_a_series_too_short_is_refused_before_launch(runs_dir):
    from core.datasets import load_builtin

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["dataset"] = load_builtin("ILI")  # 966 weekly rows
    at.session_state["look_back"] = 96
    at.session_state["horizon"] = 120  # longer than the validation part (97 rows)
    at.run()
    at.switch_page("pages/train.py").run()
    assert [f.proto.form.enter_to_submit for f in at.get("form")] == [False]
    warning = " ".join(w.value for w in at.warning)
    assert "validation part has 97 rows" in warning and "horizon of at most" in warning
    at.button[0].click().run()
    assert any(e.value.startswith("Not launched.") for e in at.error)
    assert "train_job" not in at.session_state
