"""Sampling numbers from language models, alone or proxy-tuned, and scoring a continuation.

Proxy-tuning (Liu et al., 2024): at each step the logits are base + alpha · (expert − anti-expert),
token by token over the shared vocabulary; the expert is the small model tuned on the series, the
anti-expert the same small model untuned. alpha = 0 is the base model alone. Each configuration is
a list of weighted logit sources, each with its own key-value cache; they step in lock-step over
the same sampled tokens.

Every step is constrained by `NumericGrammar` (digits, a separator after at least one digit, a
minus only at a number's start, an end token only between numbers), then tempered and cut to the
top-p nucleus. S samples of one window decode as one batch; the per-step median is the forecast
and quantiles give a band. A sample that ends before the horizon is malformed: it is drawn again
(the count is kept).
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.proxy.serialize import Alphabet, NumberFormat, Scaler, from_text, worst_case_tokens


@dataclass
class GrammarState:
    digits: torch.Tensor  # digits written in the current number, per row
    minus: torch.Tensor  # the current number has its minus sign
    values: torch.Tensor  # numbers completed (separators written)
    ended: torch.Tensor  # the end token was written


class NumericGrammar:
    """Which tokens may come next, per row: the numeric alphabet in a well-formed order.

    Usable on its own (`start`, `allowed`, `advance`), as the sampler here does, or as a logits
    processor for transformers' `generate` (the same call signature) over `input_ids` whose first
    `prompt_length` tokens are the prompt. transformers is not imported: importing the model
    registry stays fast.
    """

    def __init__(
        self,
        alphabet: Alphabet,
        number_format: NumberFormat,
        horizon: int,
        vocab_size: int,
        prompt_length: int = 0,
    ):
        self.alphabet, self.format, self.horizon = alphabet, number_format, horizon
        self.prompt_length, self.vocab_size = prompt_length, vocab_size
        # Everything is decided over the K symbols (ten digits, separator, minus, end): the ids of
        # the symbols, and per vocabulary id the symbol it is (or -1).
        self.ids = torch.tensor(
            [*alphabet.digit_ids, alphabet.separator_id, alphabet.minus_id, alphabet.end_id]
        )
        self.symbol = torch.full((vocab_size,), -1, dtype=torch.long)
        self.symbol[self.ids] = torch.arange(len(self.ids))
        kinds = torch.arange(len(self.ids))
        self.digit, self.separator = kinds < 10, kinds == 10
        self.minus, self.end = kinds == 11, kinds == 12

    def start(self, rows: int) -> GrammarState:
        zeros = torch.zeros(rows, dtype=torch.long)
        return GrammarState(zeros.clone(), zeros.bool(), zeros.clone(), zeros.bool())

    def done(self, state: GrammarState) -> torch.Tensor:
        return state.ended | (state.values >= self.horizon)

    def allowed(self, state: GrammarState) -> torch.Tensor:
        """(rows, K) booleans over the symbols in `ids` order."""
        at_start = (state.digits == 0) & ~state.minus
        in_number = state.digits > 0
        full = state.digits >= self.format.max_digits
        rows = (
            (~full)[:, None] & self.digit[None]
            | in_number[:, None] & self.separator[None]
            | (at_start & torch.tensor(self.format.signed))[:, None] & self.minus[None]
            | at_start[:, None] & self.end[None]
        )
        finished = self.done(state)
        return torch.where(finished[:, None], self.end[None], rows)

    def advance(self, state: GrammarState, tokens: torch.Tensor) -> None:
        """Step the state over one token per row (vocabulary ids; any other id is an error)."""
        symbols = self.symbol[tokens.cpu()]
        if bool((symbols < 0).any()):
            raise ValueError("a token outside the numeric alphabet was written")
        live = ~self.done(state)
        is_digit = self.digit[symbols] & live
        is_separator = self.separator[symbols] & live
        state.digits = torch.where(is_separator, 0, state.digits + is_digit.long())
        state.minus = (state.minus | (self.minus[symbols] & live)) & ~is_separator
        state.values = state.values + is_separator.long()
        state.ended = state.ended | (self.end[symbols] & live)

    def vocabulary_mask(self, state: GrammarState) -> torch.Tensor:
        """(rows, V) booleans: `allowed` spread over the whole vocabulary."""
        allowed = self.allowed(state)
        mask = torch.zeros(allowed.shape[0], self.vocab_size, dtype=torch.bool)
        mask[:, self.ids] = allowed
        return mask

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """The transformers logits-processor interface: disallowed tokens get −inf."""
        state = self.start(input_ids.shape[0])
        for column in input_ids[:, self.prompt_length :].T:
            self.advance(state, column)
        allowed = self.vocabulary_mask(state).to(scores.device)
        width = min(allowed.shape[1], scores.shape[1])
        masked = torch.full_like(scores, -math.inf)
        masked[:, :width] = torch.where(allowed[:, :width], scores[:, :width], -math.inf)
        return masked


@dataclass(frozen=True)
class Source:
    """One model's logits with a weight; `adapter` True/False turns a peft model's LoRA on or off."""

    weight: float
    model: object
    adapter: bool | None = None

    def _adapter(self):
        return self.model.disable_adapter() if self.adapter is False else nullcontext()

    def forward(self, **inputs):
        with self._adapter():
            return self.model(**inputs)

    def symbol_logits(self, symbol_ids: torch.Tensor, keep: int = 1, **inputs) -> tuple[object, torch.Tensor]:
        """The key-value cache and the last `keep` positions' logits over the symbols only, (rows,
        keep, K): one position for a sampling step, the continuation's for its likelihood.

        Llama and GPT-2 heads are plain linear maps, so only their K symbol rows are applied: SmolLM2's
        head (49,152 × 576) is a fifth of the 30-layer model's work per token and two thirds of a
        4-layer one's. Other families run their whole head and are sliced.
        """
        with self._adapter():
            if hasattr(self.model, "symbol_logits"):  # a model that answers over the symbols itself
                return self.model.symbol_logits(symbol_ids, keep, **inputs)
            causal = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
            head = causal.get_output_embeddings() if hasattr(causal, "get_output_embeddings") else None
            model_type = getattr(getattr(causal, "config", None), "model_type", None)
            if model_type in _PLAIN_HEADS and isinstance(head, nn.Linear):
                output = causal.base_model(**inputs)
                bias = None if head.bias is None else head.bias[symbol_ids]
                hidden = output.last_hidden_state[:, -keep:]
                return output.cache, F.linear(hidden, head.weight[symbol_ids], bias)
            output = self.model(**inputs, logits_to_keep=keep)
            return output.cache, output.logits[:, -keep:][..., symbol_ids]


_PLAIN_HEADS = ("llama", "gpt2")  # logits = hidden @ W.T (+ b): no scaling or soft-capping after it


def configuration(name: str, base, small=None, alpha: float = 1.0, anti_expert=None) -> list[Source]:
    """The logit sources of 'base' (base alone), 'expert' (the tuned small model) or 'proxy'.

    The anti-expert is `small` with its LoRA adapters off, or `anti_expert` when the expert was
    tuned in full (a frozen copy of the small model before tuning)."""
    if name == "base":
        return [Source(1.0, base)]
    if small is None:
        raise ValueError(f"the {name} configuration needs the tuned small model")
    tuned = None if anti_expert is not None else True
    if name == "expert":
        return [Source(1.0, small, tuned)]
    if name == "proxy":
        untuned = Source(-alpha, small, False) if anti_expert is None else Source(-alpha, anti_expert)
        return [Source(1.0, base), Source(alpha, small, tuned), untuned]
    raise ValueError(f"unknown configuration {name!r}; choose base, expert or proxy")


def combine(logits: list[torch.Tensor], sources: list[Source]) -> torch.Tensor:
    """Σ weight · logits, token by token, in fp32 (callers slice the shared vocabulary first)."""
    total = None
    for source, value in zip(sources, logits, strict=True):
        term = source.weight * value.float()
        total = term if total is None else total + term
    return total


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches top_p (at least one)."""
    if top_p >= 1:
        return logits
    ordered, order = logits.sort(dim=-1, descending=True)
    cumulative = ordered.softmax(-1).cumsum(-1)
    drop = cumulative - ordered.softmax(-1) >= top_p  # mass before this token already reached top_p
    ordered = ordered.masked_fill(drop, -math.inf)
    return torch.full_like(logits, -math.inf).scatter(-1, order, ordered)


