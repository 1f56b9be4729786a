"""`python -m core train`: a run without the dashboard, from a TOML file or flags, under torchrun too.

A TOML file holds the same fields as `RunSpec`, with `[train]` and `[model_options]` tables:

    data = "data/ETTh1.csv"   # a CSV path or a built-in name such as "ETTh1"
    model = "..."             # a registry name (`python -m core train --help` lists them)
    seq_len = 336
    pred_len = 96
    [train]
    epochs = 10
    lr = 0.001
    [model_options]
    d_model = 16

Flags given on the command line override the file; what neither sets comes from the model's
starting settings for the data (the registry's defaults and the model's preset) under the budget
(`--budget quick|standard|paper` or `budget = "quick"`, standard by default), as on the Train page.
So `--budget quick --epochs 2` is the quick run with two epochs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import torch

from core import datasets, ingest
from core.data import FEATURES, PROTOCOLS
from core.dataset import Dataset
from core.models.budget import BUDGETS
from core.models.registry import MODELS
from core.runs.spec import RunSpec, starting_spec, with_changes
from core.runs.store import RunStore
from core.runs.train_config import LOSSES, OPTIMISERS, PRECISIONS, SCHEDULES
from core.training.runner import run_training
from core.training.trainer import resolve_device

_TRAIN_FLAGS = {
    "epochs": int,
    "batch_size": int,
    "lr": float,
    "optimiser": str,
    "schedule": str,
    "patience": int,
    "precision": str,
    "loss": str,
    "seed": int,
    "device": str,
    "grad_clip": float,
    "max_lr": float,
    "pct_start": float,
    "t_max": int,
    "eta_min": float,
    "weight_decay": float,
    "momentum": float,
    "min_delta": float,
    "train_windows": int,
}


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a TOML file with the run's settings")
    parser.add_argument("--data", help="a CSV file or a built-in data set name")
    parser.add_argument("--model", choices=list(MODELS))
    parser.add_argument("--seq-len", type=int)
    parser.add_argument("--pred-len", type=int)
    parser.add_argument("--features", choices=FEATURES)
    parser.add_argument("--protocol", choices=PROTOCOLS, help="default: ett-hour for ETTh*, else ratio")
    parser.add_argument("--target")
    parser.add_argument("--drop-last-batch", type=int, metavar="N")
    parser.add_argument("--name", help="a name for the run")
    parser.add_argument(
        "--budget",
        choices=BUDGETS,
        help="quick, standard (the default) or paper: the starting settings the other flags then change",
    )
    parser.add_argument("--runs-dir", type=Path, help="the run store folder (default: runs/)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="OPTION=VALUE", help="a model option, e.g. d_model=32"
    )
    choices = {"optimiser": OPTIMISERS, "schedule": SCHEDULES, "precision": PRECISIONS, "loss": LOSSES}
    for name, kind in _TRAIN_FLAGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, choices=choices.get(name))
    parser.add_argument("--nesterov", action="store_true", default=None, help="Nesterov momentum (SGD)")


def _parse_value(text: str):
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


@dataclass
class RunRequest:
    """What the TOML file and the flags ask for; the rest comes from the model's starting settings
    for the data (`core.runs.spec.starting_spec`), as on the Train page."""

    data: str
    settings: dict  # RunSpec fields
    train: dict  # TrainConfig fields
    options: dict  # model options
    columns: list[str] | None  # the CSV's channels (`columns = [...]`, written by the dashboard)


def build_request(args: argparse.Namespace) -> RunRequest:
    """The run's settings from the TOML file, overridden by flags, and the data argument; `columns`
    when the file names them (the dashboard's TOML download: the channels it loaded from the CSV,
    so that a target or channel choice made there is read the same way here)."""
    settings: dict = {}
    if args.config is not None:
        settings = tomllib.loads(args.config.read_text())
    train = dict(settings.pop("train", {}))
    options = dict(settings.pop("model_options", {}))
    data = settings.pop("data", None)
    columns = settings.pop("columns", None)
    for key in (
        "data",
        "model",
        "seq_len",
        "pred_len",
        "features",
        "protocol",
        "target",
        "drop_last_batch",
        "name",
        "budget",
    ):
        value = getattr(args, key)
        if value is not None:
            if key == "data":
                data = value
            else:
                settings[key] = value
    for key in [*_TRAIN_FLAGS, "nesterov"]:
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)
    for assignment in args.set:
        key, _, value = assignment.partition("=")
        options[key.strip()] = _parse_value(value.strip())
    if data is None or "model" not in settings:
        raise ValueError("name the data (--data or `data =`) and the model (--model or `model =`)")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
    ):
        raise ValueError('`columns` must be a list of column names, such as columns = ["load", "temp"]')
    return RunRequest(str(data), settings, train, options, columns)


def resolve_spec(request: RunRequest, dataset: Dataset) -> RunSpec:
    """The model's starting settings for this data and machine, with what the request sets."""
    settings = dict(request.settings)
    model = settings.pop("model")
    budget = settings.pop("budget", "standard")
    device = resolve_device(str(request.train.get("device", "auto")))
    start = starting_spec(
        model,
        dataset_name=dataset.name,
        freq=dataset.freq,
        seq_len=settings.get("seq_len", 96),
        pred_len=settings.get("pred_len", 96),
        device_type=device.type,
        budget=budget,
    )
    return with_changes(start, settings, request.train, request.options)


