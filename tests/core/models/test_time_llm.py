"""Time-LLM on tiny random backbones: shapes, frozen backbone, gradients, attention, prompts, fit."""

import math

import numpy as np
import pytest
import torch

from core.explain import Heatmap, Table, Text
from core.lm import load_backbone
from core.models.contract import trainable_state
from core.models.registry import MODELS, build_model
from core.models.time_llm import TimeLLM, TimeLLMConfig, paper_row
from core.patching import patch_count
from core.runs.train_config import TrainConfig
from core.stats import prompt_pieces
from core.training import trainer as trainer_module
from core.training.trainer import Trainer


def _model(backbone="tiny-random-llama", **options):
    settings = dict(
        seq_len=32,
        pred_len=8,
        n_channels=2,
        backbone=backbone,
        layers=2,
        n_prototypes=20,
        d_model=16,
        d_ff=8,
        n_heads=4,
        patch_len=8,
        stride=4,
    )
    settings.update(options)
    return TimeLLM(TimeLLMConfig(**settings))


@pytest.mark.parametrize(
    "seq_len, patch_len, stride, channels", [(32, 8, 4, 2), (48, 16, 8, 1), (33, 5, 3, 3), (16, 16, 1, 2)]
)
def test_shapes_and_patch_count(seq_len, patch_len, stride, channels):
    model = _model(seq_len=seq_len, patch_len=patch_len, stride=stride, n_channels=channels).eval()
    assert model.n_patches == (seq_len - patch_len) // stride + 2 == patch_count(seq_len, patch_len, stride)
    x = torch.randn(3, seq_len, channels)
    assert model(x).forecast.shape == (3, 8, channels)
    heatmap, table, text = model.explain(x[:1], [f"c{i}" for i in range(channels)], channels - 1)
    assert heatmap.values.shape == (1 + 4, model.n_patches, 20)  # the mean of heads, then each head
    assert len(heatmap.rows) == model.n_patches == len(table.frame) and len(heatmap.columns) == 20
    assert text.text == model.prompts(x[:1])[channels - 1]


@pytest.mark.parametrize("width", ["official", "narrow"])
@pytest.mark.parametrize("embedding", ["conv", "linear"])
def test_shapes_for_both_widths_and_both_patch_embeddings(width, embedding):
    model = _model(reprogramming_width=width, patch_embedding=embedding).eval()
    d_keys = 8 if width == "official" else 16  # d_ff, or 4 × d_model / heads = 4 × 16 / 4
    layer = model.reprogramming
    assert layer.d_keys == d_keys
    assert layer.query.weight.shape == (4 * d_keys, 16) and layer.key.weight.shape == (4 * d_keys, 64)
    assert layer.out.weight.shape == (64, 4 * d_keys)  # back to the tiny backbone's width
    x = torch.randn(3, 32, 2)
    x_norm, _ = model.revin.normalise(x)
    assert model._patch_tokens(x_norm).shape == (3 * 2, model.n_patches, 16)
    assert model(x).forecast.shape == (3, 8, 2)
    heatmap, table, text = model.explain(x[:1], ["a", "b"], 1)
    assert heatmap.values.shape == (1 + 4, model.n_patches, 20) and len(table.frame) == model.n_patches
    assert text.text == model.prompts(x[:1])[1]


def test_the_defaults_are_the_official_code_s_architecture():
    model = _model()
    assert model.config.reprogramming_width == "official" and model.config.patch_embedding == "conv"
    assert model.reprogramming.d_keys == model.config.d_ff
    conv = model.patch_embedding.conv
    assert conv.weight.shape == (16, 8, 3) and conv.bias is None  # d_model out, patch_len in, kernel 3
    assert conv.padding_mode == "circular" and conv.padding == (1,)


def test_the_convolution_mixes_each_patch_with_its_neighbours_circularly():
    model = _model(patch_embedding="conv")
    patches = torch.zeros(1, model.n_patches, 8)
    patches[0, 0] = torch.randn(8)  # only the first patch is non-zero
    embedded = model.patch_embedding(patches)[0]  # (P, d_model)
    touched = embedded.abs().sum(-1) > 0
    assert touched.tolist() == [True, True] + [False] * (model.n_patches - 3) + [True]  # 0, 1 and last
    linear = _model(patch_embedding="linear").patch_embedding
    alone = linear(patches)[0] - linear.bias
    assert (alone.abs().sum(-1) > 1e-7).tolist() == [True] + [False] * (model.n_patches - 1)


