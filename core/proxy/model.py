"""The proxy-tuned forecaster: a base model, a small expert and its untuned self, in one object."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from core.proxy.decoding import DecodeSettings, Forecast, configuration, continuation_nll, sample_forecast
from core.proxy.expert import ExpertLM
from core.proxy.lm import CHOICES, check_shared_vocabulary, load_causal_lm
from core.proxy.serialize import Alphabet, NumberFormat, WindowText, window_text

CONFIGURATIONS = ("base", "expert", "proxy")  # base alone, the tuned small model alone, proxy-tuned


@dataclass
class ProxyConfig:
    seq_len: int = 96  # values of history per window (trimmed further to fit the context)
    pred_len: int = 24
    n_channels: int = 1  # the target only: the language model writes one series
    base: str = field(default="smollm2-135m", metadata={"choices": CHOICES})
    small: str = field(default="smollm2-135m", metadata={"choices": CHOICES})
    small_layers: int = 4  # the small model keeps its first this many blocks
    # Weight of (expert − anti-expert); 0 is the base model alone, 1 the paper's proxy-tuning. With
    # the offline small model (SmolLM2 cut to a few layers, tuned on a CPU budget) alpha 1 made the
    # numbers run long (the untuned cut model's strong preference for the separator is subtracted);
    # bench/results/proxy_ili.json and proxy_m4_hourly.json compare 0.3 and 1.
    alpha: float = 0.3
    samples: int = 10
    temperature: float = 0.7
    top_p: float = 0.9
    digits: int = 3  # digits after the implied decimal point
    context_tokens: int = 1024  # history and forecast together; the oldest history is trimmed
    train_windows: int = 256  # serialised training windows the expert sees per epoch (evenly spaced)
    test_windows: int = 16  # test windows decoded (evenly spaced); decoding is the costly part
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    scale_quantile: float = 0.95  # LLMTime's alpha: the scaler's quantile
    scale_offset: float = 0.3  # LLMTime's beta: the offset below the minimum, in ranges


class ProxyTuned(nn.Module):
    """Holds the expert (trainable, registered) and the base model (frozen, cached, not registered:
    it never enters a checkpoint and `.train()` never reaches it). Both are loaded on `device`;
    build another forecaster for another device (`.to()` would move the expert alone)."""

    def __init__(self, config: ProxyConfig, device: str | torch.device = "cpu"):
        super().__init__()
        if config.n_channels != 1:
            raise ValueError("proxy-tuned decoding forecasts one series: choose features S (the target)")
        if not config.temperature > 0 or not 0 < config.top_p <= 1 or config.samples < 1:
            raise ValueError("temperature must be above 0, top-p in (0, 1], and at least one sample drawn")
        if not 0 < config.scale_quantile <= 1 or config.scale_offset < 0:
            raise ValueError("the scaler needs a quantile in (0, 1] and an offset ≥ 0")
        self.config = config
        base, tokenizer = load_causal_lm(config.base, device=device)
        small, small_tokenizer = load_causal_lm(
            config.small, layers=config.small_layers, device=device, private=True
        )
        check_shared_vocabulary(tokenizer, small_tokenizer, config.base, config.small)
        self.expert = ExpertLM(small, config.lora_rank, config.lora_alpha, config.lora_dropout)
        object.__setattr__(self, "base", base)
        self.tokenizer = tokenizer
        self.alphabet = Alphabet(tokenizer)
        # GPT-2's tokenizer has no padding token; padded positions are masked, so any id will do.
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.alphabet.end_id
        self.number_format = NumberFormat(config.digits)
        self.vocab_size = min(len(tokenizer), base.config.vocab_size, small.config.vocab_size)
        positions = getattr(base.config, "max_position_embeddings", None) or base.config.n_positions
        if config.context_tokens > positions:
            raise ValueError(
                f"{config.base} reads at most {positions} tokens; lower the context to {positions} or less"
            )

    @property
    def device(self) -> torch.device:
        return next(self.base.parameters()).device

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

    def sources(self, name: str, alpha: float | None = None):
        return configuration(name, self.base, self.expert.lm, self.config.alpha if alpha is None else alpha)

    def settings(self, autocast: str = "fp32", use_cache: bool = True) -> DecodeSettings:
        c = self.config
        return DecodeSettings(c.samples, c.temperature, c.top_p, use_cache=use_cache, autocast=autocast)

    def forecast(
        self, history: np.ndarray, name: str = "proxy", *, seed: int = 0, autocast: str = "fp32"
    ) -> Forecast:
        """Sampled forecasts of the next `pred_len` values after `history`, in its units."""
        self.expert.eval()
        text = self.window(history)
        return sample_forecast(
            self.sources(name),
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
        self, history: np.ndarray, future: np.ndarray, name: str = "proxy", autocast: str = "fp32"
    ) -> float:
        """Negative log-likelihood per time step of the true `future` (LLMTime's definition)."""
        self.expert.eval()
        text = self.window(history, future)
        return continuation_nll(
            self.sources(name),
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
