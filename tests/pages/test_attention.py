"""The Attention page under AppTest: a model's explanation panels and prompt picks, by kind."""

import numpy as np
from streamlit.testing.v1 import AppTest

from pages import common
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


def test_attention_page_explains_a_time_llm_run(runs_dir):
    from core.datasets import load_builtin
    from core.runs.spec import RunSpec
    from core.runs.train_config import TrainConfig
    from core.training.runner import run_training

    tiny = dict(backbone="tiny-random-llama", layers=2, n_prototypes=40, d_ff=8)
    spec = RunSpec(
        model="time_llm",
        seq_len=32,
        pred_len=8,
        features="S",
        model_options=tiny,
        train=TrainConfig(epochs=1, batch_size=64, precision="fp32"),
    )
    outcome = run_training(spec, load_builtin("Sunspots"), common.run_store())  # small: a fast run
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/attention.py").run()
    assert not at.exception, at.exception
    assert any("untrained" in w.value for w in at.warning)  # a random backbone is said to be one
    heatmap = at.get("plotly_chart")[0]
    assert "text prototypes" in heatmap.proto.spec
    assert at.selectbox(key=f"layer_{outcome.run_id}_0").options[0] == "mean of heads"
    assert list(at.dataframe[0].value.columns)[:2] == ["patch", "prototype 1"]
    prompt = at.code[0].value
    assert prompt.startswith("Dataset: ") and "top lags" in prompt
    assert outcome.run_id in at.selectbox[0].value.id


def test_a_tempo_run_shows_its_parts_and_prompt_picks(runs_dir):

    from core.datasets import load_builtin
    from core.runs.spec import RunSpec
    from core.runs.train_config import TrainConfig
    from core.training.runner import run_training

    options = dict(
        backbone="tiny-random-gpt2", layers=2, decomposition="moving_average", period=11, prompt="pool"
    )
    options.update(pool_size=5, top_k=2, prompt_length=2, patch_len=8, stride=4)
    spec = RunSpec(
        model="tempo",
        seq_len=32,
        pred_len=8,
        features="S",
        model_options=options,
        train=TrainConfig(epochs=1, batch_size=64, precision="fp32"),
    )
    outcome = run_training(spec, load_builtin("Sunspots"), common.run_store())
    from core.runs.result import load_result

    result = load_result(common.run_store(), outcome.run_id)
    np.testing.assert_allclose(result.parts.sum(axis=1), result.forecast, rtol=1e-4, atol=1e-3)
    assert result.part_names == ["trend", "seasonal", "residual"]
    windows = outcome.test_metrics["windows"]
    assert result.picks.sum() == windows * 3 * 2  # test windows only: parts x top-k picks

    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 2 and "What each part contributes" in charts[1].proto.spec
    at.switch_page("pages/attention.py").run()
    assert not at.exception, at.exception
    assert "Prompt picks over the test windows" in at.get("plotly_chart")[0].proto.spec
    picks = at.dataframe[0].value
    assert list(picks["part"]) == ["trend", "seasonal", "residual"]
    assert all(len(row.split(", ")) == 2 for row in picks["prompts picked"])


def test_attention_page_draws_a_stemgnn_graph_over_the_channel_names(runs_dir):
    """A model the page has never heard of explains itself through the contract's panels."""
    from core.datasets import load_builtin
    from core.runs.spec import RunSpec
    from core.runs.train_config import TrainConfig
    from core.training.runner import run_training

    ili = load_builtin("ILI")
    spec = RunSpec(
        model="stemgnn",
        seq_len=36,
        pred_len=8,
        features="M",
        model_options=dict(hidden=8, feature_maps=4),
        train=TrainConfig(epochs=1, batch_size=64, precision="fp32"),
    )
    outcome = run_training(spec, ili, common.run_store())
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/attention.py").run()
    assert not at.exception, at.exception
    assert outcome.run_id in at.selectbox[0].value.id
    assert not [s for s in at.selectbox if s.label == "Channel"]  # one graph for the whole window
    spec_text = at.get("plotly_chart")[0].proto.spec
    assert "The graph between the channels" in spec_text
    assert all(name in spec_text for name in ili.channels)
    pairs = at.dataframe[0].value
    assert list(pairs.columns) == ["channel", "with", "weight"] and len(pairs) == 10
