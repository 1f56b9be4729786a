"""The small numeric language model of proxy decoding: a Llama whose vocabulary is the number atoms.

Proxy decoding only ever samples the 13 numeric atoms (ten digits, the separator, the minus sign and
the end of a forecast), and proxy arithmetic only combines those 13 rows of the logits. So the small
model of the pair needs no text vocabulary at all: `NumericLlama` is a transformers
`LlamaForCausalLM` of 3 layers, width 96 and a context of 1,024 positions whose vocabulary is those
13 atoms plus padding and a begin-of-sequence token (15 ids). The project pretrains it on serialised
windows of a corpus it ships or generates (`core.proxy.pretrain`, `make pretrain-numeric`) and ships
the weights as safetensors in `data/numeric-llama/` (about 1.3 MB).

That pretrained model is proxy-tuning's anti-expert; tuned on a user's training split it becomes the
expert. The base model stays a real language model (SmolLM2-135M): `AlignedNumeric` lets the small
model read the base tokenizer's ids directly, one atom per token (SmolLM2 and GPT-2 both write one
digit per token in LLMTime's form; `align` asserts it), and answer with the logits of the 13 atoms
in the order the decoding grammar uses. Its ids are `0`–`9` for the digits, 10 the separator, 11 the
minus sign, 12 the end, so that order is the identity.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from core.proxy.serialize import MINUS, SEPARATOR, Alphabet

FOLDER = Path(__file__).resolve().parents[2] / "data" / "numeric-llama"
ATOMS = [*"0123456789", SEPARATOR, MINUS]  # ids 0-11
END, PAD, BOS = 12, 13, 14
VOCAB = 15
SYMBOLS = 13  # the atoms the grammar decides over: digits, separator, minus, end
CONTEXT = 1024  # positions, the begin-of-sequence token's included

# The architecture of the shipped weights: about a third of a million parameters. Small enough to
# pretrain in minutes on a 2-core CPU (bench/results/numeric_pretrain.json), and next to nothing
# beside SmolLM2's 135 million when both decode.
ARCHITECTURE = dict(
    hidden_size=96,
    intermediate_size=256,
    num_hidden_layers=3,
    num_attention_heads=4,
    num_key_value_heads=4,
)


def numeric_alphabet() -> Alphabet:
    """The serialiser's atoms under the numeric model's own ids."""
    return Alphabet.from_ids({atom: i for i, atom in enumerate(ATOMS)}, end_id=END)


def numeric_config(**overrides):
    """A LlamaConfig for the numeric vocabulary (`overrides` change the architecture)."""
    from transformers import LlamaConfig

    settings = ARCHITECTURE | overrides
    return LlamaConfig(
        vocab_size=VOCAB,
        max_position_embeddings=CONTEXT,
        rms_norm_eps=1e-5,
        tie_word_embeddings=True,
        pad_token_id=PAD,
        bos_token_id=BOS,
        eos_token_id=END,
        **settings,
    )


def new_numeric_llama(seed: int = 0, **overrides):
    """An untrained numeric Llama, initialised from `seed`."""
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(numeric_config(**overrides))


def save_numeric_llama(model, folder: Path = FOLDER) -> None:
    """The model's config and weights (safetensors) into `folder`, written to a side folder first."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {key: getattr(model.config, key) for key in ARCHITECTURE}
    weights = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
    weights.pop("lm_head.weight", None)  # tied to the embedding
    for name, payload in (("model.safetensors", None), ("config.json", json.dumps(config, indent=1))):
        partial = folder / f".{name}.partial"
        if payload is None:
            save_file(weights, str(partial), metadata={"format": "pt"})
        else:
            partial.write_text(payload + "\n")
        partial.replace(folder / name)


def weights_digest(folder: Path = FOLDER) -> str:
    """The first 16 hex digits of the weights file's SHA-256: which pretraining a run started from."""
    weights_file = Path(folder) / "model.safetensors"
    if not weights_file.is_file():
        raise FileNotFoundError(
            f"the numeric language model is missing from {folder}; restore it from the repository or "
            "pretrain it again with `make pretrain-numeric`"
        )
    return hashlib.sha256(weights_file.read_bytes()).hexdigest()[:16]


