"""Proxy-tuned decoding: numbers as text, the grammar, proxy arithmetic, caches, NLL, the expert."""

import math
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.backbones import _minilm_tokenizer, _smollm2_tokenizer
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
from core.proxy.expert import ExpertLM, lm_windows
from core.proxy.lm import check_shared_vocabulary, load_causal_lm
from core.proxy.model import ProxyConfig, ProxyTuned
from core.proxy.serialize import (
    Alphabet,
    NumberFormat,
    fit_scaler,
    from_text,
    to_text,
    tokens_per_value,
    trim_history,
    window_text,
)
from core.training.trainer import TrainConfig, Trainer

# ---------------------------------------------------------------- numbers as text

finite = st.floats(min_value=-9_000, max_value=9_000, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(finite, min_size=1, max_size=40), digits=st.integers(0, 3))
def test_signed_values_come_back_within_half_a_step(values, digits):
    number_format = NumberFormat(digits=digits, signed=True, max_digits=8)
    decoded = from_text(to_text(np.array(values), number_format), number_format)
    assert len(decoded) == len(values)
    assert np.all(np.abs(decoded - np.array(values)) <= number_format.step / 2 * (1 + 1e-9) + 1e-9)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=60),
    scale=st.sampled_from([1e-4, 1e-2, 1.0, 37.0, 1e3, 1e6]),
    shift=st.sampled_from([-1e6, -50.0, 0.0, 3.0, 1e5]),
    digits=st.integers(1, 4),
)
def test_series_of_any_scale_round_trip_through_the_window_scaler(values, scale, shift, digits):
    """Raw values → LLMTime scaler → text → values → back: within half a step in the series' units."""
    series = np.array(values) * scale + shift
    number_format = NumberFormat(digits=digits)
    scaler = fit_scaler(series)
    text = to_text(scaler.transform(series), number_format)
    back = scaler.inverse(from_text(text, number_format))
    tolerance = scaler.scale * number_format.step / 2 * (1 + 1e-6) + 1e-9 * max(1.0, abs(shift) + scale)
    assert np.all(np.abs(back - series) <= tolerance)


def test_the_format_follows_llmtime():
    number_format = NumberFormat(digits=3)
    assert to_text(np.array([0.052, 1.5, -0.25, 0.0]), number_format) == "52,1500,-250,0,"
    with pytest.raises(ValueError, match="more than 7 digits"):
        to_text(np.array([1e5]), number_format)
    with pytest.raises(ValueError, match="not a number"):
        from_text("12,3a4,", number_format)
    assert from_text("12,34", number_format).tolist() == [0.012]  # an unfinished number is not read
    unsigned = NumberFormat(digits=1, signed=False)
    assert to_text(np.array([-2.0, 2.0]), unsigned) == "0,20,"


def test_the_scaler_is_llmtimes_alpha_quantile_and_beta_offset():
    history = np.array([10.0, 12.0, 14.0, 20.0])
    scaler = fit_scaler(history, alpha=0.95, beta=0.3)
    assert scaler.offset == pytest.approx(10 - 0.3 * 10)
    assert scaler.scale == pytest.approx(np.quantile(history - 7.0, 0.95))
    constant = fit_scaler(np.full(5, 4.0))
    assert np.isfinite(constant.transform(np.full(5, 4.0))).all()


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=80), budget=st.integers(4, 200)
)
def test_trimming_keeps_the_newest_values_that_fit(values, budget):
    number_format = NumberFormat(digits=2)
    values = np.array(values)
    lengths = tokens_per_value(values, number_format)
    assert lengths.tolist() == [len(to_text(np.array([v]), number_format)) for v in values]
    if lengths[-1] > budget:
        with pytest.raises(ValueError, match="longer context"):
            trim_history(values, number_format, budget)
        return
    kept = trim_history(values, number_format, budget)
    assert np.array_equal(kept, values[len(values) - len(kept) :])
    assert len(to_text(kept, number_format)) <= budget
    if len(kept) < len(values):  # one more (older) value would not have fitted
        assert len(to_text(values[len(values) - len(kept) - 1 :], number_format)) > budget


@pytest.fixture(scope="module")
def smollm2_alphabet():
    return Alphabet(_smollm2_tokenizer())


