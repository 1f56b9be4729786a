"""How long a quick run of the language-model methods takes on this CPU, from the command line's start
to its test figures, and what the cost model said before launch.

For each of Time-LLM, TEMPO and Time-LLM without its language model (the ablation, at the same
budget), one run of

    python -m core train --data ETTh1 --model M --budget quick --features S --seq-len 96 --pred-len 24

in a fresh process (ETTh1's target OT, the ETT hour borders, the bundled SmolLM2). The process's whole
wall time is taken from outside (imports, data, model load, training, validation, test, prediction
intervals, verdict, store), beside the run's own `wall_time_s` (from the model's build to the stored
run), its test MSE and MAE, seasonal naive's on the same windows, and how many training, validation and
test windows it used. Before each run the cost model (`core.training.cost`) probes the same spec in a
fresh process and estimates the run; whether the SmolLM2 model cache was already filled is recorded.
Then the settings the quick budget was chosen over (ALTERNATIVES: the earlier quick budget, another
depth, batch or decomposition) run the same way, as flags on the same command, each with its
validation loss. Last, the quick Time-LLM's forward pass is timed in fp32 and under bf16 autocast on a
few batches of validation windows (and with 2 backbone layers), which is what `auto` precision's
choice of fp32 on a CPU without native bf16 rests on; and the quick TEMPO run's look-back windows are
decomposed once by per-window STL and once by the moving average, which its choice of STL rests on.

The machine is shared, so before each timing the bench waits (up to --wait seconds in all) until the
one-minute load average is below --load and no other process has used more than a third of a core
over a few seconds. The CPU time the run's process used and the time every other process used
meanwhile (from /proc/stat) are recorded as shares of the cores; a run, probe or precision timing
during which others took more than 5 % is done again (up to --tries times; the earlier figures are
kept in the file). Target: each
quick Time-LLM and TEMPO run within 180 s, process start to finish, on the 2-core development
machine. Writes bench/results/quick_budget.json.

    .venv/bin/python bench/bench_quick_budget.py [--load 1.3] [--wait 2400] [--tries 3] [--runs-dir DIR]
        [--models time_llm,tempo,time_llm_no_llm] [--no-alternatives]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, today  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "quick_budget.json"
TARGET_S = 180.0
MODELS = ("time_llm", "tempo", "time_llm_no_llm")
TIMED_TO_TARGET = ("time_llm", "tempo")  # the ablation is measured beside them, not held to it
DATA, FEATURES, SEQ_LEN, PRED_LEN = "ETTh1", "S", 96, 24
PRECISION_BATCHES = 3  # timed forward batches per precision, after one that warms up
BUSY_SHARE = 1 / 3  # another process above this share of a core makes the machine busy
SHARED_AT_MOST = 0.05  # a run is timed again when other processes used more of the cores meanwhile


# Settings tried beside the quick budget's, each as flags on the same command: what its choices rest
# on (the validation loss decides between them, with the time; the test figures are shown, not used).
ALTERNATIVES = [
    ("time_llm", "the earlier quick budget: 2 layers, batch 16, 1,024 windows", "layers=2", 16, 1024),
    ("time_llm", "2 layers", "layers=2", None, None),
    ("time_llm", "batch 64", None, 64, None),
    ("tempo", "the earlier quick budget: batch 16, 1,024 windows", None, 16, 1024),
    ("tempo", "1 layer", "layers=1", None, None),
    ("tempo", "moving-average parts in place of STL", 'decomposition="moving_average"', None, None),
]


def alternative_flags(option: str | None, batch: int | None, windows: int | None) -> list[str]:
    flags = ["--set", option] if option else []
    flags += ["--batch-size", str(batch)] if batch else []
    return flags + (["--train-windows", str(windows)] if windows else [])


def train_arguments(model: str, runs_dir: Path, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        "train",
        "--data",
        DATA,
        "--model",
        model,
        "--budget",
        "quick",
        "--features",
        FEATURES,
        "--seq-len",
        str(SEQ_LEN),
        "--pred-len",
        str(PRED_LEN),
        "--runs-dir",
        str(runs_dir),
        *extra,
    ]


# --------------------------------------------------------------------------------- a quiet machine


def load_average() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"1min": one, "5min": five, "15min": fifteen}


def _cpu_ticks() -> dict[int, tuple[int, str]]:
    """Every process's user + system clock ticks so far, with its command line."""
    ticks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ticks[int(entry.name)] = (int(fields[11]) + int(fields[12]), command.strip()[:120])
    return ticks


