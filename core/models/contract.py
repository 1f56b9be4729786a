"""The forecaster contract: what every model is, returns and says about itself.

The runner, the command line and the pages read these statements; none of them knows a model by
its name. Adding a model is one file (its config, its `Forecaster` subclass) and one `ModelSpec`
entry in `core.models.registry`; if a page or the runner had to change for it, the contract would be
missing a statement.

- `ModelSpec`: the registry entry: labels, capabilities (target only, channels that interact, its
  CPU precision, what explains it), training defaults, its preset for a data set, a note for the page.
- `Forecaster`: an `nn.Module` whose forward maps scaled windows x (B, L, C) to a `ForecastOutput`.
  Its hooks (training sets and losses, test predictions, a forecast past the data, explanations,
  checkpoints) have defaults that fit a window forecaster; a model overrides what it does otherwise
  (proxy decoding trains on serialised text and predicts by decoding).
- `ForecastOutput`: the forecast and what a model has to say beside it (parts, prompt picks, a
  training term of its own), returned rather than left on the module for someone to pick up.
- `Predictions`: a run's test forecasts, scaled as the model saw them, with bands, parts, picks and
  variants; `core.runs.result` stores them and gives them back in the series' units.
- Explanation panels (`core.explain`: `Heatmap`, `Table`, `Text`): what `explain` returns for one
  window; the Attention page draws each kind, whichever model made it.
- Config fields carry their page hints as `field(metadata=...)`: see `option`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from core.data import ProtocolData, kept_windows
from core.explain import Panel
from core.lm import backbone_choices
from core.windows import WindowDataset, make_loader

# Every model config has these three fields; the runner sets them from the data and the sidebar.
SHAPE_FIELDS = ("seq_len", "pred_len", "n_channels")

# What the language-model presets afford: backbone layers and epochs a CPU can run
# (bench/results/time_llm_speed.json: a step of a 6-layer SmolLM2 takes seconds there), and on a GPU
# all of SmolLM2-135M, the default backbone, for at most this many epochs (early stopping usually
# ends a run sooner).
CPU_LAYERS = 6
CPU_EPOCHS = 3
GPU_LAYERS = 30
GPU_EPOCHS_CAP = 50
# The quick budget of the language-model methods (see core.models.budget): the backbone's first layer
# (TEMPO keeps its own count, `core.models.tempo.QUICK_TEMPO_LAYERS`), one epoch over an evenly
# spaced share of the training windows, in batches of 32. Validation and test forecast every window,
# and on ETTh1's target (look-back 96, horizon 24: 2,857 windows each) they are most of a quick run's
# time, so the levers are the backbone's depth, the training windows and the batch: on the 2-core
# development CPU, fp32, Time-LLM at 2 layers, batch 16 and 1,024 windows took 165 s for the whole
# process and reached a validation MSE of 0.0671; at 1 layer, batch 32 and 2,048 windows 90 s and
# 0.0584 (2 layers: 160 s, 0.0591). Batch 32 halves the steps, and the V -> V' prototype map is made
# once per batch; batch 64 left too few steps (0.0647). bench/results/quick_budget.json has the runs
# as a user starts them.
QUICK_LAYERS = 1
QUICK_EPOCHS = 1
QUICK_TRAIN_WINDOWS = 2048
QUICK_BATCH = 32


def option(
    default: Any,
    *,
    choices: tuple | list | None = None,
    labels: dict[str, str] | None = None,
    bounds: tuple[float | None, float | None] | None = None,
    automatic: bool = False,
    describes_data: bool = False,
    help: str | None = None,
):
    """A config field with the hints the Train page reads: the `choices` it offers (with `labels`),
    the `bounds` of a number, `automatic` for a value the runner sets from the data (hidden on the
    page), `describes_data` for a sentence about the data that the model reads (the page offers the
    data set's description), and a `help` text."""
    metadata = {
        key: value
        for key, value in dict(
            choices=choices,
            labels=labels,
            bounds=bounds,
            automatic=automatic or None,
            describes_data=describes_data or None,
            help=help,
        ).items()
        if value is not None
    }
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def language_model_option(help: str):
    """A config field choosing the language model a forecaster is built on: the bundled SmolLM2 by
    default, the registry's models offered by their labels (any Hub id works from the CLI)."""
    offered = backbone_choices()
    return option(
        "smollm2-135m",
        choices=[spec.name for spec in offered],
        labels={spec.name: spec.label for spec in offered},
        help=help,
    )


@dataclass
class ForecastOutput:
    """What a forward pass returns."""

    forecast: torch.Tensor  # (B, H, C) scaled like the input; a language model in training: its logits
    parts: torch.Tensor | None = None  # (B, n_parts, H, C) part forecasts that add up to the forecast
    picks: torch.Tensor | None = None  # (B, n_parts, M) how often each of M pool prompts was picked
    auxiliary_loss: torch.Tensor | None = None  # a training term of the model's own (a scalar)

    def select(self, index: torch.Tensor) -> ForecastOutput:
        """The output channels `index` of the forecast and parts (features MS scores the target)."""
        return ForecastOutput(
            self.forecast.index_select(-1, index),
            None if self.parts is None else self.parts.index_select(-1, index),
            self.picks,
            self.auxiliary_loss,
        )

    def detached(self) -> ForecastOutput:
        """A copy on the CPU in fp32 without gradients, to keep across batches."""
        return ForecastOutput(
            self.forecast.detach().float().cpu(),
            None if self.parts is None else self.parts.detach().float().cpu(),
            None if self.picks is None else self.picks.detach().cpu(),
        )

    @staticmethod
    def concatenate(outputs: list[ForecastOutput]) -> ForecastOutput:
        """Batches joined along the first axis (parts and picks when every batch has them)."""

        def joined(name: str):
            values = [getattr(output, name) for output in outputs]
            return None if any(v is None for v in values) else torch.cat(values)

        return ForecastOutput(joined("forecast"), joined("parts"), joined("picks"))


@dataclass
class Band:
    """A central prediction interval (N, H, C); `Predictions.bands` keys it by its nominal coverage."""

    lower: np.ndarray
    upper: np.ndarray


@dataclass
class Variant:
    """The same trained model forecasting the same windows another way (proxy decoding: the base
    model alone, the tuned expert alone), scaled like the main forecast, with figures of its own."""

    forecast: np.ndarray  # (N, H, C)
    bands: dict[float, Band] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Predictions:
    """A run's test forecasts, scaled as the model saw them (the training rows' standard scaler)."""

    forecast: np.ndarray  # (N, H, C_out)
    actual: np.ndarray  # (N, H, C_out)
    window_index: np.ndarray  # (N,) which test windows (0 = the first of the split) these are
    bands: dict[float, Band] = field(default_factory=dict)  # by nominal coverage, e.g. 0.8
    parts: np.ndarray | None = None  # (N, n_parts, H, C_out)
    picks: np.ndarray | None = None  # (n_parts, M) prompt picks counted over the test windows
    name: str = ""  # what the main forecast is called among its variants
    variants: dict[str, Variant] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)  # figures of the model's own (decoding speed)


