"""Time-LLM and its three ablations under one protocol, on a CPU budget.

ETTh1, features S (the target OT only, so that one CPU can afford it), look-back 96, horizon 96,
the standard ett-hour borders, every training window for one epoch, every test window scored with
the best-validation checkpoint, SmolLM2-135M kept to 6 layers, V' 1000, batch 64, `auto` precision
(bf16 for Time-LLM on a CPU), through the project's runner. Writes bench/results/time_llm_ablations.json
with test MSE/MAE, epochs, windows and minutes per model. DLinear under the same protocol is the
yardstick.

    .venv/bin/python bench/bench_time_llm_ablations.py [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import budget_runs, machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "time_llm_ablations.json"
MODELS = ["dlinear", "time_llm_no_llm", "time_llm_llm_to_attention", "time_llm", "time_llm_random_init"]


def main() -> None:
    from core.datasets import load_builtin

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    # The seed's batch is 16; the prototype map (V × V' over the vocabulary) costs the same per step
    # whatever the batch, so a CPU budget is better spent on fewer, larger steps.
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    dataset = load_builtin("ETTh1")
    report = {
        "protocol": "ETTh1, features S (OT), L 96, H 96, ett-hour borders, every training window, every "
        "test window (2,785), best-validation checkpoint, SmolLM2-135M with 6 layers, V' 1000",
        "date": today(),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    report["rows"] = budget_runs(
        dataset, MODELS, epochs=args.epochs, batch_size=args.batch_size, seq_len=96, pred_len=96, features="S"
    )
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
