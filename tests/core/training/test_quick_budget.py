"""The quick budget trains on a strided share of the training windows that still spans the whole
training split, and never cuts the protocol: every validation and every test window is used."""

from dataclasses import replace

import numpy as np
import pytest

from core.dataset import Dataset
from core.models.contract import QUICK_TRAIN_WINDOWS
from core.runs.spec import starting_spec
from core.training.runner import run_training
from core.windows import WindowDataset, evenly_spaced

SEQ_LEN, PRED_LEN = 48, 12
HOURS = 4000


@pytest.fixture(scope="module")
def series(etth1_dataset):
    """4,000 hours of ETTh1 under another name: the 70/10/20 split, 2,741 training windows (more than
    the quick budget's 2,048)."""
    return Dataset(etth1_dataset.frame.iloc[:HOURS], "OT", f"Transformer oil, {HOURS} hours", freq="h")


def test_evenly_spaced_keeps_the_first_and_last_window():
    picked = evenly_spaced(8521, 1024)
    assert len(picked) == 1024 and picked[0] == 0 and picked[-1] == 8520
    assert np.all(np.diff(picked) <= 9)
    assert list(evenly_spaced(5, None)) == list(range(5)) == list(evenly_spaced(5, 9))


@pytest.mark.parametrize("model", ["time_llm"])  # TEMPO's quick windows come from the same runner code
def test_a_quick_run_spans_the_training_split_and_uses_every_validation_and_test_window(
    series, model, tmp_path, monkeypatch
):
    spec = starting_spec(
        model, dataset_name=series.name, freq="h", seq_len=SEQ_LEN, pred_len=PRED_LEN, budget="quick"
    )
    tiny = dict(backbone="tiny-random-llama", layers=2)
    tiny |= dict(period=12, decomposition="moving_average") if model == "tempo" else dict(d_ff=16)
    spec = replace(spec, features="S", model_options=spec.model_options | tiny)
    spec.train.batch_size = 64  # fewer, larger steps: the test is about which windows, not the loss
    assert spec.train.train_windows == QUICK_TRAIN_WINDOWS

    seen: dict[int, set[int]] = {}  # split length -> window indices read
    read = WindowDataset.__getitem__

    def recording(self, index):
        seen.setdefault(len(self.values), set()).add(int(index))
        return read(self, index)

    monkeypatch.setattr(WindowDataset, "__getitem__", recording)
    outcome = run_training(spec, series, None)

    rows = {"train": HOURS * 7 // 10, "val": HOURS // 10 + SEQ_LEN, "test": HOURS // 5 + SEQ_LEN}  # 70/10/20
    windows = {name: count - SEQ_LEN - PRED_LEN + 1 for name, count in rows.items()}
    assert set(seen) == set(rows.values())
    trained = sorted(seen[rows["train"]])
    assert QUICK_TRAIN_WINDOWS // 2 < len(trained) <= QUICK_TRAIN_WINDOWS < windows["train"]
    covered = np.zeros(rows["train"], dtype=bool)
    for start in trained:
        covered[start : start + SEQ_LEN + PRED_LEN] = True
    assert covered.all()  # every training row is inside some window the run trained on
    assert seen[rows["val"]] == set(range(windows["val"]))
    assert seen[rows["test"]] == set(range(windows["test"]))
    assert outcome.test_metrics["windows"] == outcome.test_metrics["windows_available"] == windows["test"]
    assert outcome.test_metrics["calibration_windows"] == windows["val"]
