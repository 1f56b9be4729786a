"""TEMPO (Cao et al., ICLR 2024): decomposition-aware prompts over a GPT-style model with LoRA.

Per window and channel (channel independence):

1. Decomposition of the look-back window into trend, seasonal and residual, fitted on that window
   alone (`core.decompose.decompose_windows`): `stl` (statsmodels STL, cached per window, since
   every epoch sees the same windows) or `moving_average` (fast). The released code fits STL once
   on the whole series, test period included, which leaks the future; this never does.
2. Each part gets its own RevIN, patching (`core.patching`, Lp 16, S 8) and a linear patch
   embedding to the backbone's width.
3. Prompts per part: `semi_soft` prompts start as the token embeddings of "Predict the future
   time step given the trend" (seasonal, residual) and are trained; a `pool` holds M keys and M
   values of a few prompt vectors each, a part picks the k values whose keys are most cosine-similar
   to the mean of its patch embeddings, and the key-query matching term joins the loss so that the
   keys learn (in the released code they never do). How often each prompt is picked is counted.
4. One pass of the backbone over [prompt_T, patches_T, prompt_S, patches_S, prompt_R, patches_R].
   The backbone is a copy of a registry model kept to its first N layers and adapted with LoRA
   through `peft` (r 16, alpha 16, dropout 0.1) on its attention projections; its layer norms and
   positional embeddings train too, as the paper says (peft freezes them; they are switched back on).
5. Three flatten heads; each part's forecast is de-normalised with its own statistics and the
   forecast is their sum. An optional decomposition loss compares each part's forecast with the
   decomposition of the target window.

Ablations: `prompt="none"` (no prompts) and `decomposition="none"` (the whole window as one part).
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.backbones import Backbone, load_backbone
from core.decompose import WINDOW_PARTS, decompose_windows
from core.models.layers import RevIN
from core.patching import make_patches, patch_count

DECOMPOSITIONS = ("stl", "moving_average", "none")
PROMPTS = ("semi_soft", "pool", "none")
# LoRA targets by architecture: GPT-2's fused query-key-value projection, Llama's and BERT's
# attention projections.
LORA_TARGETS = {
    "gpt2": ["c_attn"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "bert": ["query", "key", "value"],
}
# Parameters that train alongside LoRA (the paper: layer norms and positional embeddings).
_NORM_NAMES = ("norm", "ln_", "LayerNorm")
_POSITION_NAMES = ("wpe", "position_embeddings")


@dataclass
class TEMPOConfig:
    seq_len: int = 336  # look-back L (the paper: 336 on ETT)
    pred_len: int = 96
    n_channels: int = 7
    backbone: str = "smollm2-135m"  # the paper: GPT-2; the bundled SmolLM2 offline
    layers: int = 6  # backbone layers kept (the paper keeps 6 of GPT-2's 12)
    decomposition: str = field(default="stl", metadata={"choices": DECOMPOSITIONS})
    period: int = 24  # the seasonal period in steps
    prompt: str = field(default="semi_soft", metadata={"choices": PROMPTS})
    pool_size: int = 30  # M prompts in the pool
    top_k: int = 3  # prompts a part picks from the pool
    prompt_length: int = 3  # vectors per pool prompt
    pool_loss_weight: float = 0.1  # weight of the key-query matching term
    lora_rank: int = 16
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    patch_len: int = 16
    stride: int = 8
    dropout: float = 0.1  # head dropout
    decomposition_loss_weight: float = 0.0  # 0: off


class WindowDecomposer:
    """Decomposes windows row by row, remembering STL results by the window's bytes.

    Training revisits the same windows every epoch; STL of a 336-step window costs about a
    millisecond, so a step of 112 windows would pay ~0.1 s again and again without the cache.
    """

    def __init__(self, mode: str, period: int, max_entries: int = 100_000):
        self.mode, self.period, self.max_entries = mode, period, max_entries
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """(N, T) to (N, 3, T)."""
        if self.mode != "stl":
            return decompose_windows(windows, self.period, self.mode)
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        keys = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in windows]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if missing:
            parts = decompose_windows(windows[missing], self.period, "stl").astype(np.float32)
            for i, decomposed in zip(missing, parts, strict=True):
                self._cache[keys[i]] = decomposed
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return np.stack([self._cache[key] for key in keys])


class PromptPool(nn.Module):
    """M learnable keys and prompts; a query picks the k prompts whose keys it is closest to."""

    def __init__(self, size: int, length: int, width: int, top_k: int):
        super().__init__()
        if top_k > size:
            raise ValueError(f"top_k ({top_k}) cannot exceed the pool size ({size})")
        self.top_k = top_k
        self.keys = nn.Parameter(torch.empty(size, width).uniform_(-1, 1))
        self.values = nn.Parameter(torch.empty(size, length, width).uniform_(-1, 1))

    def forward(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Prompts (N, k·length, D), the picked indices (N, k) and the matching loss (scalar)."""
        with torch.autocast(query.device.type, enabled=False):  # picks must not flip on bf16 rounding
            similarity = (
                F.normalize(query.float(), dim=-1) @ F.normalize(self.keys.float(), dim=-1).t()
            )  # (N, M)
        chosen_similarity, chosen = similarity.topk(self.top_k, dim=-1)
        prompts = self.values[chosen].flatten(1, 2)  # (N, k·length, D)
        return prompts, chosen, (1 - chosen_similarity).mean()


