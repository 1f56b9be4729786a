"""Loading language models: every kind builds frozen and runs; truncation, caching, one read for the body
and the head, and offline errors."""

import huggingface_hub.constants
import pytest
import torch

from core.lm import (
    BackboneUnavailable,
    backbone_choices,
    backbone_spec,
    check_shared_vocabulary,
    load_backbone,
    load_causal_lm,
    with_lora,
)
from core.lm.load import minilm_tokenizer, smollm2_tokenizer

TINY = ["tiny-random-llama", "tiny-random-gpt2", "tiny-random-bert"]
CAUSAL = ["tiny-random-llama", "tiny-random-gpt2"]
BLOCKS = {"tiny-random-llama": "layers", "tiny-random-gpt2": "h", "tiny-random-bert": "encoder.layer"}


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test may download: the Hub is offline and its cache empty (a cached gpt2 must not load)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))


def _left_padded_mask() -> torch.Tensor:
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[0, :3] = 0  # the first row's prompt is three tokens shorter
    return mask


def _assert_frozen(backbone) -> None:
    assert not backbone.body.training
    assert not any(parameter.requires_grad for parameter in backbone.body.parameters())
    assert backbone.body.config._attn_implementation == "sdpa"


@pytest.mark.parametrize("name", TINY)
def test_tiny_backbone_builds_frozen_and_runs(name):
    backbone = load_backbone(name)
    _assert_frozen(backbone)
    assert backbone.untrained and "untrained" in backbone.spec.label
    assert backbone.n_layers == 2
    width = backbone.hidden_size
    assert backbone.input_embeddings().shape == (len(backbone.tokenizer), width)
    hidden = backbone.forward(torch.randn(2, 10, width), _left_padded_mask())
    assert hidden.shape == (2, 10, width) and torch.isfinite(hidden).all()
    ids = backbone.tokenizer(["a short prompt"], return_tensors="pt")["input_ids"]
    assert backbone.embed(ids).shape == (1, ids.shape[1], width)


@pytest.mark.parametrize("name", TINY)
def test_truncation_keeps_the_first_layers_and_refuses_more_than_the_depth(name):
    backbone = load_backbone(name, layers=1)
    assert backbone.n_layers == 1
    assert len(backbone.body.get_submodule(BLOCKS[name])) == 1
    assert backbone.forward(torch.randn(2, 10, backbone.hidden_size), _left_padded_mask()).shape[1] == 10
    with pytest.raises(ValueError, match="has 2 layers"):
        load_backbone(name, layers=3)
    with pytest.raises(ValueError, match="at least 1"):
        load_backbone(name, layers=0)


@pytest.mark.parametrize("name", CAUSAL)
def test_causal_tokenizers_pad_on_the_left(name):
    tokenizer = load_backbone(name).tokenizer
    mask = tokenizer(["short", "a much longer prompt than that"], padding=True)["attention_mask"]
    assert mask[0][0] == 0 and mask[0][-1] == 1 and tokenizer.pad_token is not None


def test_encoder_tokenizer_keeps_right_padding():
    backbone = load_backbone("tiny-random-bert")
    assert not backbone.causal and backbone.tokenizer.padding_side == "right"


def test_left_padding_does_not_change_the_hidden_states_of_real_tokens():
    backbone = load_backbone("tiny-random-gpt2")  # absolute positions: padding would shift them
    tokens = torch.randn(1, 7, backbone.hidden_size)
    padded = torch.cat([torch.zeros(1, 3, backbone.hidden_size), tokens], dim=1)
    mask = torch.tensor([[0, 0, 0] + [1] * 7])
    alone = backbone.forward(tokens, torch.ones(1, 7, dtype=torch.long))
    torch.testing.assert_close(backbone.forward(padded, mask)[:, 3:], alone)


def test_gradients_reach_the_inputs_but_not_the_body():
    backbone = load_backbone("tiny-random-llama")
    inputs = torch.randn(2, 10, backbone.hidden_size, requires_grad=True)
    backbone.forward(inputs, _left_padded_mask()).sum().backward()
    assert inputs.grad is not None and torch.isfinite(inputs.grad).all()
    assert all(parameter.grad is None for parameter in backbone.body.parameters())


