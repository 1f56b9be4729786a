"""Proxy-tuned decoding: a language model writes the series as digits, steered by a tuned expert.

- `serialize`: numbers as text (LLMTime, Gruver et al., NeurIPS 2023) and the tokens that carry them;
- `lm`: causal language models with their heads, and the check that two share a vocabulary;
- `decoding`: the numeric grammar, sampling, proxy arithmetic (Liu et al., 2024) and the NLL;
- `expert`: the small model fine-tuned with LoRA on serialised training windows;
- `runner`: one proxy run end to end, through the same store and jobs as every other model.
"""