def load_data(data: str, columns: list[str] | None = None, target: str | None = None) -> Dataset:
    """A built-in data set by name, or a CSV file (repaired if needed, with a note on stderr).

    For a CSV, `columns` (with `target` among them) chooses its channels in place of the suggested
    mapping, as the dashboard's Data page did when the run was trained there.
    """
    if data in datasets.BUILT_INS:
        return datasets.load_builtin(data)
    path = Path(data)
    if not path.is_file():
        raise ValueError(
            f"{data!r} is neither a built-in data set ({', '.join(datasets.BUILT_INS)}) nor a CSV file; "
            "give the path of the CSV file"
        )
    dataset, notes = ingest.load_csv_file(path, columns, target)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return dataset


def _init_distributed() -> bool:
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    torch.distributed.init_process_group(backend)
    return True


class _ProgressBar:
    """A progress bar on stderr (tqdm, which the Hugging Face libraries already bring)."""

    def __init__(self, enabled: bool):
        self.bar = None
        self.enabled = enabled

    def report(self, **fields) -> None:
        if not self.enabled or "step_global_step" not in fields:
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=fields["step_total_steps"], file=sys.stderr, unit="step", mininterval=1.0)
        self.bar.set_postfix(epoch=fields["step_epoch"], loss=f"{fields['step_loss']:.4f}", refresh=False)
        self.bar.update(fields["step_global_step"] - self.bar.n)  # redraws at most once a second

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _HeadlessContext:
    """The slice of a job context the runner uses, for a run outside the job manager."""

    def __init__(self, bar: _ProgressBar):
        self.bar = bar

    def report(self, **fields) -> None:
        self.bar.report(**fields)

    def check_cancelled(self) -> None:
        return None


def train_command(args: argparse.Namespace) -> dict | None:
    request = build_request(args)
    dataset = load_data(request.data, request.columns, request.settings.get("target"))
    spec = resolve_spec(request, dataset)
    distributed = _init_distributed()
    rank_zero = not distributed or torch.distributed.get_rank() == 0
    if distributed and torch.cuda.is_available():
        spec.train.device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    store = RunStore(args.runs_dir) if rank_zero else None
    bar = _ProgressBar(enabled=rank_zero)
    try:
        outcome = run_training(spec, dataset, store, _HeadlessContext(bar))
    finally:
        bar.close()
        if distributed:
            torch.distributed.destroy_process_group()
    if not rank_zero:
        return None
    return {
        "run_id": outcome.run_id,
        "model": spec.model,
        "data": dataset.name,
        "test": outcome.test_metrics,
        "val_loss": outcome.val_loss,
        "best_epoch": outcome.best_epoch,
        "epochs_run": outcome.epochs_run,
        "precision": outcome.precision,
        "device": outcome.device,
        "wall_time_s": outcome.wall_time_s,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }
