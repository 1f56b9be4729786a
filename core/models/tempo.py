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
   through `peft` (`core.lm.with_lora`: r 16, alpha 16, dropout 0.1) on its attention projections;
   its layer norms and positional embeddings train too, as the paper says (peft freezes them; they
   are switched back on).
5. Three flatten heads; each part's forecast is de-normalised with its own statistics and the
   forecast is their sum. An optional decomposition loss compares each part's forecast with the
   decomposition of the target window.

Ablations: `prompt="none"` (no prompts) and `decomposition="none"` (the whole window as one part).
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from core.decompose import WINDOW_PARTS, decompose_windows, frequency_period
from core.explain import Panel, Table
from core.lm import Backbone, load_backbone, with_lora
from core.models.contract import (
    CPU_EPOCHS,
    GPU_EPOCHS_CAP,
    QUICK_BATCH,
    QUICK_EPOCHS,
    QUICK_TRAIN_WINDOWS,
    DataFacts,
    Forecaster,
    ForecastOutput,
    ModelSpec,
    Preset,
    language_model_option,
    option,
)
from core.models.layers import RevIN
from core.patching import make_patches, patch_count

DECOMPOSITIONS = ("stl", "moving_average", "none")
PROMPTS = ("semi_soft", "pool", "none")
# The quick budget's backbone layers (the other quick settings are core.models.contract's). TEMPO
# adapts its layers with LoRA, and one layer was not enough: on ETTh1's target (look-back 96,
# horizon 24, batch 32, 2,048 training windows) the validation MSE was 0.0729 with 1 layer and 0.0598
# with 2, whose whole run took 145 s on the 2-core development CPU (92 s with 1). Per-window STL stays:
# under 1 ms a window there, some 7 s of the run's 7,762 windows, and the moving average was no better
# (0.0602); bench/results/quick_budget.json has these runs.
QUICK_TEMPO_LAYERS = 2


@dataclass
class TEMPOConfig:
    seq_len: int = 336  # look-back L (the paper: 336 on ETT)
    pred_len: int = 96
    n_channels: int = 7
    backbone: str = language_model_option("The language model adapted with LoRA.")  # the paper: GPT-2
    layers: int = 6  # backbone layers kept (the paper keeps 6 of GPT-2's 12)
    decomposition: str = option("stl", choices=DECOMPOSITIONS)
    period: int = 24  # the seasonal period in steps
    prompt: str = option("semi_soft", choices=PROMPTS)
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