def busy_processes(seconds: float = 3.0) -> list[dict]:
    """Other processes that used more than BUSY_SHARE of a core over `seconds`, busiest first."""
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    per_second = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (ticks, command) in after.items():
        if pid == os.getpid() or pid not in before:
            continue
        share = (ticks - before[pid][0]) / per_second / seconds
        if share > BUSY_SHARE:
            busy.append({"pid": pid, "cpu_share": round(share, 2), "command": command})
    return sorted(busy, key=lambda found: -found["cpu_share"])


def wait_for_quiet(limit: float, deadline: float) -> dict:
    """Wait until the one-minute load is below `limit` and no other process is busy, or until
    `deadline` (a perf_counter time); what was found when the wait ended."""
    started = time.perf_counter()
    while True:
        busy = busy_processes()
        quiet = os.getloadavg()[0] < limit and not busy
        if quiet or time.perf_counter() >= deadline:
            return {"waited_s": time.perf_counter() - started, "quiet": quiet, "busy_processes": busy}
        time.sleep(15)


# ------------------------------------------------------------------------ in a fresh process each


def _spec(model: str, runs_dir: Path):
    """The run spec and data set exactly as `python -m core train` resolves them."""
    from core.training.headless import add_train_arguments, build_request, load_data, resolve_spec

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    request = build_request(parser.parse_args(train_arguments(model, runs_dir)[1:]))
    dataset = load_data(request.data, request.columns, request.settings.get("target"))
    return resolve_spec(request, dataset), dataset


def model_cache_filled() -> bool:
    from core.lm.cache import cache_root

    folder = cache_root() / "smollm2-135m"
    return folder.is_dir() and any(entry.name[0] != "." for entry in folder.iterdir())


def estimate_part(model: str) -> dict:
    """The cost model's figures for the quick run of `model`: a probe, then the plan's estimate."""
    from dataclasses import asdict, replace

    from core.training.cost import plan, probe

    cache_warm = model_cache_filled()
    spec, dataset = _spec(model, ROOT / "runs")
    known = plan(spec, dataset).cost is not None
    # The probe times 5 steps as one epoch; a one-cycle schedule over 5 steps with a 20 % warm-up
    # has a warm-up of no step, which torch's OneCycleLR divides by. The schedule is not part of
    # the cost key (a step costs the same), so the probe runs with a constant rate instead.
    probed = replace(spec, train=replace(spec.train, schedule="constant"))
    started = time.perf_counter()
    cost = probe(probed, dataset)
    probe_s = time.perf_counter() - started
    planned = plan(spec, dataset)
    assert planned.key == plan(probed, dataset).key
    estimate = planned.estimate()
    return {
        "model_cache_warm": cache_warm,
        "cost_known_before": known,
        "probe_schedule": probed.train.schedule,
        "probe_s": probe_s,
        "cost": asdict(cost),
        "workload": asdict(planned.workload),
        "estimate_s": estimate.seconds,
        "upper_bound": estimate.upper_bound,
    }


