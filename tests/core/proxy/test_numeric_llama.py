"""The numeric Llama: the shipped weights, their alignment with SmolLM2's ids, and proxy arithmetic's
sanity configuration (the small model set to the base model itself)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.lm.load import smollm2_tokenizer
from core.proxy import numeric_llama
from core.proxy.decoding import NumericGrammar, Source, combine, configuration, continuation_logits
from core.proxy.serialize import Alphabet, NumberFormat, to_text, window_text

RECORD = Path(__file__).resolve().parents[3] / "bench" / "results" / "numeric_pretrain.json"
SERIES = 20 + 5 * np.sin(np.arange(120) * 2 * np.pi / 12) + np.linspace(0, 3, 120)


@pytest.fixture(scope="module")
def smollm2_alphabet():
    return Alphabet(smollm2_tokenizer())


@pytest.fixture(scope="module")
def shipped():
    return numeric_llama.load_numeric_llama()


def test_the_shipped_weights_are_small_safetensors_over_the_numeric_vocabulary(shipped):
    weights = numeric_llama.FOLDER / "model.safetensors"
    assert weights.stat().st_size <= 20 * 2**20
    assert shipped.config.vocab_size == numeric_llama.VOCAB == 15
    assert shipped.config.max_position_embeddings == numeric_llama.CONTEXT == 1024
    assert shipped.lm_head.weight.data_ptr() == shipped.model.embed_tokens.weight.data_ptr()  # tied
    record = json.loads(RECORD.read_text())
    assert record["weights_sha256_16"] == numeric_llama.weights_digest()  # the record is of these weights


def test_the_shipped_weights_score_the_held_out_windows_as_recorded(shipped):
    """The held-out NLL per atom of the shipped weights, recomputed from the corpus's seeds, is the
    recorded one, and far below a model that knows nothing (ln 15 nats per atom)."""
    from core.proxy.pretrain import HELD_OUT_WINDOWS, Corpus, held_out_nll

    record = json.loads(RECORD.read_text())
    corpus = Corpus()
    assert len(corpus.held_out) == HELD_OUT_WINDOWS
    nll = held_out_nll(shipped, corpus.held_out)
    assert nll == pytest.approx(record["held_out_nll_per_atom"], abs=1e-4)
    assert nll < 0.6 * np.log(15)


def test_the_corpus_never_holds_ili_or_m4_and_only_training_parts():
    from core.proxy.pretrain import ETT_TRAIN_ROWS, real_series

    real = real_series()
    assert not any(name.lower().startswith(("ili", "national", "m4")) for name in real)
    trained, held = real["ETTh1.OT"]
    assert len(trained) + len(held) == ETT_TRAIN_ROWS  # no validation or test row of ETTh1
    co2_trained, co2_held = real["co2"]
    assert len(co2_trained) + len(co2_held) == int(2284 * 0.7)


def test_a_window_aligns_one_to_one_with_smollm2s_tokens(smollm2_alphabet, shipped):
    """The same window, serialised with SmolLM2's ids and with the numeric model's, is the same
    sequence of atoms: the aligned model reads SmolLM2's ids as its own."""
    aligned = numeric_llama.AlignedNumeric(shipped, smollm2_alphabet, pad_id=0)
    common = dict(number_format=NumberFormat(3), context_tokens=1023, horizon=12)
    base = window_text(SERIES[:96], SERIES[96:108], smollm2_alphabet, **common)
    own = window_text(SERIES[:96], SERIES[96:108], numeric_llama.numeric_alphabet(), **common)
    ids = torch.tensor(base.prompt_ids + base.continuation_ids)
    assert aligned.atoms(ids).tolist() == own.prompt_ids + own.continuation_ids
    text = to_text(np.array([0.5, -1.25]), NumberFormat(3))
    assert smollm2_alphabet.decode(smollm2_alphabet.encode(text)) == text
    with pytest.raises(ValueError, match="another tokenizer"):
        aligned.symbol_logits(torch.arange(13), input_ids=ids[None])


