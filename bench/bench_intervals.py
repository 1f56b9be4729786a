"""Coverage of the prediction intervals every run gets, and the verdict against the baselines.

DLinear, features M, look-back 336, horizon 96, the ETT borders, every test window, the checkpoint
with the best validation loss, from its starting settings for the data (as on the Train page and the
command line), through the project's one runner, on ETTh1 (bundled) and ETTh2 (ETDataset's
`ETT-small/ETTh2.csv`, bundled in data/ unless --etth2 names another copy).

Each run's bands are split conformal at 80 % and 95 %, rolled forward through the test windows
(`core.intervals`); the bench records their coverage on the test windows and their mean width, the
test MSE and MAE, MASE and the skill against seasonal naive with the baselines' MASE on the same
windows (`core.verdict`). Beside the method it records what plain split conformal on the validation
windows alone would have covered with the same residuals: reported, not chosen, since the method was
fixed before any test coverage was seen. Writes bench/results/intervals.json.

    .venv/bin/python bench/bench_intervals.py [--data ETTh1 ETTh2] [--etth2 PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today, trained_row  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "intervals.json"
ETTH2 = ROOT / "data" / "ETTh2.csv"
ETTH2_SOURCE = "zhouhaoyi/ETDataset, ETT-small/ETTh2.csv (CC BY-ND 4.0), unmodified"
SEQ_LEN, PRED_LEN = 336, 96
DATA = ["ETTh1", "ETTh2"]


@contextmanager
def captured():
    """What the runner computes on its way to the test metrics: the test predictions with their
    bands, the validation residuals the bands are calibrated on, and the test scores."""
    from core.training import runner

    seen: dict = {}
    add_intervals, test_scores = runner.add_intervals, runner.test_scores

    def keep_intervals(predictions, calibration, pred_len):
        seen["predictions"], seen["calibration"] = predictions, calibration
        return add_intervals(predictions, calibration, pred_len)

    def keep_scores(*args, **kwargs):
        seen["scores"] = test_scores(*args, **kwargs)
        return seen["scores"]

    runner.add_intervals, runner.test_scores = keep_intervals, keep_scores
    try:
        yield seen
    finally:
        runner.add_intervals, runner.test_scores = add_intervals, test_scores


def band_figures(actual, bands: dict) -> dict:
    """Coverage and mean width (scaled units, upper minus lower) of bands by nominal level."""
    import numpy as np

    from core.intervals import coverage, level_key

    figures = {}
    for level, band in sorted(bands.items()):
        key = level_key(level)
        figures[f"coverage_{key}"] = coverage(actual, band)
        figures[f"mean_width_{key}"] = float(np.mean(band.upper - band.lower))
    return figures


def validation_only(predictions, calibration) -> dict:
    """The bands plain split conformal would give: one half-width per step and channel from the
    validation residuals alone, the same for every test window."""
    from core.intervals import LEVELS, half_width
    from core.models.contract import Band

    bands = {}
    for level in LEVELS:
        q = half_width(calibration, level)
        bands[level] = Band(predictions.forecast - q, predictions.forecast + q)
    return band_figures(predictions.actual, bands)


def interval_rows(dataset, store) -> dict:
    from core.runs.spec import starting_spec, with_changes

    start = starting_spec(
        "dlinear", dataset_name=dataset.name, freq=dataset.freq, seq_len=SEQ_LEN, pred_len=PRED_LEN
    )
    spec = with_changes(start, {"features": "M"}, {}, {})
    with captured() as seen:
        row = trained_row(spec, dataset, store)
    predictions, calibration, scores = seen["predictions"], seen["calibration"], seen["scores"]
    rolled = band_figures(predictions.actual, predictions.bands)
    for key in ("80", "95"):  # the runner's own figures are the ones recomputed here
        assert abs(rolled[f"coverage_{key}"] - scores[f"coverage_{key}"]) < 1e-12, (rolled, scores)
    row["metrics"]["mase"] = scores["mase"]
    row |= {
        "season": scores["season"],
        "skill": scores["skill"],
        "skill_against": scores["skill_against"],
        "baselines": {
            name: {key: figures[key] for key in ("mse", "mae", "mase", "model_wins")}
            for name, figures in scores["baselines"].items()
        },
        "intervals": [
            {
                "calibration": "rolling",
                "chosen": True,
                "calibration_windows": int(len(calibration)),
                **rolled,
            },
            {
                "calibration": "validation_only",
                "chosen": False,
                "calibration_windows": int(len(calibration)),
                "label": "reported, not chosen: the method was fixed before any test coverage was seen",
                **validation_only(predictions, calibration),
            },
        ],
    }
    return row


def load(name: str, etth2: Path):
    """A data set as the project reads it: ETTh1 bundled, ETTh2 from its CSV like an upload."""
    from dataclasses import replace

    from core.datasets import load_builtin
    from core.ingest import load_csv_file

    if name == "ETTh1":
        return load_builtin("ETTh1"), None
    dataset, _ = load_csv_file(etth2)
    digest = hashlib.sha256(etth2.read_bytes()).hexdigest()
    return replace(dataset, name="ETTh2"), {"file": etth2.name, "sha256": digest, "source": ETTH2_SOURCE}


def main() -> None:
    from core.runs.store import RunStore

    parser = argparse.ArgumentParser()
    parser.add_argument("--data", nargs="+", default=DATA, choices=DATA)
    parser.add_argument("--etth2", type=Path, default=ETTH2, help="ETTh2.csv (default ../shared/data)")
    args = parser.parse_args()
    if "ETTh2" in args.data and not args.etth2.exists():  # before any training, and before the JSON
        raise SystemExit(
            f"{args.etth2} is not there: put ETDataset's ETT-small/ETTh2.csv there or pass --etth2"
        )
    report = {
        "protocol": "DLinear, features M, L 336, H 96, ETT borders, every test window, best-validation "
        "checkpoint, its starting settings for the data; split-conformal bands at 80 % and 95 % rolled "
        "forward through the test windows, beside validation-only split conformal on the same residuals",
        "date": today(),
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "files": {},
        "rows": [],
    }
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        for name in args.data:
            dataset, file = load(name, args.etth2)
            if file:
                report["files"][name] = file
            report["rows"].append(interval_rows(dataset, store))
            print(json.dumps(report["rows"][-1]), flush=True)
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
