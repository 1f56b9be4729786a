"""LoRA adapters (Hu et al., ICLR 2022) through `peft`, for every model that adapts a language model.

TEMPO adapts a body; proxy decoding's expert adapts a small causal model. Both go through
`with_lora`, with one table of where the adapters go per architecture.
"""

from __future__ import annotations

import warnings

from torch import nn

# LoRA targets by architecture: GPT-2's fused query-key-value projection, Llama's and BERT's
# attention projections.
LORA_TARGETS = {
    "gpt2": ["c_attn"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "bert": ["query", "key", "value"],
}
# Parameters that may train alongside LoRA (TEMPO's paper: layer norms and positional embeddings).
_NORM_NAMES = ("norm", "ln_", "LayerNorm")
_POSITION_NAMES = ("wpe", "position_embeddings")


def with_lora(
    model: nn.Module,
    *,
    rank: int,
    alpha: int,
    dropout: float,
    causal_lm: bool = False,
    train_norms_and_positions: bool = False,
) -> nn.Module:
    """`model` (a private copy: peft changes it in place) with LoRA adapters on its attention
    projections. `causal_lm` marks a model with its language-model head (peft then knows how to
    switch the adapters off for the untuned model); `train_norms_and_positions` lets the layer norms
    and positional embeddings train too (peft freezes them)."""
    from peft import LoraConfig, get_peft_model

    model_type = model.config.model_type
    if model_type not in LORA_TARGETS:
        raise ValueError(
            f"LoRA adapters go into {', '.join(LORA_TARGETS)} models here, not into {model_type!r}; "
            "choose another language model"
        )
    config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=LORA_TARGETS[model_type],
        fan_in_fan_out=model_type == "gpt2",  # GPT-2 stores its projections transposed (Conv1D)
        task_type="CAUSAL_LM" if causal_lm else None,
    )
    # peft reads transformers' `is_gradient_checkpointing` to decide whether to prepare for gradient
    # checkpointing (never on here): an alias transformers 5 deprecates with a FutureWarning on
    # every read and 6 removes. The warning is peft's to fix; this call is its only trigger.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning)
        adapted = get_peft_model(model, config)
    if train_norms_and_positions:
        for name, parameter in adapted.named_parameters():
            if any(part in name for part in _NORM_NAMES + _POSITION_NAMES):
                parameter.requires_grad_(True)
    return adapted
