"""Causal language models with their heads, for writing numbers, and the vocabulary check.

The registry names of `core.backbones` work here too (the bundled SmolLM2 offline, `gpt2`, the
tiny random Llama for tests), as do GPT-2's larger sizes and any Hugging Face model id. A model is
loaded frozen, in eval mode, optionally cut to its first `layers` blocks (the small model of the
offline default is SmolLM2 kept to a few layers: the same tokenizer, so the vocabulary is shared
exactly). Loads are cached; the expert takes a private copy before LoRA touches it.
"""

from __future__ import annotations

import copy
from functools import lru_cache

import torch

from core import backbones

# Hub repositories of GPT-2's sizes, so the page can offer them by their familiar names.
GPT2_SIZES = {
    "gpt2": "openai-community/gpt2",
    "gpt2-medium": "openai-community/gpt2-medium",
    "gpt2-large": "openai-community/gpt2-large",
    "gpt2-xl": "openai-community/gpt2-xl",
}
# What the page offers (offline first); any owner/name id works from the CLI and the config.
CHOICES = ["smollm2-135m", "tiny-random-llama", *GPT2_SIZES]
LABELS = {
    "smollm2-135m": "smollm2-135m (bundled, offline)",
    "tiny-random-llama": "tiny-random-llama (untrained, random weights: for tests)",
    **{name: f"{name} (downloaded from the Hugging Face Hub)" for name in GPT2_SIZES},
}


_tiny_llama = backbones._tiny_loader("llama", backbones._smollm2_tokenizer, head=True)


def _smollm2(dtype: torch.dtype):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        **backbones._smollm2_weights(), dtype=dtype, attn_implementation="sdpa", trust_remote_code=False
    )
    return model, backbones._smollm2_tokenizer()


def _hub(repo_id: str, dtype: torch.dtype):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(repo_id, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(
            repo_id, dtype=dtype, attn_implementation="sdpa", trust_remote_code=False
        )
    except (OSError, ValueError) as error:  # offline, missing, gated, or not a causal language model
        raise backbones.BackboneUnavailable(
            f"'{repo_id}' could not be loaded as a causal language model from the Hugging Face Hub: "
            "this machine may be offline, or the model does not exist, is gated or cannot write text. "
            "The bundled SmolLM2 (smollm2-135m) needs no download."
        ) from error
    return model, tokenizer


def repository(name: str) -> str | None:
    """The Hub repository of a name, or None for a model that needs no download."""
    if name in ("smollm2-135m", "tiny-random-llama"):
        return None
    if name in GPT2_SIZES:
        return GPT2_SIZES[name]
    backbones.backbone_spec(name)  # a registry name or a well-formed owner/name id, else a plain error
    if name in backbones.BACKBONES:
        raise ValueError(
            f"{name} cannot write text (it has no language-model head here); "
            f"choose one of {', '.join(CHOICES)}"
        )
    return name


@lru_cache(maxsize=3)
def _load_cached(name: str, layers: int | None, dtype: torch.dtype, device: str):
    repo = repository(name)
    if layers is not None and name in ("smollm2-135m", "tiny-random-llama"):
        full, tokenizer = _load_cached(name, None, dtype, device)  # a copy, cut: no second read
        model = copy.deepcopy(full)
        backbones._truncate(model.base_model, name, layers)
        return backbones._freeze(model), tokenizer
    if name == "smollm2-135m":
        model, tokenizer = _smollm2(dtype)
    elif name == "tiny-random-llama":
        model, tokenizer = _tiny_llama(dtype)
    else:
        model, tokenizer = _hub(repo, dtype)
    backbones._truncate(model.base_model, name, layers)
    model = backbones._freeze(model.to(device))
    model.config.use_cache = True
    if tokenizer.eos_token_id is None:
        raise ValueError(f"{name}'s tokenizer has no end-of-text token to stop a forecast with")
    return model, tokenizer


def load_causal_lm(
    name: str, *, layers: int | None = None, dtype: torch.dtype | None = None, device="cpu", private=False
):
    """(model, tokenizer): frozen and in eval mode; `private` returns a copy that may be adapted."""
    if layers is not None and layers < 1:
        raise ValueError(f"layers must be at least 1, got {layers}")
    device = torch.device(device)
    model, tokenizer = _load_cached(name, layers, dtype or torch.float32, str(device))
    return (copy.deepcopy(model) if private else model), tokenizer


def check_shared_vocabulary(base_tokenizer, small_tokenizer, base_name: str, small_name: str) -> None:
    """Proxy arithmetic adds logits token by token: both models must mean the same by every id."""
    if base_tokenizer is small_tokenizer:
        return
    if base_tokenizer.get_vocab() != small_tokenizer.get_vocab():
        raise ValueError(
            f"{base_name} and {small_name} do not share a vocabulary, so their logits cannot be added "
            "token by token. Pick a small model from the base model's family (SmolLM2 with SmolLM2, "
            "gpt2 with gpt2-xl)."
        )
