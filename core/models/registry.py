"""The trainable forecasters by name, with their config classes (the Train page's picker)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from torch import nn

from core.models.dlinear import DLinear, DLinearConfig
from core.models.patchtst import PatchTST, PatchTSTConfig


@dataclass(frozen=True)
class ModelSpec:
    name: str
    label: str
    description: str
    config_class: type
    model_class: type


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "dlinear",
            "DLinear",
            "Moving-average decomposition and two linear maps (Zeng et al., AAAI 2023).",
            DLinearConfig,
            DLinear,
        ),
        ModelSpec(
            "patchtst",
            "PatchTST",
            "Patches of each channel as tokens of a small Transformer encoder (Nie et al., ICLR 2023).",
            PatchTSTConfig,
            PatchTST,
        ),
    ]
}


# Training defaults per model. DLinear follows its paper (lr 0.005, batch 32, 10 epochs, patience 3;
# cosine decay in place of halving every epoch); PatchTST's paper trains 100 epochs at lr 1e-4 with
# one-cycle, which a CPU cannot afford: bench/bench_baselines.py measured the settings below.
TRAIN_DEFAULTS: dict[str, dict] = {
    "dlinear": dict(epochs=10, batch_size=32, lr=0.005, schedule="cosine", patience=3),
    "patchtst": dict(
        epochs=6, batch_size=128, lr=1e-3, max_lr=1e-3, schedule="onecycle", pct_start=0.3, patience=3
    ),
}


def config_fields(name: str) -> list[str]:
    return [f.name for f in fields(MODELS[name].config_class)]


def build_model(
    name: str, *, seq_len: int, pred_len: int, n_channels: int, **options
) -> tuple[nn.Module, object]:
    """A model and its config; unknown options are an error, never silently ignored."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    spec = MODELS[name]
    unknown = set(options) - set(config_fields(name))
    if unknown:
        raise ValueError(f"{spec.label} has no option(s) {', '.join(sorted(unknown))}")
    config = spec.config_class(seq_len=seq_len, pred_len=pred_len, n_channels=n_channels, **options)
    check_config(config, spec.label)
    return spec.model_class(config), config


def check_config(config, label: str) -> None:
    """Types and ranges of a model config, so a bad option is a plain error before training starts."""
    for f in fields(config):
        value, kind = getattr(config, f.name), str(f.type)
        if kind == "bool":
            ok, rule = isinstance(value, bool), "true or false"
        elif kind == "int":
            ok, rule = (
                isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                "a whole number ≥ 1",
            )
        elif "dropout" in f.name:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1
            rule = "a number from 0 up to (not including) 1"
        else:
            ok, rule = isinstance(value, int | float) and not isinstance(value, bool), "a number"
        if not ok:
            raise ValueError(f"{label} option {f.name} must be {rule}, got {value!r}")


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameters."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
