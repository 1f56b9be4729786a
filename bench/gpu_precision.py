"""fp32 against fp16 (with GradScaler) against bf16 on a GPU: step time and peak memory.

For PatchTST at the ETTh1 shape (batch 128, L 336, H 96, 7 channels) and a larger batch, through
the project's Trainer (the same autocast and loss-scaling path the dashboard uses). Writes
bench/results/gpu_precision.json naming the GPU. Needs CUDA; without it, it says so and exits 0.

    python bench/gpu_precision.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "gpu_precision.json"


def measure(precision: str, batch: int, steps: int = 30) -> dict:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from core.models.registry import build_model
    from core.runs.train_config import TrainConfig
    from core.training.trainer import Trainer

    torch.manual_seed(0)
    model, _ = build_model("patchtst", seq_len=336, pred_len=96, n_channels=7)
    x, y = torch.randn(batch * steps, 336, 7), torch.randn(batch * steps, 96, 7)
    train = DataLoader(TensorDataset(x, y), batch_size=batch, pin_memory=True)
    val = DataLoader(TensorDataset(x[:batch], y[:batch]), batch_size=batch)
    times: list[float] = []
    last = [time.perf_counter()]

    def on_step(info) -> None:
        torch.cuda.synchronize()
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    trainer = Trainer(
        model, TrainConfig(epochs=1, batch_size=batch, precision=precision, device="cuda"), on_step=on_step
    )
    torch.cuda.reset_peak_memory_stats()
    result = trainer.fit(train, val)
    steady = sorted(times[5:])  # skip warm-up (kernel selection, allocator growth)
    return {
        "median_step_ms": 1000 * steady[len(steady) // 2],
        "samples_per_s": batch / steady[len(steady) // 2],
        "peak_memory_mb": torch.cuda.max_memory_allocated() / 2**20,
        "skipped_steps": result.skipped_steps,
        "val_loss_finite": bool(result.best_val_loss == result.best_val_loss),
    }


def main() -> None:
    import torch

    if not torch.cuda.is_available():
        print("No CUDA device: nothing to measure (run this on a GPU machine).")
        return
    report = {
        "protocol": "PatchTST (d_model 16, 3 layers) at L 336, H 96, 7 channels",
        "date": today(),
        "machine": machine("cuda")
        | {
            "capability": ".".join(map(str, torch.cuda.get_device_capability())),
            "bf16_supported": torch.cuda.is_bf16_supported(),
            "cuda": torch.version.cuda,
        },
        "model": "patchtst",
        "look_back": 336,
        "horizon": 96,
        "channels": 7,
        "rows": [],
    }
    for batch in (128, 1024):
        for precision in ("fp32", "fp16", "bf16"):
            row = {"batch_size": batch, "precision": precision, **measure(precision, batch)}
            report["rows"].append(row)
            print(json.dumps(row), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
