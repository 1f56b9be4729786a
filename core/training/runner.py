"""One training run from start to finish: data, model, loop, test, and the run store.

Used by the dashboard (inside a background job) and by `python -m core train` (also under
torchrun). The test split is scored once, after training, with the best checkpoint read back
from the store; the forecasts and the scaler are stored so that pages can show them unscaled.
"""

from __future__ import annotations

import os
import random
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from core import metrics
from core.data import ProtocolData, kept_windows, prepare, sliding_windows
from core.decompose import frequency_period
from core.ingest import Dataset
from core.models.registry import MODELS, build_model, config_fields, parameter_counts
from core.training.forecasts import SERIES, series_arrays
from core.training.jobs import Cancelled, JobContext
from core.training.loaders import WindowDataset, make_loader
from core.training.store import RunStore
from core.training.trainer import (
    EpochInfo,
    StepInfo,
    TrainConfig,
    Trainer,
    TrainingError,
    load_trainable_state,
)


@dataclass
class RunSpec:
    """Everything that defines a run; stored as the run's config."""

    model: str
    seq_len: int = 96
    pred_len: int = 96
    features: str = "M"
    protocol: str | None = None  # None: the data set's standard protocol (see default_protocol)
    target: str | None = None  # defaults to the data set's target
    drop_last_batch: int | None = None  # score every test window unless this is set
    model_options: dict = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def default_protocol(dataset_name: str) -> str:
    """The ETT files have fixed borders; every other data set is split 70/10/20."""
    if dataset_name.startswith("ETTh"):
        return "ett-hour"
    if dataset_name.startswith("ETTm"):
        return "ett-minute"
    return "ratio"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _is_rank_zero() -> bool:
    return not (torch.distributed.is_available() and torch.distributed.is_initialized()) or (
        torch.distributed.get_rank() == 0
    )


@dataclass
class RunOutcome:
    run_id: str | None
    test_metrics: dict
    val_loss: float
    best_epoch: int
    precision: str
    precision_reason: str
    device: str
    wall_time_s: float
    epochs_run: int


class RunRecorder:
    """What every runner records while a run trains: its row in the store (none when `store` is
    None), the loss and learning-rate curves, best checkpoints, and progress through the job
    context (none when `context` is None); a failure or cancel is written down before it goes on up."""

    def __init__(
        self,
        store: RunStore | None,
        context: JobContext | None,
        *,
        curves_every: int = 20,
        checkpoint_prefix: str = "",
        phase: str | None = None,
    ):
        self.store, self.context, self.run_id = store, context, None
        self.curves_every, self.checkpoint_prefix, self.phase = curves_every, checkpoint_prefix, phase
        self.history: list[dict] = []
        self.steps: dict[str, list] = {"loss": [], "lr": [], "loss_scale": []}

    def create(
        self, spec: RunSpec, dataset: Dataset, data: ProtocolData, model_config, target: str, protocol: str
    ) -> str | None:
        """Add the run's row. Its config is the spec and what the run resolved from it: the model's
        config, the split, the channels in and out, and what a relaunch needs of the data."""
        config = spec.as_dict() | {
            "model_config": asdict(model_config),
            "target": target,
            "protocol": protocol,
            "borders": data.borders,
            "channels_in": data.columns,
            "channels_out": [data.columns[i] for i in data.output_index],
            "freq": dataset.freq,
            "data_columns": dataset.channels,  # the loaded columns, for a relaunch from the CLI
        }
        if self.store is not None:
            self.run_id = self.store.create_run(
                spec.name or f"{MODELS[spec.model].label} on {dataset.name}",
                spec.model,
                config,
                dataset.name,
                dataset.content_hash(),
                status="running",
            )
        return self.run_id

    def update(self, **fields) -> None:
        if self.store is not None:
            self.store.update(self.run_id, **fields)

    def succeed(
        self,
        dataset: Dataset,
        data: ProtocolData,
        arrays: dict[str, np.ndarray],
        test_metrics: dict,
        fit,
        wall_time_s: float,
    ) -> None:
        """Store the test forecasts and the series the run saw, then mark the run succeeded."""
        if self.store is None:
            return
        self.store.save_arrays(self.run_id, "test", arrays)
        self.store.save_arrays(self.run_id, SERIES, series_arrays(dataset, data))
        self.update(
            status="succeeded",
            finished_at=_now(),
            val_metrics={"loss": fit.best_val_loss},
            test_metrics=test_metrics,
            best_epoch=fit.best_epoch,
            wall_time_s=wall_time_s,
            peak_memory_mb=fit.peak_memory_mb,
        )

    def report(self, **fields) -> None:
        if self.context is not None:
            self.context.report(**fields)

    def save_history(self) -> None:
        if self.store is not None:
            self.store.save_history(self.run_id, {"epochs": self.history, "steps": self.steps})

    def on_step(self, info: StepInfo) -> None:
        for key in self.steps:
            self.steps[key].append(getattr(info, key))
        phase = {} if self.phase is None else {"phase": self.phase}
        self.report(**phase, **{f"step_{k}": v for k, v in asdict(info).items()})
        if info.step % self.curves_every == 0 or info.step == info.steps_per_epoch:
            self.report(steps=self.steps)  # curves: cheap to copy this often

    def on_epoch(self, info: EpochInfo) -> None:
        self.history.append(asdict(info))
        self.report(epochs=list(self.history))
        self.save_history()  # after every epoch, so a cancelled, failed or killed run keeps its curves

    def on_improvement(self, state: dict[str, torch.Tensor]) -> None:
        if self.store is not None:  # keys as the whole model names them, for rebuild_model
            epoch = len(self.history) + 1  # on_epoch has not appended it yet
            state = {self.checkpoint_prefix + k: v for k, v in state.items()}
            try:
                self.store.save_checkpoint(self.run_id, state)
            except OSError as error:  # a full disk or a read-only folder: say so, not "OSError: [Errno 28]"
                folder = self.store.root / self.run_id
                raise TrainingError(
                    f"The checkpoint of epoch {epoch} could not be written to {folder} "
                    f"({error.strerror or error}); the run's earlier checkpoint, if any, is kept. Free some "
                    "disk space or make the runs folder writable, then train again."
                ) from error
            self.update(best_epoch=epoch)

    @contextmanager
    def failures(self):
        """Mark the run cancelled or failed (with a plain message and the traceback), then re-raise."""
        try:
            yield
        except Cancelled:
            self.update(status="cancelled", finished_at=_now(), message="Cancelled by the user.")
            raise
        except Exception as error:
            self.update(
                status="failed",
                finished_at=_now(),
                message=str(error)
                if isinstance(error, ValueError | TrainingError)
                else f"{type(error).__name__}: {error}",
                traceback=traceback.format_exc(),
            )
            raise


