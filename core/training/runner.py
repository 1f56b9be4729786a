"""One training run from start to finish, for every model: data, model, loop, test, and the store.

Used by the dashboard (inside a background job) and by `python -m core train` (also under
torchrun). What differs between models is said by their registry entry and done by their
`Forecaster` hooks (see `core.models.contract`): the runner asks, never checks a name. The test
split is scored once, after training, with the best checkpoint read back from the store.
"""

from __future__ import annotations

import os
import random
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import torch

from core import intervals, metrics, verdict
from core.data import ProtocolData, StandardScaler, prepare
from core.dataset import Dataset
from core.decompose import frequency_period
from core.models.contract import Forecaster, ModelSpec, PredictionContext, Predictions
from core.models.registry import build_model, spec_of
from core.runs.result import save_predictions, save_series
from core.runs.spec import RunSpec, default_protocol
from core.runs.store import RunStore
from core.training.jobs import Cancelled, JobContext
from core.training.trainer import EpochInfo, StepInfo, Trainer, TrainingError
from core.windows import make_loader, strided


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _is_rank_zero() -> bool:
    return not _distributed() or torch.distributed.get_rank() == 0


@dataclass
class RunOutcome:
    run_id: str | None
    test_metrics: dict
    val_loss: float
    best_epoch: int
    precision: str
    precision_reason: str
    device: str
    wall_time_s: float  # the whole run: model, training with validation, test
    train_time_s: float  # the training loop with its validation alone
    epochs_run: int


class RunRecorder:
    """What a run records while it trains: its row in the store (none when `store` is None), the loss
    and learning-rate curves, best checkpoints, and progress through the job context (none when
    `context` is None); a failure or cancel is written down before it goes on up."""

    def __init__(self, store: RunStore | None, context: JobContext | None, *, curves_every: int = 20):
        self.store, self.context, self.run_id = store, context, None
        self.curves_every = curves_every
        self.history: list[dict] = []
        self.steps: dict[str, list] = {"loss": [], "lr": [], "loss_scale": []}

    def create(
        self,
        spec: RunSpec,
        dataset: Dataset,
        data: ProtocolData,
        model: Forecaster,
        model_config,
        target: str,
        protocol: str,
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
            "part_names": list(model.part_names),
            "freq": dataset.freq,
            "data_columns": dataset.channels,  # the loaded columns, for a relaunch from the CLI
            "units": {c: dataset.unit(c) for c in data.columns if dataset.unit(c)},  # for the pages
        }
        if self.store is not None:
            self.run_id = self.store.create_run(
                spec.name or f"{spec_of(spec.model).label} on {dataset.name}",
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
        predictions: Predictions,
        test_metrics: dict,
        fit,
        wall,
        ahead: dict[float, np.ndarray],
    ):
        """Store the test predictions, the bands' half-widths for a forecast past the data and the
        series the run saw, then mark the run succeeded."""
        if self.store is None:
            return
        save_predictions(self.store, self.run_id, predictions, data, ahead)
        save_series(self.store, self.run_id, dataset, data)
        self.update(
            status="succeeded",
            finished_at=time.time(),
            val_metrics={"loss": fit.best_val_loss},
            test_metrics=test_metrics,
            best_epoch=fit.best_epoch,
            wall_time_s=wall,
            peak_memory_mb=fit.peak_memory_mb,
        )

    def report(self, **fields) -> None:
        if self.context is not None:
            self.context.report(**fields)

    def check_cancelled(self) -> None:
        if self.context is not None:
            self.context.check_cancelled()

    def save_history(self) -> None:
        if self.store is not None:
            self.store.save_history(self.run_id, {"epochs": self.history, "steps": self.steps})

    def on_step(self, info: StepInfo) -> None:
        for key in self.steps:
            self.steps[key].append(getattr(info, key))
        self.report(**{f"step_{k}": v for k, v in asdict(info).items()})
        if info.step % self.curves_every == 0 or info.step == info.steps_per_epoch:
            self.report(steps=self.steps)  # curves: cheap to copy this often

    def on_epoch(self, info: EpochInfo) -> None:
        self.history.append(asdict(info))
        self.report(epochs=list(self.history))
        self.save_history()  # after every epoch, so a cancelled, failed or killed run keeps its curves

    def on_improvement(self, state: dict[str, torch.Tensor]) -> None:
        if self.store is not None:
            epoch = len(self.history) + 1  # on_epoch has not appended it yet
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
            self.update(status="cancelled", finished_at=time.time(), message="Cancelled by the user.")
            raise
        except Exception as error:
            self.update(
                status="failed",
                finished_at=time.time(),
                message=str(error)
                if isinstance(error, ValueError | TrainingError)
                else f"{type(error).__name__}: {error}",
                traceback=traceback.format_exc(),
            )
            raise


