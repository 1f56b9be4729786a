"""Default settings per model and data set: the papers' choices, scaled down where a CPU demands it.

TEMPO's come from its paper (Cao et al., ICLR 2024): lr 1e-3, cosine schedule, patience 5, six
backbone layers, and the seasonal period from the data's frequency.

The Train page starts from these; `Preset.notes` says in plain words where each value came from and
what was changed for this machine, so the page can tell the user.

Time-LLM's rows come from its paper (Jin et al., ICLR 2024, the seed's table): V' text prototypes,
backbone layers, patch embedding width d_m, heads K, learning rate, loss, batch size and epochs per
task. The paper keeps all 32 layers of LLaMA-7B and trains 50-100 epochs on GPUs; on a CPU one step
of even a 6-layer SmolLM2 takes seconds (bench/results/time_llm_speed.json), so a CPU keeps 6 layers
and 3 epochs. A GPU keeps the backbone whole and trains up to the paper's epochs with early stopping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.decompose import frequency_period
from core.models.registry import MODELS, TRAIN_DEFAULTS

CPU_LAYERS = 6  # backbone layers a CPU can afford (bench/results/time_llm_speed.json)
CPU_EPOCHS = 3
GPU_EPOCHS_CAP = 50  # the longest a GPU run goes by default; early stopping usually ends it sooner
GPU_LAYERS = 30  # all of SmolLM2-135M, the default backbone (a shallower one needs a lower number)


@dataclass(frozen=True)
class SeedRow:
    """One row of the paper's hyper-parameter table."""

    task: str
    n_prototypes: int
    d_model: int
    n_heads: int
    lr: float
    loss: str
    batch_size: int
    epochs: int
    look_back: int | None  # None: twice the horizon (the short-term rows)


TIME_LLM_ROWS = {
    "etth": SeedRow("long-term ETTh1, ETTh2", 1000, 16, 8, 1e-3, "mse", 16, 50, 512),
    "ettm": SeedRow("long-term ETTm1, ETTm2", 1000, 16, 8, 1e-3, "mse", 16, 100, 512),
    "large": SeedRow("long-term Weather, Electricity, Traffic", 1000, 16, 8, 1e-2, "mse", 8, 100, 512),
    "ili": SeedRow("long-term ILI", 100, 16, 8, 1e-2, "mse", 16, 50, 96),
    "short": SeedRow("short-term M3-Quarterly, M4", 100, 32, 8, 1e-4, "smape", 32, 50, None),
}


def time_llm_row(dataset_name: str) -> tuple[str, bool]:
    """The table row for a data set by its name, and whether the name matched one (else ETTh1's row)."""
    name = dataset_name.lower().replace(" ", "").replace("-", "").replace("_", "")
    for prefix, key in (
        ("etth", "etth"),
        ("ettm", "ettm"),
        ("weather", "large"),
        ("electricity", "large"),
        ("ecl", "large"),
        ("traffic", "large"),
        ("ili", "ili"),
        ("nationalillness", "ili"),
        ("m4", "short"),
        ("m3", "short"),
    ):
        if name.startswith(prefix):
            return key, True
    return "etth", False


@dataclass(frozen=True)
class Preset:
    model_options: dict = field(default_factory=dict)  # defaults for the model's config fields
    train_options: dict = field(default_factory=dict)  # defaults for TrainConfig
    notes: list[str] = field(default_factory=list)  # where the values came from, in plain words


