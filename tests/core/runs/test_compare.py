"""Comparing runs of one setting beside the baselines, on the windows they all have."""

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import metrics
from core.data import prepare, sliding_windows
from core.evaluation import evaluate_window_baseline
from core.models import baselines
from core.runs import compare
from core.runs.result import SERIES, TEST, load_result
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.runner import run_training
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")

FAST = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")


def _copy_run(store: RunStore, run_id: str, model: str, keep: list[int] | None = None) -> str:
    """A stored run under another model name, optionally scoring a subset of its test windows."""
    run = store.get(run_id)
    copy = store.create_run(f"copy as {model}", model, run.config, run.dataset_name, run.dataset_hash)
    arrays = store.load_arrays(run_id, TEST)
    if keep is not None:
        arrays = arrays | {
            "forecast": arrays["forecast"][keep],
            "actual": arrays["actual"][keep],
            "window_index": np.asarray(keep),
        }
    store.save_arrays(copy, "test", arrays)
    store.save_arrays(copy, SERIES, store.load_arrays(run_id, SERIES))
    store.update(copy, status="succeeded", wall_time_s=1.0)
    return copy


def test_every_row_is_scored_on_the_same_windows_as_its_stored_metrics(two_runs, etth1_dataset):
    store, ids = two_runs
    runs = [store.get(i) for i in ids]
    result = compare.compare(store, runs)
    table = result.table.set_index("row")
    assert list(table.index[:3]) == ["naive", "Naive2", "seasonal naive"]
    for run in runs:
        row = table.loc[compare.run_label(run)]
        assert row["MSE"] == pytest.approx(run.test_metrics["mse"], rel=1e-5)
        assert row["MAE"] == pytest.approx(run.test_metrics["mae"], rel=1e-5)
        assert row["MASE"] == pytest.approx(run.test_metrics["mase"], rel=1e-5)
        assert row["sMAPE (%)"] == pytest.approx(run.test_metrics["smape"], rel=1e-4)  # both in units
        assert row["trainable parameters"] == run.trainable_params and row["precision"] == "fp32"
    # The baselines agree with the protocol's own scorer on these windows.
    for name, label in (("naive", "naive"), ("snaive", "seasonal naive")):
        reference = evaluate_window_baseline(
            etth1_dataset.frame.to_numpy(),
            etth1_dataset.channels,
            model=name,
            protocol="ett-hour",
            features="S",
            target="OT",
            seq_len=96,
            pred_len=24,
            season=24,
        )
        assert table.loc[label, "MSE"] == pytest.approx(reference["mse"], rel=1e-5)  # inputs kept in float32
        assert table.loc[label, "MAE"] == pytest.approx(reference["mae"], rel=1e-5)
    assert table.loc["Naive2", "OWA"] == pytest.approx(1.0)
    assert result.windows == result.windows_available == len(load_result(store, ids[0]).forecast)
    # Error by horizon step averages back to each row's MSE.
    assert result.by_horizon.mean().to_dict() == pytest.approx(table["MSE"].to_dict(), rel=1e-9)


def test_sMAPE_MAPE_and_OWA_are_in_the_series_units(two_runs, etth1_dataset):
    store, ids = two_runs
    results = [compare.compare(store, [store.get(i)]).table.set_index("row") for i in ids]
    # The baselines read ten seasons before each window whichever runs are chosen.
    for column in ("MSE", "sMAPE (%)", "MASE"):
        assert list(results[0].loc[["naive", "Naive2", "seasonal naive"], column]) == list(
            results[1].loc[["naive", "Naive2", "seasonal naive"], column]
        )
    run, table = store.get(ids[1]), results[1]
    ot = etth1_dataset.frame["OT"].to_numpy(dtype=np.float32).astype(np.float64)
    first = 11520  # the first test target of the ETT protocol: 16 months of hours
    history, actual = sliding_windows(ot[first - 240 : 14400, None], 240, 24)
    naive2 = baselines.naive2_windows(history, 24, 24)
    data = prepare(etth1_dataset.frame.to_numpy(), etth1_dataset.channels, "OT", "S", "ett-hour", 96)
    units = data.scaler.inverse_transform
    forecast = units(load_result(store, run.id).forecast_scaled.reshape(-1, 1)).reshape(actual.shape)
    smape_run, smape_naive2 = metrics.smape(actual, forecast), metrics.smape(actual, naive2)
    assert table.loc[compare.run_label(run), "sMAPE (%)"] == pytest.approx(smape_run, rel=1e-6)
    assert table.loc["Naive2", "sMAPE (%)"] == pytest.approx(smape_naive2, rel=1e-9)
    # ETTh1's OT holds exact zeros in the test rows: MAPE is undefined there, not a huge number.
    assert (actual == 0).any() and table.loc[compare.run_label(run), "MAPE (%)"] == np.inf
    mase_naive2 = table.loc["Naive2", "MASE"]
    expected = metrics.owa(smape_run, table.loc[compare.run_label(run), "MASE"], smape_naive2, mase_naive2)
    assert table.loc[compare.run_label(run), "OWA"] == pytest.approx(expected, rel=1e-6)


