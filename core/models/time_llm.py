"""Time-LLM (Jin et al., ICLR 2024): forecast by reprogramming a frozen language model.

Per window and channel (channel independence):

1. RevIN normalises the window; the forecast is de-normalised at the end.
2. The window is cut into P = floor((L − Lp) / S) + 2 patches (`core.patching`, shared with the
   Explore page) and each patch is embedded into d_model (`patch_embedding`): `conv`, the default,
   as the official code does it (a 1-D convolution across neighbouring patches, kernel 3, circular
   padding, no bias, the patch's Lp steps as its in-channels), or `linear`, a linear map of each
   patch alone, as the paper describes it. The default is the official code's choice: the comparison
   with neuralforecast (bench/bench_time_llm_vs_neuralforecast.py) reports both, on test data, which
   is no ground for choosing one.
3. Text prototypes: V' vectors learned as a linear map of the backbone's V vocabulary embeddings
   (V × D to V' × D), computed once per forward pass, not per sample. A compact inference state
   (`TimeLLM.compact_state`) holds the V' × D prototypes themselves instead of the V → V' map.
4. Reprogramming: multi-head cross-attention (K heads), queries from the patch embeddings, keys and
   values from the prototypes, projected to the backbone's width D. Each head is d_ff wide
   (`reprogramming_width="official"`, the default, as the official code and neuralforecast: 8 heads
   × 32 = 256) or 4 × d_model / K (`"narrow"`: 8 heads × 8 = 64, this project's first choice).
   Training uses `F.scaled_dot_product_attention`; `explain` reads the weights explicitly.
5. Prompt-as-prefix: the data set's description, the task and the window's statistics (min, max,
   median, trend, top-5 lags from a non-circular autocorrelation without lag 0, in the series' own
   units, rounded to few digits), tokenised as one batch with an attention mask. The text comes
   from `core.stats.prompt_pieces`, which the Explore page shows too.
6. The frozen backbone runs over [prompt; reprogrammed patches]; the hidden states at the patch
   positions, first d_ff channels, go through a flatten head (with dropout) to the horizon.

Ablations (Tan et al., NeurIPS 2024, "Are language models actually useful for time series
forecasting?"): `no_llm` sends the reprogrammed patches straight to the head; `llm_to_attention`
replaces the backbone with one trainable self-attention layer; `random_init` keeps the backbone's
architecture with random weights.

Runs stored before `reprogramming_width` and `patch_embedding` existed rebuild as they were trained:
a stored config without them means the narrow width and the linear embedding
(`TimeLLMConfig.absent_means`, read by `core.models.registry.rebuild`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from core.data import ProtocolData
from core.explain import Heatmap, Panel, Table, Text
from core.lm import Backbone, load_backbone
from core.models.contract import (
    CPU_EPOCHS,
    CPU_LAYERS,
    GPU_EPOCHS_CAP,
    GPU_LAYERS,
    QUICK_BATCH,
    QUICK_EPOCHS,
    QUICK_LAYERS,
    QUICK_TRAIN_WINDOWS,
    CheckpointMismatch,
    DataFacts,
    Forecaster,
    ForecastOutput,
    ModelSpec,
    Preset,
    language_model_option,
    option,
)
from core.models.layers import RevIN
from core.patching import make_patches, patch_count, patch_starts
from core.stats import prompt_pieces

QUICK_PROTOTYPES = 100  # V' of the quick budget (the paper's own for ILI and M4)
VARIANTS = ("full", "no_llm", "llm_to_attention", "random_init")
WIDTHS = ("official", "narrow")
EMBEDDINGS = ("conv", "linear")
SHOWN_PROTOTYPES = 30  # columns of the attention heatmap: the prototypes a window attends to most


@dataclass
class TimeLLMConfig:
    seq_len: int = 96  # look-back L (the paper: 512)
    pred_len: int = 96  # horizon H
    n_channels: int = 7
    backbone: str = language_model_option("The frozen language model.")  # the paper: LLaMA-7B
    layers: int = 6  # backbone layers kept (the paper keeps 32 of LLaMA-7B's 32; a CPU cannot)
    n_prototypes: int = 1000  # V' (the seed's table: 1000; 100 for ILI and M4)
    d_model: int = 16  # patch embedding width d_m
    d_ff: int = 32  # hidden channels of the backbone output read by the head
    n_heads: int = 8  # K, heads of the reprogramming attention
    patch_len: int = 16  # Lp
    stride: int = 8  # S
    dropout: float = 0.1  # patch embedding, reprogramming and head dropout
    variant: str = "full"  # full | no_llm | llm_to_attention | random_init
    description: str = option(  # the data set's description for the prompt
        "", describes_data=True, help="The language model reads this before the series; empty leaves it out."
    )
    # Per-channel mean and std of the scaler the inputs went through, so that the prompt's
    # statistics are in the series' own units (the official code describes scaled values).
    input_mean: list[float] | None = option(None, automatic=True)
    input_std: list[float] | None = option(None, automatic=True)
    reprogramming_width: str = option(
        "official",
        choices=WIDTHS,
        labels={"official": "d_ff per head (official code)", "narrow": "4 × d_model / heads per head"},
        help="Width of each reprogramming head: d_ff as the official code, or 4 × d_model / heads.",
    )
    patch_embedding: str = option(
        "conv",
        choices=EMBEDDINGS,
        labels={"conv": "convolution across patches (official code)", "linear": "linear map (paper)"},
        help="How a patch becomes a vector: a convolution over it and its neighbours, or a linear map.",
    )

    # What a stored config without a field meant: the architecture before the field existed.
    absent_means: ClassVar[dict[str, str]] = {"reprogramming_width": "narrow", "patch_embedding": "linear"}


class ReprogrammingLayer(nn.Module):
    """Cross-attention from patch embeddings (queries) to text prototypes (keys and values), K heads of
    d_keys channels each."""

    def __init__(self, d_model: int, n_heads: int, d_keys: int, d_llm: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.d_keys = d_keys
        width = d_keys * n_heads
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
        n, heads, p, d_keys = q.shape
        # Every row attends to the same prototypes, so the rows' queries go side by side into one
        # sequence per head: keys and values are never copied per row (SDPA on a CPU materialises an
        # expanded key, N times over, which made this layer several times slower).
        attended = F.scaled_dot_product_attention(
            q.transpose(0, 1).reshape(1, heads, n * p, d_keys),
            k[None],
            v[None],
            dropout_p=self.dropout if self.training else 0.0,
        )  # (1, K, N·P, dk)
        attended = attended.view(heads, n, p, d_keys).permute(1, 2, 0, 3)  # (N, P, K, dk)
        return self.out(attended.reshape(n, p, heads * d_keys))  # (N, P, D)

    def attention(self, patches: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        """The attention weights, explicitly: (N, K, P, V'), each row summing to one."""
        q, k, _ = self._project(patches, prototypes)
        scores = q @ k.transpose(-1, -2).unsqueeze(0) / self.d_keys**0.5  # (N, K, P, V')
        return scores.softmax(dim=-1)


def head_width(config: TimeLLMConfig) -> int:
    """Each reprogramming head's width d_keys: d_ff (the official code) or 4 × d_model / K (narrow)."""
    if config.reprogramming_width == "official":
        return config.d_ff
    return max(config.d_model // config.n_heads, 1) * 4


class PatchConvolution(nn.Module):
    """The official code's patch embedding: a 1-D convolution along the patch axis (kernel 3, circular
    padding, no bias) with the Lp steps of a patch as in-channels, so that each embedding also sees
    the patch before and after it (the first and last wrap round to each other)."""

    def __init__(self, patch_len: int, d_model: int):
        super().__init__()
        self.conv = nn.Conv1d(
            patch_len, d_model, kernel_size=3, padding=1, padding_mode="circular", bias=False
        )
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_in", nonlinearity="leaky_relu")  # as theirs

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.conv(patches.transpose(1, 2)).transpose(1, 2)  # (N, P, Lp) -> (N, P, d_model)


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


class TimeLLM(Forecaster):
    def __init__(self, config: TimeLLMConfig, backbone: Backbone | None = None):
        super().__init__()
        if config.variant not in VARIANTS:
            raise ValueError(
                f"unknown Time-LLM variant {config.variant!r}; choose one of {', '.join(VARIANTS)}"
            )
        for name, value, allowed in (
            ("reprogramming_width", config.reprogramming_width, WIDTHS),
            ("patch_embedding", config.patch_embedding, EMBEDDINGS),
        ):
            if value not in allowed:
                raise ValueError(f"unknown Time-LLM {name} {value!r}; choose one of {', '.join(allowed)}")
        self.config = config
        backbone = backbone or load_backbone(config.backbone, layers=config.layers)
        self.tokenizer = backbone.tokenizer
        self.untrained_backbone = backbone.untrained
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
        if config.patch_embedding == "conv":
            self.patch_embedding = PatchConvolution(config.patch_len, config.d_model)
        else:
            self.patch_embedding = nn.Linear(config.patch_len, config.d_model)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.mapping = nn.Linear(vocabulary.shape[0], config.n_prototypes)  # V -> V' over the vocabulary
        self.reprogramming = ReprogrammingLayer(
            config.d_model, config.n_heads, head_width(config), width, config.dropout
        )
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
        """(V', D): each prototype a learned combination of the vocabulary's embeddings (or, in a
        compact model, the stored result of that combination)."""
        if self.compact:
            return self.stored_prototypes
        return self.mapping(self.vocabulary.t()).t()

    # A compact inference state: what a forecast needs, the V' × D prototypes instead of the V → V' map

    @property
    def compact(self) -> bool:
        """Whether the model holds its prototypes rather than the map that makes them (it forecasts and
        explains, but cannot train)."""
        return self.mapping is None

    @torch.no_grad()
    def compact_state(self) -> dict[str, torch.Tensor]:
        """The trainable state with `mapping.weight` and `mapping.bias` (V' × V + V', the largest part:
        49,152 × V' for SmolLM2) replaced by one `prototypes` tensor (V', D), all that a forecast reads
        of them. `load_trainable_state` takes it; the model it makes forecasts alike but cannot train."""
        state = {
            name: tensor
            for name, tensor in self.trainable_state().items()
            if name not in ("mapping.weight", "mapping.bias")
        }
        state["prototypes"] = self.prototypes().detach().float().cpu().clone()
        return state

    def trainable_state(self) -> dict[str, torch.Tensor]:
        if self.compact:
            return super().trainable_state() | {"prototypes": self.stored_prototypes.detach().cpu().clone()}
        return super().trainable_state()

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        """A full checkpoint (`trainable_state`) or a compact one (`compact_state`): the latter drops
        the V → V' map and keeps the given prototypes as a buffer instead."""
        if "prototypes" not in state:
            if self.compact:
                raise CheckpointMismatch(
                    "this Time-LLM was made compact (it holds its prototypes, not the map that makes them); "
                    "rebuild it to load a full checkpoint"
                )
            super().load_trainable_state(state)
            return
        state = dict(state)
        prototypes = state.pop("prototypes")
        expected = (self.config.n_prototypes, self.vocabulary.shape[1])
        if tuple(prototypes.shape) != expected:
            raise CheckpointMismatch(
                f"the checkpoint's prototypes are {tuple(prototypes.shape)}, this model's are {expected}"
            )
        if "mapping.weight" in state or "mapping.bias" in state:
            raise CheckpointMismatch(
                "a compact checkpoint holds prototypes or the map that makes them, not both"
            )
        mapping = self.mapping
        self.mapping = None  # the V → V' map goes: the prototypes are stored, not made
        try:
            super().load_trainable_state(state)
        except CheckpointMismatch:
            self.mapping = mapping
            raise
        # Not persistent: a compact model's own state_dict keeps the contract's shape; the tensor
        # travels under the name `prototypes` (see `trainable_state`).
        self.register_buffer(
            "stored_prototypes",
            prototypes.to(device=self.vocabulary.device, dtype=torch.float32),
            persistent=False,
        )
        self.eval()  # and it stays so: a compact model cannot train

    def train(self, mode: bool = True):
        if mode and self.compact:
            raise RuntimeError(
                "this Time-LLM is compact: it holds its V' text prototypes, not the map from the vocabulary "
                "that training learns, so it can forecast but not train; train a model built from a full "
                "checkpoint instead"
            )
        return super().train(mode)

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

    def forward(self, x: torch.Tensor) -> ForecastOutput:
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
        return ForecastOutput(self.revin.denormalise(y, stats))

    @torch.no_grad()
    def explain(self, x: torch.Tensor, channels: list[str], channel: int | None) -> list[Panel]:
        """One window's reprogramming attention for one channel (no backbone pass): which text
        prototypes each patch attends to, per head and on average, and the prompt it was given."""
        self.eval()
        channel = 0 if channel is None else channel
        x_norm, _ = self.revin.normalise(x)  # (1, L, C)
        prototypes = self.prototypes()  # (V', D)
        weights = self.reprogramming.attention(self._patch_tokens(x_norm), prototypes)[channel]  # (K, P, V')
        mean = weights.mean(dim=0)  # (P, V')
        shown = mean.mean(dim=0).argsort(descending=True)[:SHOWN_PROTOTYPES]
        best = mean.topk(min(3, mean.shape[1]), dim=-1)  # each patch's three strongest prototypes
        named = sorted(set(shown.tolist()) | set(best.indices.flatten().tolist()))
        words = nearest_tokens(prototypes[named], self.vocabulary, self.tokenizer)
        label = {i: f"#{i} {' / '.join(w)}" for i, w in zip(named, words, strict=True)}
        names = [label[i].split(" ", 1)[1] for i in shown.tolist()]
        alike = len(names) - len(set(names))
        shared = (
            f" {alike} of the {len(names)} shown share their names with another: they sit close together "
            "and resemble no word in particular."
            if alike
            else ""
        )
        length, width = self.config.seq_len, self.config.patch_len
        patches = [
            f"patch {p + 1} (steps {start + 1}–{min(start + width, length)}"
            + (", then the last value repeated)" if start + width > length else ")")
            for p, start in enumerate(patch_starts(length, width, self.config.stride))
        ]
        layers = torch.cat([mean[None], weights])[:, :, shown]  # (1 + K, P, shown)
        name = channels[channel]
        return [
            Heatmap(
                f"{name}: patches × the text prototypes they attend to most",
                layers.float().numpy(),
                patches,
                [label[i] for i in shown.tolist()],
                row_title="patch of the look-back window",
                column_title="text prototype (its nearest words)",
                layers=["mean of heads", *(f"head {k + 1}" for k in range(weights.shape[0]))],
                caption=f"{mean.shape[1]} prototypes in all; the {len(shown)} with the highest mean weight "
                f"in this window are shown (a patch's weights sum to one, so equal attention would give each "
                f"prototype {1 / mean.shape[1]:.4f}). Each prototype is a learned mix of the vocabulary's "
                "embeddings, named by the three whole words nearest to it (cosine similarity): a hint at "
                "where it sits among the words, not a meaning it was given." + shared,
            ),
            Table(
                "Each patch's strongest prototypes (mean of heads)",
                pd.DataFrame(
                    {
                        "patch": patches,
                        **{
                            f"prototype {rank + 1}": [
                                f"{label[i]} ({w:.3f})"
                                for i, w in zip(
                                    best.indices[:, rank].tolist(), best.values[:, rank].tolist(), strict=True
                                )
                            ]
                            for rank in range(best.indices.shape[1])
                        },
                    }
                ),
            ),
            Text("The prompt this window was given", self.prompts(x)[channel]),
        ]


RANDOM_BODY_SEED = 1  # the random backbone's weights come from this seed (the tiny test models' is 0)


def _random_copy(body: nn.Module) -> nn.Module:
    """The same architecture with random weights, frozen like the pre-trained one. The weights are
    drawn from a fixed seed, without touching the global one: a checkpoint holds trainable weights
    only, so a rebuilt model must draw the same backbone to forecast as the trained one did."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_BODY_SEED)
        copy = type(body)(body.config)
    copy.eval()
    for parameter in copy.parameters():
        parameter.requires_grad_(False)
    return copy


_WORD_TOKENS: dict[tuple, torch.Tensor] = {}  # one mask per tokenizer and vocabulary size
# Function words sit near the middle of many embeddings, so many prototypes would share them as
# names; they say nothing about a prototype and are passed over.
_FUNCTION_WORDS = frozenset(
    "the and for with that this from are was were has have had not but you your our their its his her "
    "she him they them who what when where which while will would can could should may might must "
    "been being into onto over under than then there here these those all any each few more most "
    "other some such only own same too very just also out off one two".split()
)


def word_tokens(tokenizer, size: int) -> torch.Tensor:
    """Which of the first `size` token ids are whole English-looking words (a leading space, then
    three or more ASCII letters, not a function word such as "the"), as a boolean mask: the names a
    person can read. Punctuation and byte tokens are left out, as are pieces of words that start
    with no space; a piece that does ("enthus") cannot be told from a word here. Decoded once per
    tokenizer."""
    key = (getattr(tokenizer, "name_or_path", ""), len(tokenizer), size)
    if key not in _WORD_TOKENS:
        texts = tokenizer.batch_decode([[index] for index in range(min(size, len(tokenizer)))])
        mask = torch.zeros(size, dtype=torch.bool)
        for index, text in enumerate(texts):
            word = text[1:]
            mask[index] = (
                text.startswith(" ")
                and len(word) >= 3
                and word.isascii()
                and word.isalpha()
                and word.lower() not in _FUNCTION_WORDS
            )
        _WORD_TOKENS[key] = mask
    return _WORD_TOKENS[key]


def nearest_tokens(
    prototypes: torch.Tensor, vocabulary: torch.Tensor, tokenizer, k: int = 3
) -> list[list[str]]:
    """The k whole words of the vocabulary closest (cosine similarity in the embedding space) to each
    prototype; every token when the vocabulary has fewer than k words."""
    similarity = (
        F.normalize(prototypes.float(), dim=-1) @ F.normalize(vocabulary.float(), dim=-1).t()
    )  # (V', V)
    words = word_tokens(tokenizer, vocabulary.shape[0])
    if int(words.sum()) >= k:
        similarity = similarity.masked_fill(~words, float("-inf"))
    indices = similarity.topk(k, dim=-1).indices.tolist()
    return [[tokenizer.decode([i]).strip() or repr(tokenizer.decode([i])) for i in row] for row in indices]


def data_options(data: ProtocolData, description: str) -> dict:
    """What the runner reads off the data for the prompt: the scaler (statistics in the series' own
    units) and the data set's description (the user's own, when given, wins)."""
    return {
        "input_mean": data.scaler.mean.tolist(),
        "input_std": data.scaler.std.tolist(),
        "description": description,
    }


@dataclass(frozen=True)
class SeedRow:
    """One row of the paper's hyper-parameter table (Jin et al., ICLR 2024; the seed's table)."""

    task: str
    n_prototypes: int
    d_model: int
    n_heads: int
    lr: float
    loss: str
    batch_size: int
    epochs: int
    look_back: int | None  # None: twice the horizon (the short-term rows)


PAPER_ROWS = {
    "etth": SeedRow("long-term ETTh1, ETTh2", 1000, 16, 8, 1e-3, "mse", 16, 50, 512),
    "ettm": SeedRow("long-term ETTm1, ETTm2", 1000, 16, 8, 1e-3, "mse", 16, 100, 512),
    "large": SeedRow("long-term Weather, Electricity, Traffic", 1000, 16, 8, 1e-2, "mse", 8, 100, 512),
    "ili": SeedRow("long-term ILI", 100, 16, 8, 1e-2, "mse", 16, 50, 96),
    "short": SeedRow("short-term M3-Quarterly, M4", 100, 32, 8, 1e-4, "smape", 32, 50, None),
}


def paper_row(dataset_name: str) -> tuple[str, bool]:
    """The table row for a data set by its name, and whether the name matched one (else ETTh1's row)."""
    name = dataset_name.lower().replace(" ", "").replace("-", "").replace("_", "")
    for prefix, key in (
        ("etth", "etth"),
        ("ettm", "ettm"),
        ("weather", "large"),
        ("electricity", "large"),
        ("ecl", "large"),
        ("traffic", "large"),
        ("ili", "ili"),
        ("nationalillness", "ili"),
        ("m4", "short"),
        ("m3", "short"),
    ):
        if name.startswith(prefix):
            return key, True
    return "etth", False


def preset(spec: ModelSpec, facts: DataFacts) -> Preset:
    """The paper's row for the data set (V' text prototypes, d_model, heads, learning rate, loss,
    batch), scaled to the machine: the paper keeps all 32 layers of LLaMA-7B and trains 50-100 epochs
    on GPUs; on a CPU one step of even a 6-layer SmolLM2 takes seconds
    (bench/results/time_llm_speed.json), so a CPU keeps 6 layers and 3 epochs, and a GPU keeps the
    backbone whole and trains up to the paper's epochs with early stopping."""
    key, matched = paper_row(facts.name)
    row = PAPER_ROWS[key]
    train = dict(spec.train_defaults)
    model_options = dict(n_prototypes=row.n_prototypes, d_model=row.d_model, n_heads=row.n_heads)
    train.update(lr=row.lr, max_lr=row.lr, batch_size=row.batch_size, loss=row.loss)
    source = f"the Time-LLM paper's {row.task} row" if matched else "the Time-LLM paper's ETTh1 row"
    notes = [
        f"From {source}: V' {row.n_prototypes} text prototypes, d_model {row.d_model}, {row.n_heads} heads, "
        f"learning rate {row.lr:g}, batch {row.batch_size}, {row.loss.upper()} loss."
    ]
    if not matched:
        notes.append(f"{facts.name} is not in the paper's table; its ETTh1 row is the starting point.")
    if row.look_back is None:
        wanted = f"twice the horizon ({2 * facts.horizon})" if facts.horizon else "twice the horizon"
    else:
        wanted = str(row.look_back)
    notes.append(f"The paper's look-back for this row is {wanted}; set it in the sidebar.")
    if facts.budget == "quick":
        model_options.update(layers=QUICK_LAYERS, n_prototypes=min(row.n_prototypes, QUICK_PROTOTYPES))
        train.update(
            epochs=QUICK_EPOCHS, patience=1, train_windows=QUICK_TRAIN_WINDOWS, batch_size=QUICK_BATCH
        )
        layers = "layer" if QUICK_LAYERS == 1 else f"{QUICK_LAYERS} layers"
        notes.append(
            f"Quick budget: the backbone's first {layers}, V' {model_options['n_prototypes']}, "
            f"{QUICK_EPOCHS} epoch over at most {QUICK_TRAIN_WINDOWS:,} evenly spaced training windows "
            f"in batches of {QUICK_BATCH}; validation and test use every window."
        )
    elif facts.budget == "paper":
        model_options["layers"] = GPU_LAYERS
        train["epochs"] = row.epochs
        notes.append(
            f"Paper budget: all {GPU_LAYERS} layers of SmolLM2 (the paper keeps all of LLaMA-7B's 32) and "
            f"{row.epochs} epochs with early stopping, which is work for a GPU."
        )
    elif facts.device_type == "cpu":
        model_options["layers"] = CPU_LAYERS
        train["epochs"] = min(row.epochs, CPU_EPOCHS)
        notes.append(
            f"Scaled for this CPU: the backbone keeps its first {CPU_LAYERS} layers (the paper keeps all "
            f"of LLaMA-7B's 32) and trains {train['epochs']} epochs (the paper: {row.epochs}); a step "
            "takes seconds here, so a full-size run would take days."
        )
    else:
        model_options["layers"] = GPU_LAYERS
        train["epochs"] = min(row.epochs, GPU_EPOCHS_CAP)
        notes.append(
            f"On a GPU: all {GPU_LAYERS} layers of SmolLM2 (lower it for a shallower backbone) and "
            f"{train['epochs']} epochs with early stopping (the paper: {row.epochs})."
        )
    return Preset(model_options=model_options, train_options=train, notes=notes)