def test_smollm2_reads_digits_one_by_one_and_the_ids_are_its_own(smollm2_alphabet):
    tokenizer = _smollm2_tokenizer()
    assert not smollm2_alphabet.spaced
    text = to_text(np.array([0.52, 1.5, 12.345, 0.0]), NumberFormat(3))
    ids = smollm2_alphabet.encode(text)
    assert ids == tokenizer.encode(text, add_special_tokens=False)  # no minus: the tokenizer agrees
    assert smollm2_alphabet.decode(ids) == text
    # SmolLM2 merges ",-" into one token; atom by atom keeps every id inside the alphabet
    signed = smollm2_alphabet.encode("5,-3,")
    assert tokenizer.decode(signed) == "5,-3," and set(signed) <= set(smollm2_alphabet.ids.values())


class _MergingTokenizer:
    """A GPT-2-like tokenizer: digit runs merge into one token, ' 7' is a token of its own."""

    eos_token_id = 0

    def __init__(self):
        self.vocab = {"<eos>": 0, "1234567890": 1}
        for symbol in [*"0123456789", ",", "-"]:
            self.vocab[" " + symbol] = len(self.vocab)

    def encode(self, text, add_special_tokens=False):
        if text in self.vocab:
            return [self.vocab[text]]
        return [self.vocab[" " + c] for c in text if c != " "]

    def decode(self, ids):
        inverse = {v: k for k, v in self.vocab.items()}
        return "".join(inverse[i] for i in ids)


def test_a_tokenizer_that_merges_digits_gets_llmtimes_spaces():
    alphabet = Alphabet(_MergingTokenizer())
    assert alphabet.spaced
    assert alphabet.digit_ids == [_MergingTokenizer().vocab[f" {d}"] for d in range(10)]
    assert alphabet.decode(alphabet.encode("12,-3,")) == "12,-3,"


def test_a_pair_without_a_shared_vocabulary_is_refused_plainly():
    with pytest.raises(ValueError, match="do not share a vocabulary"):
        check_shared_vocabulary(_smollm2_tokenizer(), _minilm_tokenizer(), "smollm2-135m", "minilm")
    check_shared_vocabulary(_smollm2_tokenizer(), _smollm2_tokenizer(), "a", "b")  # same: accepted
    with pytest.raises(ValueError, match="cannot write text"):
        load_causal_lm("minilm-l6")


# ---------------------------------------------------------------- models for decoding tests


