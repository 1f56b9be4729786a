"""Proxy-tuned decoding on the Train and Forecast pages under AppTest, with tiny random models."""

import json
import threading

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.training.jobs import SUCCEEDED
from pages import common
from tests.conftest import ROOT, TINY_PROXY

APP = str(ROOT / "streamlit_app.py")

TINY = TINY_PROXY

LOOK_BACK, HORIZON = 36, 6
# The four decoded forecasts of a proxy run, as the pages name them.
FORECASTS = [
    "language model alone (α = 0)",
    "small tuned model alone",
    "proxy-tuned, chosen α",
    "proxy-tuned, α = 1",
]


def _proxy_train_page() -> AppTest:
    """The Train page on ILI (short: a tiny run takes seconds) with proxy-tuned decoding chosen."""
    from core.datasets import load_builtin

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["dataset"] = load_builtin("ILI")
    at.session_state["look_back"] = LOOK_BACK
    at.session_state["horizon"] = HORIZON
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="model").set_value("proxy_tuned").run()
    assert not at.exception, at.exception
    return at


def load_builtin_ili_end():
    from core.datasets import load_builtin

    return load_builtin("ILI").frame.index[-1]


def _tiny_proxy_run():
    from core.datasets import load_builtin
    from core.runs.spec import RunSpec
    from core.runs.train_config import TrainConfig
    from core.training.runner import run_training

    spec = RunSpec(
        model="proxy_tuned",
        seq_len=LOOK_BACK,
        pred_len=HORIZON,
        features="S",
        model_options=TINY,
        train=TrainConfig(epochs=1, batch_size=8, precision="fp32"),
    )
    return run_training(spec, load_builtin("ILI"), common.run_store())


def test_proxy_launches_from_the_train_page_and_shows_each_configuration(runs_dir):
    at = _proxy_train_page()
    boxes = {s.label: s for s in at.selectbox}
    assert "Loss" not in boxes  # the expert trains on the language-model loss
    captions = " ".join(c.value for c in at.caption)
    assert "objective of its own" in captions and "0 is the base model alone" in captions
    assert "evenly spaced" in captions and "chosen on the validation windows" in captions
    boxes["base"].set_value("tiny-random-llama")
    assert boxes["small"].value == "numeric"  # the project's numeric Llama, offline
    assert boxes["alpha"].value is None  # chosen on validation unless fixed
    boxes["Precision"].set_value("fp32")
    labels = [n.label for n in at.number_input]
    values = {"samples": 3, "test windows": 2, "train windows": 16, "alpha windows": 3, "context tokens": 512}
    for label, value in (values | {"Epochs": 1}).items():
        at.number_input[labels.index(label)].set_value(value)
    at.button[0].click().run()
    assert not at.exception, at.exception
    snapshot = common.job_manager().wait(at.session_state["train_job"], timeout=180)
    assert snapshot.state == SUCCEEDED, snapshot.error
    assert snapshot.progress["phase"] == "done" and snapshot.progress["phase_done"] == 8  # 2 windows, 4 ways
    at.run()
    assert not at.exception, at.exception
    verdicts = [e.value for e in [*at.success, *at.warning, *at.error]]
    assert any("than repeating" in v or "as accurate as" in v for v in verdicts), verdicts
    table = at.dataframe[0].value
    assert list(table.index) == FORECASTS
    assert list(table.columns) == ["MSE", "MAE", "sMAPE", "MASE", "NLL"]
    assert np.isfinite(table.to_numpy()).all()
    assert any("Forecast 2 of" in c.value and "4 ways" in c.value for c in at.caption)
    # the alpha curve it was chosen on, with what it means
    test = snapshot.progress["test_metrics"]
    curve = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "validation NLL" in c.proto.spec)
    assert curve["data"][0]["x"] == [0.0, 0.25, 0.5, 1.0, 1.5, 2.0]
    assert any(f"α = {test['alpha']:g} gave what really happened" in c.value for c in at.caption)
    run = common.run_store().get(snapshot.progress["run_id"])
    assert run.config["features"] == "S" and run.config["model_options"]["base"] == "tiny-random-llama"


