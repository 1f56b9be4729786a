"""Language models: the only place one is loaded, adapted or named.

- `registry`: the models by name (bundled, Hub, tiny random), checked before anything is read;
- `load`: reading a model once, then its frozen body (`load_backbone`) or the whole causal model
  with its head (`load_causal_lm`), cut to its first layers and cached;
- `backbone`: the body as a forecaster reads it, with a cached prompt prefix;
- `lora`: `with_lora`, one table of where adapters go, for TEMPO and the proxy's expert.
"""

from core.lm.backbone import Backbone
from core.lm.load import check_shared_vocabulary, load_backbone, load_causal_lm
from core.lm.lora import LORA_TARGETS, with_lora
from core.lm.registry import (
    BACKBONES,
    WRITING_CHOICES,
    WRITING_LABELS,
    BackboneSpec,
    BackboneUnavailable,
    backbone_choices,
    backbone_spec,
    repository,
)

__all__ = [
    "BACKBONES",
    "LORA_TARGETS",
    "WRITING_CHOICES",
    "WRITING_LABELS",
    "Backbone",
    "BackboneSpec",
    "BackboneUnavailable",
    "backbone_choices",
    "backbone_spec",
    "check_shared_vocabulary",
    "load_backbone",
    "load_causal_lm",
    "repository",
    "with_lora",
]