class TEMPO(Forecaster):
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
        # The registry's body is cached and shared by other models, so a copy is adapted.
        self.body = with_lora(
            copy.deepcopy(backbone.body),
            rank=config.lora_rank,
            alpha=config.lora_alpha,
            dropout=config.lora_dropout,
            train_norms_and_positions=True,
        )
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

    def _forward_parts(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Part forecasts (B, n, H, C), the pool's picks (B·C, n, k) and its matching loss."""
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
        picks = torch.stack(chosen, dim=1) if chosen else None  # (B·C, n, k)
        matching_loss = torch.stack(matching).mean() * self.config.pool_loss_weight if matching else None
        return torch.stack(parts, dim=1), picks, matching_loss  # (B, n, H, C)

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        batch = x.shape[0]
        parts, picks, matching_loss = self._forward_parts(x)
        counts = None
        if picks is not None:  # how often each window's parts (over its channels) picked each prompt
            one_hot = F.one_hot(picks.view(batch, -1, *picks.shape[1:]), self.config.pool_size)
            counts = one_hot.sum(dim=(1, 3))  # (B, n, M)
        return ForecastOutput(parts.sum(dim=1), parts, counts, matching_loss)  # forecast (B, H, C)

    def training_loss(self, output: ForecastOutput, target: torch.Tensor, loss) -> torch.Tensor:
        """The forecast's loss and the pool's matching term, plus the decomposition loss when weighted:
        each part's forecast against the same decomposition of the target window."""
        total = super().training_loss(output, target, loss)
        weight = self.config.decomposition_loss_weight
        if weight > 0 and self.config.decomposition != "none":
            total = total + weight * F.mse_loss(output.parts, self._target_decomposition(target))
        return total

    def _target_decomposition(self, target: torch.Tensor) -> torch.Tensor:
        """The target window (B, H, C) in parts (B, 3, H, C); too short for STL, the moving average."""
        mode = self.config.decomposition
        if mode == "stl" and target.shape[1] < 2 * self.config.period:
            mode = "moving_average"
        return _by_channel(target, lambda rows: decompose_windows(rows, self.config.period, mode))

    @torch.no_grad()
    def explain(self, x: torch.Tensor, channels: list[str], channel: int | None) -> list[Panel]:
        """Which pool prompts each part of one window (1, L, C) picked, channel by channel."""
        self.eval()
        _, picks, _ = self._forward_parts(x)  # (C, n, k) for one window
        if picks is None:
            raise NotImplementedError("TEMPO explains its prompt picks only with a prompt pool")
        rows = [
            {
                "channel": channels[c],
                "part": part,
                "prompts picked": ", ".join(map(str, picks[c, p].tolist())),
            }
            for c in range(picks.shape[0])
            for p, part in enumerate(self.part_names)
        ]
        return [
            Table(
                "The pool prompts this window's parts picked",
                pd.DataFrame(rows),
                caption=f"Each part of each channel picks the {self.config.top_k} of {self.config.pool_size} "
                "pool prompts whose keys are closest to its patches (cosine similarity).",
            )
        ]


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


def has_prompt_pool(model_config: dict) -> bool:
    """Only a prompt pool picks prompts, so only then is there something to explain."""
    return model_config.get("prompt") == "pool"


def preset(spec: ModelSpec, facts: DataFacts) -> Preset:
    """TEMPO's paper (Cao et al., ICLR 2024): look-back 336, lr 1e-3, cosine schedule, patience 5,
    6 backbone layers, and the seasonal period from the data's frequency; fewer epochs on a CPU. The
    quick budget keeps fewer layers and trains one epoch over a strided share of the windows; the
    paper budget trains as on a GPU (see core.models.budget)."""
    train = dict(spec.train_defaults)
    decomposes = spec.fixed.get("decomposition") != "none"
    period = frequency_period(facts.freq)
    look_back = facts.look_back
    notes = [
        "From the TEMPO paper: learning rate 1e-3, cosine schedule, early-stopping patience 5, the "
        "backbone's first 6 layers, LoRA rank 16. Its look-back is 336; set it in the sidebar.",
        "The paper's backbone is GPT-2 (pick it if this machine can download it once); the bundled "
        "SmolLM2 is the offline default.",
    ]
    model_options = {}
    if decomposes and period:
        model_options["period"] = period
        notes.append(f"Seasonal period {period} steps, from the data's frequency ({facts.freq}).")
        if look_back < period:
            notes.append(
                f"A window of {look_back} steps holds less than one period: lengthen the look-back to at "
                f"least {period}, or set a shorter period."
            )
        elif look_back < 2 * period:
            model_options["decomposition"] = "moving_average"
            notes.append(
                f"STL of a window needs two periods ({2 * period} steps) and the look-back is {look_back}: "
                "the moving-average decomposition is chosen instead."
            )
    elif decomposes:
        notes.append("The data has no calendar frequency: set the seasonal period to its cycle in steps.")
    if facts.budget == "quick":
        model_options["layers"] = QUICK_TEMPO_LAYERS
        train.update(
            epochs=QUICK_EPOCHS, patience=1, train_windows=QUICK_TRAIN_WINDOWS, batch_size=QUICK_BATCH
        )
        notes.append(
            f"Quick budget: the backbone's first {QUICK_TEMPO_LAYERS} layers, {QUICK_EPOCHS} epoch over at "
            f"most {QUICK_TRAIN_WINDOWS:,} evenly spaced training windows in batches of {QUICK_BATCH}; "
            "validation and test use every window."
        )
    elif facts.budget == "paper":
        train["epochs"] = GPU_EPOCHS_CAP
        notes.append(
            f"Paper budget: the paper's 6 backbone layers and up to {GPU_EPOCHS_CAP} epochs with early "
            "stopping, which is work for a GPU."
        )
    elif facts.device_type == "cpu":
        train["epochs"] = CPU_EPOCHS
        notes.append(
            f"Scaled for this CPU: {CPU_EPOCHS} epochs; the backbone runs over three prompted parts, so a "
            "step takes seconds here."
        )
    else:
        train["epochs"] = GPU_EPOCHS_CAP
        notes.append(f"On a GPU: up to {GPU_EPOCHS_CAP} epochs with early stopping.")
    return Preset(model_options=model_options, train_options=train, notes=notes)
