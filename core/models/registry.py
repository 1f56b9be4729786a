"""Every trainable forecaster by name, with what it says about itself (see `core.models.contract`).

This is the only place that knows the models: the runner, the command line, the presets and the
pages read these entries. A new model is one file and one entry here.
"""

from __future__ import annotations

from dataclasses import fields

from core.models import pattn, tempo, time_llm
from core.models import proxy_tuned as proxy
from core.models.contract import SHAPE_FIELDS, Explains, Forecaster, ModelSpec
from core.models.dlinear import DLinear, DLinearConfig
from core.models.patchtst import PatchTST, PatchTSTConfig
from core.models.pattn import PAttn, PAttnConfig
from core.models.stemgnn import StemGNN, StemGNNConfig
from core.models.tempo import TEMPO, TEMPOConfig
from core.models.time_llm import TimeLLM, TimeLLMConfig

# Training defaults. DLinear follows its paper (lr 0.005, batch 32, 10 epochs, patience 3; cosine
# decay in place of halving every epoch); PatchTST's paper trains 100 epochs at lr 1e-4 with
# one-cycle, which a CPU cannot afford: bench/bench_baselines.py measured the settings below.
# Time-LLM: the seed's ETTh1 row (lr 1e-3, batch 16, MSE) with one-cycle as the official code meant
# it (built there but never stepped), over few epochs: a frozen LLM forward is costly. TEMPO: its
# paper's lr 1e-3, cosine schedule and patience 5, over few epochs on a CPU. The proxy's expert:
# the numeric Llama tuned a few epochs over serialised windows.
_TIME_LLM_TRAINING = dict(
    epochs=3, batch_size=16, lr=1e-3, max_lr=1e-3, schedule="onecycle", pct_start=0.2, patience=3
)
_TEMPO_TRAINING = dict(epochs=3, batch_size=16, lr=1e-3, schedule="cosine", patience=5)

# What `auto` precision means on a CPU, measured per model: bf16 autocast made a training step
# 1.4-1.5x faster for Time-LLM over SmolLM2 (bench/results/time_llm_speed.json) and 1.8x for TEMPO
# (tempo_speed.json). The small forecasters ran slower under it (cpu_precision.json), and so did the
# proxy's numeric expert (proxy_tuning.json), so they keep the trainer's fp32.
_LANGUAGE_MODEL_CPU = "bf16"

_PROTOTYPE_ATTENTION = Explains("reprogramming attention over text prototypes", per_channel=True)
_PROMPT_PICKS = Explains(
    "the prompts each part picks from the pool", per_channel=False, when=tempo.has_prompt_pool
)

