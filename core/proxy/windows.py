"""The expert: the small language model fine-tuned with LoRA on serialised windows of the series.

`ExpertLM` is an `nn.Module` the engine's `Trainer` trains like any forecaster (precision, early
stopping on held-out windows, progress, cancellation, checkpoints of the LoRA weights only): its
batches are token ids and masks, its `objective` the language-model loss. The anti-expert is the
same module with its adapters switched off (`disable_adapter`), so the untuned small model costs
no second copy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from core.models.tempo import LORA_TARGETS
from core.proxy.serialize import WindowText

IGNORE = -100  # label of padding: no loss


class ExpertLM(nn.Module):
    """A causal LM with LoRA on its attention projections; x is (B, 2, T): ids and attention mask."""

    # `auto` on a CPU: bf16 autocast, as for Time-LLM and TEMPO, whose training steps through a SmolLM2
    # body (batches of a few hundred tokens, like the expert's) ran 1.4-1.8x faster under it
    # (bench/results/time_llm_speed.json, tempo_speed.json). Decoding is another matter: see the runner.
    cpu_autocast = "bf16"

    def __init__(self, small_model, rank: int = 8, lora_alpha: int = 16, dropout: float = 0.05):
        super().__init__()
        from peft import LoraConfig, get_peft_model

        model_type = small_model.config.model_type
        if model_type not in LORA_TARGETS or model_type == "bert":
            raise ValueError(
                f"the expert knows where LoRA goes in Llama and GPT-2 models, not {model_type!r}"
            )
        config = LoraConfig(
            r=rank,
            lora_alpha=lora_alpha,
            lora_dropout=dropout,
            target_modules=LORA_TARGETS[model_type],
            fan_in_fan_out=model_type == "gpt2",
            task_type="CAUSAL_LM",
        )
        self.lm = get_peft_model(small_model, config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lm(input_ids=x[:, 0], attention_mask=x[:, 1], use_cache=False).logits

    def objective(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Next-token cross-entropy; the Trainer hands the labels over as floats."""
        labels = target.long()[:, 1:]
        return F.cross_entropy(prediction[:, :-1].flatten(0, 1), labels.flatten(), ignore_index=IGNORE)


def evenly_spaced(count: int, at_most: int) -> np.ndarray:
    """At most `at_most` indices spread over range(count), first and last included."""
    return np.unique(np.linspace(0, count - 1, min(count, at_most)).round().astype(int))


def lm_windows(
    values: np.ndarray,
    seq_len: int,
    pred_len: int,
    serialise: Callable[[np.ndarray, np.ndarray], WindowText],
    *,
    max_windows: int,
    end_id: int,
    pad_id: int,
) -> TensorDataset:
    """Windows of one split (history then continuation), evenly spaced, at most `max_windows`,
    each written by `serialise` (the forecaster's own `window`, so the expert trains on the text it
    decodes from) and ended by the end token; `lm_dataset` gives the layout."""
    values = np.asarray(values, dtype=np.float64)
    count = len(values) - seq_len - pred_len + 1
    if count < 1:
        raise ValueError(
            f"a split of {len(values)} rows holds no window of {seq_len} + {pred_len} values; "
            "shorten the look-back or the horizon"
        )
    rows = []
    for start in evenly_spaced(count, max_windows):
        text = serialise(
            values[start : start + seq_len], values[start + seq_len : start + seq_len + pred_len]
        )
        rows.append(text.prompt_ids + text.continuation_ids + [end_id])
    return lm_dataset(rows, pad_id)


def lm_dataset(rows: list[list[int]], pad_id: int) -> TensorDataset:
    """Token rows right-padded into x (N, 2, T) ids and mask, y (N, T) labels (padding ignored)."""
    length = max(len(r) for r in rows)
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    labels = torch.full((len(rows), length), IGNORE, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        labels[i, : len(row)] = torch.tensor(row)
    return TensorDataset(torch.stack([ids, mask], dim=1), labels)