def run_training(
    spec: RunSpec,
    dataset: Dataset,
    store: RunStore | None,
    context: JobContext | None = None,
) -> RunOutcome:
    """Train, test and record one run. On rank > 0 under torchrun nothing is written."""
    if spec.model == "proxy_tuned":  # an expert language model and decoding, not a window forecaster
        from core.proxy.runner import run_proxy

        return run_proxy(spec, dataset, store if _is_rank_zero() else None, context)
    writes = store is not None and _is_rank_zero()
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    target = spec.target or dataset.target
    protocol = spec.protocol or default_protocol(dataset.name)
    seed_everything(spec.train.seed)
    data = prepare(dataset.frame.to_numpy(), dataset.channels, target, spec.features, protocol, spec.seq_len)
    options = dict(spec.model_options)
    if "input_mean" in config_fields(spec.model):  # models that describe the raw series (Time-LLM)
        options.update(input_mean=data.scaler.mean.tolist(), input_std=data.scaler.std.tolist())
        options.setdefault("description", dataset.description)
    model, model_config = build_model(
        spec.model, seq_len=spec.seq_len, pred_len=spec.pred_len, n_channels=len(data.columns), **options
    )
    train_set, val_set, test_set = (
        WindowDataset(data.splits[name], spec.seq_len, spec.pred_len, data.output_index)
        for name in ("train", "val", "test")
    )
    batch = spec.train.batch_size
    loaders = {
        "train": make_loader(
            train_set, batch, shuffle=True, drop_last=True, seed=spec.train.seed, distributed=distributed
        ),
        "val": make_loader(val_set, batch, shuffle=False, distributed=distributed),
    }
    trainable, total = parameter_counts(model)
    recorder = RunRecorder(store if writes else None, context)
    run_id = recorder.create(spec, dataset, data, model_config, target, protocol)
    recorder.update(started_at=_now(), trainable_params=trainable, total_params=total)
    with recorder.failures():
        trainer = Trainer(
            model,
            spec.train,
            on_step=recorder.on_step,
            on_epoch=recorder.on_epoch,
            on_improvement=recorder.on_improvement,
            should_stop=context.check_cancelled if context is not None else None,
            output_index=data.output_index if spec.features == "MS" else None,
        )
        recorder.update(precision=trainer.precision, device=str(trainer.device), pid=os.getpid())
        recorder.report(run_id=run_id, precision=trainer.precision, precision_reason=trainer.precision_reason)
        fit = trainer.fit(loaders["train"], loaders["val"])
        if writes and store.has_checkpoint(run_id):  # test with the checkpoint as stored
            load_trainable_state(model, store.load_checkpoint(run_id))
        n_test = kept_windows(len(test_set), spec.drop_last_batch)
        test_loader = make_loader(torch.utils.data.Subset(test_set, range(n_test)), batch, shuffle=False)
        extras = {}
        if hasattr(model, "last_parts"):  # TEMPO: keep each part's forecast for the Forecast page
            model.count_prompt_picks()  # over the test windows only
            forecast, actual, parts = trainer.predict(test_loader, keep=lambda: model.last_parts)
            if spec.features == "MS":
                parts = parts[..., data.output_index]
            extras["parts"] = parts.numpy()
            if getattr(model, "prompt_counts", None) is not None:
                extras["prompt_counts"] = model.prompt_counts.cpu().numpy()
        else:
            forecast, actual = trainer.predict(test_loader)
        test_metrics = score(
            forecast.numpy(),
            actual.numpy(),
            data.splits["train"][:, data.output_index],
            dataset.freq,
            data.scaler.mean[data.output_index],
            data.scaler.std[data.output_index],
        )
        test_metrics["windows"] = int(n_test)
    recorder.save_history()
    recorder.succeed(
        dataset,
        data,
        {
            "forecast": forecast.numpy(),
            "actual": actual.numpy(),
            "scaler_mean": np.asarray(data.scaler.mean)[data.output_index],
            "scaler_std": np.asarray(data.scaler.std)[data.output_index],
            "inputs": data.splits["test"].astype(np.float32),  # (rows, C): windows rebuild from it
        }
        | extras,
        test_metrics,
        fit,
        fit.wall_time_s,
    )
    recorder.report(test_metrics=test_metrics)
    return RunOutcome(
        run_id=run_id,
        test_metrics=test_metrics,
        val_loss=fit.best_val_loss,
        best_epoch=fit.best_epoch,
        precision=fit.precision,
        precision_reason=fit.precision_reason,
        device=fit.device,
        wall_time_s=fit.wall_time_s,
        epochs_run=fit.epochs_run,
    )