@pytest.mark.parametrize("name", ["owner/name", "openai-community/gpt2", "Qwen/Qwen2.5-0.5B", "a_b/c.d-e"])
def test_hub_ids_are_accepted(name):
    spec = backbone_spec(name)
    assert spec.kind == "hub" and spec.name == name and not spec.untrained


@pytest.mark.parametrize(
    "name",
    ["", "gpt3", "owner/", "/name", "../etc/passwd", "owner/name/extra", "https://hf.co/a/b", "a--b/c"],
)
def test_names_that_are_neither_registered_nor_hub_ids_are_refused(name):
    with pytest.raises(ValueError, match="unknown backbone"):
        backbone_spec(name)


@pytest.mark.parametrize("name", ["gpt2", "someone/some-model"])
def test_offline_hub_model_names_the_bundled_choices(name):
    with pytest.raises(BackboneUnavailable, match="smollm2-135m, minilm-l6"):
        load_backbone(name)


def test_loads_are_cached_per_key():
    backbone = load_backbone("tiny-random-bert")
    assert load_backbone("tiny-random-bert", dtype=torch.float32, device=torch.device("cpu")) is backbone
    assert load_backbone("tiny-random-bert", layers=1) is not backbone


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_storage_is_refused_on_cpu(dtype):
    with pytest.raises(ValueError, match="autocast"):
        load_backbone("tiny-random-bert", dtype=dtype)


def test_choices_list_the_registry_and_flag_only_the_random_ones():
    choices = {spec.name: spec for spec in backbone_choices()}
    assert {"smollm2-135m", "minilm-l6", "gpt2", *TINY} == set(choices)
    assert {name for name, spec in choices.items() if spec.untrained} == set(TINY)
    assert choices["smollm2-135m"].kind == "bundled" and choices["gpt2"].kind == "hub"


def test_bundled_backbones_load_offline_truncated_and_run():
    """Slower (about 15 s, mostly reading SmolLM2's GGUF file); CI runs it."""
    for name, layers, width in [("smollm2-135m", 2, 576), ("minilm-l6", None, 384)]:
        backbone = load_backbone(name, layers=layers)
        _assert_frozen(backbone)
        assert backbone.hidden_size == width and not backbone.untrained
        assert backbone.input_embeddings().shape[1] == width
        tokens = backbone.tokenizer(["The capital of France is", "Paris"], padding=True, return_tensors="pt")
        embeds = backbone.embed(tokens["input_ids"])
        hidden = backbone.forward(embeds, tokens["attention_mask"])
        assert hidden.shape == (*tokens["input_ids"].shape, width) and torch.isfinite(hidden).all()
    assert load_backbone("smollm2-135m", layers=2).n_layers == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_storage_runs_on_cuda(dtype):
    backbone = load_backbone("tiny-random-llama", dtype=dtype, device="cuda")
    assert backbone.body.dtype == dtype
    hidden = backbone.forward(
        torch.randn(2, 10, backbone.hidden_size, device="cuda"), _left_padded_mask().cuda()
    )
    assert hidden.dtype == dtype and torch.isfinite(hidden).all()


@pytest.mark.parametrize("name", ["tiny-random-llama", "tiny-random-gpt2", "tiny-random-bert"])
def test_forward_after_a_cached_prefix_equals_the_whole_forward(name):
    backbone = load_backbone(name)
    tokens = backbone.tokenizer(
        ["short prompt", "a much longer prompt with more words"], return_tensors="pt", padding=True
    )
    prefix, prefix_mask = backbone.embed(tokens["input_ids"]), tokens["attention_mask"]
    embeds = torch.randn(2, 5, backbone.hidden_size, requires_grad=True)
    mask = torch.cat([prefix_mask, torch.ones(2, 5, dtype=prefix_mask.dtype)], dim=1)
    whole = backbone.forward(torch.cat([prefix, embeds], dim=1), mask)[:, -5:]
    fast = backbone.forward_after_prefix(prefix, prefix_mask, embeds)
    torch.testing.assert_close(fast, whole, rtol=1e-5, atol=1e-5)
    (fast * torch.randn_like(fast)).sum().backward()  # a plain sum of a LayerNorm output has no gradient
    assert embeds.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["tiny-random-llama", "tiny-random-gpt2", "tiny-random-bert"])
