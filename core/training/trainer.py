"""One training loop for every trainable forecaster.

- Precision: fp32, bf16 (autocast, no scaler) or fp16 (autocast and dynamic loss scaling with
  `torch.amp.GradScaler`: the loss is scaled, gradients are unscaled before clipping, a step whose
  gradients overflowed is skipped and the scale lowered). `auto` picks what the hardware runs best.
  Trainable weights and optimiser state stay fp32 (the master weights); outputs are cast to fp32
  before the loss.
- Optimisers SGD (momentum, Nesterov), RMSprop, Adam and AdamW over trainable parameters only.
- Schedules: constant, cosine annealing (stepped per epoch), one-cycle (stepped after every batch).
  The learning rate used at each step is recorded.
- Early stopping on the validation loss; the best weights are kept (and saved through a callback
  on each improvement) and reloaded at the end. The test split never enters this loop.
- Callbacks per step and per epoch, and a cancellation check between steps.
- DistributedDataParallel when `torch.distributed` is initialised (see `core.training.distributed`).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from core.models.contract import Forecaster, ForecastOutput, load_trainable_state, trainable_state
from core.runs.train_config import TrainConfig


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why in plain words."""


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError("CUDA was asked for but no GPU is available; choose the CPU")
    return device


# On the 2-core development CPU (avx512_bf16 and AMX), bf16 autocast made small forecasters'
# training steps slower than fp32 (bench/results/cpu_precision.json), so `auto` keeps fp32 there.
CPU_AUTO_PRECISION = "fp32"


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (AVX-512 BF16 or AMX). Without it, bf16 autocast is
    emulated: on a 2-core AVX2 CPU a frozen SmolLM2 pass under it ran at a small fraction of fp32's
    speed, where an AVX-512 BF16/AMX CPU ran it about 1.4x faster (bench/results/time_llm_speed.json)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def resolve_precision(
    precision: str, device: torch.device, cpu_preference: str | None = None
) -> tuple[str, str]:
    """The precision to train in, and a sentence saying why, for the user.

    `cpu_preference` is a model's own measured choice for `auto` on a CPU (its registry entry's
    `cpu_autocast`: bf16 where a frozen language model runs faster under bf16 autocast, while small
    forecasters run slower).
    """
    if device.type == "cuda":
        bf16_ok = torch.cuda.is_bf16_supported()
        if precision == "auto":
            if bf16_ok:
                return "bf16", "bf16: this GPU runs it natively; no loss scaling needed"
            return "fp16", "fp16 with dynamic loss scaling: this GPU has no native bf16"
        if precision == "bf16" and not bf16_ok:
            raise TrainingError("this GPU does not support bf16; choose fp16 or fp32")
        return precision, f"{precision}: chosen by the user"
    if precision == "auto":
        if cpu_preference == "bf16" and not cpu_has_native_bf16():
            return "fp32", (
                "fp32: this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 would be emulated, many "
                "times slower than fp32"
            )
        if cpu_preference is not None:
            return cpu_preference, f"{cpu_preference}: measured fastest for this model on the CPU"
        return CPU_AUTO_PRECISION, f"{CPU_AUTO_PRECISION}: measured fastest for these models on this CPU"
    return precision, f"{precision}: chosen by the user"


def loss_function(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name == "mse":
        return F.mse_loss
    if name == "mae":
        return F.l1_loss

    def smape(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        denominator = (prediction.abs() + target.abs()).clamp_min(1e-8)
        return (200.0 * (prediction - target).abs() / denominator).mean()

    return smape


def build_optimiser(parameters, config: TrainConfig) -> torch.optim.Optimizer:
    parameters = [p for p in parameters if p.requires_grad]
    if not parameters:
        raise TrainingError("the model has no trainable parameters")
    if config.optimiser == "sgd":
        return torch.optim.SGD(
            parameters,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    if config.optimiser == "rmsprop":
        return torch.optim.RMSprop(
            parameters, lr=config.lr, alpha=config.rmsprop_alpha, weight_decay=config.weight_decay
        )
    if config.optimiser == "adam":
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)


def build_schedule(optimiser, config: TrainConfig, steps_per_epoch: int):
    """The scheduler and whether it steps after every batch (True) or every epoch (False)."""
    if config.schedule == "cosine":
        t_max = config.t_max or config.epochs
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimiser, T_max=t_max, eta_min=config.eta_min
        ), False
    if config.schedule == "onecycle":
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimiser,
            max_lr=config.max_lr or config.lr,
            total_steps=config.epochs * steps_per_epoch,
            pct_start=config.pct_start,
        )
        return schedule, True
    return None, False


