"""The proxy-tuned forecaster: a base model, a small expert and its untuned self, in one object.

Proxy-tuning (Liu et al., 2024): logits = base + alpha · (expert − anti-expert). The base is a real
language model (SmolLM2-135M with all 30 layers, offline). The small model is, by default, the
project's own numeric Llama (`core.proxy.numeric_llama`), pretrained on serialised series; untuned
it is the anti-expert, tuned on the user's training split it is the expert. With an internet
connection a real sibling pair works through the same contract (gpt2 with gpt2-xl, SmolLM2-135M with
SmolLM2-360M): `small` names it, and it is tuned with LoRA.

Through the forecaster contract it trains like any model: the runner's `Trainer` tunes the expert
(every weight of the numeric model, or LoRA adapters) on serialised training windows with the
language-model loss, with the same progress, precision, early stopping on held-out windows,
cancellation and checkpoints. Then alpha is chosen on the validation split
(`select_on_validation`): the NLL of the true continuation under the proxy for each alpha in
`ALPHAS`, through one forward pass per model and window (no sampling); the lowest wins and is saved
with the checkpoint. The test split is never read for it.

Its test predictions are decoded: an evenly spaced subset of the test windows (at most
`test_windows`: every window would cost hours on a CPU), each by the base model alone, the expert
alone, the proxy at the chosen alpha and the proxy at alpha 1 (the paper's), each with its 80 % and
95 % bands (the samples' 10–90 % and 2.5–97.5 % quantiles) and the NLL of the true continuation.
The text scaler is fitted per window on its history; the data set's standard scaler (training rows
only) turns the decoded values into the scaled values every other run is scored on, so metrics
compare across models.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.data import ProtocolData
from core.lm import WRITING_CHOICES, WRITING_LABELS, check_shared_vocabulary, load_causal_lm, with_lora
from core.lm.registry import backbone_spec
from core.models.contract import (
    Band,
    Forecaster,
    ForecastOutput,
    PredictionContext,
    Predictions,
    Variant,
    option,
)
from core.proxy import numeric_llama
from core.proxy.decoding import (
    DecodeSettings,
    Forecast,
    NumericGrammar,
    Source,
    configuration,
    continuation_logits,
    continuation_nll,
    nll_of,
    sample_forecast,
)
from core.proxy.serialize import Alphabet, NumberFormat, WindowText, window_text
from core.proxy.windows import IGNORE, lm_windows
from core.windows import evenly_spaced

# What the test windows are decoded with: (configuration, alpha); None is the chosen alpha.
CONFIGURATIONS = {
    "base": ("base", 0.0),  # the base model alone
    "expert": ("expert", None),  # the tuned small model alone
    "proxy": ("proxy", None),  # proxy-tuned at the alpha chosen on validation
    "proxy_alpha_1": ("proxy", 1.0),  # proxy-tuned at the paper's alpha
}
ALPHAS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)  # the alphas compared on validation; 0 is the base alone
ALPHA_LABELS = {
    None: "chosen on the validation part (recommended)",
    0.0: "0: the language model alone",
    0.25: "0.25",
    0.5: "0.5",
    1.0: "1: the method's standard (Liu et al., 2024)",
    1.5: "1.5",
    2.0: "2",
}
LEVELS = (0.8, 0.95)  # the samples' central 80 % (10 % to 90 % quantiles) and 95 % bands
NUMERIC = "numeric"  # the small model: the project's numeric Llama
SMALL_CHOICES = [NUMERIC, *WRITING_CHOICES]
SMALL_LABELS = {NUMERIC: "numeric Llama (bundled, pretrained on series by the project)", **WRITING_LABELS}


@dataclass
class ProxyConfig:
    seq_len: int = 96  # values of history per window (trimmed further to fit the context)
    pred_len: int = 24
    n_channels: int = 1  # the target only: the language model writes one series
    base: str = option("smollm2-135m", choices=WRITING_CHOICES, labels=WRITING_LABELS)
    small: str = option(NUMERIC, choices=SMALL_CHOICES, labels=SMALL_LABELS)
    # How the expert is tuned: LoRA adapters ("lora") or every weight of the small model ("full").
    # LoRA reached the lower validation NLL in the same 45 s of tuning on ILI (1.461 nats per atom at
    # lr 3e-3, against 1.493 for every weight; bench/results/proxy_tuning.json).
    tune: str = option("lora", choices=["lora", "full"])
    # Weight of (expert − anti-expert); None chooses it on the validation split among ALPHAS.
    alpha: float | None = option(None, bounds=(0.0, None), choices=[None, *ALPHAS], labels=ALPHA_LABELS)
    alpha_windows: int = 16  # validation windows (evenly spaced) the alphas are compared on
    samples: int = 10
    temperature: float = option(0.7, bounds=(0.01, None))
    top_p: float = option(0.9, bounds=(0.01, 1.0))
    digits: int = 3  # digits after the implied decimal point
    # History and forecast together; the oldest history is trimmed. The numeric model reads 1,024
    # positions, one of them its begin-of-sequence token.
    context_tokens: int = numeric_llama.CONTEXT - 1
    train_windows: int = 256  # serialised training windows the expert sees per epoch (evenly spaced)
    test_windows: int = 16  # test windows decoded (evenly spaced); decoding is the costly part
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    scale_quantile: float = option(0.95, bounds=(0.01, 1.0))  # LLMTime's alpha: the scaler's quantile
    scale_offset: float = option(0.3, bounds=(0.0, None))  # LLMTime's beta: the offset below the minimum
    # The data set's standard scaler for the target (set by the runner), to write and read raw values.
    input_mean: list[float] | None = option(None, automatic=True)
    input_std: list[float] | None = option(None, automatic=True)
    # The numeric model's weights the run was tuned from (their SHA-256, first 16 hex digits).
    small_weights: str | None = option(None, automatic=True)

    # Settings of earlier versions that a stored run may hold, and why such a run cannot be rebuilt.
    retired = {
        "small_layers": "this run's small model was SmolLM2 cut to its first layers, which proxy decoding "
        "no longer uses (it takes the project's numeric Llama); its stored forecasts and metrics stay, "
        "but to forecast with it again, train it again",
    }


def data_options(data: ProtocolData, description: str) -> dict:
    """The target's scaler: the language model reads and writes the series in its own units."""
    return {"input_mean": data.scaler.mean.tolist(), "input_std": data.scaler.std.tolist()}