@dataclass
class PredictionContext:
    """What a model's `test_predictions` may use of the run."""

    data: ProtocolData
    seq_len: int
    pred_len: int
    batch_size: int
    drop_last_batch: int | None
    seed: int
    device: torch.device
    precision: str  # what the model trained in
    predict: Callable[[Any], tuple[ForecastOutput, torch.Tensor]]  # a loader -> outputs and actuals
    report: Callable[..., None]  # progress fields for the page: `phase`, and `phase_done` of `phase_total`
    check_cancelled: Callable[[], None]


@dataclass(frozen=True)
class Explains:
    """What a model's `explain` shows, for the Attention page."""

    label: str  # e.g. "reprogramming attention over text prototypes"
    per_channel: bool  # one explanation per channel (the page asks which) or one for the whole window
    when: Callable[[dict], bool] | None = None  # only runs whose stored model config passes this


@dataclass(frozen=True)
class DataFacts:
    """What a preset may read of the data and the machine."""

    name: str
    freq: str | None
    look_back: int
    horizon: int
    device_type: str  # "cpu" or "cuda"
    budget: str = "standard"  # quick | standard | paper (see core.models.budget)


@dataclass(frozen=True)
class Preset:
    model_options: dict = field(default_factory=dict)  # defaults for the model's config fields
    train_options: dict = field(default_factory=dict)  # defaults for TrainConfig
    notes: list[str] = field(default_factory=list)  # where the values came from, in plain words


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: everything the runner, the command line and the pages know of a model."""

    name: str
    label: str
    description: str
    config_class: type
    model_class: type[Forecaster]
    fixed: dict = field(default_factory=dict)  # options the entry sets (an ablation's variant)
    parent: str | None = None  # the full model an ablation takes apart
    target_only: bool = False  # forecasts the target series alone: features S
    own_loss: bool = False  # trains on an objective of its own: the configured loss does not apply
    multivariate: bool = False  # channels interact, unlike the channel-independent models
    cpu_autocast: str | None = None  # what `auto` precision means on a CPU, as measured for this model
    explains: Explains | None = None
    train_defaults: dict = field(default_factory=dict)
    preset: Callable[[ModelSpec, DataFacts], Preset] | None = None  # settings for a data set
    own_budgets: bool = False  # the preset reads `DataFacts.budget` itself (else core.models.budget.generic)
    quick_options: dict = field(default_factory=dict)  # model options of the quick budget (its cost knobs)
    paper_train: dict = field(default_factory=dict)  # the paper's training settings (the paper budget)
    paper_note: str = ""  # where paper_train comes from, in words
    data_options: Callable[[ProtocolData, str], dict] | None = None  # config values read off the data
    note: str = ""  # shown on the Train page under the model's options
    plain: str = ""  # one sentence for someone choosing a model: what it does, when to pick it


class Forecaster(nn.Module):
    """Every model. `forward(x)` maps scaled windows (B, L, C) to a `ForecastOutput` (B, H, C)."""

    part_names: tuple[str, ...] = ()  # the parts in `ForecastOutput.parts`, for models that have them
    untrained_backbone: bool = False  # reads a language model with random weights (tests): say so
    decodes: bool = False  # forecasts by sampling tokens (no cost estimate from a forward pass)

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        raise NotImplementedError

    # Training

    def training_sets(self, data: ProtocolData, seq_len: int, pred_len: int):
        """The training and validation datasets of (x, y) pairs: stride-1 windows of each split."""
        return tuple(
            WindowDataset(data.splits[name], seq_len, pred_len, data.output_index)
            for name in ("train", "val")
        )

    def training_loss(self, output: ForecastOutput, target: torch.Tensor, loss) -> torch.Tensor:
        """The configured `loss` of the forecast, plus the model's own training term if it has one."""
        value = loss(output.forecast, target)
        return value if output.auxiliary_loss is None else value + output.auxiliary_loss

    def validation_loss(self, output: ForecastOutput, target: torch.Tensor, loss) -> torch.Tensor:
        """The forecast alone, so that early stopping compares like with like across models."""
        return loss(output.forecast, target)

    # Choices made on validation after training

    def select_on_validation(self, context: PredictionContext) -> dict:
        """Settings a model picks on the validation split once its weights are trained (proxy
        decoding's alpha), kept in its buffers: the runner saves the checkpoint again afterwards, so
        a reloaded run forecasts with them. Returns what was chosen, for the run's test metrics, or
        {} when nothing is (every other model). Never reads the test split."""
        return {}

    # Testing and forecasting

    def test_predictions(self, context: PredictionContext) -> Predictions:
        """Every test window (less the last incomplete batch when asked), in batches."""
        data = context.data
        test = WindowDataset(data.splits["test"], context.seq_len, context.pred_len, data.output_index)
        count = kept_windows(len(test), context.drop_last_batch)
        loader = make_loader(torch.utils.data.Subset(test, range(count)), context.batch_size, shuffle=False)
        output, actual = context.predict(loader)
        return Predictions(
            forecast=output.forecast.numpy(),
            actual=actual.numpy(),
            window_index=np.arange(count),
            parts=None if output.parts is None else output.parts.numpy(),
            picks=None if output.picks is None else output.picks.sum(dim=0).numpy(),
        )

    def calibration_residuals(
        self, context: PredictionContext, validation: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> np.ndarray | None:
        """Absolute errors (n, H, C_out) of every validation window, in time order: what the run's
        prediction intervals are calibrated on (see `core.intervals`). None for a model whose
        forecasts carry bands of their own. `validation`: the best epoch's validation forecasts and
        actual values, kept by the trainer (`FitResult.validation`), so that they are not computed
        again; else every validation window is forecast here."""
        data = context.data
        val = WindowDataset(data.splits["val"], context.seq_len, context.pred_len, data.output_index)
        if validation is not None and len(validation[0]) == len(val):
            forecast, actual = validation
        else:
            output, actual = context.predict(make_loader(val, context.batch_size, shuffle=False))
            forecast = output.forecast
        return np.abs(forecast.numpy().astype(np.float64) - actual.numpy().astype(np.float64))

    @torch.no_grad()
    def forecast_ahead(self, window: np.ndarray, output_index: list[int], seed: int = 0) -> Predictions:
        """The forecast of the steps after one scaled window (L, C_in): a single-window `Predictions`
        (actual values unknown: NaN) over the output channels."""
        self.eval()
        # A copy: the window may be a read-only view of stored arrays, which torch cannot wrap.
        x = torch.tensor(window[None], dtype=torch.float32, device=_device_of(self))
        forecast = self(x).forecast.float().cpu().numpy()[:, :, output_index]
        return Predictions(forecast, np.full_like(forecast, np.nan), np.zeros(1, dtype=int))

    # Explaining

    def explain(self, x: torch.Tensor, channels: list[str], channel: int | None) -> list[Panel]:
        """Panels explaining the forecast of one scaled window x (1, L, C); models that `explains`
        names in their registry entry override this."""
        raise NotImplementedError(f"{type(self).__name__} does not explain its forecasts")

    # Size and checkpoints

    def parameter_counts(self) -> tuple[int, int]:
        """(trainable, total) parameters of the module itself."""
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        return trainable, total

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return trainable_state(self)

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        load_trainable_state(self, state)


def _device_of(module: nn.Module) -> torch.device:
    parameter = next(module.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device


class CheckpointMismatch(ValueError):
    """A checkpoint's tensors do not fit the model they are loaded into."""


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Trainable parameters and the buffers of trainable modules (for example batch-norm statistics).

    A frozen backbone (every parameter of a submodule frozen) is left out: checkpoints hold only
    what training changed.
    """
    frozen = [
        name + "."
        for name, module in model.named_modules()
        if name
        and any(True for _ in module.parameters())
        and not any(p.requires_grad for p in module.parameters())
    ]
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    buffers = {name for name, _ in model.named_buffers()}
    return {
        name: tensor.detach().cpu().clone()
        for name, tensor in model.state_dict().items()
        if name in trainable or (name in buffers and not any(name.startswith(f) for f in frozen))
    }


def load_trainable_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a `trainable_state` checkpoint; an unknown tensor or a missing trainable one is an error."""
    expected = set(trainable_state(model))
    missing = expected - set(state)
    unexpected = set(state) - set(model.state_dict())
    if missing or unexpected:
        raise CheckpointMismatch(
            f"the checkpoint does not fit this model: {len(missing)} trainable tensors missing "
            f"(e.g. {sorted(missing)[:2]}), {len(unexpected)} unknown (e.g. {sorted(unexpected)[:2]})"
        )
    model.load_state_dict(state, strict=False)  # frozen parts stay as loaded
