"""fp32 against bf16 (and fp16) autocast for training steps on this CPU: what `auto` should pick.

One training step (forward, loss in fp32, backward, Adam) of PatchTST and DLinear on a batch of 128
ETTh1-shaped windows (L 336, H 96, 7 channels); the median of 10 steps after 3 warm-up steps, each
precision measured twice in alternation so that a noisy neighbour hurts both alike. Writes
bench/results/cpu_precision.json.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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
            prediction = model(x)
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
    flags = open("/proc/cpuinfo").read() if Path("/proc/cpuinfo").exists() else ""
    report = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "avx512_bf16": "avx512_bf16" in flags,
            "amx_bf16": "amx_bf16" in flags,
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "batch": "128 windows, L 336, H 96, 7 channels; one step = forward, fp32 loss, backward, Adam",
    }
    for name in ("patchtst", "dlinear"):
        model, _ = build_model(name, seq_len=336, pred_len=96, n_channels=7)
        model.train()
        times = {p: [] for p in ("fp32", "bf16", "fp16")}
        for _ in range(2):
            for precision in times:
                times[precision].append(step_time(model, precision, x, y))
        medians = {p: min(t) for p, t in times.items()}
        report[name] = {
            "step_s": medians,
            "bf16_speedup_over_fp32": medians["fp32"] / medians["bf16"],
            "fp16_speedup_over_fp32": medians["fp32"] / medians["fp16"],
        }
        print(name, json.dumps(report[name]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