@dataclass
class TEMPOExplanation:
    parts: torch.Tensor  # (B, n_parts, H, C) each part's forecast in the input's units; they sum up
    decomposition: torch.Tensor  # (B, n_parts, L, C) the look-back window's parts
    chosen: torch.Tensor | None  # (B·C, n_parts, k) pool prompts picked per part, or None


class TEMPO(nn.Module):
    # What `auto` precision means on a CPU: bench/bench_tempo.py measured a training step 1.8x faster
    # under bf16 autocast than in fp32 (SmolLM2, 6 layers, ETTh1 M, look-back 336, batch 16).
    cpu_autocast = "bf16"

    def __init__(self, config: TEMPOConfig, backbone: Backbone | None = None):
        super().__init__()
        if config.decomposition not in DECOMPOSITIONS:
            raise ValueError(
                f"unknown decomposition {config.decomposition!r}; choose {', '.join(DECOMPOSITIONS)}"
            )
        if config.prompt not in PROMPTS:
            raise ValueError(f"unknown prompt type {config.prompt!r}; choose one of {', '.join(PROMPTS)}")
        for name in ("pool_loss_weight", "decomposition_loss_weight"):
            if getattr(config, name) < 0:
                raise ValueError(f"{name.replace('_', ' ')} cannot be negative, got {getattr(config, name)}")
        if config.decomposition != "none":
            if config.period < 2:
                raise ValueError(f"the seasonal period must be at least 2 steps, got {config.period}")
            if config.period > config.seq_len:
                raise ValueError(
                    f"the seasonal period ({config.period}) is longer than the look-back ({config.seq_len}); "
                    "shorten the period or lengthen the look-back"
                )
            if config.decomposition == "stl" and config.seq_len < 2 * config.period:
                raise ValueError(
                    f"STL of a window needs two full periods: look-back {config.seq_len} is shorter than "
                    f"2 × period {config.period}; lengthen the look-back, shorten the period or use "
                    "the moving-average decomposition"
                )
        self.config = config
        backbone = backbone or load_backbone(config.backbone, layers=config.layers)
        self.untrained_backbone = backbone.untrained
        width = backbone.hidden_size
        self.part_names = WINDOW_PARTS if config.decomposition != "none" else ("series",)
        n_parts = len(self.part_names)
        self.decomposer = WindowDecomposer(config.decomposition, config.period)
        self.n_patches = patch_count(config.seq_len, config.patch_len, config.stride)
        self.revins = nn.ModuleList(RevIN(config.n_channels) for _ in range(n_parts))
        self.patch_embeddings = nn.ModuleList(nn.Linear(config.patch_len, width) for _ in range(n_parts))
        self.soft_prompts = None
        self.pool = None
        if config.prompt == "semi_soft":
            self.soft_prompts = nn.ParameterList(
                nn.Parameter(_text_embeddings(backbone, f"Predict the future time step given the {part}"))
                for part in self.part_names
            )
        elif config.prompt == "pool":
            self.pool = PromptPool(config.pool_size, config.prompt_length, width, config.top_k)
            self.register_buffer("prompt_counts", torch.zeros(n_parts, config.pool_size), persistent=False)
        self.body = _with_lora(backbone, config)
        limit = getattr(backbone.body.config, "max_position_embeddings", None)
        tokens = n_parts * self.n_patches + self._prompt_tokens_per_row()
        if limit is not None and tokens > limit:
            raise ValueError(
                f"TEMPO would feed {tokens} tokens per window and {backbone.name} has {limit} positions; "
                "shorten the look-back or lengthen the stride"
            )
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Flatten(start_dim=-2),
                nn.Dropout(config.dropout),
                nn.Linear(self.n_patches * width, config.pred_len),
            )
            for _ in range(n_parts)
        )
        self._auxiliary = None  # the pool's matching term of the last forward pass
        self.last_parts = None  # the last forward pass's part forecasts
        self.counting_picks = False  # see count_prompt_picks

    def _prompt_tokens_per_row(self) -> int:
        if self.soft_prompts is not None:
            return sum(p.shape[0] for p in self.soft_prompts)
        if self.pool is not None:
            return len(self.part_names) * self.config.top_k * self.config.prompt_length
        return 0

    def decompose(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, C) to (B, n_parts, L, C), each window and channel on its own."""
        if self.config.decomposition == "none":
            return x.float().unsqueeze(1)
        return _by_channel(x, self.decomposer)

    def _forward_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        batch, _, channels = x.shape
        decomposition = self.decompose(x)  # (B, n, L, C)
        pieces, spans, stats, chosen, matching = [], [], [], [], []
        for i in range(len(self.part_names)):
            normed, part_stats = self.revins[i].normalise(decomposition[:, i])  # (B, L, C)
            stats.append(part_stats)
            series = normed.transpose(1, 2).reshape(batch * channels, -1)  # (B·C, L)
            patches = make_patches(series, self.config.patch_len, self.config.stride)  # (B·C, P, Lp)
            patches = self.patch_embeddings[i](patches)  # (B·C, P, D)
            prompt = None
            if self.soft_prompts is not None:
                prompt = self.soft_prompts[i].unsqueeze(0).expand(len(patches), -1, -1)
            elif self.pool is not None:
                prompt, picked, loss = self.pool(patches.mean(dim=1))
                chosen.append(picked)
                matching.append(loss)
            if prompt is not None:
                pieces.append(prompt.to(patches.dtype))
            start = sum(piece.shape[1] for piece in pieces)
            pieces.append(patches)
            spans.append((start, start + patches.shape[1]))
        embeds = torch.cat(pieces, dim=1)  # [prompt_T, patches_T, prompt_S, patches_S, prompt_R, patches_R]
        hidden = self.body(inputs_embeds=embeds.to(self.body.dtype)).last_hidden_state  # (B·C, T, D)
        parts = []
        for i, (start, end) in enumerate(spans):
            y = self.heads[i](hidden[:, start:end]).float()  # (B·C, H)
            parts.append(self.revins[i].denormalise(y.view(batch, channels, -1).transpose(1, 2), stats[i]))
        self._auxiliary = torch.stack(matching).mean() * self.config.pool_loss_weight if matching else None
        picks = torch.stack(chosen, dim=1) if chosen else None  # (B·C, n, k)
        if picks is not None and self.counting_picks:  # what the test windows pick, for the Attention page
            for i in range(len(self.part_names)):
                counts = torch.bincount(picks[:, i].flatten(), minlength=self.config.pool_size)
                self.prompt_counts[i] += counts.to(self.prompt_counts.dtype)
        return torch.stack(parts, dim=1), decomposition, picks  # (B, n, H, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts, _, _ = self._forward_parts(x)
        self.last_parts = parts  # (B, n, H, C), for the decomposition loss and the Forecast page
        return parts.sum(dim=1)  # (B, H, C)

    def count_prompt_picks(self) -> None:
        """Count the pool's picks from now on, from zero (the runner: over the test windows only)."""
        if self.pool is not None:
            self.prompt_counts.zero_()
            self.counting_picks = True

    def auxiliary_loss(
        self, target: torch.Tensor, output_index: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """Terms the trainer adds to the forecast loss: the pool's matching term, and the decomposition
        loss (each part's forecast against the same decomposition of the target window)."""
        total = self._auxiliary
        weight = self.config.decomposition_loss_weight
        if weight > 0 and self.config.decomposition != "none" and self.last_parts is not None:
            parts = self.last_parts
            if output_index is not None:
                parts = parts.index_select(-1, output_index)
            target_parts = self._target_decomposition(target)
            term = weight * F.mse_loss(parts, target_parts)
            total = term if total is None else total + term
        return total

    def _target_decomposition(self, target: torch.Tensor) -> torch.Tensor:
        """The target window (B, H, C) in parts (B, 3, H, C); too short for STL, the moving average."""
        mode = self.config.decomposition
        if mode == "stl" and target.shape[1] < 2 * self.config.period:
            mode = "moving_average"
        return _by_channel(target, lambda rows: decompose_windows(rows, self.config.period, mode))

    @torch.no_grad()
    def explain(self, x: torch.Tensor) -> TEMPOExplanation:
        """Each part's forecast, the window's decomposition and the pool's picks (eval mode)."""
        parts, decomposition, picks = self._forward_parts(x)
        return TEMPOExplanation(parts, decomposition, picks)


def _by_channel(x: torch.Tensor, decompose_rows) -> torch.Tensor:
    """Decompose each window and channel of x (B, T, C) with `decompose_rows` ((N, T) to (N, 3, T)
    in NumPy): (B, 3, T, C) on x's device."""
    batch, length, channels = x.shape
    rows = x.detach().float().transpose(1, 2).reshape(-1, length).cpu().numpy()  # (B·C, T)
    parts = torch.from_numpy(decompose_rows(rows)).to(x.device, torch.float32)  # (B·C, 3, T)
    return parts.view(batch, channels, len(WINDOW_PARTS), length).permute(0, 2, 3, 1)


def _text_embeddings(backbone: Backbone, text: str) -> torch.Tensor:
    ids = backbone.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    return backbone.embed(ids.to(backbone.input_embeddings().device))[0].detach().float().clone()  # (T, D)


def _with_lora(backbone: Backbone, config: TEMPOConfig) -> nn.Module:
    """A private copy of the backbone's body with LoRA adapters, norms and positions trainable.

    The registry's body is cached and shared by other models, so it is copied, never changed.
    """
    from peft import LoraConfig, get_peft_model

    body = copy.deepcopy(backbone.body)
    model_type = body.config.model_type
    if model_type not in LORA_TARGETS:
        raise ValueError(
            f"TEMPO knows where LoRA goes in {', '.join(LORA_TARGETS)} models, not in {model_type!r}; "
            "choose another backbone"
        )
    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=LORA_TARGETS[model_type],
        fan_in_fan_out=model_type == "gpt2",  # GPT-2 stores its projections transposed (Conv1D)
    )
    body = get_peft_model(body, lora)
    for name, parameter in body.named_parameters():
        if any(part in name for part in _NORM_NAMES + _POSITION_NAMES):
            parameter.requires_grad_(True)
    return body
