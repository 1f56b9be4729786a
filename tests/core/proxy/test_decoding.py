"""Decoding: the numeric grammar, proxy arithmetic, lock-step caches, sampling and the NLL."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core.lm import load_causal_lm, with_lora
from core.proxy.decoding import (
    DecodeSettings,
    NumericGrammar,
    Source,
    combine,
    configuration,
    continuation_nll,
    sample_forecast,
    top_p_filter,
)
from core.proxy.serialize import (
    Alphabet,
    NumberFormat,
    window_text,
)

# ---------------------------------------------------------------- models for decoding tests


@pytest.fixture(scope="module")
def models():
    """A tiny random Llama as the base (2 layers) and its first layer as the small model, with
    LoRA weights moved off zero so that the expert differs from the anti-expert."""
    base, tokenizer = load_causal_lm("tiny-random-llama")
    small, _ = load_causal_lm("tiny-random-llama", layers=1, private=True)
    expert = with_lora(small, rank=4, alpha=16, dropout=0.05, causal_lm=True)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(1)
        for name, parameter in expert.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    expert.eval()
    return SimpleNamespace(base=base, expert=expert, tokenizer=tokenizer, alphabet=Alphabet(tokenizer))


def _window(models, horizon=5):
    series = 20 + 5 * np.sin(np.arange(60) * 2 * np.pi / 12)
    return window_text(
        series[:48],
        series[48 : 48 + horizon],
        models.alphabet,
        NumberFormat(2),
        context_tokens=512,
        horizon=horizon,
    )


def test_combined_logits_are_base_plus_alpha_times_expert_minus_anti_expert(models):
    ids = torch.tensor([_window(models).prompt_ids])
    with torch.no_grad():
        base = models.base(input_ids=ids).logits
        expert = models.expert(input_ids=ids).logits
        with models.expert.disable_adapter():
            anti = models.expert(input_ids=ids).logits
        sources = configuration("proxy", models.base, models.expert, alpha=0.7)
        combined = combine([s.forward(input_ids=ids).logits for s in sources], sources)
    assert not torch.allclose(expert, anti)  # the adapters do something, so the test can fail
    assert torch.allclose(combined, base + 0.7 * (expert - anti), atol=1e-5)


def test_only_the_numeric_alphabet_is_ever_written(models):
    """Through transformers' own sampler with the grammar as its logits processor: every token is
    a digit, separator, minus or end, in a well-formed order."""
    prompt = torch.tensor([_window(models).prompt_ids])
    number_format = NumberFormat(2, max_digits=4)
    grammar = NumericGrammar(models.alphabet, number_format, 6, len(models.tokenizer), prompt.shape[1])
    torch.manual_seed(0)
    out = models.base.generate(
        prompt.expand(8, -1),
        attention_mask=torch.ones(8, prompt.shape[1], dtype=torch.long),
        logits_processor=[grammar],
        do_sample=True,
        top_k=0,
        max_new_tokens=40,
        pad_token_id=models.alphabet.end_id,
    )
    written = out[:, prompt.shape[1] :]
    allowed = set(models.alphabet.ids.values()) | {models.alphabet.end_id}
    assert set(written.flatten().tolist()) <= allowed
    for row in written.tolist():
        text = models.alphabet.decode(row)
        for number in text.split(",")[:-1]:
            assert number.lstrip("-").isdigit() and len(number.lstrip("-")) <= 4
        assert text.count("-") == sum(n.startswith("-") for n in text.split(","))  # minus only in front


def test_alpha_zero_reproduces_the_base_models_samples(models):
    window = _window(models)
    common = dict(
        alphabet=models.alphabet,
        number_format=NumberFormat(2),
        scaler=window.scaler,
        horizon=5,
        settings=DecodeSettings(samples=6, temperature=1.0, top_p=0.95),
        seed=3,
        vocab_size=len(models.tokenizer),
    )
    base = sample_forecast(configuration("base", models.base), window.prompt_ids, **common)
    proxy0 = sample_forecast(
        configuration("proxy", models.base, models.expert, 0.0), window.prompt_ids, **common
    )
    proxy1 = sample_forecast(
        configuration("proxy", models.base, models.expert, 1.0), window.prompt_ids, **common
    )
    assert np.array_equal(base.samples, proxy0.samples)
    assert not np.array_equal(
        base.samples, proxy1.samples
    )  # alpha matters, so equality above means something


def test_cached_lock_step_logits_equal_a_full_recomputation(models):
    """Each source's cached, step-by-step symbol logits (the path the sampler takes, with its head
    cut to the K symbols) match a full forward pass over the whole sequence, sliced."""
    prompt = torch.tensor([_window(models).prompt_ids])
    continuation = torch.tensor([models.alphabet.encode("12,305,-7,")])
    grammar = NumericGrammar(models.alphabet, NumberFormat(2), 3, len(models.tokenizer))
    sources = configuration("proxy", models.base, models.expert, 1.0)
    with torch.no_grad():
        for source in sources:
            cache, last = source.symbol_logits(grammar.ids, input_ids=prompt, use_cache=True)
            cache.batch_repeat_interleave(2)
            stepped = [last[:, -1].expand(2, -1)]
            for token in continuation[0]:
                cache, last = source.symbol_logits(
                    grammar.ids, input_ids=token.view(1, 1).expand(2, 1), cache=cache, use_cache=True
                )
                stepped.append(last[:, -1])
            full = source.forward(input_ids=torch.cat([prompt, continuation], 1), use_cache=False).logits
            expected = full[0, prompt.shape[1] - 1 :][:, grammar.ids]
            assert torch.allclose(torch.stack(stepped, 1)[0], expected, atol=1e-4)
            assert torch.allclose(torch.stack(stepped, 1)[1], expected, atol=1e-4)


def test_the_sampling_loop_gives_the_same_draws_with_and_without_the_caches(models):
    window = _window(models)
    runs = [
        sample_forecast(
            configuration("proxy", models.base, models.expert, 1.0),
            window.prompt_ids,
            models.alphabet,
            NumberFormat(2),
            window.scaler,
            5,
            DecodeSettings(samples=4, temperature=1.0, top_p=1.0, use_cache=use_cache),
            seed=11,
            vocab_size=len(models.tokenizer),
        )
        for use_cache in (True, False)
    ]
    assert np.array_equal(runs[0].samples, runs[1].samples)
    assert runs[0].samples.shape == (4 - runs[0].stats.dropped, 5)


def test_the_sampler_writes_only_well_formed_numbers(models):
    """The sampler's own loop (not transformers'): every token is a symbol, and each finished row
    reads as exactly `horizon` numbers, none longer than the format allows."""
    from core.proxy.decoding import DecodeStats, _draw

    window = _window(models)
    number_format = NumberFormat(2, max_digits=4)
    grammar = NumericGrammar(models.alphabet, number_format, 6, len(models.tokenizer))
    tokens, state = _draw(
        configuration("proxy", models.base, models.expert, 1.0),
        torch.tensor([window.prompt_ids]),
        grammar,
        12,
        DecodeSettings(samples=12, temperature=1.5, top_p=1.0),
        torch.Generator().manual_seed(0),
        DecodeStats(),
    )
    assert set(tokens.flatten().tolist()) <= set(grammar.ids.tolist())
    for row, ended in zip(tokens.tolist(), state.ended.tolist(), strict=True):
        text = models.alphabet.decode(row)
        numbers = text.split(",")
        if not ended:
            assert len(numbers) == 7 and numbers[-1] == ""  # six numbers, each ended by a separator
        for number in numbers[:-1]:
            digits = number.removeprefix("-")
            assert digits.isdigit() and len(digits) <= 4


class _EndHappy(torch.nn.Module):
    """Logits under which a number's start is the end token with probability `p_end` (against the
    ten digits; the minus sign is all but ruled out)."""

    def __init__(self, alphabet, vocab_size, p_end):
        super().__init__()
        self.logits = torch.full((vocab_size,), -30.0)
        self.logits[alphabet.digit_ids] = 0.0
        self.logits[alphabet.separator_id] = 0.0
        self.logits[alphabet.end_id] = math.log(10 * p_end / (1 - p_end)) if p_end < 1 else 30.0

    def forward(self, input_ids, use_cache=False, cache=None, logits_to_keep=0):
        positions = logits_to_keep or input_ids.shape[1]
        return SimpleNamespace(logits=self.logits.expand(input_ids.shape[0], positions, -1), cache=None)


@pytest.mark.parametrize("p_end", [0.15, 1.0])
def test_malformed_samples_are_drawn_again_and_counted(models, p_end):
    window = _window(models)
    fake = _EndHappy(models.alphabet, len(models.tokenizer), p_end)
    call = dict(
        alphabet=models.alphabet,
        number_format=NumberFormat(2),
        scaler=window.scaler,
        horizon=5,
        settings=DecodeSettings(samples=10, temperature=1.0, top_p=1.0, use_cache=False),
        seed=0,
        vocab_size=len(models.tokenizer),
    )
    if p_end == 1.0:
        with pytest.raises(ValueError, match="none of the 10 samples wrote 5 numbers"):
            sample_forecast([Source(1.0, fake)], window.prompt_ids, **call)
        return
    forecast = sample_forecast([Source(1.0, fake)], window.prompt_ids, **call)
    assert forecast.stats.redrawn > 0
    assert len(forecast.samples) == 10 - forecast.stats.dropped and forecast.samples.shape[1] == 5


def test_top_p_keeps_the_smallest_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(top_p_filter(logits, 0.75))
    assert kept.tolist() == [[True, True, False, False]]
    assert torch.isfinite(top_p_filter(logits, 0.1)).sum() == 1


def test_nll_is_llmtimes_per_step_density(models):
    window = _window(models)
    number_format = NumberFormat(2)
    nll = continuation_nll(
        configuration("base", models.base),
        window.prompt_ids,
        window.continuation_ids,
        models.alphabet,
        number_format,
        window.scaler,
        5,
        vocab_size=len(models.tokenizer),
    )
    # by hand: each continuation token's probability among the tokens the grammar allowed there
    ids = torch.tensor([window.prompt_ids + window.continuation_ids])
    with torch.no_grad():
        logits = models.base(input_ids=ids).logits[0]
    grammar = NumericGrammar(models.alphabet, number_format, 5, len(models.tokenizer))
    state, total = grammar.start(1), 0.0
    for i, token in enumerate(window.continuation_ids):
        allowed = grammar.ids[grammar.allowed(state)[0] & ~grammar.end]
        row = logits[len(window.prompt_ids) - 1 + i, allowed].log_softmax(-1)
        total += float(row[(allowed == token).nonzero()[0, 0]])
        grammar.advance(state, torch.tensor([token]))
    expected = -total / 5 - 2 * math.log(10) + math.log(window.scaler.scale)
    assert nll == pytest.approx(expected, rel=1e-4)


def test_nll_of_a_model_that_knows_nothing_has_a_closed_form(models):
    """Equal logits for every token: each continuation token is one of the 11 the grammar allows
    there (ten digits and the minus at a number's start, ten digits and the separator inside one;
    the end token is not a choice when scoring), so the NLL per step is (tokens · ln 11) / H, less
    digits · ln 10, plus ln(scale)."""
    vocab_size = len(models.tokenizer)
    flat = _EndHappy(models.alphabet, vocab_size, 0.5)
    flat.logits = torch.zeros(vocab_size)
    window = _window(models, horizon=4)
    nll = continuation_nll(
        [Source(1.0, flat)],
        window.prompt_ids,
        window.continuation_ids,
        models.alphabet,
        NumberFormat(2),
        window.scaler,
        4,
        vocab_size=vocab_size,
    )
    expected = (
        len(window.continuation_ids) * math.log(11) / 4 - 2 * math.log(10) + math.log(window.scaler.scale)
    )
    assert nll == pytest.approx(expected, rel=1e-6)