SMALL_MODEL_PARAMS = 250_000  # below this many parameters a CPU trains on one thread


@contextmanager
def cpu_threads(model: torch.nn.Module, device: torch.device):
    """One intra-op thread for a small model on a CPU, the default otherwise, restored after.

    A small model's steps are too short to share between threads: a linear forecaster (ETTh1, target only,
    look-back 336, horizon 24) took 24 s for two epochs on 2 threads of this 2-core machine while
    it was busy, and 2.6 s on one (`torch.nn.Linear(336, 24)` on a batch of 32: 3 ms a call
    against 0.08 ms). Torch's thread count is process-wide; the job manager runs one job per device.
    """
    small = device.type == "cpu" and sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMS
    before = torch.get_num_threads()
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small:
            torch.set_num_threads(before)


def check_features(spec: RunSpec, model: ModelSpec) -> None:
    if model.target_only and spec.features != "S":
        raise ValueError(f"{model.label} forecasts the target series alone: choose features S")
    if model.multivariate and spec.features == "S":
        raise ValueError(f"{model.label} reads the channels together: choose features M or MS")


def spec_data(spec: RunSpec, dataset: Dataset) -> ProtocolData:
    """`dataset` cut and scaled as `spec` trains on it: its target, features, protocol and lengths."""
    return prepare(
        dataset.frame.to_numpy(),
        dataset.channels,
        spec.target or dataset.target,
        spec.features,
        spec.protocol or default_protocol(dataset.name),
        spec.seq_len,
        spec.pred_len,
    )


def model_options(spec: RunSpec, dataset: Dataset, data: ProtocolData) -> dict:
    """The model's options: what its entry reads off the data (the scaler, the description), then
    the run's own options, which win."""
    entry = spec_of(spec.model)
    options = dict(spec.model_options)
    if entry.data_options is not None:
        options = entry.data_options(data, dataset.description) | options
    return options


