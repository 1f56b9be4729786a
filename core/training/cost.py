"""What a run will take before it starts: a measured cost model, per model, backbone, shape and device.

A probe builds the model as the run would (its options, look-back, horizon, channels, batch,
precision, device and CPU threads) and times a few training steps and a few batches of forecasts
without gradients, on the data's own training windows. Its three figures (seconds to build the
model, per training window and per forecast window) are kept per key in memory and in a JSON file
beside the model cache (`core.lm.cache.cache_root`'s parent), so the probe runs once per machine and
shape. An estimate then counts the run's own work:

    build + epochs × (training windows × time per training window + validation windows × time per
    forecast window) + (validation windows, again for the prediction intervals, + test windows) ×
    time per forecast window

With patience shorter than the epochs, early stopping may end a run sooner: the figure is then an
upper bound. Models whose test forecasts are sampled token by token (proxy-tuned decoding) cost far
more to test than a forward pass shows; they say so (`Forecaster.decodes`) and get no estimate here.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from core.data import kept_windows
from core.dataset import Dataset
from core.runs.spec import RunSpec
from core.windows import WindowDataset, make_loader, strided

PROBE_STEPS = 4  # training steps timed (after one that warms up)
PROBE_BATCHES = 2  # forecast batches timed (after one that warms up)
COST_FILE = "run_costs.json"
_memory: dict[str, Cost] = {}


@dataclass(frozen=True)
class Cost:
    """Measured seconds: to build the model, per training window, per forecast window."""

    build_s: float
    train_s: float
    forecast_s: float
    measured_at: float  # time.time() of the probe


@dataclass(frozen=True)
class Workload:
    """How many windows a run passes through the model, and how often."""

    epochs: int
    patience: int
    train_windows: int  # per epoch, in full batches
    val_windows: int
    test_windows: int


@dataclass(frozen=True)
class Estimate:
    seconds: float  # every epoch run
    upper_bound: bool  # early stopping may end the run sooner


def _threads() -> int:
    return torch.get_num_threads()


def cost_key(spec: RunSpec, n_channels: int, device: torch.device, precision: str, options: dict) -> str:
    """What a probe's figures depend on: the model and its shape-setting options, the windows' shape,
    the batch, precision, device and CPU threads (not the data's values or the prompt's words)."""
    shape = {
        key: value
        for key, value in sorted(options.items())
        if not isinstance(value, list | str) or key in ("backbone", "variant", "decomposition", "prompt")
    }
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu x{_threads()}"
    record = {
        "model": spec.model,
        "options": shape,
        "seq_len": spec.seq_len,
        "pred_len": spec.pred_len,
        "channels": n_channels,
        "batch": spec.train.batch_size,
        "precision": precision,
        "device": name,
        "torch": torch.__version__,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:24]


def cost_file() -> Path:
    from core.lm.cache import cache_root

    return cache_root().parent / COST_FILE


def _read_costs(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # no file yet, or a damaged one: measure again


def _write_costs(path: Path, costs: dict) -> None:
    """Atomically (a temporary file renamed into place); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".costs-", suffix=".json")
        with os.fdopen(handle, "w") as file:
            json.dump(costs, file, indent=1)
        os.replace(temporary, path)
    except OSError:
        pass


def known_cost(key: str) -> Cost | None:
    """A cached probe for `key`, from memory or the cost file."""
    if key not in _memory:
        stored = _read_costs(cost_file()).get(key)
        if stored is None:
            return None
        try:
            _memory[key] = Cost(**stored)
        except TypeError:
            return None
    return _memory[key]


def remember(key: str, cost: Cost) -> None:
    _memory[key] = cost
    path = cost_file()
    costs = _read_costs(path)
    costs[key] = asdict(cost)
    _write_costs(path, costs)


@dataclass
class Plan:
    """A run's key, workload and (once known) cost, for one spec on one data set."""

    key: str
    workload: Workload | None  # None: the model decodes its forecasts (no estimate)
    cost: Cost | None

    def estimate(self) -> Estimate | None:
        if self.workload is None or self.cost is None:
            return None
        return estimate(self.workload, self.cost)


def _setup(spec: RunSpec, dataset: Dataset):
    from core.models.registry import spec_of
    from core.training.runner import model_options, spec_data
    from core.training.trainer import resolve_device, resolve_precision

    entry = spec_of(spec.model)
    data = spec_data(spec, dataset)
    options = model_options(spec, dataset, data)
    device = resolve_device(spec.train.device)
    precision, _ = resolve_precision(spec.train.precision, device, entry.cpu_autocast)
    return entry, data, options, device, precision