@dataclass
class DecodeSettings:
    samples: int = 10
    temperature: float = 0.7
    top_p: float = 0.9
    max_redraws: int = 3  # rounds of drawing malformed samples again
    use_cache: bool = True
    autocast: str = "fp32"  # or bf16 (CPU or GPU) / fp16 (GPU)

    def __post_init__(self):
        if self.samples < 1:
            raise ValueError("draw at least one sample")
        if not self.temperature > 0:
            raise ValueError(f"the temperature must be above 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top-p must lie in (0, 1], got {self.top_p}")


@dataclass
class DecodeStats:
    tokens: int = 0  # sampled tokens, summed over rows
    seconds: float = 0.0
    redrawn: int = 0  # malformed samples drawn again
    dropped: int = 0  # still malformed after every redraw


def _autocast(precision: str, device: torch.device):
    if precision == "fp32":
        return nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


@torch.no_grad()
def _draw(
    sources: list[Source],
    prompt: torch.Tensor,
    grammar: NumericGrammar,
    rows: int,
    settings: DecodeSettings,
    generator: torch.Generator,
    stats: DecodeStats,
) -> tuple[torch.Tensor, GrammarState]:
    """`rows` samples continuing `prompt` (1, T): their tokens (rows, steps) and grammar state."""
    device = prompt.device
    state = grammar.start(rows)
    symbol_ids = grammar.ids.to(device)
    caches, logits = [], []
    for source in sources:  # read the prompt once, then share its cache across the rows
        cache, last = source.symbol_logits(symbol_ids, input_ids=prompt, use_cache=settings.use_cache)
        if settings.use_cache:
            cache.batch_repeat_interleave(rows)
        caches.append(cache if settings.use_cache else None)
        logits.append(last[:, -1].expand(rows, -1))
    sequence = prompt.expand(rows, -1)
    written = []
    started = time.perf_counter()
    for _ in range(worst_case_tokens(grammar.horizon, grammar.format)):
        # Every other token is disallowed (−inf), so the K symbols' logits decide the draw alone.
        scores = combine(logits, sources)
        scores = scores.masked_fill(~grammar.allowed(state).to(device), -math.inf)
        scores = top_p_filter(scores / settings.temperature, settings.top_p)
        picks = torch.multinomial(scores.softmax(-1).cpu(), 1, generator=generator).to(device)
        tokens = symbol_ids[picks]
        finished = grammar.done(state).to(device)
        tokens = torch.where(finished[:, None], grammar.alphabet.end_id, tokens)
        stats.tokens += int((~finished).sum())
        grammar.advance(state, tokens[:, 0])
        written.append(tokens)
        if bool(grammar.done(state).all()):
            break
        sequence = torch.cat([sequence, tokens], dim=1)
        logits = []
        for i, source in enumerate(sources):
            if settings.use_cache:
                caches[i], last = source.symbol_logits(
                    symbol_ids, input_ids=tokens, cache=caches[i], use_cache=True
                )
            else:  # the whole sequence again: what the cache saves
                _, last = source.symbol_logits(symbol_ids, input_ids=sequence, use_cache=False)
            logits.append(last[:, -1])
    stats.seconds += time.perf_counter() - started
    return torch.cat(written, dim=1), state


