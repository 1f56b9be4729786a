"""Build the showcase that ships with the app (`make showcase`): a few finished language-model runs, so
that a fresh clone's Attention, Compare and Forecast pages show something before anyone trains.

Every run is trained here, under the project's protocol, on bundled data: ETTh1's target OT
(features S), look-back 96, horizon 24, the ett-hour borders, every validation and test window.

- Time-LLM over the bundled SmolLM2, and its no-LLM ablation at the same budget;
- TEMPO with a prompt pool (its picks are shown on the Attention page);
- proxy-tuned decoding (SmolLM2 steered by a small tuned expert).

They are trained into a temporary run store, then exported to `showcase/` (see
`core.runs.showcase`): `runs.json` with each run's record and how, when and on what machine it was
trained, and a folder per run with its arrays and weights. Time-LLM keeps only its compact state
(the V' x D prototypes). The whole folder must stay under 25 MB; the script fails otherwise.

    python bench/showcase.py [--budget quick|standard] [--models time_llm,tempo,...]

`--models` trains only the runs named and keeps the other shipped runs as they are.

The default budget is `quick`: on a 2-core CPU the four runs took 18 minutes in all (Time-LLM 99 s,
its ablation 32 s, TEMPO 163 s, and the proxy-tuned run 13 min, most of it decoding 8 test windows
digit by digit), not the hours the standard budget would (`bench/results/quick_budget.json`).
`tests/test_showcase.py` re-scores every shipped run so that a shipped number cannot drift from what
its weights do.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import safetensors.torch  # noqa: E402

from bench.common import cpu_facts, today  # noqa: E402
from core.datasets import load_builtin  # noqa: E402
from core.models.contract import PredictionContext  # noqa: E402
from core.runs.rebuild import rebuild_model  # noqa: E402
from core.runs.showcase import RECORDS, SHOWCASE_DIR  # noqa: E402
from core.runs.spec import starting_spec  # noqa: E402
from core.runs.store import CHECKPOINT_FILE, RunStore  # noqa: E402
from core.training.runner import run_training  # noqa: E402

LIMIT_MB = 25
DATA, TARGET, SEQ_LEN, PRED_LEN = "ETTh1", "OT", 96, 24
RUNS = {  # registry name -> (the run's name, model options beyond the budget's)
    "time_llm": ("Time-LLM", {}),
    "time_llm_no_llm": ("Time-LLM without the LLM (ablation)", {}),
    "tempo": ("TEMPO with a prompt pool", {"prompt": "pool"}),
    "proxy_tuned": ("Proxy-tuned decoding", {}),
}


def _machine() -> str:
    facts = cpu_facts()
    native = " with native bf16" if facts["avx512_bf16"] or facts["amx_bf16"] else ", fp32"
    return f"a {os.cpu_count()}-core {facts['arch']} CPU{native}"


def train(models: list[str], budget: str, store: RunStore) -> list[tuple[str, float]]:
    dataset = load_builtin(DATA)
    done = []
    for model in models:
        title, options = RUNS[model]
        spec = starting_spec(
            model, dataset_name=DATA, freq=dataset.freq, seq_len=SEQ_LEN, pred_len=PRED_LEN, budget=budget
        )
        spec = replace(
            spec,
            features="S",
            target=TARGET,
            model_options=spec.model_options | options,
            name=f"{title} on {DATA} {TARGET}, {budget} budget",
        )
        started = time.perf_counter()
        print(f"training {model} ({budget} budget)…", file=sys.stderr, flush=True)
        outcome = run_training(spec, dataset, store)
        seconds = time.perf_counter() - started
        metrics = outcome.test_metrics
        print(f"  {seconds:.0f} s, test MSE {metrics['mse']:.4f}, MAE {metrics['mae']:.4f}", file=sys.stderr)
        done.append((outcome.run_id, seconds))
    return done


def export(store: RunStore, trained: list[tuple[str, float]], budget: str, destination: Path) -> float:
    """Write the showcase folder from the trained runs, atomically; returns its size in MB. Shipped
    runs of models not trained again this time are kept as they are."""
    staging = Path(tempfile.mkdtemp(prefix=".showcase-", dir=destination.parent))
    records = []
    retrained = {store.get(run_id).model for run_id, _ in trained}
    if (destination / RECORDS).is_file():
        for record in json.loads((destination / RECORDS).read_text(encoding="utf-8")):
            if record["model"] not in retrained:
                shutil.copytree(destination / record["id"], staging / record["id"])
                records.append(record)
    for run_id, seconds in trained:
        run = store.get(run_id)
        source, target = store.root / run_id, staging / run_id
        target.mkdir()
        for path in source.iterdir():
            if path.name != CHECKPOINT_FILE:
                shutil.copy2(path, target / path.name)
        model = rebuild_model(store, run_id)
        state = model.compact_state() if hasattr(model, "compact_state") else model.trainable_state()
        tensors = {name: tensor.detach().cpu().contiguous().clone() for name, tensor in state.items()}
        safetensors.torch.save_file(tensors, str(target / CHECKPOINT_FILE))
        record = asdict(run)
        record.pop("showcase", None)
        record["pid"], record["host"] = None, None
        record["config"] = dict(
            run.config,
            showcase={
                "trained_on": time.strftime("%Y-%m-%d", time.gmtime(run.finished_at)),
                "budget": budget,
                "machine": _machine(),
                "command": f"make showcase (bench/showcase.py --budget {budget})",
                "wall_time_s": round(seconds, 1),
                "weights": "the V' x D text prototypes" if hasattr(model, "compact_state") else "all trained",
            },
        )
        records.append(record)
    (staging / RECORDS).write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file()) / 2**20
    if size > LIMIT_MB:
        shutil.rmtree(staging)
        raise SystemExit(f"the showcase would take {size:.1f} MB, more than {LIMIT_MB} MB; nothing written")
    old = destination.with_name(destination.name + ".old")
    if destination.exists():
        destination.rename(old)
    staging.rename(destination)
    shutil.rmtree(old, ignore_errors=True)
    return size


def check(root: Path) -> dict:
    """Forecast every test window of every shipped run again from its shipped weights, and compare the
    forecasts and the test metrics with what is stored."""
    from core.data import prepare
    from core.runs.result import load_result
    from core.runs.showcase import ShowcaseStore
    from core.runs.train_config import TrainConfig
    from core.training.runner import test_scores
    from core.training.trainer import Trainer

    store, rows = ShowcaseStore(root), []
    for run in store.list_runs():
        config, result = run.config, load_result(store, run.id)
        dataset = load_builtin(run.dataset_name)
        data = prepare(
            dataset.frame.to_numpy(),
            dataset.channels,
            config["target"],
            config["features"],
            config["protocol"],
            config["seq_len"],
            config["pred_len"],
        )
        model = rebuild_model(store, run.id)
        trainer = Trainer(model, TrainConfig(precision=run.precision, device="cpu"))
        context = PredictionContext(
            data=data,
            seq_len=config["seq_len"],
            pred_len=config["pred_len"],
            batch_size=config["train"]["batch_size"],
            drop_last_batch=config.get("drop_last_batch"),
            seed=config["train"]["seed"],
            device=trainer.device,
            precision=trainer.precision,
            predict=trainer.predict,
            report=lambda **fields: None,
            check_cancelled=lambda: None,
        )
        started = time.perf_counter()
        predictions = model.test_predictions(context)
        metrics = test_scores(predictions, data, dataset.freq, config["seq_len"], config["pred_len"])
        difference = float(abs(predictions.forecast - result.forecast_scaled).max())
        worst = max(abs(metrics[name] - run.test_metrics[name]) for name in ("mse", "mae", "mase", "smape"))
        rows.append(
            {
                "run": run.name,
                "model": run.model,
                "windows": int(len(predictions.window_index)),
                "max_forecast_difference": difference,
                "max_metric_difference": float(worst),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {"date": today(), "machine": cpu_facts(), "runs": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="quick", choices=["quick", "standard"])
    parser.add_argument("--models", default=",".join(RUNS), help="comma-separated, from: " + ", ".join(RUNS))
    parser.add_argument("--out", type=Path, default=SHOWCASE_DIR)
    parser.add_argument(
        "--check",
        action="store_true",
        help="re-score every test window of the shipped runs (bench/results/showcase_check.json)",
    )
    args = parser.parse_args()
    if args.check:
        report = check(args.out)
        path = ROOT / "bench" / "results" / "showcase_check.json"
        path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        bad = [
            r for r in report["runs"] if max(r["max_forecast_difference"], r["max_metric_difference"]) > 1e-4
        ]
        raise SystemExit(f"{len(bad)} shipped run(s) drifted from their weights" if bad else 0)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = set(models) - set(RUNS)
    if unknown:
        raise SystemExit(f"unknown showcase model(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="showcase-runs-") as folder:
        store = RunStore(folder)
        trained = train(models, args.budget, store)
        size = export(store, trained, args.budget, args.out)
        store.close()
    minutes = (time.perf_counter() - started) / 60
    print(
        json.dumps(
            {"runs": len(trained), "size_mb": round(size, 2), "minutes": round(minutes, 1), "date": today()}
        )
    )


if __name__ == "__main__":
    main()
