"""What defines a run: the model, the data's windows and split, the model's options and training."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from core.runs.train_config import TrainConfig


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
    budget: str = "standard"  # the budget the starting settings came from (see core.models.budget)

    def as_dict(self) -> dict:
        return asdict(self)


def default_protocol(dataset_name: str) -> str:
    """The ETT files have fixed borders; every other data set is split 70/10/20."""
    if dataset_name.startswith("ETTh"):
        return "ett-hour"
    if dataset_name.startswith("ETTm"):
        return "ett-minute"
    return "ratio"


def starting_spec(
    model: str,
    *,
    dataset_name: str,
    freq: str | None,
    seq_len: int = 96,
    pred_len: int = 96,
    device_type: str = "cpu",
    budget: str = "standard",
) -> RunSpec:
    """The run a model starts from on a data set: the registry's training defaults and the model's
    preset for the data, features S for a model that forecasts the target alone (else M), and the
    data set's standard split, all under `budget` (quick, standard or paper: see core.models.budget). The
    Train page, `python -m core train` and the benches all start here."""
    # Imported here: the models import torch, and the sidebar of every page reads `default_protocol`.
    from core.models.presets import preset
    from core.models.registry import spec_of

    entry = spec_of(model)
    start = preset(model, dataset_name, device_type, pred_len, freq, seq_len, budget)
    return RunSpec(
        model=model,
        seq_len=seq_len,
        pred_len=pred_len,
        features="S" if entry.target_only else "M",  # a multivariate model reads every channel
        protocol=default_protocol(dataset_name),
        model_options=dict(start.model_options),
        train=TrainConfig(**start.train_options),
        budget=budget,
    )


def with_changes(spec: RunSpec, settings: dict, train: dict, options: dict) -> RunSpec:
    """`spec` with some of its settings, training settings and model options changed; a name that
    is not a setting is an error, never ignored."""
    names = {f.name for f in fields(RunSpec)} - {"model_options", "train"}
    unknown = set(settings) - names
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))} in the run configuration")
    unknown_train = set(train) - {f.name for f in fields(TrainConfig)}
    if unknown_train:
        raise ValueError(f"unknown [train] setting(s) {', '.join(sorted(unknown_train))}")
    return replace(
        spec,
        **settings,
        model_options=spec.model_options | options,
        train=replace(spec.train, **train),
    )