def score(
    forecast: np.ndarray,
    actual: np.ndarray,
    train_values: np.ndarray,
    freq: str | None,
    mean: np.ndarray,
    std: np.ndarray,
) -> dict:
    """Test metrics of scaled forecasts (N, H, C), each in the convention of its field.

    MSE, MAE and RMSE on the scaled values, as the published long-term tables use; MAPE and sMAPE
    in percent of the series' own units (`mean` and `std` are the output channels' scaler: a
    percentage of a standardised value means nothing); MASE per channel against the seasonal naive
    error on the scaled training rows (with the frequency's natural season, else 1), averaged over
    channels (it does not depend on the units).
    """
    result = metrics.point_metrics(actual, forecast)
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    forecast_units = np.asarray(forecast, dtype=np.float64) * std + mean
    actual_units = np.asarray(actual, dtype=np.float64) * std + mean
    result["mape"] = metrics.mape(actual_units, forecast_units)
    result["smape"] = metrics.smape(actual_units, forecast_units)
    season = frequency_period(freq) or 1
    scales = [metrics.seasonal_naive_scale(train_values[:, c], season) for c in range(actual.shape[-1])]
    result["mase"] = metrics.channel_mase(actual, forecast, scales)
    result["season"] = season
    return result


def _now() -> float:
    return time.time()


def rebuild_model(store: RunStore, run_id: str) -> nn.Module:
    """A stored run's model with its best checkpoint, in eval mode, for explanations and forecasts."""
    run = store.get(run_id)
    options = dict(run.config["model_config"])
    shape = {key: options.pop(key) for key in ("seq_len", "pred_len", "n_channels")}
    for key in MODELS[run.model].fixed:
        options.pop(key, None)
    model, _ = build_model(run.model, **shape, **options)
    load_trainable_state(model, store.load_checkpoint(run_id))
    return model.eval()


def stored_test_windows(store: RunStore, run_id: str) -> np.ndarray:
    """The scaled test inputs of a stored run, one look-back window per forecast: (N, L, C)."""
    run = store.get(run_id)
    inputs = store.load_arrays(run_id, "test")["inputs"]
    seq_len, pred_len = run.config["seq_len"], run.config["pred_len"]
    x, _ = sliding_windows(inputs, seq_len, pred_len)
    return x
