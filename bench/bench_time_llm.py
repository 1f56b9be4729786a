"""Time-LLM training throughput on this CPU: windows per second, peak memory and the prompt's share.

Protocol: ETTh1, features M, horizon 96, the ett-hour borders and a scaler fit on the training rows
(`core.data.prepare`), stride-1 windows (`WindowDataset`), batch 16 (the seed's table), V' 1000,
d_model 16, d_ff 32, 8 heads, patch 16, stride 8, the data set's description in the prompt. Backbones
`minilm-l6` (all 6 layers) and `smollm2-135m` kept to its first 6 layers; look-back 96 and 512;
fp32 and bf16 autocast. Training goes through the project's `Trainer` (Adam, one epoch over the
first `steps × 16` training windows, in order, no validation windows); each step is timed from one
`on_step` callback to the next (data, forward, backward, optimiser), the first 2 steps are warm-up,
and the median of the rest (6 by default: `--steps 8`) gives windows/s = 16 / median step time.
`cpu_share` says whether something else was using the cores meanwhile (1.0: nothing was).

Memory: the process's peak resident set (`resource.getrusage`), reset through /proc/self/clear_refs
just before each setting's training starts (Linux), so it is that setting's peak; the increase is
that peak minus the resident set just before training (the backbone and model were already built,
freed heap handed back with malloc_trim).

Prototype map: the forward and backward pass of the V -> V' linear map over the vocabulary's
embeddings alone (what every step pays whatever the batch), median of 5, and its share of a step.

Prompt share: for one batch (112 prompts: 16 windows × 7 channels) the times of `TimeLLM.prompts`
(statistics and text), of the tokenizer call and of the prompt embedding lookup (together what
`TimeLLM._prompt_embeddings` does), medians of 5, relative to the median training step. The frozen
backbone's work over the prompt tokens is not counted there; `prompt_tokens` and `patches` say how
long the sequence it runs over is, and `prompt_token_fraction` what part of it the prompt is.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_time_llm.py [--quick] [--steps 8]

Writes bench/results/time_llm_speed.json (not with --quick unless --write is given).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    WARMUP,
    StepClock,
    machine,
    median_time,
    peak_rss_mb,
    release_memory,
    reset_peak_rss,
    rss_mb,
    today,
)

RESULTS = ROOT / "bench" / "results" / "time_llm_speed.json"

BATCH = 16
HORIZON = 96
MODEL_OPTIONS = dict(n_prototypes=1000, d_model=16, d_ff=32, n_heads=8, patch_len=16, stride=8)
BACKBONES = (("minilm-l6", 6), ("smollm2-135m", 6))
SEQ_LENS = (96, 512)
PRECISIONS = ("fp32", "bf16")


def measure(dataset, backbone: str, layers: int, seq_len: int, precision: str, steps: int) -> dict:
    import torch
    from torch.utils.data import Subset

    from core.data import prepare
    from core.models.registry import build_model
    from core.runs.train_config import TrainConfig
    from core.training.trainer import Trainer
    from core.windows import WindowDataset, make_loader

    data = prepare(dataset.frame.to_numpy(), dataset.channels, dataset.target, "M", "ett-hour", seq_len)
    train_set, val_set = (
        WindowDataset(data.splits[name], seq_len, HORIZON, data.output_index) for name in ("train", "val")
    )
    train_loader = make_loader(Subset(train_set, range(steps * BATCH)), BATCH, shuffle=False, drop_last=True)
    # No validation windows: fit's end-of-epoch validation pass is skipped (it scores 0.0 over nothing).
    val_loader = make_loader(Subset(val_set, range(0)), BATCH, shuffle=False)
    torch.manual_seed(0)
    model, _ = build_model(
        "time_llm",
        seq_len=seq_len,
        pred_len=HORIZON,
        n_channels=len(data.columns),
        backbone=backbone,
        layers=layers,
        description=dataset.description,
        **MODEL_OPTIONS,
    )
    clock = StepClock()
    config = TrainConfig(epochs=1, batch_size=BATCH, lr=1e-3, precision=precision, device="cpu")
    trainer = Trainer(model, config, on_step=clock.stamp)
    release_memory()
    rss_before = rss_mb()
    load_before = os.getloadavg()[0]
    reset = reset_peak_rss()
    trainer.fit(train_loader, val_loader)
    peak = peak_rss_mb()
    step_times = clock.step_times()
    median_step = statistics.median(step_times)
    cpu_share = clock.cpu_share(torch.get_num_threads())

    x, _ = next(iter(train_loader))
    with torch.no_grad(), trainer.autocast():
        texts = model.prompts(x)
        prompt_s = median_time(lambda: model.prompts(x))
        tokens = model.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        tokenize_s = median_time(
            lambda: model.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        )
        embed_s = median_time(lambda: model.backbone.embed(tokens["input_ids"]))
        prompt_embeddings_s = median_time(lambda: model._prompt_embeddings(x))

    def prototype_map() -> None:  # forward and backward of the V -> V' map, as in a training step
        with trainer.autocast():
            prototypes = model.prototypes()
        prototypes.float().sum().backward()

    prototype_map_s = median_time(prototype_map)
    model.zero_grad(set_to_none=True)
    return {
        "backbone": backbone,
        "layers": layers,
        "seq_len": seq_len,
        "precision": trainer.precision,
        "windows_per_s": BATCH / median_step,
        "median_step_s": median_step,
        "step_s": step_times,
        "prompt_share": (prompt_s + prompt_embeddings_s) / median_step,
        "prompt_text_s": prompt_s,
        "tokenize_s": tokenize_s,
        "embed_s": embed_s,
        "prompt_embeddings_s": prompt_embeddings_s,
        "prototype_map_s": prototype_map_s,
        "prototype_map_share": prototype_map_s / median_step,
        "prompt_tokens": int(tokens["input_ids"].shape[1]),
        "patches": model.n_patches,
        "prompt_token_fraction": tokens["input_ids"].shape[1]
        / (tokens["input_ids"].shape[1] + model.n_patches),
        "peak_rss_mb": peak,
        "rss_before_mb": rss_before,
        "rss_increase_mb": peak - rss_before if reset else None,
        "peak_is_per_setting": reset,
        "cpu_share": cpu_share,
        "load_avg_1min": [load_before, os.getloadavg()[0]],
    }


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="look-back 96 with minilm-l6 only")
    parser.add_argument("--steps", type=int, default=8, help=f"training steps per setting ({WARMUP} warm-up)")
    parser.add_argument("--write", action="store_true", help="write the JSON after --quick too")
    args = parser.parse_args()
    if args.steps < WARMUP + 2:
        parser.error(f"--steps must be at least {WARMUP + 2}")

    from core.datasets import load_builtin

    started = time.perf_counter()
    dataset = load_builtin("ETTh1")
    backbones = BACKBONES[:1] if args.quick else BACKBONES
    seq_lens = SEQ_LENS[:1] if args.quick else SEQ_LENS
    report = {
        "protocol": (
            f"ETTh1, features M, H {HORIZON}, ett-hour borders, batch {BATCH}, V' 1000, d_model 16, d_ff 32, "
            f"8 heads, patch 16 stride 8; Trainer (Adam) over the first {args.steps * BATCH} training "
            f"windows, {args.steps} steps, median of the last {args.steps - WARMUP}; CPU autocast for bf16"
        ),
        "date": today(),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "horizon": HORIZON,
        "batch_size": BATCH,
        "steps": args.steps,
        "timed_steps": args.steps - WARMUP,
        "memory": (
            "peak_rss_mb: the process's peak resident set (getrusage ru_maxrss), reset just before the "
            "setting's training; rss_increase_mb: that peak minus the resident set just before training "
            "(freed heap returned to the OS first with malloc_trim); both include the cached backbones"
        ),
        "noise": (
            "cpu_share: this process's CPU time over the timed steps divided by wall time x torch threads "
            "(1.0: it had the cores to itself); load_avg_1min before and after the setting"
        ),
        "settings": [],
    }
    for backbone, layers in backbones:
        for seq_len in seq_lens:
            for precision in PRECISIONS:
                result = measure(dataset, backbone, layers, seq_len, precision, args.steps)
                report["settings"].append(result)
                short = {k: v for k, v in result.items() if k != "step_s"}
                print(json.dumps(short, default=lambda v: round(v, 4)), flush=True)
    report["total_s"] = time.perf_counter() - started
    report["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")

    print(
        f"\n{'backbone':<13} {'layers':>6} {'L':>4} {'prec':<5} {'win/s':>7} {'step s':>7} "
        f"{'prompt':>7} {'V->V':>6} {'tokens':>6} {'peak MB':>8} {'+MB':>6} {'cpu':>5}"
    )
    for r in report["settings"]:
        increase = "" if r["rss_increase_mb"] is None else f"{r['rss_increase_mb']:.0f}"
        print(
            f"{r['backbone']:<13} {r['layers']:>6} {r['seq_len']:>4} {r['precision']:<5} "
            f"{r['windows_per_s']:>7.2f} {r['median_step_s']:>7.3f} {r['prompt_share']:>6.1%} "
            f"{r['prototype_map_share']:>6.1%} "
            f"{r['prompt_tokens']:>6} {r['peak_rss_mb']:>8.0f} {increase:>6} {r['cpu_share']:>5.2f}"
        )
    print(f"total {report['total_s']:.0f} s")
    if not args.quick or args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