@dataclass
class Forecast:
    samples: np.ndarray  # (S, H) in the series' units
    median: np.ndarray  # (H,)
    bands: dict[float, tuple[np.ndarray, np.ndarray]]  # central coverage -> (lower, upper), each (H,)
    stats: DecodeStats = field(default_factory=DecodeStats)


def sample_forecast(
    sources: list[Source],
    prompt_ids: list[int],
    alphabet: Alphabet,
    number_format: NumberFormat,
    scaler: Scaler,
    horizon: int,
    settings: DecodeSettings,
    *,
    seed: int = 0,
    levels: tuple[float, ...] = (0.8, 0.95),
    device="cpu",
    vocab_size: int,
) -> Forecast:
    """S sampled continuations of the prompt, their median, and for each central coverage in
    `levels` the band between the samples' quantiles around it (0.8: the 10 % and 90 % ones), in
    the series' units."""
    device = torch.device(device)
    grammar = NumericGrammar(alphabet, number_format, horizon, vocab_size)
    generator = torch.Generator().manual_seed(seed)
    prompt = torch.tensor([prompt_ids], dtype=torch.long, device=device)
    stats = DecodeStats()
    good: list[np.ndarray] = []
    wanted = settings.samples
    with _autocast(settings.autocast, device):
        for round_ in range(settings.max_redraws + 1):
            tokens, state = _draw(sources, prompt, grammar, wanted, settings, generator, stats)
            complete = (state.values >= horizon) & ~state.ended
            for row in torch.nonzero(complete).flatten().tolist():
                text = alphabet.decode(tokens[row].tolist())
                good.append(scaler.inverse(from_text(text, number_format)[:horizon]))
            wanted = int((~complete).sum())
            if wanted == 0:
                break
            if round_ < settings.max_redraws:
                stats.redrawn += wanted
    stats.dropped = wanted
    if not good:
        raise ValueError(
            f"none of the {settings.samples} samples wrote {horizon} numbers, even after "
            f"{settings.max_redraws} redraws; try a lower temperature or a shorter horizon"
        )
    samples = np.stack(good)
    bands = {}
    for level in levels:
        lower, upper = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
        bands[level] = (lower, upper)
    return Forecast(samples, np.median(samples, axis=0), bands, stats)