def decomposition_part() -> dict:
    """What decomposing the quick TEMPO run's look-back windows costs, per-window STL against the
    moving average: its strided training windows and every validation and test window, one pass."""
    import numpy as np

    from core.models.tempo import WindowDecomposer
    from core.training.runner import spec_data
    from core.windows import evenly_spaced

    spec, dataset = _spec("tempo", ROOT / "runs")
    data = spec_data(spec, dataset)
    period = spec.model_options["period"]
    windows = {}
    for split in ("train", "val", "test"):
        x, _ = data.windows(split, spec.seq_len, spec.pred_len)  # (N, L, C)
        if split == "train":
            x = x[evenly_spaced(len(x), spec.train.train_windows)]
        windows[split] = np.asarray(x, dtype=np.float32).transpose(0, 2, 1).reshape(-1, spec.seq_len)
    rows = np.concatenate(list(windows.values()))
    WindowDecomposer("stl", period)(rows[:10])  # statsmodels' import and first call
    seconds = {}
    for mode in ("stl", "moving_average"):
        started = time.perf_counter()
        WindowDecomposer(mode, period)(rows)
        seconds[mode] = time.perf_counter() - started
    return {
        "period": period,
        "windows": {split: len(found) for split, found in windows.items()},
        "seconds": seconds,
        "ms_per_window": {mode: 1000 * value / len(rows) for mode, value in seconds.items()},
        "quick_decomposition": spec.model_options.get("decomposition", "stl"),
    }


def precision_part() -> dict:
    """The quick Time-LLM's forward pass (no gradients) in fp32 and under bf16 autocast, on the same
    validation batches, through the trainer's own `predict`; and the same with 2 backbone layers."""
    from dataclasses import replace

    import torch

    from core.models.registry import build_model, spec_of
    from core.training.runner import model_options, spec_data
    from core.training.trainer import Trainer, cpu_has_native_bf16
    from core.windows import WindowDataset, make_loader

    spec, dataset = _spec("time_llm", ROOT / "runs")
    data = spec_data(spec, dataset)
    batch = spec.train.batch_size
    windows = WindowDataset(data.splits["val"], spec.seq_len, spec.pred_len, data.output_index)
    subset = torch.utils.data.Subset(windows, range((PRECISION_BATCHES + 1) * batch))
    batches = list(make_loader(subset, batch, shuffle=False))
    quick_layers = spec.model_options["layers"]
    settings = []
    for layers in dict.fromkeys((quick_layers, 2)):
        options = model_options(spec, dataset, data) | {"layers": layers}
        model, config = build_model(
            spec.model, seq_len=spec.seq_len, pred_len=spec.pred_len, n_channels=len(data.columns), **options
        )
        timings = {}
        for precision in ("fp32", "bf16"):
            trainer = Trainer(
                model, replace(spec.train, precision=precision), cpu_autocast=spec_of(spec.model).cpu_autocast
            )
            trainer.predict(batches[:1])  # warm-up
            started = time.perf_counter()
            trainer.predict(batches[1:])
            seconds = time.perf_counter() - started
            timings[precision] = {
                "seconds": seconds,
                "batches": len(batches) - 1,
                "windows_per_s": (len(batches) - 1) * batch / seconds,
            }
        settings.append(
            {
                "layers": config.layers,
                "quick": layers == quick_layers,
                "timings": timings,
                "bf16_over_fp32": timings["bf16"]["seconds"] / timings["fp32"]["seconds"],
            }
        )
    return {
        "model": spec.model,
        "backbone": config.backbone,
        "batch_size": batch,
        "threads": torch.get_num_threads(),
        "cpu_has_native_bf16": cpu_has_native_bf16(),
        "settings": settings,
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_cpu_s() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat: all but idle)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Shares:
    """The CPU the child processes used and what every other process used meanwhile, as shares of
    the machine's cores over the wall time between `__enter__` and `__exit__`."""

    def __enter__(self):
        self.started = time.perf_counter()
        self.children, self.machine = _children_cpu_s(), _machine_cpu_s()
        return self

    def __exit__(self, *_):
        self.seconds = time.perf_counter() - self.started
        cores = os.cpu_count() or 1
        own = _children_cpu_s() - self.children
        others = max(_machine_cpu_s() - self.machine - own, 0.0)
        self.own, self.others = own / (self.seconds * cores), others / (self.seconds * cores)