def preset(
    model: str,
    dataset_name: str,
    device_type: str = "cpu",
    horizon: int | None = None,
    freq: str | None = None,
    look_back: int | None = None,
) -> Preset:
    """Starting settings for `model` on the data set called `dataset_name` (of frequency `freq`) on
    a `device_type` machine."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    train = dict(TRAIN_DEFAULTS.get(model, {}))
    family = MODELS[model].model_class.__name__
    if family == "TEMPO":
        decomposes = MODELS[model].fixed.get("decomposition") != "none"
        return _tempo_preset(train, device_type, freq, look_back, decomposes)
    if family != "TimeLLM":
        return Preset(train_options=train)

    key, matched = time_llm_row(dataset_name)
    row = TIME_LLM_ROWS[key]
    model_options = dict(n_prototypes=row.n_prototypes, d_model=row.d_model, n_heads=row.n_heads)
    train.update(lr=row.lr, max_lr=row.lr, batch_size=row.batch_size, loss=row.loss)
    source = f"the Time-LLM paper's {row.task} row" if matched else "the Time-LLM paper's ETTh1 row"
    notes = [
        f"From {source}: V' {row.n_prototypes} text prototypes, d_model {row.d_model}, {row.n_heads} heads, "
        f"learning rate {row.lr:g}, batch {row.batch_size}, {row.loss.upper()} loss."
    ]
    if not matched:
        notes.append(f"{dataset_name} is not in the paper's table; its ETTh1 row is the starting point.")
    if row.look_back is None:
        wanted = f"twice the horizon ({2 * horizon})" if horizon else "twice the horizon"
    else:
        wanted = str(row.look_back)
    notes.append(f"The paper's look-back for this row is {wanted}; set it in the sidebar.")
    if device_type == "cpu":
        model_options["layers"] = CPU_LAYERS
        train["epochs"] = min(row.epochs, CPU_EPOCHS)
        notes.append(
            f"Scaled for this CPU: the backbone keeps its first {CPU_LAYERS} layers (the paper keeps all "
            f"of LLaMA-7B's 32) and trains {train['epochs']} epochs (the paper: {row.epochs}); a step "
            "takes seconds here, so a full-size run would take days."
        )
    else:
        model_options["layers"] = GPU_LAYERS
        train["epochs"] = min(row.epochs, GPU_EPOCHS_CAP)
        notes.append(
            f"On a GPU: all {GPU_LAYERS} layers of SmolLM2 (lower it for a shallower backbone) and "
            f"{train['epochs']} epochs with early stopping (the paper: {row.epochs})."
        )
    return Preset(model_options=model_options, train_options=train, notes=notes)


def _tempo_preset(
    train: dict, device_type: str, freq: str | None, look_back: int | None, decomposes: bool
) -> Preset:
    """TEMPO's paper: look-back 336, lr 1e-3, cosine schedule, patience 5, 6 GPT-2 layers."""
    period = frequency_period(freq)
    notes = [
        "From the TEMPO paper: learning rate 1e-3, cosine schedule, early-stopping patience 5, the "
        "backbone's first 6 layers, LoRA rank 16. Its look-back is 336; set it in the sidebar.",
        "The paper's backbone is GPT-2 (pick it if this machine can download it once); the bundled "
        "SmolLM2 is the offline default.",
    ]
    model_options = {}
    if decomposes and period:
        model_options["period"] = period
        notes.append(f"Seasonal period {period} steps, from the data's frequency ({freq}).")
        if look_back is not None and look_back < period:
            notes.append(
                f"A window of {look_back} steps holds less than one period: lengthen the look-back to at "
                f"least {period}, or set a shorter period."
            )
        elif look_back is not None and look_back < 2 * period:
            model_options["decomposition"] = "moving_average"
            notes.append(
                f"STL of a window needs two periods ({2 * period} steps) and the look-back is {look_back}: "
                "the moving-average decomposition is chosen instead."
            )
    elif decomposes:
        notes.append("The data has no calendar frequency: set the seasonal period to its cycle in steps.")
    if device_type == "cpu":
        train["epochs"] = CPU_EPOCHS
        notes.append(
            f"Scaled for this CPU: {CPU_EPOCHS} epochs; the backbone runs over three prompted parts, so a "
            "step takes seconds here."
        )
    else:
        train["epochs"] = GPU_EPOCHS_CAP
        notes.append(f"On a GPU: up to {GPU_EPOCHS_CAP} epochs with early stopping.")
    return Preset(model_options=model_options, train_options=train, notes=notes)