def test_a_shared_start_read_once_equals_the_whole_forward(name):
    backbone = load_backbone(name)
    shared_ids = backbone.tokenizer("Dataset: hourly load. Task:", return_tensors="pt")["input_ids"]
    tokens = backbone.tokenizer(
        [" min 1, max 2.", " min 10.5, max 20.25, median 13, trend upward."],
        return_tensors="pt",
        padding=True,
    )
    shared, own, own_mask = (
        backbone.embed(shared_ids),
        backbone.embed(tokens["input_ids"]),
        tokens["attention_mask"],
    )
    embeds = torch.randn(2, 4, backbone.hidden_size, requires_grad=True)
    rows = [torch.cat([shared[0], own[i][own_mask[i].bool()], embeds[i]]) for i in range(2)]  # unpadded
    fast = backbone.forward_after_prefix(own, own_mask, embeds, shared)
    for i, row in enumerate(rows):
        alone = backbone.forward(row[None], torch.ones(1, len(row), dtype=torch.long))[:, -4:]
        torch.testing.assert_close(fast[i : i + 1], alone, rtol=1e-4, atol=1e-4)
    (fast * torch.randn_like(fast)).sum().backward()  # a plain sum of a LayerNorm output has no gradient
    assert embeds.grad.abs().sum() > 0


def test_one_read_serves_the_body_and_the_causal_model():
    """A forecaster's body and proxy decoding's writer come from the same read: the same weights."""
    backbone = load_backbone("tiny-random-llama", layers=1)
    causal, tokenizer = load_causal_lm("tiny-random-llama")
    assert tokenizer is backbone.tokenizer
    first = backbone.body.layers[0].self_attn.q_proj.weight
    torch.testing.assert_close(first, causal.base_model.layers[0].self_attn.q_proj.weight)
    assert first.data_ptr() != causal.base_model.layers[0].self_attn.q_proj.weight.data_ptr()  # a copy
    assert len(causal.base_model.layers) == 2  # cutting the body left the shared read whole


def test_an_encoder_cannot_write_text():
    with pytest.raises(ValueError, match="cannot write text"):
        load_causal_lm("tiny-random-bert")


@pytest.mark.parametrize(
    "name, targets", [("tiny-random-llama", 4), ("tiny-random-gpt2", 1), ("tiny-random-bert", 3)]
)
def test_with_lora_adapts_the_attention_projections_of_a_copy(name, targets):
    import copy

    body = load_backbone(name).body
    adapted = with_lora(copy.deepcopy(body), rank=2, alpha=4, dropout=0.0, train_norms_and_positions=True)
    lora = [n for n, p in adapted.named_parameters() if p.requires_grad and "lora_" in n]
    assert len(lora) == 2 * 2 * targets  # A and B, two layers, the projections of the architecture
    assert any(p.requires_grad for n, p in adapted.named_parameters() if "norm" in n.lower() or "ln_" in n)
    assert not any("lora_" in n for n, _ in body.named_parameters())  # the cached body is untouched


def test_a_pair_without_a_shared_vocabulary_is_refused_plainly():
    with pytest.raises(ValueError, match="do not share a vocabulary"):
        check_shared_vocabulary(smollm2_tokenizer(), minilm_tokenizer(), "smollm2-135m", "minilm")
    check_shared_vocabulary(smollm2_tokenizer(), smollm2_tokenizer(), "a", "b")  # same: accepted
    with pytest.raises(ValueError, match="cannot write text"):
        load_causal_lm("minilm-l6")