_TIME_LLM = dict(
    config_class=TimeLLMConfig,
    model_class=TimeLLM,
    cpu_autocast=_LANGUAGE_MODEL_CPU,
    train_defaults=_TIME_LLM_TRAINING,
    preset=time_llm.preset,
    data_options=time_llm.data_options,
    own_budgets=True,
)
_TEMPO = dict(
    config_class=TEMPOConfig,
    model_class=TEMPO,
    cpu_autocast=_LANGUAGE_MODEL_CPU,
    train_defaults=_TEMPO_TRAINING,
    preset=tempo.preset,
    own_budgets=True,
)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "dlinear",
            "DLinear",
            "Moving-average decomposition and two linear maps (Zeng et al., AAAI 2023).",
            DLinearConfig,
            DLinear,
            train_defaults=dict(epochs=10, batch_size=32, lr=0.005, schedule="cosine", patience=3),
            plain="DLinear — fast and simple: trend plus repeating pattern. A strong first choice.",
        ),
        ModelSpec(
            "patchtst",
            "PatchTST",
            "Patches of each channel as tokens of a small Transformer encoder (Nie et al., ICLR 2023).",
            PatchTSTConfig,
            PatchTST,
            train_defaults=dict(
                epochs=6, batch_size=128, lr=1e-3, max_lr=1e-3, schedule="onecycle", pct_start=0.3, patience=3
            ),
            paper_train=dict(epochs=100, lr=1e-4, max_lr=1e-4, schedule="onecycle", patience=20),
            paper_note="100 epochs at learning rate 1e-4 with a one-cycle schedule, as in the PatchTST paper "
            "(early stopping after 20 epochs without improvement).",
            plain=(
                "PatchTST — a small Transformer over short stretches of the series: pays off on long series, "
                "slower to train."
            ),
        ),
        ModelSpec(
            "stemgnn",
            "StemGNN",
            "A graph between the channels, learned from each window, with spectral convolutions over "
            "the graph and over time (Cao et al., NeurIPS 2020).",
            StemGNNConfig,
            StemGNN,
            multivariate=True,
            explains=Explains("the graph between the channels it learned from the window", per_channel=False),
            # Adam at 1e-3 reached a lower validation loss on ETTh1 than 3e-4 over two epochs (the
            # official code: RMSprop at 1e-4 for 50 epochs, which a CPU cannot afford).
            train_defaults=dict(epochs=10, batch_size=32, lr=1e-3, schedule="cosine", patience=3),
            paper_train=dict(epochs=50, lr=1e-4, optimiser="rmsprop", schedule="constant", patience=10),
            paper_note="RMSprop at learning rate 1e-4 for 50 epochs, as the official StemGNN code "
            "(early stopping after 10 epochs without improvement).",
            plain=(
                "StemGNN — learns how the columns drive each other: for several related series, slower to "
                "train."
            ),
        ),
        ModelSpec(
            "pattn",
            "PAttn",
            "Patches and one attention layer: the cheap model that matched the language-model methods "
            "(Tan et al., NeurIPS 2024).",
            PAttnConfig,
            PAttn,
            # The authors' MAE loss and cosine schedule; Adam at 1e-3 reached a lower validation loss
            # on ETTh1 than 1e-4 over three epochs (the authors: 5e-5 for up to 100 epochs on a GPU).
            train_defaults=dict(epochs=10, batch_size=64, lr=1e-3, schedule="cosine", patience=3, loss="mae"),
            paper_train=dict(epochs=100, lr=5e-5, patience=10),
            paper_note="learning rate 5e-5 for up to 100 epochs, as the authors trained it (early stopping "
            "after 10 epochs without improvement).",
            preset=pattn.preset,
            plain=(
                "PAttn — short stretches of the series and one attention layer: cheap, often as good as far "
                "larger models."
            ),
        ),
        ModelSpec(
            "time_llm",
            "Time-LLM",
            "A frozen language model reprogrammed with text prototypes (Jin et al., ICLR 2024).",
            fixed={"variant": "full"},  # the ablations are entries of their own
            explains=_PROTOTYPE_ATTENTION,
            **_TIME_LLM,
            plain=(
                "Time-LLM — a language model reads the series through learned word prototypes: slow on a "
                "CPU, and shows which words it used."
            ),
        ),
        ModelSpec(
            "time_llm_no_llm",
            "Time-LLM without the LLM (ablation)",
            "Reprogrammed patches straight to the head (Tan et al., NeurIPS 2024).",
            fixed={"variant": "no_llm"},
            parent="time_llm",
            explains=_PROTOTYPE_ATTENTION,
            **_TIME_LLM,
            plain="Time-LLM without its language model — a comparison run: does the language model help?",
        ),
        ModelSpec(
            "time_llm_llm_to_attention",
            "Time-LLM, LLM replaced by attention (ablation)",
            "One trainable self-attention layer in place of the language model (Tan et al., NeurIPS 2024).",
            fixed={"variant": "llm_to_attention"},
            parent="time_llm",
            explains=_PROTOTYPE_ATTENTION,
            **_TIME_LLM,
            plain=(
                "Time-LLM with one attention layer for its language model — a comparison run: does a big "
                "model beat a small layer?"
            ),
        ),
        ModelSpec(
            "time_llm_random_init",
            "Time-LLM with a random backbone (ablation)",
            "The language model's architecture with random weights (Tan et al., NeurIPS 2024).",
            fixed={"variant": "random_init"},
            parent="time_llm",
            explains=_PROTOTYPE_ATTENTION,
            **_TIME_LLM,
            plain=(
                "Time-LLM with an untrained language model — a comparison run: does the model's reading help?"
            ),
        ),
        ModelSpec(
            "tempo",
            "TEMPO",
            "Trend, seasonal and residual parts with their own prompts through a LoRA-adapted language "
            "model (Cao et al., ICLR 2024).",
            explains=_PROMPT_PICKS,
            **_TEMPO,
            plain=(
                "TEMPO — trend, season and the rest, each through an adapted language model with prompts: "
                "slow on a CPU."
            ),
        ),
        ModelSpec(
            "tempo_no_prompt",
            "TEMPO without prompts (ablation)",
            "The decomposed parts through the adapted model with no prompt vectors.",
            fixed={"prompt": "none"},
            parent="tempo",
            **_TEMPO,
            plain="TEMPO without prompts — a comparison run: do the prompts help?",
        ),
        ModelSpec(
            "tempo_no_decomposition",
            "TEMPO without decomposition (ablation)",
            "The whole window as one part with one prompt, through the adapted model.",
            fixed={"decomposition": "none"},
            parent="tempo",
            explains=_PROMPT_PICKS,
            **_TEMPO,
            plain="TEMPO without splitting the series into parts — a comparison run: does the split help?",
        ),
        ModelSpec(
            "proxy_tuned",
            "Proxy-tuned decoding",
            "A language model writes the series as digits, steered by a small model tuned on it "
            "(LLMTime, Gruver et al., NeurIPS 2023; proxy-tuning, Liu et al., 2024).",
            proxy.ProxyConfig,
            proxy.ProxyTuned,
            target_only=True,
            own_loss=True,
            # The expert is the numeric Llama, a third of a million weights: bf16 autocast made its
            # training steps slower on this CPU (bench/results/proxy_tuning.json), so `auto` is fp32.
            cpu_autocast=None,
            # lr 3e-3: the better of 1e-3 and 3e-3 for the numeric expert's adapters (proxy_tuning.json)
            train_defaults=dict(epochs=2, batch_size=8, lr=3e-3, schedule="cosine", patience=2),
            # Decoding is the costly part: the quick budget tunes on fewer windows and decodes fewer
            # test windows, with fewer samples each.
            quick_options=dict(train_windows=64, test_windows=8, samples=5),
            data_options=proxy.data_options,
            note=(
                "The forecast is written digit by digit by the base language model, nudged by a small "
                "model tuned on this series (the expert) minus the same small model untuned: alpha says "
                "how hard. By default alpha is chosen on the validation windows (the lowest NLL); 0 is the "
                "base model alone, 1 is the paper's proxy-tuning. small: the project's numeric Llama "
                "(bundled, pretrained on series; tune: every weight, or LoRA), or a language model of the "
                "base's family from the Hub (LoRA). samples: forecasts drawn per window (their median is "
                "the forecast, their 10%–90% quantiles the band); temperature and top p shape each draw. "
                "digits: digits kept after the implied decimal point of each rescaled value. test "
                "windows: decoding is the costly part (every test window would take hours on a CPU), so "
                "an evenly spaced subset of at most this many windows is decoded, four ways each (base, "
                "expert, proxy at the chosen alpha, proxy at alpha 1). train windows: serialised windows "
                "the expert is tuned on per epoch."
            ),
            plain=(
                "Proxy-tuned decoding — a language model writes the forecast as digits, steered by a small "
                "tuned model: gives a range, very slow on a CPU."
            ),
        ),
    ]
}


