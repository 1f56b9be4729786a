"""The shipped showcase (`showcase/`, built by `make showcase`): every run's stored numbers follow from
its weights, so a shipped figure cannot drift from what the model does.

For each shipped run: its model is rebuilt from the shipped weights (a Time-LLM run from its compact
V' x D prototypes) and forecasts an evenly spaced sample of its test windows again, which must match
the stored forecasts to 1e-4; and the stored test metrics must follow from the stored forecasts of
every test window, to 1e-4. (Forecasting every test window again takes minutes per language-model
run on a CPU, and a proxy-tuned run decodes each window digit by digit, so it is sampled more
thinly; `python bench/showcase.py --check` does all of it in full.)
"""

import numpy as np
import pytest
import torch

from core.models.registry import MODELS
from core.runs.rebuild import rebuild_model
from core.runs.result import load_result
from core.runs.showcase import SHOWCASE_DIR, ReadOnly, describe, showcase_store
from core.runs.store import RunStore
from core.training.runner import score

SHOWCASE = showcase_store(SHOWCASE_DIR)
RUNS = SHOWCASE.list_runs() if SHOWCASE is not None else []
SAMPLED = 12  # test windows forecast again per run
SAMPLED_DECODED = 2  # for a model that decodes digit by digit: half a minute a window on a 2-core CPU
METRICS = ("mse", "mae", "rmse", "mase", "smape")


def test_the_showcase_ships_its_runs_within_25_mb():
    assert SHOWCASE is not None, "showcase/ is missing: run `make showcase`"
    models = [r.model for r in RUNS]
    assert models[0] == "time_llm"  # first: the Attention page opens on it
    assert sorted(models) == ["proxy_tuned", "tempo", "time_llm", "time_llm_no_llm"]
    tempo = next(r for r in RUNS if r.model == "tempo")
    assert tempo.config["model_config"]["prompt"] == "pool"  # its picks are what Attention shows
    size = sum(p.stat().st_size for p in SHOWCASE.root.rglob("*") if p.is_file())
    assert size <= 25 * 2**20
    for run in RUNS:
        assert run.showcase and run.status == "succeeded"
        assert describe(run).startswith("Showcase run, shipped with the app: trained 20")


@pytest.mark.parametrize("run", RUNS, ids=[r.model for r in RUNS])
def test_a_shipped_run_forecasts_as_stored_and_its_metrics_follow(run):
    result = load_result(SHOWCASE, run.id)
    model = rebuild_model(SHOWCASE, run.id)
    series = result.series
    borders = run.config["borders"]
    train = series.scaled(slice(*borders["train"]))[:, series.output_index]
    recomputed = score(
        result.forecast_scaled,
        result.actual_scaled,
        train,
        run.config.get("freq"),
        result.scaler.mean,
        result.scaler.std,
    )
    for name in METRICS:
        assert recomputed[name] == pytest.approx(run.test_metrics[name], abs=1e-4), name

    windows = result.test_windows()
    seed = run.config["train"]["seed"]
    sampled = SAMPLED_DECODED if MODELS[run.model].model_class.decodes else SAMPLED
    positions = np.unique(np.linspace(0, len(result.window_index) - 1, sampled).round().astype(int))
    assert run.precision == "fp32"  # shipped runs are tested in fp32, as they are forecast here
    for position in positions.tolist():
        start = int(result.window_index[position])
        with torch.no_grad():
            again = model.forecast_ahead(windows[start], series.output_index, seed=seed + start)
        np.testing.assert_allclose(again.forecast[0], result.forecast_scaled[position], atol=1e-4)


def test_the_showcase_cannot_be_changed(tmp_path):
    if not RUNS:
        pytest.skip("no showcase")
    with pytest.raises(ReadOnly):
        SHOWCASE.delete(RUNS[0].id)
    with pytest.raises(ReadOnly):
        SHOWCASE.update(RUNS[0].id, name="mine")


def test_the_view_lists_the_users_runs_first_and_writes_only_to_theirs(tmp_path):
    from core.runs.showcase import RunsView

    if not RUNS:
        pytest.skip("no showcase")
    user = RunStore(tmp_path)
    view = RunsView(user, SHOWCASE)
    assert [r.id for r in view.list_runs()] == [r.id for r in RUNS]  # no user run yet: the showcase
    mine = view.create_run("mine", "dlinear", {"seq_len": 96}, "ETTh1", "hash")
    listed = view.list_runs()
    assert listed[0].id == mine and not listed[0].showcase and all(r.showcase for r in listed[1:])
    assert view.get(RUNS[0].id).showcase and view.get(mine).name == "mine"
    assert [r.id for r in user.list_runs()] == [mine]  # nothing of the showcase went into the user's store
