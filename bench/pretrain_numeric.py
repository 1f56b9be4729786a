"""Pretrain the numeric Llama of proxy decoding and record how it went (`make pretrain-numeric`).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/pretrain_numeric.py [--steps 600]
        [--out data/numeric-llama] [--record bench/results/numeric_pretrain.json]

The corpus, the held-out set and the loop are `core.proxy.pretrain`'s (its docstring lists the
corpus). This writes the weights (safetensors) and config to `--out`, and to `--record` the loss
curve, the held-out NLL per atom, the time and the machine. When weights are already in `--out`
(the shipped ones, in a fresh clone), their held-out NLL is measured first and the record says how
far the new weights' is from it: the reproduction check.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today  # noqa: E402
from core.proxy import numeric_llama  # noqa: E402
from core.proxy.pretrain import Corpus, held_out_nll, pretrain  # noqa: E402

RECORD = ROOT / "bench" / "results" / "numeric_pretrain.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--out", type=Path, default=numeric_llama.FOLDER)
    parser.add_argument("--record", type=Path, default=RECORD)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    corpus = Corpus()
    sys.stdout.reconfigure(line_buffering=True)  # progress lines as they come, even into a file
    print(f"corpus: {len(corpus.synthetic)} synthetic series, {len(corpus.real)} real series' training parts")
    previous = None
    if (args.out / "model.safetensors").is_file():
        previous = {
            "sha256_16": numeric_llama.weights_digest(args.out),
            "held_out_nll_per_atom": held_out_nll(
                numeric_llama.load_numeric_llama(args.out), corpus.held_out
            ),
        }
        print(
            f"the weights already in {args.out}: held-out NLL "
            f"{previous['held_out_nll_per_atom']:.4f} per atom"
        )
    model, record = pretrain(args.steps, corpus=corpus)
    numeric_llama.save_numeric_llama(model, args.out)
    result = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "date": today(),
        "machine": machine(),
        "precision": "fp32",
        "architecture": numeric_llama.ARCHITECTURE
        | {"vocab": numeric_llama.VOCAB, "context": numeric_llama.CONTEXT},
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_bytes": (args.out / "model.safetensors").stat().st_size,
        "weights_sha256_16": numeric_llama.weights_digest(args.out),
        "corpus": corpus.describe(),
        "wall_seconds": time.perf_counter() - started,
        **record,
    }
    if previous is not None:
        change = record["held_out_nll_per_atom"] / previous["held_out_nll_per_atom"] - 1
        result["previous_weights"] = previous | {"relative_difference": change}
        print(
            f"held-out NLL {record['held_out_nll_per_atom']:.4f} per atom, {change:+.2%} against the "
            "weights before"
        )
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text(json.dumps(result, indent=1) + "\n")
    print(f"weights: {args.out}; record: {args.record} ({result['wall_seconds']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