def load_numeric_llama(folder: Path = FOLDER):
    """The shipped (or a freshly pretrained) numeric Llama, in eval mode; a plain error if missing."""
    from safetensors.torch import load_file
    from transformers import LlamaForCausalLM

    folder = Path(folder)
    weights_file, config_file = folder / "model.safetensors", folder / "config.json"
    if not weights_file.is_file() or not config_file.is_file():
        raise FileNotFoundError(
            f"the numeric language model is missing from {folder}; restore it from the repository or "
            "pretrain it again with `make pretrain-numeric`"
        )
    architecture = json.loads(config_file.read_text())
    if set(architecture) != set(ARCHITECTURE):
        raise ValueError(f"{config_file} does not describe a numeric Llama (keys {sorted(architecture)})")
    model = LlamaForCausalLM(numeric_config(**architecture))
    missing, unexpected = model.load_state_dict(load_file(str(weights_file)), strict=False)
    if unexpected or set(missing) - {"lm_head.weight"}:
        raise ValueError(
            f"{weights_file} does not match its config (missing {missing}, unexpected {unexpected})"
        )
    model.tie_weights()
    return model.eval()


class AlignedNumeric(nn.Module):
    """A numeric Llama (or it with LoRA adapters) that reads the base model's token ids.

    `lm` is the numeric model; `to_atom` maps each base id of the 13 symbols (and the base model's
    padding) to the numeric id of the same atom, every other id to padding. `forward` takes base
    ids, puts the begin-of-sequence token in front and returns logits over the numeric vocabulary,
    one position per input position; `atoms` maps labels the same way for the training loss.
    """

    def __init__(self, lm: nn.Module, alphabet: Alphabet, pad_id: int):
        super().__init__()
        self.lm = lm
        symbol_ids = [*alphabet.digit_ids, alphabet.separator_id, alphabet.minus_id, alphabet.end_id]
        atoms = numeric_alphabet()
        numeric_ids = [*atoms.digit_ids, atoms.separator_id, atoms.minus_id, atoms.end_id]
        if len(set(symbol_ids)) != SYMBOLS:
            raise ValueError("the base tokenizer gives two number atoms one id; they cannot be aligned")
        if numeric_ids != list(range(SYMBOLS)):
            raise AssertionError("the numeric vocabulary must list the symbols in the grammar's order")
        table = torch.full((max(*symbol_ids, pad_id) + 1,), PAD, dtype=torch.long)
        table[torch.tensor(symbol_ids)] = torch.arange(SYMBOLS)
        if pad_id not in symbol_ids:
            table[pad_id] = PAD
        self.register_buffer("to_atom", table, persistent=False)
        self.base_symbol_ids = torch.tensor(symbol_ids)

    @property
    def config(self):
        return self._causal().config

    def _causal(self):
        return self.lm.get_base_model() if hasattr(self.lm, "get_base_model") else self.lm

    def disable_adapter(self):
        """The untuned model: its LoRA adapters off (peft's context manager)."""
        return self.lm.disable_adapter()

    def atoms(self, ids: torch.Tensor) -> torch.Tensor:
        """Base ids to numeric ids; any id outside the symbols (and negatives, ignored labels) kept
        negative so a loss can ignore it."""
        inside = (ids >= 0) & (ids < len(self.to_atom))
        mapped = self.to_atom[ids.clamp(0, len(self.to_atom) - 1)]
        return torch.where(inside, mapped, ids)

    def _with_bos(self, ids: torch.Tensor, mask: torch.Tensor | None):
        bos = torch.full((ids.shape[0], 1), BOS, dtype=ids.dtype, device=ids.device)
        ids = torch.cat([bos, self.atoms(ids)], dim=1)
        if mask is not None:
            mask = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        return ids, mask

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_):
        """`.logits` (B, T, 15) after each of the T base ids (the begin token's own output dropped),
        as a causal language model answers."""
        from transformers.modeling_outputs import CausalLMOutput

        ids, mask = self._with_bos(input_ids, attention_mask)
        output = self.lm(input_ids=ids, attention_mask=mask, use_cache=False)
        return CausalLMOutput(logits=output.logits[:, 1:])

    def symbol_logits(self, symbol_ids: torch.Tensor, keep: int = 1, **inputs):
        """What `core.proxy.decoding.Source` asks of a model: the cache and the last `keep` positions'
        logits over the 13 symbols. The first call (no cache yet) reads the begin token first."""
        if not torch.equal(symbol_ids.cpu(), self.base_symbol_ids):
            raise ValueError("the numeric model was aligned with another tokenizer's symbols")
        if inputs.get("cache") is None:
            ids, _ = self._with_bos(inputs.pop("input_ids"), None)
        else:
            ids = self.atoms(inputs.pop("input_ids"))
        output = self._causal().model(input_ids=ids, **inputs)
        head = self._causal().get_output_embeddings()
        hidden = output.last_hidden_state[:, -keep:]
        return output.cache, nn.functional.linear(hidden, head.weight[:SYMBOLS])