@pytest.fixture(scope="module")
def models():
    """A tiny random Llama as the base (2 layers) and its first layer as the small model, with
    LoRA weights moved off zero so that the expert differs from the anti-expert."""
    base, tokenizer = load_causal_lm("tiny-random-llama")
    small, _ = load_causal_lm("tiny-random-llama", layers=1, private=True)
    expert = ExpertLM(small, rank=4)
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
        expert = models.expert.lm(input_ids=ids).logits
        with models.expert.lm.disable_adapter():
            anti = models.expert.lm(input_ids=ids).logits
        sources = configuration("proxy", models.base, models.expert.lm, alpha=0.7)
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
        configuration("proxy", models.base, models.expert.lm, 0.0), window.prompt_ids, **common
    )
    proxy1 = sample_forecast(
        configuration("proxy", models.base, models.expert.lm, 1.0), window.prompt_ids, **common
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
    sources = configuration("proxy", models.base, models.expert.lm, 1.0)
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
            configuration("proxy", models.base, models.expert.lm, 1.0),
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
        configuration("proxy", models.base, models.expert.lm, 1.0),
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


# ---------------------------------------------------------------- the expert


def test_a_few_expert_steps_lower_its_loss_on_held_out_windows():
    small, tokenizer = load_causal_lm("tiny-random-llama", layers=1, private=True)
    expert = ExpertLM(small, rank=8)
    alphabet, number_format = Alphabet(tokenizer), NumberFormat(2)
    series = 20 + 5 * np.sin(np.arange(400) * 2 * np.pi / 12)
    make = dict(
        serialise=partial(
            window_text, alphabet=alphabet, number_format=number_format, context_tokens=256, horizon=6
        ),
        end_id=alphabet.end_id,
        pad_id=tokenizer.pad_token_id,
    )
    train = lm_windows(series[:300], 24, 6, max_windows=64, **make)
    held_out = lm_windows(series[300:], 24, 6, max_windows=16, **make)
    trainer = Trainer(expert, TrainConfig(epochs=3, batch_size=8, lr=1e-2, precision="fp32", patience=3))
    loader = torch.utils.data.DataLoader(held_out, batch_size=8)
    before = trainer.evaluate_loss(loader)
    fit = trainer.fit(torch.utils.data.DataLoader(train, batch_size=8, shuffle=True), loader)
    assert fit.best_val_loss < before - 0.1
    trainable = {n for n, p in expert.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)  # only the adapters learn


def test_lm_windows_label_every_real_token_and_ignore_padding():
    tokenizer = _smollm2_tokenizer()
    alphabet = Alphabet(tokenizer)
    data = lm_windows(
        np.linspace(1, 50, 120),
        24,
        6,
        partial(window_text, alphabet=alphabet, number_format=NumberFormat(2), context_tokens=256, horizon=6),
        max_windows=10,
        end_id=alphabet.end_id,
        pad_id=tokenizer.pad_token_id,
    )
    x, y = data.tensors
    assert len(x) == 10 and x.shape[1] == 2
    assert torch.equal(y == -100, x[:, 1] == 0)
    assert torch.equal(torch.where(x[:, 1] == 1, x[:, 0], -100), y)


def test_the_forecaster_checks_its_settings():
    with pytest.raises(ValueError, match="features S"):
        ProxyTuned(
            ProxyConfig(n_channels=2, base="tiny-random-llama", small="tiny-random-llama", small_layers=1)
        )
    with pytest.raises(ValueError, match="temperature"):
        ProxyTuned(
            ProxyConfig(temperature=0, base="tiny-random-llama", small="tiny-random-llama", small_layers=1)
        )
    with pytest.raises(ValueError, match="cannot keep 4"):
        ProxyTuned(ProxyConfig(base="tiny-random-llama", small="tiny-random-llama", small_layers=4))


def test_a_proxy_run_end_to_end_stores_three_forecasts_and_reloads(tmp_path):
    from core.datasets import load_builtin
    from core.training.runner import RunSpec, rebuild_model, run_training
    from core.training.store import RunStore

    from .conftest import TINY_PROXY

    store = RunStore(tmp_path)
    spec = RunSpec(
        model="proxy_tuned",
        seq_len=36,
        pred_len=4,
        features="S",
        model_options=TINY_PROXY,
        train=TrainConfig(epochs=1, batch_size=8),
    )
    outcome = run_training(spec, load_builtin("ILI"), store)
    run = store.get(outcome.run_id)
    assert run.status == "succeeded" and run.trainable_params > 0
    arrays = store.load_arrays(outcome.run_id, "test")
    assert arrays["forecast"].shape == arrays["actual"].shape == (2, 4, 1)
    metrics = run.test_metrics
    assert metrics["windows"] == 2 and metrics["windows_available"] > 100
    for name in ("base", "expert", "proxy"):
        assert np.all(arrays[f"{name}_lower"] <= arrays[f"{name}_upper"])
        assert metrics["configurations"][name]["nll"] == pytest.approx(arrays[f"{name}_nll"].mean())
    assert metrics["mse"] == pytest.approx(metrics["configurations"]["proxy"]["mse"])
    # the actual values are the test split's, scaled like every other run's
    start = int(arrays["window_index"][1])
    assert np.allclose(arrays["actual"][1, :, 0], arrays["inputs"][start + 36 : start + 40, 0], atol=1e-6)
    model = rebuild_model(store, outcome.run_id)  # the stored LoRA weights load strictly
    stored = store.load_checkpoint(outcome.run_id)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in stored.items())
    with pytest.raises(ValueError, match="features S"):
        run_training(RunSpec(**{**spec.__dict__, "features": "M"}), load_builtin("ILI"), store)


def test_the_command_line_defaults_proxy_runs_to_the_target_alone():
    import argparse

    from core.training.headless import add_train_arguments, build_spec

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    spec, data = build_spec(
        parser.parse_args(["--data", "ILI", "--model", "proxy_tuned", "--set", "alpha=0.5"])
    )
    assert spec.features == "S" and spec.model_options == {"alpha": 0.5} and data == "ILI"
    spec, _ = build_spec(parser.parse_args(["--data", "ILI", "--model", "dlinear"]))
    assert spec.features == "M"  # other models keep their default
