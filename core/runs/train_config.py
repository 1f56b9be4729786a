"""How a run trains: the settings the one training loop takes, checked when they are made."""

from __future__ import annotations

from dataclasses import dataclass, fields

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
OPTIMISERS = ("sgd", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "onecycle")
LOSSES = ("mse", "mae", "smape")


_KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a name"}


def _is_kind(value, kind: str) -> bool:
    """True when a config value has the type its field declares (bools are not numbers here)."""
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return isinstance(value, {"int": int, "float": (int, float), "str": str}.get(kind, object))


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3  # the base rate; one-cycle starts at max_lr / 25 and peaks at max_lr
    optimiser: str = "adam"
    momentum: float = 0.9  # SGD momentum
    nesterov: bool = False
    rmsprop_alpha: float = 0.99  # RMSprop's decay of the squared-gradient average
    weight_decay: float = 0.0
    schedule: str = "constant"
    t_max: int | None = None  # cosine: epochs per half cycle (default: all epochs)
    eta_min: float = 0.0  # cosine: the lowest rate
    max_lr: float | None = None  # one-cycle: the peak rate (default: lr)
    pct_start: float = 0.3  # one-cycle: share of the steps spent warming up
    patience: int = 3  # epochs without improvement before stopping
    min_delta: float = 0.0  # an improvement must beat the best by more than this
    loss: str = "mse"
    grad_clip: float | None = None  # max gradient norm; None leaves gradients as they are
    precision: str = "auto"
    seed: int = 2021
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # At most this many training windows per epoch, evenly spaced over the whole training split
    # (its first and last window included); None trains on every window. Validation and test
    # always use every window.
    train_windows: int | None = None

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            kind = str(f.type).split(" ")[0]
            if value is not None and not _is_kind(value, kind):
                raise ValueError(f"training setting {f.name} must be {_KIND_WORDS[kind]}, got {value!r}")
        for name, value, allowed in [
            ("precision", self.precision, PRECISIONS),
            ("optimiser", self.optimiser, OPTIMISERS),
            ("schedule", self.schedule, SCHEDULES),
            ("loss", self.loss, LOSSES),
        ]:
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1:
            raise ValueError("epochs, batch size and patience must be at least 1")
        if self.train_windows is not None and self.train_windows < 1:
            raise ValueError("train_windows must be at least 1 (or left empty for every window)")
        if self.lr <= 0 or (self.max_lr is not None and self.max_lr <= 0):
            raise ValueError("the learning rate must be positive")
        if not 0 < self.pct_start < 1:
            raise ValueError("pct_start must lie between 0 and 1")