def test_a_run_on_a_subset_of_windows_narrows_every_row_to_it(two_runs):
    store, ids = two_runs
    subset = [0, 100, 500, 900]
    partial = _copy_run(store, ids[0], "proxy_tuned", keep=subset)
    result = compare.compare(store, [store.get(ids[0]), store.get(partial)])
    assert result.windows == len(subset) and result.windows_available > len(subset)
    assert any("4 test windows" in note for note in result.notes)
    table = result.table.set_index("row")
    # The full run, cut to the same windows, scores exactly as its subset copy does.
    assert table.loc[compare.run_label(store.get(ids[0])), "MSE"] == pytest.approx(
        table.loc[compare.run_label(store.get(partial)), "MSE"]
    )
    whole = load_result(store, ids[0])
    assert table.loc[compare.run_label(store.get(partial)), "MSE"] == pytest.approx(
        metrics.mse(whole.actual_scaled[subset], whole.forecast_scaled[subset])
    )


def test_ablations_follow_their_parent_and_other_settings_are_refused(two_runs, etth1_dataset):
    store, ids = two_runs
    ablation = _copy_run(store, ids[0], "time_llm_no_llm")
    parent = _copy_run(store, ids[0], "time_llm")
    result = compare.compare(store, [store.get(i) for i in (ablation, ids[0], parent)])
    models = list(result.table["model"])
    assert models.index("Time-LLM") + 1 == models.index("Time-LLM without the LLM (ablation)")
    assert (
        result.table.set_index("model").loc["Time-LLM without the LLM (ablation)", "ablation of"]
        == "Time-LLM"
    )
    other = run_training(
        RunSpec(model="dlinear", seq_len=48, pred_len=12, features="S", train=FAST), etth1_dataset, store
    ).run_id
    with pytest.raises(ValueError, match="different targets"):
        compare.compare(store, [store.get(ids[0]), store.get(other)])
    groups = compare.settings(store.list_runs())
    assert [r.id for r in groups[compare.setting_of(store.get(other))]] == [other]
    assert {ablation, parent, *ids} <= {r.id for r in groups[compare.setting_of(store.get(ids[0]))]}


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([4, 7, 12, 24]),
    st.integers(0, 2),
    st.floats(0.0, 5.0),
)
def test_naive2_of_windows_is_naive2_of_each_window(seed, season, extra_seasons, amplitude):
    rng = np.random.default_rng(seed)
    length = season * (3 + extra_seasons) + int(rng.integers(0, season))
    t = np.arange(length)
    x = 10 + amplitude * np.sin(2 * np.pi * t / season)[None, :, None] + rng.normal(0, 0.5, (3, length, 2))
    x[2, :, 1] -= 20  # non-positive values: the naive forecast
    got = baselines.naive2_windows(x, 9, season)
    for b in range(3):
        for c in range(2):
            series = x[b, :, c]
            expected = baselines.naive2(series, 9, season) if (series > 0).all() else np.repeat(series[-1], 9)
            np.testing.assert_allclose(got[b, :, c], expected, rtol=1e-9)


def test_compare_table_from_sliding_windows_matches_by_hand(two_runs):
    """The seasonal naive row, recomputed from the stored test inputs by hand."""
    store, ids = two_runs
    run = store.get(ids[1])
    x, y = sliding_windows(load_result(store, run.id).test_inputs, 96, 24)
    snaive = np.concatenate([x[:, -24:, :]], axis=1)
    table = compare.compare(store, [run]).table.set_index("row")
    assert table.loc["seasonal naive", "MSE"] == pytest.approx(metrics.mse(y, snaive), rel=1e-9)


def test_a_run_whose_files_are_gone_is_left_out_with_a_note(two_runs):
    store, ids = two_runs
    gone = _copy_run(store, ids[0], "patchtst")
    shutil.rmtree(store.root / gone)
    result = compare.compare(store, [store.get(ids[0]), store.get(gone)])
    assert gone not in set(result.table["run id"].dropna())
    assert any(gone in note and "left out" in note for note in result.notes)
    with pytest.raises(ValueError, match="none of these runs"):
        compare.compare(store, [store.get(gone)])


def test_s_and_ms_runs_of_one_target_compare_and_m_runs_do_not(two_runs, etth1_dataset):
    store, ids = two_runs
    ms = run_training(
        RunSpec(model="dlinear", seq_len=48, pred_len=24, features="MS", train=FAST), etth1_dataset, store
    )
    m = run_training(
        RunSpec(model="dlinear", seq_len=48, pred_len=24, features="M", train=FAST), etth1_dataset, store
    )
    s_run, ms_run, m_run = store.get(ids[0]), store.get(ms.run_id), store.get(m.run_id)
    assert compare.setting_of(s_run) == compare.setting_of(ms_run) != compare.setting_of(m_run)
    assert "forecasting OT · next day (24 hours) · 12/4/4 months" in compare.setting_of(ms_run).label
    assert "forecasting all 7 columns" in compare.setting_of(m_run).label
    table = compare.compare(store, [s_run, ms_run]).table.set_index("row")
    assert table.loc[compare.run_label(ms_run), "MSE"] == pytest.approx(ms.test_metrics["mse"], rel=1e-5)
    m_table = compare.compare(store, [m_run]).table.set_index("row")
    assert m_table.loc[compare.run_label(m_run), "MSE"] == pytest.approx(m.test_metrics["mse"], rel=1e-5)
    with pytest.raises(ValueError, match="different targets"):
        compare.compare(store, [s_run, m_run])