def test_training_and_decoding_read_the_same_logits_with_and_without_a_cache(smollm2_alphabet, shipped):
    aligned = numeric_llama.AlignedNumeric(shipped, smollm2_alphabet, pad_id=0)
    symbols = aligned.base_symbol_ids
    ids = torch.tensor(
        [
            window_text(
                SERIES[:60], None, smollm2_alphabet, NumberFormat(3), context_tokens=1023, horizon=6
            ).prompt_ids
        ]
    )
    with torch.no_grad():
        whole = aligned(input_ids=ids).logits[0, :, :13]  # the training path, one row per input id
        cache, first = aligned.symbol_logits(symbols, 1, input_ids=ids[:, :-3], use_cache=True)
        steps = [first[0, -1]]
        for column in range(ids.shape[1] - 3, ids.shape[1]):
            cache, last = aligned.symbol_logits(
                symbols, 1, input_ids=ids[:, column : column + 1], cache=cache, use_cache=True
            )
            steps.append(last[0, -1])
    torch.testing.assert_close(torch.stack(steps), whole[-4:], atol=1e-5, rtol=1e-5)


def test_the_sanity_configuration_reproduces_the_experts_logits(smollm2_alphabet):
    """Proxy-tuning's sanity check: with the small model set to the base model itself at full
    depth, the anti-expert is the base, so alpha = 1 gives base + expert − base = the expert's
    logits, on the 13 symbols, at every position of a window."""
    from core.models.proxy_tuned import ProxyConfig, ProxyTuned

    model = ProxyTuned(ProxyConfig(base="smollm2-135m", small="smollm2-135m", tune="lora", pred_len=12))
    assert len(model.base.model.layers) == len(model.expert.get_base_model().model.layers) == 30
    with torch.no_grad():  # move the adapters off zero: the expert must differ from the base
        generator = torch.Generator().manual_seed(0)
        for name, parameter in model.expert.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    model.eval()
    text = model.window(SERIES[:48], SERIES[48:60])
    grammar = NumericGrammar(model.alphabet, model.number_format, 12, model.vocab_size)
    read = dict(symbol_ids=grammar.ids)
    proxy_sources = configuration("proxy", model.base, model.expert, 1.0)
    proxy = combine(
        continuation_logits(proxy_sources, text.prompt_ids, text.continuation_ids, **read), proxy_sources
    )
    (expert,) = continuation_logits(
        [Source(1.0, model.expert, True)], text.prompt_ids, text.continuation_ids, **read
    )
    (base,) = continuation_logits([Source(1.0, model.base)], text.prompt_ids, text.continuation_ids, **read)
    assert proxy.shape == (len(text.continuation_ids), 13)
    assert (expert - base).abs().max() > 0.1  # the check can fail: the expert is not the base
    torch.testing.assert_close(proxy, expert, atol=1e-4, rtol=0)


def test_alpha_is_chosen_on_validation_windows_only():
    """select_on_validation reads the validation split and nothing else: a test split of NaN (which
    would poison any NLL computed on it) changes nothing."""
    from types import SimpleNamespace

    from core.models.proxy_tuned import ALPHAS, ProxyConfig, ProxyTuned
    from tests.conftest import TINY_PROXY

    model = ProxyTuned(
        ProxyConfig(**(TINY_PROXY | dict(seq_len=24, pred_len=6, input_mean=[0.0], input_std=[1.0])))
    )
    splits = {"train": SERIES[:60, None], "val": SERIES[30:90, None], "test": np.full((60, 1), np.nan)}
    data = SimpleNamespace(splits=splits, scaler=SimpleNamespace(inverse_transform=lambda values: values))
    reports = []
    context = SimpleNamespace(data=data, check_cancelled=lambda: None, report=lambda **kw: reports.append(kw))
    chosen = model.select_on_validation(context)
    curve = {float(alpha): value for alpha, value in chosen["alpha_curve"].items()}
    assert list(curve) == list(ALPHAS) and all(np.isfinite(list(curve.values())))
    assert (
        chosen["alpha"] == min(ALPHAS, key=lambda alpha: (curve[alpha], alpha)) == float(model.chosen_alpha)
    )
    assert reports and reports[0]["phase"] == "choosing alpha on the validation split"
