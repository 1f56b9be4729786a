"""A frozen language-model body, as the forecasters that read embeddings through one see it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.lm.registry import BackboneSpec


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
