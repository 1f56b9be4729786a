"""`python -m core`: plain errors and exit code 2 for inputs it cannot score, never a traceback."""

import subprocess
import sys

import pytest

from tests.conftest import DATA, ROOT
from tests.core.conftest import M4


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *map(str, args)], cwd=ROOT, capture_output=True, text=True
    )


def _evaluate(data, *extra):
    return _run(
        "evaluate",
        "--data",
        data,
        "--model",
        "naive",
        "--protocol",
        "ratio",
        "--seq-len",
        24,
        "--pred-len",
        12,
        *extra,
    )


@pytest.mark.parametrize("flag", ["--seq-len", "--pred-len", "--drop-last-batch"])
def test_non_positive_lengths_are_refused(flag):
    completed = _evaluate(DATA / "ETTh1.csv", flag, 0)
    assert completed.returncode == 2 and "at least 1" in completed.stderr


def test_missing_values_are_refused(tmp_path):
    path = tmp_path / "gaps.csv"
    rows = "".join(f"2024-01-{d:02d},{'' if d == 5 else d}\n" for d in range(1, 31))
    path.write_text("date,OT\n" + rows * 1)
    completed = _evaluate(path)
    assert completed.returncode == 2 and "empty cells" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_missing_file_and_an_unknown_target():
    assert "No such file" in _evaluate(ROOT / "nope.csv").stderr
    completed = _evaluate(DATA / "ETTh1.csv", "--features", "S", "--target", "nope")
    assert completed.returncode == 2 and "target column 'nope'" in completed.stderr


def test_m4_with_train_and_test_swapped_names_the_series():
    completed = _run(
        "m4",
        "--train",
        M4 / "Hourly-test.csv",
        "--test",
        M4 / "Hourly-train.csv",
        "--horizon",
        48,
        "--season",
        24,
        "--model",
        "naive",
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr and "error:" in completed.stderr


def test_cli_reports_bad_arguments_without_a_traceback():
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "evaluate",
            "--data",
            str(DATA / "ETTh1.csv"),
            "--model",
            "snaive",
            "--protocol",
            "ett-hour",
            "--seq-len",
            "96",
            "--pred-len",
            "96",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "needs --season" in completed.stderr
    assert "Traceback" not in completed.stderr