@torch.no_grad()
def continuation_logits(
    sources: list[Source],
    prompt_ids: list[int],
    continuation_ids: list[int],
    *,
    symbol_ids: torch.Tensor,
    device="cpu",
    autocast: str = "fp32",
) -> list[torch.Tensor]:
    """Each source's logits over the symbols at the positions that predict each continuation token,
    (T, K) apiece: one forward pass per source over the prompt and the continuation together."""
    device = torch.device(device)
    ids = torch.tensor([prompt_ids + continuation_ids], dtype=torch.long, device=device)
    keep = len(continuation_ids) + 1  # the positions that predict each continuation token (and one more)
    with _autocast(autocast, device):
        return [
            s.symbol_logits(symbol_ids.to(device), keep, input_ids=ids, use_cache=False)[1][0, :-1].float()
            for s in sources
        ]


def nll_of(
    scores: torch.Tensor,
    continuation_ids: list[int],
    grammar: NumericGrammar,
    scaler: Scaler,
) -> float:
    """LLMTime's negative log-likelihood per time step of the continuation under combined symbol
    logits `scores` (T, K), in series units (see `continuation_nll`)."""
    state = grammar.start(1)
    masks = []
    for token in continuation_ids:
        masks.append(grammar.allowed(state)[0] & ~grammar.end)  # the true series does not stop early
        grammar.advance(state, torch.tensor([token]))
    scores = scores.masked_fill(~torch.stack(masks).to(scores.device), -math.inf)
    target = grammar.symbol[torch.tensor(continuation_ids)].to(scores.device)
    log_probability = scores.log_softmax(-1).gather(-1, target[:, None]).sum()
    per_step = -float(log_probability) / grammar.horizon
    return per_step - grammar.format.digits * math.log(10) + math.log(scaler.scale)


def continuation_nll(
    sources: list[Source],
    prompt_ids: list[int],
    continuation_ids: list[int],
    alphabet: Alphabet,
    number_format: NumberFormat,
    scaler: Scaler,
    horizon: int,
    *,
    vocab_size: int,
    device="cpu",
    autocast: str = "fp32",
) -> float:
    """LLMTime's negative log-likelihood per time step of the true continuation, in series units.

    The tokens' log-probabilities under the configuration's grammar-constrained distribution (at
    temperature 1, no nucleus, no end token: LLMTime renormalises over the number symbols alone),
    summed and divided by the horizon, become a density over the values: − digits · ln 10 for the
    width of the last digit's bin, + ln(scale) for the scaler. The grammar is position-aware (no
    separator before a digit, no minus inside a number), a little stricter than LLMTime's plain set.
    """
    grammar = NumericGrammar(alphabet, number_format, horizon, vocab_size)
    logits = continuation_logits(
        sources, prompt_ids, continuation_ids, symbol_ids=grammar.ids, device=device, autocast=autocast
    )
    return nll_of(combine(logits, sources), continuation_ids, grammar, scaler)
