"""Numbers as text (LLMTime): formats, the window scaler, trimming, and the tokens that carry them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.lm.load import smollm2_tokenizer
from core.proxy.serialize import (
    Alphabet,
    NumberFormat,
    fit_scaler,
    from_text,
    to_text,
    tokens_per_value,
    trim_history,
)

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
    return Alphabet(smollm2_tokenizer())


def test_smollm2_reads_digits_one_by_one_and_the_ids_are_its_own(smollm2_alphabet):
    tokenizer = smollm2_tokenizer()
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