def spec_of(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name]


def label_of(name: str | None) -> str:
    """A model's label, or its name when the registry no longer has it (an old stored run)."""
    return MODELS[name].label if name in MODELS else str(name)


def config_fields(name: str) -> list[str]:
    return [f.name for f in fields(spec_of(name).config_class)]


def build_config(name: str, *, seq_len: int, pred_len: int, n_channels: int, **options):
    """A model's config from its options; unknown or clashing options are errors, never ignored."""
    spec = spec_of(name)
    unknown = set(options) - set(config_fields(name))
    if unknown:
        raise ValueError(f"{spec.label} has no option(s) {', '.join(sorted(unknown))}")
    clashing = {key for key in spec.fixed if key in options and options[key] != spec.fixed[key]}
    if clashing:
        raise ValueError(f"{spec.label} fixes {', '.join(sorted(clashing))}; pick another model instead")
    options = options | spec.fixed
    config = spec.config_class(seq_len=seq_len, pred_len=pred_len, n_channels=n_channels, **options)
    check_config(config, spec.label)
    return config


def build_model(
    name: str, *, seq_len: int, pred_len: int, n_channels: int, **options
) -> tuple[Forecaster, object]:
    """A model and its config."""
    config = build_config(name, seq_len=seq_len, pred_len=pred_len, n_channels=n_channels, **options)
    return MODELS[name].model_class(config), config


def rebuild(name: str, model_config: dict) -> Forecaster:
    """A model from the config a run stored (what `dataclasses.asdict` made of it). A field the stored
    config lacks (the run is older than the field) takes the value the config class's `absent_means`
    gives it, the behaviour before the field existed, else its default."""
    config_class = spec_of(name).config_class
    for key, why in getattr(config_class, "retired", {}).items():  # a setting the model no longer has
        if key in model_config:
            raise ValueError(why)
    options = getattr(config_class, "absent_means", {}) | dict(model_config)
    shape = {key: options.pop(key) for key in SHAPE_FIELDS}
    for key in spec_of(name).fixed:
        options.pop(key, None)
    model, _ = build_model(name, **shape, **options)
    return model


def check_config(config, label: str) -> None:
    """Types and ranges of a model config, so a bad option is a plain error before training starts."""
    for f in fields(config):
        value, kind = getattr(config, f.name), str(f.type)
        low, high = f.metadata.get("bounds", (None, None))
        if value is None and kind.endswith("| None"):  # an optional setting left unset
            continue
        if kind == "bool":
            ok, rule = isinstance(value, bool), "true or false"
        elif kind.startswith("str"):
            ok, rule = isinstance(value, str), "text"
        elif kind.startswith("list"):
            ok, rule = value is None or all(isinstance(v, int | float) for v in value), "a list of numbers"
        elif kind == "int":
            ok, rule = (
                isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                "a whole number ≥ 1",
            )
        elif "dropout" in f.name:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1
            rule = "a number from 0 up to (not including) 1"
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and (low is None or value >= low) and (high is None or value <= high)
            rule = (
                "a number"
                + (f" ≥ {low:g}" if low is not None else "")
                + (f" ≤ {high:g}" if high is not None else "")
            )
        if not ok:
            raise ValueError(f"{label} option {f.name} must be {rule}, got {value!r}")