def test_unknown_width_or_embedding_is_refused():
    with pytest.raises(ValueError, match="reprogramming_width"):
        _model(reprogramming_width="wide")
    with pytest.raises(ValueError, match="patch_embedding"):
        _model(patch_embedding="mlp")


@pytest.mark.parametrize("backbone", ["tiny-random-llama", "tiny-random-gpt2", "tiny-random-bert"])
def test_backbone_stays_frozen_while_the_rest_learns(backbone):
    model = _model(backbone)
    frozen = {name: p.detach().clone() for name, p in model.llm.body.named_parameters()}
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    x, y = torch.randn(4, 32, 2), torch.randn(4, 8, 2)
    loss = torch.nn.functional.mse_loss(model(x).forecast, y)
    loss.backward()
    for part in (model.mapping, model.reprogramming, model.head, model.patch_embedding):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    assert all(p.grad is None for p in model.llm.body.parameters())
    optimiser.step()
    assert all(torch.equal(p, frozen[name]) for name, p in model.llm.body.named_parameters())
    assert set(trainable_state(model)) == set(model.state_dict())  # only what training changes
    model.train()
    assert not model.llm.body.training  # no dropout inside the frozen model


@pytest.mark.parametrize("width", ["official", "narrow"])
def test_sdpa_and_explicit_attention_agree_and_rows_sum_to_one(width):
    model = _model(reprogramming_width=width, d_ff=32).eval()  # official: 4 heads x 32 = 128 wide
    assert model.reprogramming.d_keys == (32 if width == "official" else 16)
    x = torch.randn(2, 32, 2)
    x_norm, _ = model.revin.normalise(x)
    patches = model._patch_tokens(x_norm)
    prototypes = model.prototypes()
    weights = model.reprogramming.attention(patches, prototypes)  # (N, K, P, V')
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    _, _, v = model.reprogramming._project(patches, prototypes)
    explicit = weights @ v.unsqueeze(0)  # (N, K, P, dk)
    n, heads, p, dk = explicit.shape
    explicit = model.reprogramming.out(explicit.transpose(1, 2).reshape(n, p, heads * dk))
    torch.testing.assert_close(model.reprogramming(patches, prototypes), explicit, rtol=1e-4, atol=1e-5)


def test_prompt_statistics_by_hand():
    window = np.array([[10.0, 30.0, 20.0, 50.0, 40.0, 60.0]])
    shared, (own,) = prompt_pieces(window, "Hourly load of a plant.", seq_len=6, pred_len=3)
    text = shared + own
    assert text.startswith(
        "Dataset: Hourly load of a plant. Task: forecast the next 3 steps given the previous 6"
    )
    assert "min 10, max 60, median 35, trend upward" in text
    centred = window[0] - window[0].mean()
    acf = [np.sum(centred[k:] * centred[:-k]) / np.sum(centred**2) for k in range(1, 6)]
    expected = [k + 1 for k in np.argsort(-np.array(acf), kind="stable")]
    assert text.endswith(f"top lags {', '.join(map(str, expected))}.")
    shared, (rounded,) = prompt_pieces(np.array([[1.23456789, 2.0, 3.0, 4.0]]), "", 4, 2)
    assert shared == "Task: forecast the next 2 steps given the previous 4 steps. Input statistics:"
    assert "min 1.235" in rounded and "1.23456" not in rounded


def test_it_overfits_a_short_sine():
    torch.manual_seed(0)
    t = np.arange(400)
    series = np.sin(2 * np.pi * t / 16).astype(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(series, 40)[::4]
    x = torch.tensor(windows[:, :32, None].copy())
    y = torch.tensor(windows[:, 32:, None].copy())
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True)
    model = _model(n_channels=1, dropout=0.0)
    result = Trainer(model, TrainConfig(epochs=40, lr=3e-3, patience=40, precision="fp32")).fit(
        loader, loader
    )
    assert result.best_val_loss < 0.01