def test_forecast_page_shows_the_four_forecasts_of_a_proxy_run(runs_dir):
    outcome = _tiny_proxy_run()
    from core.runs.result import load_result

    result = load_result(common.run_store(), outcome.run_id)
    start = int(result.window_index[-1])  # the test inputs hold each window's look-back and future
    future = result.test_inputs[start + LOOK_BACK : start + LOOK_BACK + HORIZON]
    np.testing.assert_allclose(future, result.actual_scaled[-1], rtol=1e-5, atol=1e-5)

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    verdicts = [e.value for e in [*at.success, *at.warning, *at.error]]
    assert any("checked on only 2 past forecasts" in v for v in verdicts), verdicts  # a rough guide
    on_request = [b for b in at.button if b.key == f"ahead_{outcome.run_id}"]
    assert on_request  # a model that decodes forecasts ahead on request, however small
    on_request[0].click().run()
    # Past the end of the data: the proxy's median of fresh samples with its 80 % and 95 % bands.
    future = at.session_state[f"future_{outcome.run_id}"]
    assert list(future.columns) == ["channel", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert len(future) == HORIZON and future.index[0] > load_builtin_ili_end()
    assert (future["lower_80"] <= future["forecast"]).all() and (
        future["forecast"] <= future["upper_80"]
    ).all()
    at.radio(key=f"focus_{outcome.run_id}").set_value("test").run()
    assert not at.exception, at.exception
    assert at.slider[0].label.startswith("Which past forecast") and at.slider[0].max == 2  # two decoded
    overview, window = (json.loads(chart.proto.spec)["data"] for chart in at.get("plotly_chart")[:2])
    # The whole series with the proxy's median and bands where the window falls ...
    assert {"data", "what happened", "past forecast", "80% range", "95% range"} <= {
        t.get("name") for t in overview
    }
    # ... and the decoded window with all four configurations.
    names = {trace.get("name") for trace in window}
    assert {"history", "actual", "proxy-tuned, chosen α", "proxy-tuned, chosen α band"} <= names, names
    assert {"language model alone (α = 0)", "small tuned model alone", "proxy-tuned, α = 1"} <= names, names
    table = next(frame.value for frame in at.dataframe if "NLL" in frame.value.columns)
    assert list(table.index) == FORECASTS
    assert any("random weights" in w.value for w in at.warning)  # the tiny base is said to be untrained
    assert any("validation NLL" in c.proto.spec for c in at.get("plotly_chart"))  # the alpha curve
    assert list(table.columns) == ["MSE", "MAE", "sMAPE", "MASE", "NLL"]
    assert table.loc["proxy-tuned, chosen α", "MSE"] == pytest.approx(outcome.test_metrics["mse"])
    available = outcome.test_metrics["windows_available"]
    assert any(f"2 forecast test windows of {available}" in c.value and "NLL" in c.value for c in at.caption)
    at.slider[0].set_value(1).run()  # the first decoded window
    assert not at.exception, at.exception
    assert any(f"test window 1 of {available}" in c.value for c in at.caption)


def test_proxy_features_are_the_target_alone(runs_dir):
    at = _proxy_train_page()
    features = at.selectbox[[s.label for s in at.selectbox].index("Features")]
    assert features.options == ["S"] and features.value == "S" and features.disabled
    assert any("forecasts the target series alone" in c.value for c in at.caption)

    # A run asked for with M anyway (the CLI, an old session) ends in a plain error on the page.
    from core.datasets import load_builtin
    from core.runs.spec import RunSpec
    from core.training.runner import run_training

    spec = RunSpec(model="proxy_tuned", seq_len=LOOK_BACK, pred_len=HORIZON, features="M", model_options=TINY)
    dataset, store = load_builtin("ILI"), common.run_store()
    job = common.job_manager().submit(
        "proxy with M", lambda context: run_training(spec, dataset, store, context)
    )
    assert common.job_manager().wait(job, timeout=60).state == "failed"
    at.session_state["train_job"] = job
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("choose features S" in e and "ValueError" not in e for e in errors), errors


def test_the_train_page_counts_the_decodes(runs_dir):
    """While the runner decodes, the page shows its phase and a bar of decodes done."""
    release = threading.Event()

    def decoding(context):
        context.report(phase="decoding the test windows", phase_done=2, phase_total=6)
        release.wait(30)

    job = common.job_manager().submit("decoding", decoding)
    try:
        at = _proxy_train_page()
        assert not at.exception, at.exception
        bars = [p for p in at.get("progress") if "decoding the test windows" in p.proto.text]
        assert bars and bars[0].proto.text.startswith("decoding the test windows: 2 of 6")
    finally:
        release.set()
        common.job_manager().wait(job, timeout=30)