def _positions(model) -> int:
    """How many positions a causal language model reads (Llama-style configs name it one way, GPT-2
    another)."""
    return getattr(model.config, "max_position_embeddings", None) or model.config.n_positions


class ProxyTuned(Forecaster):
    """Holds the expert (trainable, registered: LoRA on a private copy of the small model) and the
    base model (frozen, cached, not registered: it never enters a checkpoint and `.train()` never
    reaches it). A device move takes the cached base model for the new device."""

    decodes = True  # test forecasts are sampled token by token: a forward pass says little of their cost

    def __init__(self, config: ProxyConfig):
        super().__init__()
        if config.n_channels != 1:
            raise ValueError("proxy-tuned decoding forecasts one series: choose features S (the target)")
        if not config.temperature > 0 or not 0 < config.top_p <= 1 or config.samples < 1:
            raise ValueError("temperature must be above 0, top-p in (0, 1], and at least one sample drawn")
        if not 0 < config.scale_quantile <= 1 or config.scale_offset < 0:
            raise ValueError("the scaler needs a quantile in (0, 1] and an offset ≥ 0")
        self.config = config
        base, tokenizer = load_causal_lm(config.base)
        object.__setattr__(self, "base", base)  # held, not registered: never in a checkpoint
        self.tokenizer = tokenizer
        self.alphabet = Alphabet(tokenizer)
        # GPT-2's tokenizer has no padding token; padded positions are masked, so any id will do.
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.alphabet.end_id
        self.number_format = NumberFormat(config.digits)
        small, limits = self._small_model(config, tokenizer)
        self.vocab_size = min(len(tokenizer), base.config.vocab_size, *limits["vocab"])
        if config.tune == "lora":
            self.expert = self._aligned(
                with_lora(
                    small,
                    rank=config.lora_rank,
                    alpha=config.lora_alpha,
                    dropout=config.lora_dropout,
                    causal_lm=True,
                )
            )
            anti_expert = None  # the expert with its adapters off
        else:  # every weight tunes; the untuned copy stays beside it, frozen
            anti_expert = self._aligned(copy.deepcopy(small))
            self.expert = self._aligned(small.requires_grad_(True).train())
        object.__setattr__(self, "anti_expert", anti_expert)
        self.register_buffer(
            "chosen_alpha", torch.tensor(1.0 if config.alpha is None else float(config.alpha))
        )
        positions = _positions(base)
        most = min(positions, limits["positions"])
        if config.context_tokens > most:
            reader = config.base if positions == most else SMALL_LABELS.get(config.small, config.small)
            raise ValueError(
                f"the context of {config.context_tokens} tokens is too long: {reader} reads at most {most}; "
                f"set context tokens to {most} or less"
            )
        self.untrained_backbone = backbone_spec(config.base).untrained  # random weights: pages say so

    def _small_model(self, config: ProxyConfig, tokenizer):
        """The small model before tuning (a private copy, frozen) and its limits: the vocabulary
        sizes the grammar must stay within and the context it reads."""
        if config.small != NUMERIC:
            small, small_tokenizer = load_causal_lm(config.small, private=True)
            check_shared_vocabulary(tokenizer, small_tokenizer, config.base, config.small)
            positions = _positions(small)
            return small, {"vocab": [small.config.vocab_size], "positions": positions}
        digest = numeric_llama.weights_digest()
        if config.small_weights is None:
            config.small_weights = digest  # stored with the run: a reload checks it
        elif config.small_weights != digest:
            raise ValueError(
                "this run was tuned from other weights of the numeric language model than the ones "
                "installed now (they were pretrained again); train the run again"
            )
        small = numeric_llama.load_numeric_llama().requires_grad_(False)
        return small, {"vocab": [], "positions": numeric_llama.CONTEXT - 1}

    def _aligned(self, small):
        """The numeric model reads the base model's ids through `AlignedNumeric`; a language model of
        the base's family reads them as they are."""
        if self.config.small != NUMERIC:
            return small
        return numeric_llama.AlignedNumeric(small, self.alphabet, self.pad_id)

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        device = next(self.expert.parameters()).device
        if next(self.base.parameters()).device != device:
            object.__setattr__(self, "base", load_causal_lm(self.config.base, device=device)[0])
        if self.anti_expert is not None and next(self.anti_expert.parameters()).device != device:
            object.__setattr__(self, "anti_expert", self.anti_expert.to(device))
        return self

    def parameter_counts(self) -> tuple[int, int]:
        """The base model and the anti-expert are held, not registered: they count here."""
        trainable, total = super().parameter_counts()
        held = [self.base] + ([self.anti_expert] if self.anti_expert is not None else [])
        return trainable, total + sum(p.numel() for model in held for p in model.parameters())

    @property
    def device(self) -> torch.device:
        return next(self.base.parameters()).device

    # Training: the expert on serialised windows, with the language-model loss.

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        """The expert's next-token logits (B, T, V) over token ids and masks x (B, 2, T); V is the
        numeric model's 15 ids, or a language model's whole vocabulary."""
        return ForecastOutput(self.expert(input_ids=x[:, 0], attention_mask=x[:, 1], use_cache=False).logits)

    def training_loss(self, output: ForecastOutput, target: torch.Tensor, loss) -> torch.Tensor:
        """Next-token cross-entropy (the configured forecast loss does not apply to text); the
        trainer hands the labels over as floats, in the base model's ids."""
        labels = target.long()[:, 1:]
        if hasattr(self.expert, "atoms"):  # the numeric model: its own ids
            labels = self.expert.atoms(labels)
        logits = output.forecast[:, :-1]
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)

    validation_loss = training_loss

    def training_sets(self, data: ProtocolData, seq_len: int, pred_len: int):
        """Evenly spaced training windows (`train_windows`) and a quarter as many validation ones, in
        the series' own units, written as the text the model decodes from."""
        if data.splits["train"].shape[1] != 1:
            raise ValueError("proxy-tuned decoding writes the target series alone: choose features S")
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            raise ValueError("proxy-tuned decoding runs in one process; start it without torchrun")
        most = {"train": self.config.train_windows, "val": max(self.config.train_windows // 4, 8)}
        return tuple(
            lm_windows(
                self._raw(data, name),
                seq_len,
                pred_len,
                self.window,
                max_windows=most[name],
                end_id=self.alphabet.end_id,
                pad_id=self.pad_id,
            )
            for name in ("train", "val")
        )

    @staticmethod
    def _raw(data: ProtocolData, split: str) -> np.ndarray:
        return data.scaler.inverse_transform(data.splits[split])[:, 0]

    # Decoding

    def window(self, history: np.ndarray, future: np.ndarray | None = None) -> WindowText:
        c = self.config
        return window_text(
            history,
            future,
            self.alphabet,
            self.number_format,
            context_tokens=c.context_tokens,
            horizon=c.pred_len,
            scale_alpha=c.scale_quantile,
            scale_beta=c.scale_offset,
        )

    def sources(self, name: str, alpha: float | None = None) -> list[Source]:
        """The logit sources of a configuration; alpha None is the chosen one."""
        alpha = float(self.chosen_alpha) if alpha is None else alpha
        return configuration(name, self.base, self.expert, alpha, self.anti_expert)

    def settings(self, autocast: str = "fp32", use_cache: bool = True) -> DecodeSettings:
        c = self.config
        return DecodeSettings(c.samples, c.temperature, c.top_p, use_cache=use_cache, autocast=autocast)

    def forecast(
        self,
        history: np.ndarray,
        name: str = "proxy",
        *,
        seed: int = 0,
        autocast: str = "fp32",
        alpha: float | None = None,
    ) -> Forecast:
        """Sampled forecasts of the next `pred_len` values after `history`, in its units."""
        self.expert.eval()
        text = self.window(history)
        return sample_forecast(
            self.sources(name, alpha),
            text.prompt_ids,
            self.alphabet,
            self.number_format,
            text.scaler,
            self.config.pred_len,
            self.settings(autocast),
            seed=seed,
            device=self.device,
            vocab_size=self.vocab_size,
        )

    def nll(
        self,
        history: np.ndarray,
        future: np.ndarray,
        name: str = "proxy",
        autocast: str = "fp32",
        alpha: float | None = None,
    ) -> float:
        """Negative log-likelihood per time step of the true `future` (LLMTime's definition)."""
        self.expert.eval()
        text = self.window(history, future)
        return continuation_nll(
            self.sources(name, alpha),
            text.prompt_ids,
            text.continuation_ids,
            self.alphabet,
            self.number_format,
            text.scaler,
            self.config.pred_len,
            vocab_size=self.vocab_size,
            device=self.device,
            autocast=autocast,
        )

    def alpha_nlls(self, history: np.ndarray, future: np.ndarray, alphas=ALPHAS) -> dict[float, float]:
        """The proxy's NLL per time step of the true `future` for each alpha: the base, expert and
        anti-expert read the window once, and their logits are combined per alpha."""
        self.expert.eval()
        text = self.window(history, future)
        grammar = NumericGrammar(self.alphabet, self.number_format, self.config.pred_len, self.vocab_size)
        base, expert, anti = continuation_logits(
            self.sources("proxy", 1.0),
            text.prompt_ids,
            text.continuation_ids,
            symbol_ids=grammar.ids,
            device=self.device,
        )
        return {
            alpha: nll_of(base + alpha * (expert - anti), text.continuation_ids, grammar, text.scaler)
            for alpha in alphas
        }

    def choose_alpha(self, windows, on_window: Callable[[int, int], None] | None = None) -> dict:
        """Alpha: the one of ALPHAS whose proxy gives the true futures of `windows` ((history,
        future) pairs) the lowest mean NLL, the smaller alpha on a tie; stored as the alpha to decode
        with unless the config fixes it. `on_window(done, total)` is called before each window. The
        curve is returned either way."""
        totals = dict.fromkeys(ALPHAS, 0.0)
        for done, (history, future) in enumerate(windows):
            if on_window is not None:
                on_window(done, len(windows))
            for alpha, value in self.alpha_nlls(history, future).items():
                totals[alpha] += value / len(windows)
        chosen = min(ALPHAS, key=lambda alpha: (totals[alpha], alpha))
        if self.config.alpha is None:
            self.chosen_alpha.fill_(chosen)
        return {
            "alpha": float(self.chosen_alpha),
            "alpha_chosen_on": "validation" if self.config.alpha is None else "fixed in the settings",
            "alpha_curve": {f"{alpha:g}": value for alpha, value in totals.items()},
            "alpha_windows": len(windows),
        }

    def select_on_validation(self, context: PredictionContext) -> dict:
        """`choose_alpha` on `alpha_windows` evenly spaced windows of the validation split."""
        val = self._raw(context.data, "val")
        seq_len, pred_len = self.config.seq_len, self.config.pred_len
        count = len(val) - seq_len - pred_len + 1
        if count < 1:
            raise ValueError(
                "the validation split holds no full window; shorten the look-back or the horizon"
            )
        windows = [
            (val[start : start + seq_len], val[start + seq_len : start + seq_len + pred_len])
            for start in evenly_spaced(count, self.config.alpha_windows)
        ]

        def on_window(done: int, total: int) -> None:
            context.check_cancelled()
            context.report(phase="choosing alpha on the validation split", phase_done=done, phase_total=total)

        return self.choose_alpha(windows, on_window)

    def decode_windows(
        self,
        series: np.ndarray,
        starts: np.ndarray,
        seed: int,
        autocast: str,
        report=None,
        check_cancelled=None,
        configurations: dict[str, tuple[str, float | None]] = CONFIGURATIONS,
        seq_len: int | None = None,
    ) -> dict[str, np.ndarray]:
        """For each window start in `series` (its own units): every configuration's median, band and
        NLL. Each window draws from its own seed (`seed` + its start), the same for every
        configuration; two names for the same configuration and alpha (the proxy when the chosen
        alpha is 1) are decoded once. `seq_len`: values of history per window, if not the config's
        (M4 reads each series' whole training part; the context trims it)."""
        seq_len, pred_len = seq_len or self.config.seq_len, self.config.pred_len
        resolved = {
            name: (kind, float(self.chosen_alpha) if alpha is None else alpha)
            for name, (kind, alpha) in configurations.items()
        }
        out: dict[str, list] = {"actual": [], "redrawn": [], "dropped": [], "tokens": [], "seconds": []}
        for name in configurations:
            for key in (
                "forecast",
                "nll",
                *(f"{side}{level}" for level in LEVELS for side in ("lower", "upper")),
            ):
                out[f"{name}_{key}"] = []
        total, done = len(starts) * len(configurations), 0
        for start in starts:
            history = series[start : start + seq_len]
            future = series[start + seq_len : start + seq_len + pred_len]
            out["actual"].append(future)
            decoded: dict[tuple[str, float], tuple[Forecast, float]] = {}
            for name, (kind, alpha) in resolved.items():
                if check_cancelled is not None:
                    check_cancelled()
                if report is not None:
                    report(phase="decoding the test windows", phase_done=done, phase_total=total)
                if (kind, alpha) not in decoded:
                    forecast = self.forecast(
                        history, kind, seed=seed + int(start), autocast=autocast, alpha=alpha
                    )
                    nll = self.nll(history, future, kind, autocast=autocast, alpha=alpha)
                    decoded[kind, alpha] = forecast, nll
                    for key in ("redrawn", "dropped", "tokens", "seconds"):
                        out[key].append(getattr(forecast.stats, key))
                forecast, nll = decoded[kind, alpha]
                out[f"{name}_forecast"].append(forecast.median)
                for level, (lower, upper) in forecast.bands.items():
                    out[f"{name}_lower{level}"].append(lower)
                    out[f"{name}_upper{level}"].append(upper)
                out[f"{name}_nll"].append(nll)
                done += 1
        if report is not None:
            report(phase_done=done, phase_total=total)
        return {key: np.asarray(value) for key, value in out.items()}

    def _scaled(self, values: np.ndarray) -> np.ndarray:
        """Values in the target's units (N, H) to the scaled (N, H, 1) every run is scored on."""
        mean, std = self.config.input_mean[0], self.config.input_std[0]
        return ((np.asarray(values, dtype=np.float64) - mean) / std)[..., None].astype(np.float32)

    def test_predictions(self, context: PredictionContext) -> Predictions:
        """The evenly spaced test windows decoded four ways (CONFIGURATIONS); the proxy's at the
        chosen alpha is the run's forecast."""
        if context.drop_last_batch:
            raise ValueError(
                "proxy-tuned decoding scores an evenly spaced subset of test windows, not batches: "
                "leave 'drop the last incomplete test batch' off"
            )
        test = self._raw(context.data, "test")
        count = len(test) - context.seq_len - context.pred_len + 1
        if count < 1:
            raise ValueError("the test split holds no full window; shorten the look-back or the horizon")
        chosen = evenly_spaced(count, self.config.test_windows)
        # Decoding steps read one token per row: on a CPU, bf16 autocast re-casts every weight per
        # step and ran 0.72-0.83x as fast as fp32 (proxy_speed.json of 2026-11-26); a GPU keeps the
        # trainer's precision.
        autocast = "fp32" if context.device.type == "cpu" else context.precision
        decoded = self.decode_windows(
            test, chosen, context.seed, autocast, context.report, context.check_cancelled
        )
        variants = {
            name: Variant(
                self._scaled(decoded[f"{name}_forecast"]),
                {
                    level: Band(
                        self._scaled(decoded[f"{name}_lower{level}"]),
                        self._scaled(decoded[f"{name}_upper{level}"]),
                    )
                    for level in LEVELS
                },
                {"nll": float(np.mean(decoded[f"{name}_nll"]))},
            )
            for name in CONFIGURATIONS
        }
        main = variants["proxy"]
        return Predictions(
            forecast=main.forecast,
            actual=self._scaled(decoded["actual"]),
            window_index=chosen,
            bands=main.bands,
            name="proxy",
            variants=variants,
            metrics={
                "nll": main.metrics["nll"],
                "redrawn": int(decoded["redrawn"].sum()),
                "dropped": int(decoded["dropped"].sum()),
                "tokens_per_s": float(decoded["tokens"].sum() / max(decoded["seconds"].sum(), 1e-9)),
                "decode_precision": autocast,
                "alpha": float(self.chosen_alpha),
            },
        )

    def calibration_residuals(self, context: PredictionContext, validation=None) -> None:
        """None: the samples' quantiles are this model's bands (decoding every validation window
        to calibrate others would cost as much as the test)."""
        return None

    def forecast_ahead(self, window: np.ndarray, output_index: list[int], seed: int = 0) -> Predictions:
        """Fresh samples after one scaled window (L, 1): the proxy's median and its 80 % and 95 % bands."""
        history = window[:, output_index[0]] * self.config.input_std[0] + self.config.input_mean[0]
        sampled = self.forecast(history, "proxy", seed=seed)
        forecast = self._scaled(sampled.median[None])
        bands = {
            level: Band(self._scaled(lower[None]), self._scaled(upper[None]))
            for level, (lower, upper) in sampled.bands.items()
        }
        return Predictions(forecast, np.full_like(forecast, np.nan), np.zeros(1, dtype=int), bands=bands)
