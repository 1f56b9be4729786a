"""Proxy-tuned decoding: a language model writes the series as digits, steered by a tuned expert.

- `serialize`: numbers as text (LLMTime, Gruver et al., NeurIPS 2023) and the tokens that carry them;
- `decoding`: the numeric grammar, sampling, proxy arithmetic (Liu et al., 2024) and the NLL;
- `windows`: serialised training windows, what the expert is tuned on.

The forecaster built on them (base model, expert and its untuned self) is `core.models.proxy_tuned`,
one model file like the others; the language models come from `core.lm`.
"""