def in_fresh_process(part: str, *arguments: str) -> dict:
    """Run one `--part` of this script in a new Python process; its JSON answer, with the share of
    the cores other processes took meanwhile."""
    command = [sys.executable, str(Path(__file__).resolve()), "--part", part, *arguments]
    with Shares() as shares:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"others_cpu_share": shares.others}


def quietly(work, limit: float, deadline: float, tries: int, kept: tuple[str, ...]) -> dict:
    """`work()` (a dict with `others_cpu_share`) once the machine is quiet, and again while other
    processes took more than SHARED_AT_MOST of the cores (at most `tries` times in all): the last
    answer, with the wait before it and the `kept` fields of the earlier ones."""
    attempts = []
    for _ in range(tries):
        quiet = wait_for_quiet(limit, deadline)
        attempts.append(work() | {"quiet_before": quiet})
        if attempts[-1]["others_cpu_share"] <= SHARED_AT_MOST or time.perf_counter() >= deadline:
            break
    earlier = [{key: attempt[key] for key in kept} for attempt in attempts[:-1]]
    return attempts[-1] | {"earlier_attempts": earlier}


# ----------------------------------------------------------------------------------------- a run


def windows_used(run_config: dict) -> dict:
    """The training windows a run read per epoch (its strided share, in full batches)."""
    from core.windows import evenly_spaced

    rows = run_config["borders"]  # [train, val, test] starts and ends, the look-back included
    train = run_config["train"]
    available = rows["train"][1] - rows["train"][0] - SEQ_LEN - PRED_LEN + 1
    picked = len(evenly_spaced(available, train["train_windows"]))
    return {
        "train_available": available,
        "train_picked": picked,
        "train_per_epoch": picked // train["batch_size"] * train["batch_size"],
    }


