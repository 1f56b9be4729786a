"""fp32 against bf16 (and fp16) autocast for training steps on this CPU: what `auto` should pick.

One training step (forward, loss in fp32, backward, Adam) of PatchTST and DLinear on a batch of 128
ETTh1-shaped windows (L 336, H 96, 7 channels); the median of 10 steps after 3 warm-up steps, each
precision measured twice in alternation so that a noisy neighbour hurts both alike. Writes
bench/results/cpu_precision.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "cpu_precision.json"


def step_time(model, precision: str, x, y, repeats: int = 10) -> float:
    import torch

    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cpu", enabled=precision == "fp16")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    times = []
    for i in range(repeats + 3):
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            prediction = model(x).forecast
        loss = torch.nn.functional.mse_loss(prediction.float(), y)
        scaler.scale(loss).backward()
        scaler.step(optimiser)
        scaler.update()
        optimiser.zero_grad(set_to_none=True)
        if i >= 3:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    import torch

    from core.models.registry import build_model

    torch.manual_seed(0)
    x, y = torch.randn(128, 336, 7), torch.randn(128, 96, 7)
    report = {
        "protocol": "128 windows, L 336, H 96, 7 channels; one step = forward, fp32 loss, backward, Adam",
        "date": today(),
        "machine": machine(),
        "batch_size": len(x),
        "look_back": 336,
        "horizon": 96,
        "channels": 7,
        "warmup_steps": 3,
        "timed_steps": 10,
        "repeats": 2,  # each precision's step time is the faster of two medians
        "rows": [],
    }
    for name in ("patchtst", "dlinear"):
        model, _ = build_model(name, seq_len=336, pred_len=96, n_channels=7)
        model.train()
        times = {p: [] for p in ("fp32", "bf16", "fp16")}
        for _ in range(2):
            for precision in times:
                times[precision].append(step_time(model, precision, x, y))
        medians = {p: min(t) for p, t in times.items()}
        for precision, step in medians.items():
            row = {
                "model": name,
                "precision": precision,
                "step_s": step,
                "windows_per_s": len(x) / step,
                "speedup_over_fp32": medians["fp32"] / step,
            }
            report["rows"].append(row)
            print(json.dumps(row), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