@pytest.mark.parametrize(
    "name", ["time_llm", "time_llm_no_llm", "time_llm_llm_to_attention", "time_llm_random_init"]
)
def test_every_variant_from_the_registry(name):
    model, config = build_model(
        name,
        seq_len=32,
        pred_len=8,
        n_channels=2,
        backbone="tiny-random-llama",
        layers=2,
        n_prototypes=20,
        d_ff=8,
        patch_len=8,
        stride=4,
    )
    assert model(torch.randn(2, 32, 2)).forecast.shape == (2, 8, 2)
    expected_body = name in ("time_llm", "time_llm_random_init")
    assert (model.llm is not None) == expected_body
    if name == "time_llm_random_init":
        original = load_backbone("tiny-random-llama", layers=2).body
        assert not torch.equal(next(model.llm.body.parameters()), next(original.parameters()))
        again, _ = build_model(
            name, seq_len=32, pred_len=8, n_channels=2, backbone="tiny-random-llama", layers=2
        )
        assert torch.equal(
            next(model.llm.body.parameters()), next(again.llm.body.parameters())
        )  # rebuilt alike


def test_d_ff_wider_than_the_backbone_is_refused():
    with pytest.raises(ValueError, match="d_ff"):
        _model(d_ff=10_000)


def test_the_prompt_costs_few_tokens():
    model = _model()
    texts = model.prompts(torch.randn(1, 32, 1) * 1000)
    assert math.isfinite(len(texts[0])) and len(model.tokenizer(texts[0])["input_ids"]) < 80


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_for_time_llm_on_the_cpu_is_bf16_where_the_cpu_has_it(native, monkeypatch):
    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: native)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.randn(16, 32, 2), torch.randn(16, 8, 2)), batch_size=8
    )
    result = Trainer(
        _model(), TrainConfig(epochs=1, precision="auto"), cpu_autocast=MODELS["time_llm"].cpu_autocast
    ).fit(loader, loader)
    if native:
        assert result.precision == "bf16" and "this model" in result.precision_reason
    else:  # emulated bf16 would be far slower than fp32
        assert result.precision == "fp32" and "no native bf16" in result.precision_reason


def test_the_explanation_shows_the_strongest_prototypes_and_averages_the_heads():
    model = _model(n_channels=1).eval()
    x = torch.randn(1, 32, 1)
    heatmap, table, _ = model.explain(x, ["load"], 0)
    assert isinstance(heatmap, Heatmap) and isinstance(table, Table)
    torch.testing.assert_close(
        torch.as_tensor(heatmap.values[0]),
        torch.as_tensor(heatmap.values[1:].mean(axis=0)),
        rtol=1e-5,
        atol=1e-6,
    )
    column_means = heatmap.values[0].mean(axis=0)
    assert list(column_means) == sorted(column_means, reverse=True)  # strongest first
    assert heatmap.columns[0].startswith("#") and "load" in heatmap.title


def test_the_prompt_is_the_explore_page_s_prompt():
    """One function builds the text: what the model reads is what the Explore page shows."""
    from core.stats import prompt_text

    model = _model(n_channels=1, description="Hourly load.", input_mean=[100.0], input_std=[10.0])
    x = torch.randn(1, 32, 1)
    raw = x[0, :, 0].numpy() * 10.0 + 100.0
    assert model.prompts(x)[0] == prompt_text(raw, "Hourly load.", 32, 8)
    _, _, text = model.explain(x, ["load"], 0)
    assert isinstance(text, Text) and text.text == model.prompts(x)[0]


@pytest.mark.parametrize(
    "name, key", [("ETTh1", "etth"), ("national_illness", "ili"), ("M4 Hourly", "short")]
)
def test_paper_rows_by_data_set_name(name, key):
    assert paper_row(name) == (key, True)
    assert paper_row("my sales") == ("etth", False)


def test_prototypes_are_named_by_whole_words_not_pieces_or_bytes():
    """The Attention page names each prototype by its nearest tokens: only readable whole words
    qualify, however close a word piece or a byte token sits."""
    from core.models.time_llm import nearest_tokens, word_tokens

    tokenizer = _model().tokenizer
    size = min(len(tokenizer), 4000)
    words = word_tokens(tokenizer, size)
    texts = tokenizer.batch_decode([[i] for i in range(size)])
    assert words.any() and not words.all()
    for index in words.nonzero().flatten().tolist()[:50]:
        assert texts[index].startswith(" ") and texts[index][1:].isalpha() and len(texts[index]) >= 4
    piece = next(i for i in range(size) if not words[i])  # a byte or piece of a word
    word = next(i for i in range(size) if words[i])
    vocabulary = torch.randn(size, 16)
    vocabulary[word] = vocabulary[piece] + 0.01 * torch.randn(16)  # the word sits close to the piece
    prototype = vocabulary[piece][None].clone()  # exactly on the piece
    assert nearest_tokens(prototype, vocabulary, tokenizer, k=1) == [[texts[word].strip()]]
