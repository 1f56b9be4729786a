"""Every reference number of the evaluation protocol, reproduced to three decimals.

Repeat-the-last-value on ETTh1 and ILI (scaled MSE/MAE on the test split) and the M4 Hourly
baselines (sMAPE, MASE, OWA), both through the engine and through `python -m core`. Naive2 against
the official M4 forecasts: tests/core/models/test_baselines.py.
"""

import json
import subprocess
import sys

import pytest

from core.evaluation import evaluate_m4, evaluate_window_baseline
from tests.conftest import DATA, ROOT
from tests.core.conftest import M4


def _evaluate(frame, **kwargs):
    columns = list(frame.columns[1:])
    return evaluate_window_baseline(frame[columns].to_numpy(), columns, model="naive", **kwargs)


@pytest.mark.parametrize(
    "pred_len, drop, mse, mae, windows",
    [(96, 32, 1.295, 0.713, 2784), (96, None, 1.294, 0.713, 2785), (192, 32, 1.325, 0.733, None)],
)
def test_etth1_repeat_baseline(etth1, pred_len, drop, mse, mae, windows):
    result = _evaluate(
        etth1,
        protocol="ett-hour",
        features="M",
        target="OT",
        seq_len=96,
        pred_len=pred_len,
        drop_last_batch=drop,
    )
    assert round(result["mse"], 3) == mse
    assert round(result["mae"], 3) == mae
    if windows is not None:
        assert result["windows"] == windows


def test_ili_repeat_baseline(ili):
    result = _evaluate(ili, protocol="ratio", features="M", target="OT", seq_len=36, pred_len=24)
    assert (round(result["mse"], 3), round(result["mae"], 3)) == (6.213, 1.622)
    assert result["windows"] == 170  # int(966 * 0.2) + 36 - 36 - 24 + 1


@pytest.mark.parametrize(
    "model, smape, mase, owa",
    [("naive2", 18.383, 2.395, 1.000), ("snaive", 13.912, 1.193, 0.628), ("naive", 43.003, 11.608, 3.593)],
)
def test_m4_hourly_baselines(m4_hourly, model, smape, mase, owa):
    result = evaluate_m4(m4_hourly, model, horizon=48, season=24)
    assert result["series"] == 414
    assert (round(result["smape"], 3), round(result["mase"], 3), round(result["owa"], 3)) == (
        smape,
        mase,
        owa,
    )


def _cli(*args) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "core", *map(str, args)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def test_cli_evaluate_prints_the_reference_numbers():
    result = _cli(
        "evaluate",
        "--data",
        DATA / "ETTh1.csv",
        "--model",
        "naive",
        "--protocol",
        "ett-hour",
        "--features",
        "M",
        "--target",
        "OT",
        "--seq-len",
        96,
        "--pred-len",
        96,
        "--drop-last-batch",
        32,
    )
    assert (round(result["mse"], 3), round(result["mae"], 3), result["windows"]) == (1.295, 0.713, 2784)


def test_cli_m4_prints_the_reference_numbers():
    result = _cli(
        "m4",
        "--train",
        M4 / "Hourly-train.csv",
        "--test",
        M4 / "Hourly-test.csv",
        "--horizon",
        48,
        "--season",
        24,
        "--model",
        "snaive",
    )
    assert (round(result["smape"], 3), round(result["mase"], 3), round(result["owa"], 3)) == (
        13.912,
        1.193,
        0.628,
    )
    assert result["series"] == 414