def _complete(spec: RunSpec, data, options: dict) -> dict:
    """Every field of the model's config, defaults included, so that a spec naming an option at its
    default value and one leaving it out share a key (and a probe)."""
    from dataclasses import asdict

    from core.models.registry import build_config

    config = build_config(
        spec.model, seq_len=spec.seq_len, pred_len=spec.pred_len, n_channels=len(data.columns), **options
    )
    return asdict(config)


def plan(spec: RunSpec, dataset: Dataset) -> Plan:
    """The run's workload from the data's splits (no model is built) and its cost if it was probed."""
    entry, data, options, device, precision = _setup(spec, dataset)
    key = cost_key(spec, len(data.columns), device, precision, _complete(spec, data, options))
    if entry.model_class.decodes:
        return Plan(key, None, None)
    windows = {
        name: max(len(data.splits[name]) - spec.seq_len - spec.pred_len + 1, 0)
        for name in ("train", "val", "test")
    }
    train = (
        windows["train"]
        if spec.train.train_windows is None
        else min(windows["train"], spec.train.train_windows)
    )
    batch = spec.train.batch_size
    workload = Workload(
        epochs=spec.train.epochs,
        patience=spec.train.patience,
        train_windows=(train // batch) * batch or train,  # the loader drops a last incomplete batch
        val_windows=windows["val"],
        test_windows=kept_windows(windows["test"], spec.drop_last_batch) if windows["test"] else 0,
    )
    return Plan(key, workload, known_cost(key))


def estimate(workload: Workload, cost: Cost) -> Estimate:
    per_epoch = workload.train_windows * cost.train_s + workload.val_windows * cost.forecast_s
    # The bands are calibrated on the best epoch's validation forecasts, which the trainer keeps
    # (`FitResult.validation`), so after training only the test windows are forecast.
    testing = workload.test_windows * cost.forecast_s
    seconds = cost.build_s + workload.epochs * per_epoch + testing
    return Estimate(seconds, upper_bound=workload.patience < workload.epochs)


def probe(spec: RunSpec, dataset: Dataset, *, steps: int = PROBE_STEPS, report=None) -> Cost:
    """Measure the cost of `spec`'s run on `dataset` (a few steps; nothing is stored but the figures)
    and remember it under the plan's key. `report(text)` hears what is being measured."""
    from core.models.registry import build_model
    from core.training.runner import cpu_threads
    from core.training.trainer import Trainer

    say = report or (lambda text: None)
    started = time.perf_counter()
    entry, data, options, device, precision = _setup(spec, dataset)
    key = cost_key(spec, len(data.columns), device, precision, _complete(spec, data, options))
    say("building the model")
    model, _ = build_model(
        spec.model, seq_len=spec.seq_len, pred_len=spec.pred_len, n_channels=len(data.columns), **options
    )
    batch = spec.train.batch_size
    train_set, val_set = model.training_sets(data, spec.seq_len, spec.pred_len)
    train_set = strided(train_set, spec.train.train_windows)
    # A constant rate: the schedule does not change a step's time, and one-cycle over a probe's few
    # steps would have a warm-up of no whole step.
    probe_train = replace(spec.train, epochs=1, precision=precision, schedule="constant")
    trainer = Trainer(model, probe_train, cpu_autocast=entry.cpu_autocast)
    build_s = time.perf_counter() - started
    marks: list[float] = []
    with cpu_threads(model, trainer.device):
        say(f"timing {steps} training steps")
        count = min(len(train_set), (steps + 1) * batch)
        subset = torch.utils.data.Subset(train_set, range(count))
        train_loader = make_loader(subset, batch, shuffle=False, drop_last=count >= batch)
        trainer.on_step = lambda info: marks.append(time.perf_counter())
        first = time.perf_counter()
        trainer.fit(train_loader, make_loader(torch.utils.data.Subset(val_set, range(1)), 1, shuffle=False))
        if len(marks) >= 2:
            train_s = statistics.median(b - a for a, b in zip(marks, marks[1:], strict=False)) / batch
        else:
            train_s = (marks[0] - first) / max(len(subset), 1) if marks else 0.0
        say("timing forecasts")
        val = WindowDataset(data.splits["val"], spec.seq_len, spec.pred_len, data.output_index)
        windows = min(len(val), (PROBE_BATCHES + 1) * batch)
        loader = make_loader(torch.utils.data.Subset(val, range(windows)), batch, shuffle=False)
        batches = iter(loader)
        warm = next(batches)
        trainer.predict([warm])
        timed = list(batches)
        tick = time.perf_counter()
        trainer.predict(timed) if timed else None
        timed_windows = sum(len(x) for x, _ in timed)
        forecast_s = (time.perf_counter() - tick) / timed_windows if timed_windows else train_s / 3
    cost = Cost(build_s=build_s, train_s=train_s, forecast_s=forecast_s, measured_at=time.time())
    remember(key, cost)
    return cost