def run_training(
    spec: RunSpec,
    dataset: Dataset,
    store: RunStore | None,
    context: JobContext | None = None,
    *,
    validate_only: bool = False,
) -> RunOutcome:
    """Train, test and record one run. On rank > 0 under torchrun nothing is written.

    `validate_only` trains and stops at the best validation loss, never reading the test split: a
    try while settings are chosen (it needs `store` None)."""
    if validate_only and store is not None:
        raise ValueError("a validation-only try is not stored: pass no store")
    entry = spec_of(spec.model)
    check_features(spec, entry)
    started = time.perf_counter()
    target = spec.target or dataset.target
    protocol = spec.protocol or default_protocol(dataset.name)
    seed_everything(spec.train.seed)
    data = spec_data(spec, dataset)
    options = model_options(spec, dataset, data)
    recorder = RunRecorder(store if _is_rank_zero() else None, context)
    recorder.report(phase="building the model")
    model, model_config = build_model(
        spec.model, seq_len=spec.seq_len, pred_len=spec.pred_len, n_channels=len(data.columns), **options
    )
    run_id = recorder.create(spec, dataset, data, model, model_config, target, protocol)
    trainable, total = model.parameter_counts()
    recorder.update(started_at=time.time(), trainable_params=trainable, total_params=total, pid=os.getpid())
    with recorder.failures():
        train_set, val_set = model.training_sets(data, spec.seq_len, spec.pred_len)
        train_set = strided(train_set, spec.train.train_windows)  # a budget's share; validation stays whole
        batch = spec.train.batch_size
        seed, distributed = spec.train.seed, _distributed()
        # The last incomplete batch is dropped, unless it is the only one (a short series): then
        # the run trains on that one batch rather than on nothing.
        train_loader = make_loader(
            train_set,
            batch,
            shuffle=True,
            drop_last=len(train_set) >= batch,
            seed=seed,
            distributed=distributed,
        )
        val_loader = make_loader(val_set, batch, shuffle=False, distributed=distributed)
        trainer = Trainer(
            model,
            spec.train,
            cpu_autocast=entry.cpu_autocast,
            on_step=recorder.on_step,
            on_epoch=recorder.on_epoch,
            on_improvement=recorder.on_improvement,
            should_stop=recorder.check_cancelled,
            output_index=data.output_index if spec.features == "MS" else None,
        )
        recorder.update(precision=trainer.precision, device=str(trainer.device))
        recorder.report(
            run_id=run_id,
            phase="training",
            precision=trainer.precision,
            precision_reason=trainer.precision_reason,
            patience=spec.train.patience,  # the time estimate says "at most" only when it can stop early
            validation_batches=len(val_loader),
        )
        with cpu_threads(model, trainer.device):
            fit = trainer.fit(train_loader, val_loader)
            if validate_only:
                return RunOutcome(
                    None,
                    {},
                    fit.best_val_loss,
                    fit.best_epoch,
                    fit.precision,
                    fit.precision_reason,
                    fit.device,
                    time.perf_counter() - started,
                    fit.wall_time_s,
                    fit.epochs_run,
                )
            if recorder.store is not None and store.has_checkpoint(run_id):  # test the checkpoint as stored
                model.load_trainable_state(store.load_checkpoint(run_id))
            recorder.report(phase="testing")
            context = PredictionContext(
                data=data,
                seq_len=spec.seq_len,
                pred_len=spec.pred_len,
                batch_size=batch,
                drop_last_batch=spec.drop_last_batch,
                seed=seed,
                device=trainer.device,
                precision=trainer.precision,
                predict=trainer.predict,
                report=recorder.report,
                check_cancelled=recorder.check_cancelled,
            )
            selected = model.select_on_validation(context)
            if selected and recorder.store is not None:  # the choice lives in the model's buffers
                store.save_checkpoint(run_id, model.trainable_state())
            predictions = model.test_predictions(context)
            predictions.metrics = selected | predictions.metrics
            recorder.report(phase="calibrating the prediction intervals")
            ahead = add_intervals(
                predictions, model.calibration_residuals(context, fit.validation), spec.pred_len
            )
            test_metrics = test_scores(predictions, data, dataset.freq, spec.seq_len, spec.pred_len)
            if predictions.bands:  # conformal (ours) or the model's own (sample quantiles)
                test_metrics["intervals"] = "split conformal, rolled forward" if ahead else "the model's own"
            windows = len(data.splits["val"]) - spec.seq_len - spec.pred_len + 1
            test_metrics["calibration_windows"] = max(int(windows), 0)  # what the ranges could use
    wall = time.perf_counter() - started
    recorder.save_history()
    recorder.succeed(dataset, data, predictions, test_metrics, fit, wall, ahead)
    recorder.report(test_metrics=test_metrics, phase="done")
    return RunOutcome(
        run_id=run_id,
        test_metrics=test_metrics,
        val_loss=fit.best_val_loss,
        best_epoch=fit.best_epoch,
        precision=fit.precision,
        precision_reason=fit.precision_reason,
        device=fit.device,
        wall_time_s=wall,
        train_time_s=fit.wall_time_s,
        epochs_run=fit.epochs_run,
    )


def add_intervals(
    predictions: Predictions, calibration: np.ndarray | None, pred_len: int
) -> dict[float, np.ndarray]:
    """Give test forecasts without bands of their own split-conformal bands at 80 % and 95 %,
    calibrated on the validation windows' residuals and rolled forward (see `core.intervals`).
    Returns the half-widths (H, C) for a forecast past the end of the data; none for a model
    whose forecasts carry bands of their own."""
    if calibration is None or predictions.bands:
        return {}
    levels = intervals.feasible_levels(len(calibration))  # too few windows: no band, not an infinite one
    if not levels:
        return {}
    predictions.bands = intervals.rolling_bands(
        predictions.forecast, predictions.actual, predictions.window_index, calibration, pred_len, levels
    )
    return intervals.latest_half_widths(calibration, predictions.forecast, predictions.actual, levels)


