"""StemGNN and PAttn beside DLinear and PatchTST, under the project's protocol.

ETTh1: features M, look-back 336, horizon 96, the ETT borders; ILI: features M, look-back 104,
horizon 24, the 70/10/20 split. A scaler fit on the training rows, every test window scored, the
checkpoint with the best validation loss. Each model starts from its settings for the data (the
registry's training defaults and its preset, as on the Train page and the command line) and trains
through the project's one runner. Also times a PAttn training step at the authors' width (768) and
at the width its CPU preset uses (128). Writes bench/results/stemgnn_pattn.json.

    .venv/bin/python bench/bench_stemgnn_pattn.py [--models stemgnn pattn dlinear patchtst] [--data ETTh1 ILI]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today, trained_row  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "stemgnn_pattn.json"
SETTINGS = {"ETTh1": (336, 96), "ILI": (104, 24)}  # look-back and horizon per data set
MODELS = ["dlinear", "patchtst", "stemgnn", "pattn"]


def accuracy(dataset, models: list[str], store) -> list[dict]:
    from core.runs.spec import starting_spec, with_changes

    seq_len, pred_len = SETTINGS[dataset.name]
    rows = []
    for name in models:
        start = starting_spec(
            name, dataset_name=dataset.name, freq=dataset.freq, seq_len=seq_len, pred_len=pred_len
        )
        spec = with_changes(start, {"features": "M"}, {}, {})
        rows.append(trained_row(spec, dataset, store, loss=spec.train.loss, model_options=spec.model_options))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def pattn_step_times(dataset, steps: int = 6, warmup: int = 2, batch: int = 64) -> list[dict]:
    """Median seconds of a PAttn training step (forward, MAE loss, backward, Adam) at two widths, on
    ETTh1 windows (features M, look-back 336, horizon 96)."""
    import torch

    from core.data import prepare
    from core.models.registry import build_model

    data = prepare(dataset.frame.to_numpy(), dataset.channels, dataset.target, "M", "ett-hour", 336)
    x = torch.as_tensor(data.windows("train", 336, 96)[0][:batch].copy(), dtype=torch.float32)
    y = torch.as_tensor(data.windows("train", 336, 96)[1][:batch].copy(), dtype=torch.float32)
    rows = []
    for width in (128, 768):
        torch.manual_seed(0)
        model, _ = build_model("pattn", seq_len=336, pred_len=96, n_channels=x.shape[2], d_model=width)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
        times = []
        for step in range(warmup + steps):
            started = time.perf_counter()
            loss = torch.nn.functional.l1_loss(model(x).forecast, y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step >= warmup:
                times.append(time.perf_counter() - started)
        rows.append(
            {"model": "pattn", "d_model": width, "batch_size": batch, "step_s": statistics.median(times)}
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    from core.datasets import load_builtin
    from core.runs.store import RunStore

    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--data", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args = parser.parse_args()
    report = {
        "protocol": "features M; ETTh1: L 336, H 96, ETT borders; ILI: L 104, H 24, 70/10/20 split; every "
        "test window; best-validation checkpoint; each model's starting settings for the data",
        "date": today(),
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "rows": [],
    }
    with tempfile.TemporaryDirectory() as runs:
        store = RunStore(runs)
        for name in args.data:
            report["rows"] += accuracy(load_builtin(name), args.models, store)
    report["pattn_step_s"] = pattn_step_times(load_builtin("ETTh1"))
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