def timed_run(model: str, runs_dir: Path, log: Path, extra: tuple[str, ...] = ()) -> dict:
    """`python -m core train` for `model`'s quick run (with `extra` flags) in a new process, timed
    from outside."""
    from core.runs.store import RunStore

    command = [sys.executable, "-m", "core", *train_arguments(model, runs_dir, extra)]
    load_before = load_average()
    with log.open("w") as errors, Shares() as shares:
        done = subprocess.run(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True, check=False
        )
    process_s = shares.seconds
    load_after = load_average()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed; see {log}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    record = RunStore(runs_dir).get(result["run_id"])
    history = RunStore(runs_dir).load_history(result["run_id"])
    config, test = record.config, result["test"]
    options, train = config["model_config"], config["train"]
    return {
        "model": model,
        "command": "python -m core " + " ".join(train_arguments(model, Path("RUNS"), extra)),
        "process_s": process_s,
        "run_wall_time_s": result["wall_time_s"],
        "epoch_s": [epoch["seconds"] for epoch in history["epochs"]],  # training with its validation
        "cpu_share": shares.own,
        "others_cpu_share": shares.others,
        "load_before": load_before,
        "load_after": load_after,
        "within_target": process_s <= TARGET_S if model in TIMED_TO_TARGET else None,
        "settings": {
            "layers": options.get("layers"),
            "backbone": options.get("backbone"),
            "variant": options.get("variant"),
            "decomposition": options.get("decomposition"),
            "n_prototypes": options.get("n_prototypes"),
            "epochs": train["epochs"],
            "patience": train["patience"],
            "batch_size": train["batch_size"],
            "train_windows": train["train_windows"],
            "lr": train["max_lr"] or train["lr"],
            "schedule": train["schedule"],
        },
        "precision": result["precision"],
        "val_loss": result["val_loss"],
        "epochs_run": result["epochs_run"],
        "best_epoch": result["best_epoch"],
        "windows": windows_used(config) | {"val": test["calibration_windows"], "test": test["windows"]},
        "test": {
            "mse": test["mse"],
            "mae": test["mae"],
            "mase": test["mase"],
            "skill": test["skill"],
            "skill_against": test["skill_against"],
            "coverage_80": test.get("coverage_80"),
            "coverage_95": test.get("coverage_95"),
            "windows_available": test["windows_available"],
        },
        "baselines": {
            name: {"mse": figures["mse"], "mae": figures["mae"]}
            for name, figures in test["baselines"].items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", type=float, default=1.3, help="wait for a one-minute load below this")
    parser.add_argument("--wait", type=float, default=2400.0, help="the longest wait in all, in seconds")
    parser.add_argument(
        "--runs-dir", type=Path, help="where the runs are stored (default: a new temporary one)"
    )
    parser.add_argument("--models", default=",".join(MODELS), help="which quick runs, comma-separated")
    parser.add_argument("--tries", type=int, default=3, help="runs per model while others share the cores")
    parser.add_argument("--no-alternatives", action="store_true", help="skip the settings tried beside")
    parser.add_argument("--part", choices=["estimate", "precision", "decomposition"], help=argparse.SUPPRESS)
    parser.add_argument("model", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "estimate":
        print(json.dumps(estimate_part(args.model)))
        return
    if args.part == "precision":
        print(json.dumps(precision_part()))
        return
    if args.part == "decomposition":
        print(json.dumps(decomposition_part()))
        return

    waiting = (args.load, time.perf_counter() + args.wait, args.tries)  # limit, deadline, tries
    report = {
        "protocol": f"{DATA}'s target, features {FEATURES}, look-back {SEQ_LEN}, horizon {PRED_LEN}, "
        "ETT hour borders, the bundled SmolLM2, budget quick; each run a fresh `python -m core train` "
        "process timed from outside; every validation and test window used",
        "date": today(),
        "machine": machine() | {"cpu_flags": cpu_flags()},
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "data": DATA,
        "features": FEATURES,
        "look_back": SEQ_LEN,
        "horizon": PRED_LEN,
        "target_s": TARGET_S,
        "load_limit": args.load,
        "runs": [],
    }
    if args.runs_dir:
        Path(args.runs_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.runs_dir) as folder:
        runs_dir = Path(folder)
        for model in args.models.split(","):
            estimate = quietly(
                partial(in_fresh_process, "estimate", model), *waiting, ("estimate_s", "others_cpu_share")
            )
            run = quietly(
                partial(timed_run, model, runs_dir / "store", runs_dir / f"{model}.log"),
                *waiting,
                ("process_s", "run_wall_time_s", "cpu_share", "others_cpu_share", "load_before"),
            )
            run["estimate"] = estimate
            run["estimate_over_actual"] = estimate["estimate_s"] / run["run_wall_time_s"]
            report["runs"].append(run)
            print(json.dumps(run), flush=True)
        report["alternatives"] = []
        for number, (model, what, option, batch, windows) in enumerate(
            [] if args.no_alternatives else ALTERNATIVES
        ):
            flags = tuple(alternative_flags(option, batch, windows))
            run = quietly(
                partial(timed_run, model, runs_dir / "store", runs_dir / f"alternative{number}.log", flags),
                *waiting,
                ("process_s", "run_wall_time_s", "cpu_share", "others_cpu_share", "load_before"),
            )
            report["alternatives"].append(run | {"tried": what})
            print(json.dumps(report["alternatives"][-1]), flush=True)
        report["precision"] = quietly(
            lambda: in_fresh_process("precision") | {"load_after": load_average()},
            *waiting,
            ("settings", "others_cpu_share"),
        )
        report["decomposition"] = quietly(
            partial(in_fresh_process, "decomposition"), *waiting, ("seconds", "others_cpu_share")
        )
    report["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(json.dumps(report["precision"]), json.dumps(report["decomposition"]), flush=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


def cpu_flags() -> dict:
    """The CPU's model name and the vector and matrix extensions that decide bf16's speed."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags, name = set(), None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags" and not flags:
            flags = set(value.split())
        if key.strip() == "model name" and name is None:
            name = value.strip()
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return {"model_name": name} | {flag: flag in flags for flag in wanted}


if __name__ == "__main__":
    main()