class EarlyStopping:
    """Stop when the validation loss has not improved by more than `min_delta` for `patience` epochs."""

    def __init__(self, patience: int, min_delta: float = 0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.counter = 0
        self.early_stop = False

    def update(self, val_loss: float) -> bool:
        """Record one epoch's validation loss; True when it is a new best."""
        if val_loss < self.best - self.min_delta:
            self.best = val_loss
            self.counter = 0
            return True
        self.counter += 1
        if self.counter >= self.patience:
            self.early_stop = True
        return False


@dataclass
class StepInfo:
    epoch: int
    step: int  # within the epoch, from 1
    steps_per_epoch: int
    global_step: int
    total_steps: int
    loss: float
    lr: float
    loss_scale: float | None  # fp16 only
    skipped: bool  # fp16: the step was skipped because gradients overflowed
    samples_per_s: float


@dataclass
class EpochInfo:
    epoch: int
    train_loss: float
    val_loss: float
    best_val_loss: float
    improved: bool
    counter: int  # early-stopping counter after this epoch
    lr: float
    seconds: float


@dataclass
class FitResult:
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    stopped_early: bool
    precision: str
    precision_reason: str
    device: str
    wall_time_s: float
    skipped_steps: int
    peak_memory_mb: float | None  # GPU: peak allocated; CPU: the process's peak resident set
    history: dict = field(default_factory=dict)
    # The best epoch's validation forecasts and actuals (N, H, C) in fp32, in window order, kept
    # so that the prediction intervals are calibrated without forecasting the validation split again
    # (None under DDP, where each process sees a shard, or when they would take too much memory).
    validation: tuple[torch.Tensor, torch.Tensor] | None = field(default=None, repr=False)


KEPT_VALIDATION_VALUES = 25_000_000  # forecasts and actuals kept up to this many values each (100 MB)


def _process_peak_mb() -> float | None:
    """The process's peak resident memory on the CPU (Linux reports kilobytes), for the run store."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fits(loader, most: int) -> bool:
    """Whether the forecasts of every window of `loader` hold at most `most` values (from the shape
    of its first target: windows × horizon × channels)."""
    dataset = getattr(loader, "dataset", None)
    if dataset is None:
        return False
    try:
        _, y = dataset[0]
    except (IndexError, TypeError, ValueError):
        return False
    return len(dataset) * int(torch.as_tensor(y).numel()) <= most


class Trainer:
    """Trains a forecaster on (x, y) batches; see the module docstring for what it guarantees.

    The model's contract decides the losses (`training_loss`, `validation_loss`); `cpu_autocast` is
    its registry entry's choice for `auto` precision on a CPU.
    """

    def __init__(
        self,
        model: Forecaster,
        config: TrainConfig,
        *,
        cpu_autocast: str | None = None,
        on_step: Callable[[StepInfo], None] | None = None,
        on_epoch: Callable[[EpochInfo], None] | None = None,
        on_improvement: Callable[[dict[str, torch.Tensor]], None] | None = None,
        should_stop: Callable[[], None] | None = None,
        output_index: list[int] | None = None,
    ):
        self.config = config
        self.device = resolve_device(config.device)
        self.precision, self.precision_reason = resolve_precision(config.precision, self.device, cpu_autocast)
        self.model = model.to(self.device)
        self.on_step = on_step
        self.on_epoch = on_epoch
        self.on_improvement = on_improvement
        self.should_stop = should_stop  # raises (for example jobs.Cancelled) to stop between steps
        # Under features MS the model forecasts every channel and only the target is scored.
        self.output_index = (
            None if output_index is None else torch.as_tensor(output_index, device=self.device)
        )
        # The configured loss; the model's `training_loss` adds terms of its own (or, for a language
        # model on text, uses its own objective), and validation scores the forecast alone.
        self.loss_fn = loss_function(config.loss)
        self.distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        self.network = self.model
        if self.distributed:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = nn.parallel.DistributedDataParallel(self.model, device_ids=device_ids)

    def autocast(self):
        if self.precision == "fp32":
            return nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _forward(self, network: nn.Module, x: torch.Tensor) -> ForecastOutput:
        with self.autocast():
            output = network(x.to(self.device, non_blocking=True))
        output.forecast = output.forecast.float()  # the loss is computed in fp32
        if self.output_index is not None:
            output = output.select(self.output_index)
        return output

    def _all_reduce_mean(self, total: float, count: int) -> float:
        if not self.distributed:
            return total / max(count, 1)
        tensor = torch.tensor([total, count], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(tensor)
        return float(tensor[0] / tensor[1].clamp_min(1))

    @torch.no_grad()
    def evaluate_loss(self, loader, kept: list | None = None) -> float:
        """The mean validation loss over `loader`; with `kept` (a list), each batch's forecast and
        actual values are appended to it, on the CPU in fp32."""
        self.model.eval()
        total, count = 0.0, 0
        for x, y in loader:
            output = self._forward(self.model, x)
            target = y.to(self.device).float()
            total += float(self.model.validation_loss(output, target, self.loss_fn)) * len(x)
            count += len(x)
            if kept is not None and output.forecast.shape == y.shape:  # not a language model's logits
                kept.append((output.forecast.detach().float().cpu(), y.float()))
        return self._all_reduce_mean(total, count)

    @torch.no_grad()
    def predict(self, loader) -> tuple[ForecastOutput, torch.Tensor]:
        """The outputs (forecasts, with parts and picks when the model has them) and actuals of every
        batch, in fp32 on the CPU: forecasts and actuals (N, H, C) each."""
        self.model.eval()
        outputs, actuals = [], []
        for x, y in loader:
            outputs.append(self._forward(self.model, x).detached())
            actuals.append(y.float())
        return ForecastOutput.concatenate(outputs), torch.cat(actuals)

    def fit(self, train_loader, val_loader) -> FitResult:
        config, device = self.config, self.device
        torch.manual_seed(config.seed)
        optimiser = build_optimiser(self.model.parameters(), config)
        steps_per_epoch = len(train_loader)
        if steps_per_epoch == 0:
            raise TrainingError("the training split holds no full batch; lower the batch size")
        schedule, per_batch = build_schedule(optimiser, config, steps_per_epoch)
        scaler = torch.amp.GradScaler(device.type, enabled=self.precision == "fp16")
        stopper = EarlyStopping(config.patience, config.min_delta)
        best_state = trainable_state(self.model)
        best_validation = None
        keep = not self.distributed and _fits(val_loader, KEPT_VALIDATION_VALUES)
        best_epoch, skipped_total, non_finite_run = 0, 0, 0
        history = {"step": {"loss": [], "lr": [], "loss_scale": []}, "epoch": []}
        total_steps = config.epochs * steps_per_epoch
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        started = time.perf_counter()
        epoch = 0
        for epoch in range(1, config.epochs + 1):
            if hasattr(train_loader, "sampler") and hasattr(train_loader.sampler, "set_epoch"):
                train_loader.sampler.set_epoch(epoch)
            self.model.train()
            epoch_started = time.perf_counter()
            epoch_loss, epoch_count = 0.0, 0
            for step, (x, y) in enumerate(train_loader, start=1):
                if self.should_stop is not None:
                    self.should_stop()
                step_started = time.perf_counter()
                lr = optimiser.param_groups[0]["lr"]  # the rate this step uses
                output = self._forward(self.network, x)
                target = y.to(device, non_blocking=True).float()
                loss = self.model.training_loss(output, target, self.loss_fn)
                if not torch.isfinite(loss):
                    non_finite_run += 1
                    if self.precision != "fp16" or non_finite_run > 10:
                        advice = "Lower the learning rate or enable gradient clipping"
                        advice += "." if self.precision == "fp32" else ", or train in fp32."
                        raise TrainingError(
                            f"the loss became {float(loss.detach())} at epoch {epoch}, step {step}: "
                            f"training diverged. {advice}"
                        )
                else:
                    non_finite_run = 0
                scale_before = scaler.get_scale() if scaler.is_enabled() else None
                scaler.scale(loss).backward()
                if config.grad_clip is not None:
                    scaler.unscale_(optimiser)  # clip the true gradients, not the scaled ones
                    nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
                scaler.step(optimiser)  # skipped when the unscaled gradients hold inf or NaN
                scaler.update()
                optimiser.zero_grad(set_to_none=True)
                scale = scaler.get_scale() if scaler.is_enabled() else None
                skipped = scale is not None and scale < scale_before
                skipped_total += skipped
                if schedule is not None and per_batch:
                    schedule.step()
                loss_value = float(loss.detach())
                if math.isfinite(loss_value):
                    epoch_loss += loss_value * len(x)
                    epoch_count += len(x)
                history["step"]["loss"].append(loss_value)
                history["step"]["lr"].append(lr)
                history["step"]["loss_scale"].append(scale)
                if self.on_step is not None:
                    self.on_step(
                        StepInfo(
                            epoch=epoch,
                            step=step,
                            steps_per_epoch=steps_per_epoch,
                            global_step=(epoch - 1) * steps_per_epoch + step,
                            total_steps=total_steps,
                            loss=loss_value,
                            lr=lr,
                            loss_scale=scale,
                            skipped=skipped,
                            samples_per_s=len(x) / max(time.perf_counter() - step_started, 1e-9),
                        )
                    )
            train_loss = self._all_reduce_mean(epoch_loss, epoch_count)
            kept = [] if keep else None
            val_loss = self.evaluate_loss(val_loader, kept)
            if not math.isfinite(val_loss):
                raise TrainingError(
                    f"the validation loss became {val_loss} after epoch {epoch}: the model diverged. "
                    "Lower the learning rate or enable gradient clipping."
                )
            improved = stopper.update(val_loss)
            if improved:
                best_epoch = epoch
                best_state = trainable_state(self.model)
                if kept and sum(len(f) for f, _ in kept) == len(val_loader.dataset):
                    best_validation = (torch.cat([f for f, _ in kept]), torch.cat([a for _, a in kept]))
                if self.on_improvement is not None:
                    self.on_improvement(best_state)
            epoch_lr = optimiser.param_groups[0]["lr"]
            if schedule is not None and not per_batch:
                schedule.step()
            info = EpochInfo(
                epoch=epoch,
                train_loss=train_loss,
                val_loss=val_loss,
                best_val_loss=stopper.best,
                improved=improved,
                counter=stopper.counter,
                lr=epoch_lr,
                seconds=time.perf_counter() - epoch_started,
            )
            history["epoch"].append(asdict(info))
            if self.on_epoch is not None:
                self.on_epoch(info)
            if stopper.early_stop:
                break
        load_trainable_state(self.model, best_state)  # the best weights, for the test
        peak = (
            torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else _process_peak_mb()
        )
        return FitResult(
            best_epoch=best_epoch,
            best_val_loss=stopper.best,
            epochs_run=epoch,
            stopped_early=stopper.early_stop,
            precision=self.precision,
            precision_reason=self.precision_reason,
            device=str(device),
            wall_time_s=time.perf_counter() - started,
            skipped_steps=int(skipped_total),
            peak_memory_mb=peak,
            history=copy.deepcopy(history),
            validation=best_validation,
        )