def _baselines(
    predictions: Predictions, data: ProtocolData, seq_len: int, pred_len: int, season: int, scales
) -> dict:
    """Naive, seasonal naive and Naive2 on the run's own test windows (see `core.verdict`), in
    chunks of windows so that wide data never holds every window's look-back at once."""
    x_all, _ = data.windows("test", seq_len, pred_len)  # views
    outputs = data.output_index
    unit_scaler = StandardScaler(data.scaler.mean[outputs], data.scaler.std[outputs])
    found: dict[str, list] = {}
    index = np.asarray(predictions.window_index)
    for first in range(0, len(index), 512):
        chunk = verdict.baseline_forecasts(
            x_all[index[first : first + 512]],
            outputs,
            pred_len,
            season,
            unit_scaler.inverse_transform,
            unit_scaler.transform,
        )
        for name, forecast in chunk.items():
            found.setdefault(name, []).append(forecast)
    forecasts = {name: np.concatenate(parts) for name, parts in found.items()}
    return verdict.score_baselines(forecasts, predictions.actual, predictions.forecast, scales)


def test_scores(
    predictions: Predictions, data: ProtocolData, freq: str | None, seq_len: int, pred_len: int
) -> dict:
    """The run's test metrics (see `score`), over the windows it forecast, with its variants' and
    the model's own figures; the errors in the series' units; the baselines on the same windows
    and the skill against seasonal naive (see `core.verdict`); and the bands' coverage."""
    outputs = data.output_index
    train = data.splits["train"][:, outputs]
    mean, std = data.scaler.mean[outputs], data.scaler.std[outputs]
    result = score(predictions.forecast, predictions.actual, train, freq, mean, std)
    result["windows"] = int(len(predictions.window_index))
    result["windows_available"] = int(len(data.splits["test"]) - seq_len - pred_len + 1)
    unit_scaler = StandardScaler(np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64))
    result["units"] = verdict.units_errors(
        unit_scaler.inverse_transform(predictions.actual.astype(np.float64)),
        unit_scaler.inverse_transform(predictions.forecast.astype(np.float64)),
        [data.columns[i] for i in outputs],
    )
    season = result["season"]
    scales = [metrics.seasonal_naive_scale(train[:, c], season) for c in range(train.shape[1])]
    result["baselines"] = _baselines(predictions, data, seq_len, pred_len, season, scales)
    against = "snaive" if "snaive" in result["baselines"] else "naive"
    base = result["baselines"][against]["mase"]
    result["skill"] = 1 - result["mase"] / base if base > 0 and np.isfinite(base) else None
    result["skill_against"] = against
    for level, band in predictions.bands.items():
        result[f"coverage_{intervals.level_key(level)}"] = intervals.coverage(predictions.actual, band)

    if predictions.variants:
        result["variant_name"] = predictions.name
        result["variants"] = {
            name: score(variant.forecast, predictions.actual, train, freq, mean, std) | variant.metrics
            for name, variant in predictions.variants.items()
        }
    return result | predictions.metrics


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
    error on the scaled training rows (with the frequency's natural season when the training rows
    hold more than one, else 1), averaged over channels (it does not depend on the units).
    """
    result = metrics.point_metrics(actual, forecast)
    scaler = StandardScaler(np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64))
    forecast_units = scaler.inverse_transform(np.asarray(forecast, dtype=np.float64))
    actual_units = scaler.inverse_transform(np.asarray(actual, dtype=np.float64))
    result["mape"] = metrics.mape(actual_units, forecast_units)
    result["smape"] = metrics.smape(actual_units, forecast_units)
    season = metrics.mase_season(frequency_period(freq) or 1, len(train_values))
    scales = [metrics.seasonal_naive_scale(train_values[:, c], season) for c in range(actual.shape[-1])]
    result["mase"] = metrics.channel_mase(actual, forecast, scales)
    result["season"] = season
    return result
