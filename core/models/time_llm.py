"""Time-LLM (Jin et al., ICLR 2024): forecast by reprogramming a frozen language model.

Per window and channel (channel independence):

1. RevIN normalises the window; the forecast is de-normalised at the end.
2. The window is cut into P = floor((L − Lp) / S) + 2 patches (`core.patching`, shared with the
   Explore page) and each patch is embedded into d_model by a linear layer, as the paper says
   (the official code uses a 1-D convolution over the patch; a linear map of the patch is the
   simpler of the two and what the paper describes).
3. Text prototypes: V' vectors learned as a linear map of the backbone's V vocabulary embeddings
   (V × D to V' × D), computed once per forward pass, not per sample.
4. Reprogramming: multi-head cross-attention (K heads), queries from the patch embeddings, keys and
   values from the prototypes, projected to the backbone's width D. Training uses
   `F.scaled_dot_product_attention`; `reprogramming_attention` returns the weights explicitly.
5. Prompt-as-prefix: the data set's description, the task and the window's statistics (min, max,
   median, trend, top-5 lags from a non-circular autocorrelation without lag 0, in the series' own
   units, rounded to few digits), tokenised as one batch with an attention mask.
6. The frozen backbone runs over [prompt; reprogrammed patches]; the hidden states at the patch
   positions, first d_ff channels, go through a flatten head (with dropout) to the horizon.

Ablations (Tan et al., NeurIPS 2024, "Are language models actually useful for time series
forecasting?"): `no_llm` sends the reprogrammed patches straight to the head; `llm_to_attention`
replaces the backbone with one trainable self-attention layer; `random_init` keeps the backbone's
architecture with random weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.backbones import Backbone, load_backbone
from core.models.layers import RevIN
from core.patching import make_patches, patch_count
from core.stats import top_lags

VARIANTS = ("full", "no_llm", "llm_to_attention", "random_init")


@dataclass
class TimeLLMConfig:
    seq_len: int = 96  # look-back L (the paper: 512)
    pred_len: int = 96  # horizon H
    n_channels: int = 7
    backbone: str = "smollm2-135m"  # the bundled Llama-architecture model (the paper: LLaMA-7B)
    layers: int = 6  # backbone layers kept (the paper keeps 32 of LLaMA-7B's 32; a CPU cannot)
    n_prototypes: int = 1000  # V' (the seed's table: 1000; 100 for ILI and M4)
    d_model: int = 16  # patch embedding width d_m
    d_ff: int = 32  # hidden channels of the backbone output read by the head
    n_heads: int = 8  # K, heads of the reprogramming attention
    patch_len: int = 16  # Lp
    stride: int = 8  # S
    dropout: float = 0.1  # patch embedding, reprogramming and head dropout
    variant: str = "full"  # full | no_llm | llm_to_attention | random_init
    description: str = ""  # the data set's description for the prompt
    # Per-channel mean and std of the scaler the inputs went through, so that the prompt's
    # statistics are in the series' own units (the official code describes scaled values).
    input_mean: list[float] | None = None
    input_std: list[float] | None = None


class ReprogrammingLayer(nn.Module):
    """Cross-attention from patch embeddings (queries) to text prototypes (keys and values)."""

    def __init__(self, d_model: int, n_heads: int, d_llm: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.d_keys = max(d_model // n_heads, 1) * 4  # per-head width, a little wider than d_m / K
        width = self.d_keys * n_heads
        self.query = nn.Linear(d_model, width)
        self.key = nn.Linear(d_llm, width)
        self.value = nn.Linear(d_llm, width)
        self.out = nn.Linear(width, d_llm)
        self.dropout = dropout

    def _project(self, patches: torch.Tensor, prototypes: torch.Tensor):
        n, p, _ = patches.shape  # (B·C, P, d_model)
        q = self.query(patches).view(n, p, self.n_heads, self.d_keys).transpose(1, 2)  # (N, K, P, dk)
        v_count = prototypes.shape[0]
        k = self.key(prototypes).view(v_count, self.n_heads, self.d_keys).transpose(0, 1)  # (K, V', dk)
        v = self.value(prototypes).view(v_count, self.n_heads, self.d_keys).transpose(0, 1)  # (K, V', dk)
        return q, k, v

    def forward(self, patches: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        q, k, v = self._project(patches, prototypes)
        n, _, p, _ = q.shape
        attended = F.scaled_dot_product_attention(
            q,
            k.expand(n, -1, -1, -1),
            v.expand(n, -1, -1, -1),
            dropout_p=self.dropout if self.training else 0.0,
        )  # (N, K, P, dk)
        return self.out(attended.transpose(1, 2).reshape(n, p, -1))  # (N, P, D)

    def attention(self, patches: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        """The attention weights, explicitly: (N, K, P, V'), each row summing to one."""
        q, k, _ = self._project(patches, prototypes)
        scores = q @ k.transpose(-1, -2).unsqueeze(0) / self.d_keys**0.5  # (N, K, P, V')
        return scores.softmax(dim=-1)


class SelfAttentionBlock(nn.Module):
    """The `llm_to_attention` ablation: one trainable self-attention layer in place of the backbone."""

    def __init__(self, width: int, n_heads: int):
        super().__init__()
        heads = next(h for h in range(min(n_heads, width), 0, -1) if width % h == 0)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm = nn.LayerNorm(width)

    def forward(self, embeds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attended, _ = self.attention(
            embeds, embeds, embeds, key_padding_mask=~mask.bool(), need_weights=False
        )
        return self.norm(embeds + attended)


@dataclass
class TimeLLMExplanation:
    """What the attention page shows for a batch of windows."""

    attention: torch.Tensor  # (B·C, K, P, V') reprogramming attention over text prototypes
    prompts: list[str]  # the prompt of each window and channel, B·C of them
    prototypes: torch.Tensor  # (V', D) the text prototypes


class TimeLLM(nn.Module):
    # What `auto` precision means on a CPU for this model: bench/bench_time_llm.py measured bf16
    # autocast faster than fp32 for both bundled backbones (small forecasters are the other way).
    cpu_autocast = "bf16"

    def __init__(self, config: TimeLLMConfig, backbone: Backbone | None = None):
        super().__init__()
        if config.variant not in VARIANTS:
            raise ValueError(
                f"unknown Time-LLM variant {config.variant!r}; choose one of {', '.join(VARIANTS)}"
            )
        self.config = config
        backbone = backbone or load_backbone(config.backbone, layers=config.layers)
        self.tokenizer = backbone.tokenizer
        width = backbone.hidden_size
        if not 1 <= config.d_ff <= width:
            raise ValueError(f"d_ff must lie between 1 and the backbone's width {width}, got {config.d_ff}")
        vocabulary = backbone.input_embeddings().detach()  # (V, D), frozen
        if not 1 <= config.n_prototypes <= vocabulary.shape[0]:
            raise ValueError(f"V' must lie between 1 and the vocabulary size {vocabulary.shape[0]}")
        self.register_buffer("vocabulary", vocabulary, persistent=False)  # never in a checkpoint
        self.backbone = backbone
        # The frozen language model is held, not registered as a submodule: .train() cannot switch on
        # its dropout, state_dict() (and so a checkpoint) never holds it, and a cached body can be
        # shared between runs. `_apply` moves it with the model.
        self.llm: Backbone | None = None
        self.attention_block = None
        if config.variant == "full":
            self.llm = backbone
        elif config.variant == "random_init":
            self.llm = replace(backbone, body=_random_copy(backbone.body))
        elif config.variant == "llm_to_attention":
            self.attention_block = SelfAttentionBlock(width, config.n_heads)
        self.revin = RevIN(config.n_channels)
        self.n_patches = patch_count(config.seq_len, config.patch_len, config.stride)
        self.patch_embedding = nn.Linear(config.patch_len, config.d_model)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.mapping = nn.Linear(vocabulary.shape[0], config.n_prototypes)  # V -> V' over the vocabulary
        self.reprogramming = ReprogrammingLayer(config.d_model, config.n_heads, width, config.dropout)
        self.head = nn.Sequential(
            nn.Flatten(start_dim=-2),
            nn.Dropout(config.dropout),
            nn.Linear(self.n_patches * config.d_ff, config.pred_len),
        )

    def _apply(self, fn, recurse=True):
        """Device moves reach the held language model too (see __init__).

        The pre-trained body is shared through the backbone cache, so it is never moved: the model
        takes the cached body for the new device instead. A random-weight body is private and moves.
        """
        super()._apply(fn, recurse)
        if self.llm is not None:
            device = self.vocabulary.device
            if self.config.variant != "full":
                self.llm.body._apply(fn)
            elif next(self.llm.body.parameters()).device != device:
                self.llm = load_backbone(self.config.backbone, layers=self.config.layers, device=device)
        return self

    def prototypes(self) -> torch.Tensor:
        """(V', D): each prototype a learned combination of the vocabulary's embeddings."""
        return self.mapping(self.vocabulary.t()).t()

    def prompt_pieces(self, x: torch.Tensor) -> tuple[str, list[str]]:
        """The start all prompts share and each window and channel's own statistics, from the raw
        window in the series' own units."""
        config = self.config
        raw = x.detach().float().cpu()
        if config.input_mean is not None and config.input_std is not None:
            raw = raw * torch.tensor(config.input_std) + torch.tensor(config.input_mean)  # undo the scaler
        windows = raw.transpose(1, 2).reshape(-1, x.shape[1]).numpy()  # (B·C, L)
        return prompt_pieces(windows, config.description, config.seq_len, config.pred_len)

    def prompts(self, x: torch.Tensor) -> list[str]:
        """One whole prompt per window and channel, as the language model reads it."""
        shared, own = self.prompt_pieces(x)
        return [shared + text for text in own]

    def _prompt_embeddings(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The shared start (1, S, D), each row's own part (B·C, T, D) and its mask (B·C, T).

        The two are tokenised apart: the shared start once per batch, the statistics as one padded
        batch; the frozen model then reads the shared start once for every row (see
        `Backbone.forward_after_prefix`).
        """
        shared, own = self.prompt_pieces(x)
        shared_ids = self.tokenizer(shared, return_tensors="pt", add_special_tokens=False)["input_ids"]
        tokens = self.tokenizer(own, return_tensors="pt", padding=True, add_special_tokens=False)
        embed = partial(F.embedding, weight=self.vocabulary)  # the buffer moves with the model
        return (
            embed(shared_ids.to(x.device)),
            embed(tokens["input_ids"].to(x.device)),
            tokens["attention_mask"].to(x.device),
        )

    def _patch_tokens(self, x_norm: torch.Tensor) -> torch.Tensor:
        batch, length, channels = x_norm.shape
        series = x_norm.transpose(1, 2).reshape(batch * channels, length)  # (B·C, L)
        patches = make_patches(series, self.config.patch_len, self.config.stride)  # (B·C, P, Lp)
        return self.embedding_dropout(self.patch_embedding(patches))  # (B·C, P, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, channels = x.shape  # (B, L, C)
        x_norm, stats = self.revin.normalise(x)
        patches = self._patch_tokens(x_norm)  # (B·C, P, d_model)
        reprogrammed = self.reprogramming(patches, self.prototypes())  # (B·C, P, D)
        if self.config.variant == "no_llm":
            hidden = reprogrammed
        else:
            shared, prompt, prompt_mask = self._prompt_embeddings(x)  # (1, S, D), (B·C, T, D), (B·C, T)
            if self.attention_block is not None:
                rows = len(reprogrammed)
                embeds = torch.cat(
                    [shared.expand(rows, -1, -1), prompt, reprogrammed.to(prompt.dtype)], dim=1
                )  # (B·C, S + T + P, D)
                ones = prompt_mask.new_ones
                mask = torch.cat(
                    [ones(rows, shared.shape[1]), prompt_mask, ones(reprogrammed.shape[:2])], dim=1
                )
                hidden = self.attention_block(embeds.to(reprogrammed.dtype), mask)[:, -self.n_patches :, :]
            else:  # [prompt; patches] through the frozen model; the patch positions come back
                hidden = self.llm.forward_after_prefix(
                    prompt, prompt_mask, reprogrammed, shared
                )  # (B·C, P, D)
        y = self.head(hidden[..., : self.config.d_ff]).float()  # (B·C, H)
        y = y.view(batch, channels, -1).transpose(1, 2)  # (B, H, C)
        return self.revin.denormalise(y, stats)

    @torch.no_grad()
    def explain(self, x: torch.Tensor) -> TimeLLMExplanation:
        """The reprogramming attention and the prompts for a batch (eval mode); no backbone pass."""
        x_norm, _ = self.revin.normalise(x)
        prototypes = self.prototypes()
        attention = self.reprogramming.attention(self._patch_tokens(x_norm), prototypes)
        return TimeLLMExplanation(attention, self.prompts(x), prototypes)


def prompt_pieces(
    windows: np.ndarray, description: str, seq_len: int, pred_len: int
) -> tuple[str, list[str]]:
    """Prompts for windows (N, L), as the start they share (description and task) and each window's
    statistics, computed for all windows at once, numbers rounded."""
    lags = top_lags(windows, min(5, windows.shape[1] - 1))  # (N, 5), non-circular, lag 0 excluded
    minimum, maximum, median = windows.min(axis=1), windows.max(axis=1), np.median(windows, axis=1)
    drift = windows[:, -1] - windows[:, 0]  # the sum of first differences
    trend = np.where(drift > 0, "upward", np.where(drift < 0, "downward", "flat"))
    task = f"Task: forecast the next {pred_len} steps given the previous {seq_len} steps."
    head = f"Dataset: {description.strip()} {task}" if description.strip() else task
    own = [
        f" min {lo:.4g}, max {hi:.4g}, median {mid:.4g}, trend {direction}, "
        f"top lags {', '.join(map(str, lag_row))}."
        for lo, hi, mid, direction, lag_row in zip(minimum, maximum, median, trend, lags, strict=True)
    ]
    return f"{head} Input statistics:", own


def _random_copy(body: nn.Module) -> nn.Module:
    """The same architecture with fresh random weights, frozen like the pre-trained one."""
    copy = type(body)(body.config)
    copy.eval()
    for parameter in copy.parameters():
        parameter.requires_grad_(False)
    return copy


def nearest_tokens(
    prototypes: torch.Tensor, vocabulary: torch.Tensor, tokenizer, k: int = 3
) -> list[list[str]]:
    """The k vocabulary tokens closest (cosine similarity in the embedding space) to each prototype."""
    similarity = (
        F.normalize(prototypes.float(), dim=-1) @ F.normalize(vocabulary.float(), dim=-1).t()
    )  # (V', V)
    indices = similarity.topk(k, dim=-1).indices.tolist()
    return [[tokenizer.decode([i]).strip() or repr(tokenizer.decode([i])) for i in row] for row in indices]
