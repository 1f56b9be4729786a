"""The project's Time-LLM against neuralforecast's `TimeLLM` at equal architecture: test accuracy over
three seeds each, and training speed, on the CPU.

The claims under test: our Time-LLM trains at least 5x faster per step than neuralforecast 3.3.0's
(which builds each prompt in a Python loop, sample by sample, writes full-precision floats into it and
runs the frozen LLM with gradients over the whole [prompt; patches] sequence), and its mean test MSE
over seeds is at or below neuralforecast's. The script reports what it measures; nothing in it is
tuned towards those targets.

Equal architecture: ours with the official code's reprogramming width (`reprogramming_width=
"official"`: d_ff = 32 per head, 8 heads) and patch embedding (`patch_embedding="conv"`: a circular
1-D convolution, kernel 3, across neighbouring patches), V' 1024 text prototypes (the number fixed in
neuralforecast's code); both: look-back 96, horizon 96, patch 16, stride 8, d_model 16, d_ff 32,
8 heads, dropout 0.1, the data set's description in the prompt, MSE loss, Adam at lr 1e-3 with a
constant rate, no validation, no gradient clipping, fp32. Two more variants of ours (cheap) say
what each half of that architecture does: `narrow` (4 x d_model / heads = 8 per head, this project's
earlier width, with the convolution) and `linear` (the paper's linear patch embedding, with the
official width).

Data: ETTh1, features M (7 channels), the ett-hour borders and a scaler fit on the training rows
(`core.data.prepare`); both models get the same scaled data. Backbone: the bundled SmolLM2-135M
(Llama) kept to its first `--layers` layers, loaded by `core.lm.load_backbone`; for neuralforecast
that same body is saved (safetensors, config with that num_hidden_layers, and the GGUF file's own
tokenizer) to bench/.cache/ and passed as `llm=<folder>`, and the script checks that every backbone
tensor is equal in the two models and that the tokenizers give the same ids.

Training: N steps of 112 univariate windows each (`--steps`, default 20), for seeds 0, 1, 2
(`--seeds`). 2 layers and 20 steps (`--layers`, `--steps`) rather than the app's 6 layers and the
first comparison's 60 steps: on a 2-core AVX2 CPU a neuralforecast step takes 15-25 s at 2 layers,
and three seeds per side must fit about 30 minutes. Ours: the project's `Trainer` (fp32, one epoch)
over N x 16 training windows drawn at random without replacement with the seed, which also seeds the
weights; 16 windows x 7 channels per step. neuralforecast: `NeuralForecast(freq=1).fit` on the 7
scaled training series with `random_seed=seed` (no validation: `val_size=0`, `limit_val_batches=0`),
`batch_size=7` (every series in each step) and `windows_batch_size=112`, so each step draws 112
(series, start) windows at random from the same 7 x 8449 training windows
(`training_data_availability_threshold=[0, 1]`: only windows whose whole horizon lies inside the
training rows, as ours); `scaler_type="identity"`, no local scaler. Both models also normalise each
window internally. The runs go seed by seed, each seed's four back to back in one process
(neuralforecast, ours equal, narrow, linear), so that a busy spell of the machine falls on both
sides alike.

Speed: each step is timed from the end of one step to the end of the next (ours: the `Trainer`'s
`on_step` callback; neuralforecast: a Lightning callback's `on_train_batch_end`), so data, forward,
backward, optimiser and loop overhead all count; the first 2 steps are warm-up, the median of the rest
is a run's step time, and a side's step time is the mean of its seeds' medians. `speed_ratio` is
neuralforecast's step time over ours at equal architecture. `cpu_share` (process CPU time / wall time x
torch threads; 1.0: the cores were ours) and the load averages say how busy the machine was;
`speed_comparable` is false when any timed run's share fell below 0.9 (on 2 cores a parallel job
slows the 2-thread steps far more than its CPU share suggests), and the ratio should then be measured
again on a quiet machine. fp32 only: bf16 autocast is emulated on a CPU without AVX-512 BF16 or AMX
(about 14x slower than fp32 there), so no bf16 rows are run on such a machine; the JSON says whether
the CPU has native bf16.

Accuracy: MSE and MAE (`core.metrics`) in the scaled space on every 25th window start of the test split
(112 windows x 7 channels, 784 forecasts of 96 steps), the same windows for every run, with the last
weights; mean and sample standard deviation over the seeds. neuralforecast's forecasts come from
calling the fitted model on those look-backs in eval mode, 112 series per call (what its
`predict_step` does, with the identity scaler); for the first seed one window is also forecast
through `NeuralForecast.predict` to check that the two agree on the same batch.

    bash bench/neuralforecast_env.sh            # once: .venv-nf with neuralforecast 3.3.0
    HF_HUB_OFFLINE=1 .venv-nf/bin/python bench/bench_time_llm_vs_neuralforecast.py [--quick] \
        [--steps 20] [--seeds 3] [--layers 2]

Writes bench/results/time_llm_vs_neuralforecast.json (not with --quick unless --write is given).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    WARMUP,
    StepClock,
    machine,
    peak_rss_mb,
    release_memory,
    reset_peak_rss,
    rss_mb,
    today,
)

RESULTS = ROOT / "bench" / "results" / "time_llm_vs_neuralforecast.json"
CACHE = ROOT / "bench" / ".cache"

BACKBONE = "smollm2-135m"
# Backbone layers and steps for both sides. On a 2-core AVX2 CPU a neuralforecast step took 15-25 s at
# 2 layers (three times that at 6) and ours 3.5 s, so 3 seeds of neuralforecast and 9 runs of ours
# fit about 30 minutes only at 2 layers and 20 steps (the first comparison: 6 layers, 60 steps, 1 seed).
LAYERS = 2
STEPS = 20
SEQ_LEN = HORIZON = 96
BATCH = 16  # our windows per step, each with 7 channels
CHANNELS = 7
UNIVARIATE_PER_STEP = BATCH * CHANNELS  # 112, neuralforecast's windows_batch_size
FAIR_CPU_SHARE = 0.9  # below this, something else ran on the cores during a run's timed steps
TEST_EVERY = 25  # every 25th test window start: all hours of the day, 112 windows
LR = 1e-3
PROTOTYPES = 1024  # V': fixed in neuralforecast's code (`num_tokens = 1024`), not a parameter
SHARED = dict(patch_len=16, stride=8, d_model=16, d_ff=32, n_heads=8, dropout=0.1)
# Our variants: the official code's architecture (equal to neuralforecast's), and each half of it undone.
VARIANTS = {
    "equal": dict(reprogramming_width="official", patch_embedding="conv"),
    "narrow": dict(reprogramming_width="narrow", patch_embedding="conv"),
    "linear": dict(reprogramming_width="official", patch_embedding="linear"),
}
NEURALFORECAST = "neuralforecast"
SPEED_TARGET = 5.0  # ours at least this many times faster per step at fp32


# What still differs between the two implementations beyond the shared architecture (from their source).
DIFFERENCES = [
    "prompt: ours describes each window in the series' own units (the scaler undone, as the app does), "
    "4 significant digits, a non-circular autocorrelation without lag 0; neuralforecast describes the "
    "normalised window with Python's full float repr (e.g. -0.13839712738990784), FFT (circular) "
    "lags including lag 0, wrapped in '<|start_prompt|>...<|<end_prompt>|>' (split into ordinary tokens), "
    "and builds the prompts one sequence at a time in a Python loop",
    "padding: ours pads on the left with an attention mask and positions counted from the first real "
    "token; neuralforecast pads on the right (the tokenizer's default, end-of-text token) and passes no "
    "attention mask, so the LLM attends to the padding that sits between prompt and patches and a "
    "forecast depends on the other series in its batch (batch_of_7_vs_112_max_abs_diff)",
    "backbone pass: ours runs the prompt's shared start (description and task) once per batch and each "
    "row's statistics without gradients, keeping their keys and values, then only the 12 patch "
    "positions with gradients; neuralforecast runs [prompt; patches] with gradients through the whole "
    "sequence for every row",
    "head dropout: ours before the output linear layer, neuralforecast after it",
    "layers: neuralforecast's llm_num_hidden_layers is stored but unused; its layers come from the "
    "saved config (num_hidden_layers, use_cache false) and the saved blocks",
    "batches: ours 16 time windows x all 7 channels; neuralforecast 112 (series, start) windows drawn "
    "independently, so a batch mixes channels and times",
]
EQUAL = [
    "V' 1024 text prototypes",
    "reprogramming attention 8 heads x d_ff 32 = 256 wide, scaled by 1 / sqrt(32)",
    "patch embedding: a circular 1-D convolution (kernel 3, no bias, Kaiming-normal start) across "
    "neighbouring patches, then dropout",
    "d_model 16, d_ff 32, patch 16, stride 8, dropout 0.1, the first d_ff channels of the backbone's "
    "output at the patch positions into a flatten head",
]

# ---------------------------------------------------------------- measuring


class Clock(StepClock):
    """Step stamps (bench/common.py) summarised as this comparison reports them."""

    def summary(self) -> dict:
        import torch

        steps = self.step_times()
        median = statistics.median(steps)
        return {
            "univariate_windows_per_s": UNIVARIATE_PER_STEP / median,
            "median_step_s": median,
            "mean_step_s": statistics.fmean(steps),
            "timed_steps": len(steps),
            "step_s": steps,
            "cpu_share": self.cpu_share(torch.get_num_threads()),
        }


class PromptTokens:
    """Observes the prompt token ids on their way into the backbone's embedding table (no patching).

    Both models embed the tokenised prompts through the backbone's input-embedding module, once per
    forward pass; padding uses the end-of-text token, which the prompts' text never produces.
    """

    def __init__(self, embedding, tokenizer):
        self.tokenizer = tokenizer
        self.pad = tokenizer.pad_token_id
        self.padded: list[int] = []
        self.unpadded: list[float] = []
        self.example: str | None = None
        self.handle = embedding.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output) -> None:
        ids = inputs[0]
        lengths = (ids != self.pad).sum(-1).float()
        self.padded.append(int(ids.shape[1]))
        self.unpadded.extend(lengths.tolist())
        if self.example is None:
            self.example = self.tokenizer.decode(ids[0][ids[0] != self.pad])

    def summary(self, patches: int) -> dict:
        if self.handle is not None:
            self.handle.remove()
        return {
            "padded_per_batch_median": statistics.median(self.padded),
            "padded_per_batch_max": max(self.padded),
            "per_sequence_mean": statistics.fmean(self.unpadded),
            "per_sequence_max": max(self.unpadded),
            "patches": patches,
            "example": self.example,
        }


class OurPromptTokens(PromptTokens):
    """The same counts for ours, which embeds prompts from its vocabulary buffer (no embedding module
    to observe): the prompt texts of every forward pass are kept (cheap) and tokenised afterwards.

    A sequence's prompt is the start every row shares plus the row's own statistics; the shared
    start is read once per batch, but it is counted in every sequence, as the model attends to it.
    """

    def __init__(self, model):
        self.tokenizer, self.pad = model.tokenizer, model.tokenizer.pad_token_id
        self.batches: list[tuple[str, list[str]]] = []
        self.original = model.prompt_pieces
        self.model = model

        def recording(x):
            pieces = self.original(x)
            self.batches.append(pieces)
            return pieces

        model.prompt_pieces = recording

    def summary(self, patches: int) -> dict:
        self.model.prompt_pieces = self.original
        self.padded, self.unpadded = [], []
        for shared, own in self.batches:
            start = len(self.tokenizer(shared, add_special_tokens=False)["input_ids"])
            lengths = [start + len(ids) for ids in self.tokenizer(own, add_special_tokens=False)["input_ids"]]
            self.padded.append(max(lengths))
            self.unpadded.extend(lengths)
        shared, own = self.batches[0]
        self.example = shared + own[0]
        self.handle = None
        return super().summary(patches)


def _timed_run(fit) -> dict:
    """Run `fit()` and measure its wall time, peak resident memory and the load around it."""
    release_memory()
    rss_before = rss_mb()
    load_before = os.getloadavg()[0]
    reset = reset_peak_rss()
    started = time.perf_counter()
    fit()
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return {
        "training_s": seconds,
        "peak_rss_mb": peak,
        "rss_before_mb": rss_before,
        "rss_increase_mb": peak - rss_before if reset else None,
        "load_avg_1min": [load_before, os.getloadavg()[0]],
    }


def _trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------- data and backbone


def test_window_starts(n_windows: int, quick: bool) -> list[int]:
    starts = list(range(0, n_windows, TEST_EVERY))
    return starts[:8] if quick else starts


def save_backbone_for_neuralforecast(backbone, layers: int) -> Path:
    """Our truncated SmolLM2 body and the GGUF file's tokenizer as a folder `from_pretrained` reads."""
    from transformers import AutoTokenizer

    from core.lm.load import smollm2_location

    folder = CACHE / f"{BACKBONE}-{layers}layers"
    config = folder / "config.json"
    if config.is_file() and json.loads(config.read_text()).get("num_hidden_layers") == layers:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    backbone.body.save_pretrained(folder, safe_serialization=True)  # its config: `layers` layers, no cache
    # A fresh tokenizer: the project's cached one is set to pad on the left; neuralforecast gets the
    # model's own settings (right padding, end-of-text as padding).
    source, filename = smollm2_location()
    AutoTokenizer.from_pretrained(source, gguf_file=filename, local_files_only=True).save_pretrained(folder)
    return folder


def check_same_backbone(ours, theirs, our_tokenizer, their_tokenizer) -> dict:
    import torch

    a, b = ours.state_dict(), theirs.state_dict()
    if set(a) != set(b) or not all(torch.equal(a[k], b[k]) for k in a):
        raise SystemExit("the two backbones differ: delete bench/.cache and run again")
    text = "Input statistics: min -1.234, max 5.678, trend upward."
    same_ids = our_tokenizer(text)["input_ids"] == their_tokenizer(text)["input_ids"]
    if not same_ids:
        raise SystemExit("the two tokenizers differ: delete bench/.cache and run again")
    return {
        "tensors": len(a),
        "parameters": sum(t.numel() for t in a.values()),
        "layers": theirs.config.num_hidden_layers,
        "dtype": str(next(theirs.parameters()).dtype),
        "equal": True,
        "tokenizer_ids_equal": same_ids,
    }


# ---------------------------------------------------------------- ours


def run_ours(data, dataset, steps: int, variant: str, seed: int, layers: int, test_starts: list[int]) -> dict:
    import torch
    from torch.utils.data import Subset

    from core import metrics
    from core.models.registry import build_model
    from core.runs.train_config import TrainConfig
    from core.training.trainer import Trainer
    from core.windows import WindowDataset, make_loader

    train_set, val_set, test_set = (
        WindowDataset(data.splits[name], SEQ_LEN, HORIZON, data.output_index)
        for name in ("train", "val", "test")
    )
    picked = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(seed))[: steps * BATCH]
    train_loader = make_loader(Subset(train_set, picked.tolist()), BATCH, shuffle=False, drop_last=True)
    no_validation = make_loader(Subset(val_set, range(0)), BATCH, shuffle=False)
    torch.manual_seed(seed)
    model, _ = build_model(
        "time_llm",
        seq_len=SEQ_LEN,
        pred_len=HORIZON,
        n_channels=CHANNELS,
        backbone=BACKBONE,
        layers=layers,
        description=dataset.description,
        # as the app's runner passes them: the prompt describes the series in its own units
        input_mean=data.scaler.mean.tolist(),
        input_std=data.scaler.std.tolist(),
        n_prototypes=PROTOTYPES,
        **SHARED,
        **VARIANTS[variant],
    )
    clock = Clock()
    config = TrainConfig(epochs=1, batch_size=BATCH, lr=LR, precision="fp32", device="cpu", seed=seed)
    trainer = Trainer(model, config, on_step=lambda info: clock.stamp())
    tokens = OurPromptTokens(model)
    fitted = {}
    result = _timed_run(lambda: fitted.setdefault("fit", trainer.fit(train_loader, no_validation)))
    result |= {"precision": trainer.precision, "steps": steps, **clock.summary()}
    result["prompt_tokens"] = tokens.summary(model.n_patches)
    losses = fitted["fit"].history["step"]["loss"]
    result["train_loss_last10"] = statistics.fmean(losses[-10:])
    result["trainable_parameters"] = _trainable(model)
    started = time.perf_counter()
    loader = make_loader(Subset(test_set, test_starts), BATCH, shuffle=False)
    outputs, actuals = trainer.predict(loader)
    forecasts = outputs.forecast
    result["test"] = {
        "mse": metrics.mse(actuals.numpy(), forecasts.numpy()),
        "mae": metrics.mae(actuals.numpy(), forecasts.numpy()),
        "windows": len(test_starts),
        "forecasts": len(test_starts) * CHANNELS,
        "seconds": time.perf_counter() - started,
    }
    return result


# ---------------------------------------------------------------- neuralforecast


def _neuralforecast_model(folder: Path, description: str, steps: int, seed: int, clock: Clock):
    import pytorch_lightning as pl
    from neuralforecast.losses.pytorch import MSE
    from neuralforecast.models import TimeLLM

    class LightningStepClock(pl.Callback):
        def __init__(self):
            self.starts: list[float] = []
            self.compute: list[float] = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.starts.append(time.perf_counter())

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            self.compute.append(time.perf_counter() - self.starts[-1])
            clock.stamp()

    return TimeLLM(
        h=HORIZON,
        input_size=SEQ_LEN,
        llm=str(folder),
        d_llm=576,  # SmolLM2-135M's width
        prompt_prefix=description,
        top_k=5,
        loss=MSE(),
        learning_rate=LR,
        max_steps=steps,
        batch_size=CHANNELS,  # series per step: all 7
        windows_batch_size=UNIVARIATE_PER_STEP,
        inference_windows_batch_size=UNIVARIATE_PER_STEP,
        training_data_availability_threshold=[0.0, 1.0],  # whole horizon inside the training rows
        scaler_type="identity",
        random_seed=seed,
        # Lightning trainer keywords
        accelerator="cpu",
        devices=1,
        precision="32-true",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=[LightningStepClock()],
        **SHARED,
    )


def _series_frame(values, columns):
    import numpy as np
    import pandas as pd

    rows = len(values)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(columns, rows),
            "ds": np.tile(np.arange(rows), len(columns)),
            "y": values.T.reshape(-1),
        }
    )


def _forecast(model, windows):
    """neuralforecast's forecasts for look-backs (N, L, C): (N, H, C), through the model in eval mode."""
    import torch

    n, length, channels = windows.shape
    series = torch.as_tensor(windows, dtype=torch.float32).permute(0, 2, 1).reshape(n * channels, length, 1)
    model.eval()
    outputs = []
    with torch.no_grad():
        for chunk in series.split(UNIVARIATE_PER_STEP):
            outputs.append(model.loss.domain_map(model({"insample_y": chunk}))[..., 0])  # (b, H)
    return torch.cat(outputs).view(n, channels, -1).permute(0, 2, 1).numpy()


def run_neuralforecast(
    data, dataset, folder: Path, steps: int, seed: int, test_starts: list[int], backbone, check_api: bool
) -> dict:
    from neuralforecast import NeuralForecast

    from core import metrics
    from core.data import sliding_windows

    clock = Clock()
    model = _neuralforecast_model(folder, dataset.description, steps, seed, clock)
    forecaster = NeuralForecast(models=[model], freq=1)  # deep-copies the model: use its copy
    del model
    model = forecaster.models[0]
    same = check_same_backbone(backbone.body, model.llm, backbone.tokenizer, model.llm_tokenizer)
    if model.num_tokens != PROTOTYPES:
        raise SystemExit(f"neuralforecast's V' is {model.num_tokens}, not {PROTOTYPES}: update PROTOTYPES")
    tokens = PromptTokens(model.llm.get_input_embeddings(), model.llm_tokenizer)
    train = _series_frame(data.splits["train"], data.columns)
    result = _timed_run(lambda: forecaster.fit(df=train, val_size=0))
    model = forecaster.models[0]
    step_clock = next(c for c in model.trainer_kwargs["callbacks"] if hasattr(c, "compute"))
    result |= {"precision": "fp32", "lightning_precision": "32-true", "steps": steps}
    result |= clock.summary()
    result["median_compute_s"] = statistics.median(step_clock.compute[WARMUP:])
    result["prompt_tokens"] = tokens.summary(model.patch_nums)
    losses = [loss for _, loss in model.train_trajectories]
    result["train_loss_last10"] = statistics.fmean(losses[-10:])
    result["trainable_parameters"] = _trainable(model)
    result["backbone_check"] = same
    started = time.perf_counter()
    x, y = sliding_windows(data.splits["test"], SEQ_LEN, HORIZON)
    forecasts = _forecast(model, x[test_starts])
    actuals = y[test_starts]
    result["test"] = {
        "mse": metrics.mse(actuals, forecasts),
        "mae": metrics.mae(actuals, forecasts),
        "windows": len(test_starts),
        "forecasts": len(test_starts) * CHANNELS,
        "seconds": time.perf_counter() - started,
    }
    if check_api:
        # The first scored window through neuralforecast's own API (a batch of its 7 series) against
        # the direct call on the same 7 series. Its prompts are padded (right, end-of-text token) to
        # the longest in the batch and no attention mask reaches the LLM, so a forecast also depends
        # on which other series share its batch: the scoring above used batches of 112.
        alone = _forecast(model, x[test_starts[:1]])[0]
        history = _series_frame(x[test_starts[0]], data.columns)
        predicted = forecaster.predict(df=history)
        api = predicted.pivot(index="ds", columns="unique_id", values="TimeLLM")[data.columns].to_numpy()
        result["test"]["predict_api_max_abs_diff"] = float(abs(api - alone).max())
        result["test"]["batch_of_7_vs_112_max_abs_diff"] = float(abs(alone - forecasts[0]).max())
    return result


# ---------------------------------------------------------------- summary


def _spread(values: list[float]) -> dict:
    """Mean and sample standard deviation (None for one value), and the values themselves."""
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "values": values,
    }


def summarise(runs: list[dict]) -> list[dict]:
    """One entry per side and variant: test MSE and MAE over the seeds, step time, CPU share."""
    groups: dict[tuple[str, str | None], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["side"], run["variant"]), []).append(run)
    return [
        {
            "side": side,
            "variant": variant,
            "architecture": group[0]["architecture"],
            "seeds": [run["seed"] for run in group],
            "test_mse": _spread([run["test"]["mse"] for run in group]),
            "test_mae": _spread([run["test"]["mae"] for run in group]),
            "train_loss_last10": _spread([run["train_loss_last10"] for run in group]),
            "median_step_s": _spread([run["median_step_s"] for run in group]),
            "univariate_windows_per_s": UNIVARIATE_PER_STEP
            / statistics.fmean(run["median_step_s"] for run in group),
            "training_s": _spread([run["training_s"] for run in group]),
            "test_s": _spread([run["test"]["seconds"] for run in group]),
            "cpu_share_min": min(run["cpu_share"] for run in group),
            "peak_rss_mb_max": max(run["peak_rss_mb"] for run in group),
            "prompt_tokens_per_sequence": statistics.fmean(
                run["prompt_tokens"]["per_sequence_mean"] for run in group
            ),
            "trainable_parameters": group[0]["trainable_parameters"],
        }
        for (side, variant), group in groups.items()
    ]


def _architecture(side: str, variant: str | None, layers: int) -> dict:
    options = {"reprogramming_width": "official", "patch_embedding": "conv"}
    if side == "ours":
        options = VARIANTS[variant]
    return {"n_prototypes": PROTOTYPES, "layers": layers, **SHARED, **options}


# ---------------------------------------------------------------- main


def _quiet() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric"):
        for logger in (name, f"{name}.utilities.rank_zero", f"{name}.utilities.seed"):
            logging.getLogger(logger).setLevel(logging.ERROR)
    for message in (
        "does not have many workers",
        "val_check_steps is greater than max_steps",
        "Attribute 'callbacks' removed from hparams",
        "`isinstance\\(treespec, LeafSpec\\)` is deprecated",
    ):
        warnings.filterwarnings("ignore", message=f".*{message}.*")


def main() -> None:
    _quiet()
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", help="8 test windows, 4 steps unless --steps says (a timing look)"
    )
    parser.add_argument(
        "--steps", type=int, help=f"training steps of 112 univariate windows (default {STEPS})"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0, 1, ... per side and variant")
    parser.add_argument("--layers", type=int, default=LAYERS, help="backbone layers for both sides")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"ours, comma-separated: {', '.join(VARIANTS)}"
    )
    parser.add_argument("--no-neuralforecast", action="store_true", help="ours only (a timing look)")
    parser.add_argument("--write", action="store_true", help="write the JSON after --quick too")
    args = parser.parse_args()
    steps = args.steps or (4 if args.quick else STEPS)
    if steps < WARMUP + 2:
        parser.error(f"--steps must be at least {WARMUP + 2}")
    variants = [v for v in args.variants.split(",") if v]
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"unknown variants {', '.join(sorted(unknown))}")
    seeds = list(range(args.seeds))

    import lightning_utilities  # noqa: F401  (fails early outside .venv-nf)
    import neuralforecast
    import pytorch_lightning
    import transformers
    from transformers.utils import logging as hf_logging

    from core.data import prepare
    from core.datasets import load_builtin
    from core.lm import load_backbone

    hf_logging.disable_progress_bar()
    started = time.perf_counter()
    load_start = os.getloadavg()
    dataset = load_builtin("ETTh1")
    data = prepare(dataset.frame.to_numpy(), dataset.channels, dataset.target, "M", "ett-hour", SEQ_LEN)
    n_test = len(data.splits["test"]) - SEQ_LEN - HORIZON + 1
    starts = test_window_starts(n_test, args.quick)
    backbone = load_backbone(BACKBONE, layers=args.layers)
    folder = save_backbone_for_neuralforecast(backbone, args.layers)
    facts = machine()
    native_bf16 = bool(facts["avx512_bf16"] or facts["amx_bf16"])

    report = {
        "protocol": (
            f"ETTh1, features M (7 channels), ett-hour borders, training-rows scaler, L {SEQ_LEN}, "
            f"H {HORIZON}; backbone {BACKBONE} first {args.layers} layers for both (identical tensors; "
            f"{args.layers} layers and {steps} steps rather than the app's 6 layers and the first "
            f"comparison's 60 steps, so that {len(seeds)} seeds per side fit about 30 minutes of a 2-core "
            "CPU); "
            f"equal architecture: V' {PROTOTYPES}, reprogramming 8 heads x d_ff 32, circular convolution "
            f"patch embedding, patch 16 stride 8, d_model 16, d_ff 32, dropout 0.1, the data set's "
            f"description as prompt prefix; MSE loss, Adam lr {LR} constant, fp32, no validation. {steps} "
            f"training steps of {UNIVARIATE_PER_STEP} univariate windows each for every run, seeds "
            f"{', '.join(map(str, seeds))}: ours batch {BATCH} x {CHANNELS} channels from {steps * BATCH} "
            f"random training windows, neuralforecast windows_batch_size {UNIVARIATE_PER_STEP} drawn from "
            f"all 7 x 8449 training windows. Step time from one step's end to the next, first {WARMUP} "
            f"steps warm-up, median of the rest, mean over seeds. Test: every {TEST_EVERY}th test window "
            f"start ({len(starts)} windows x 7 channels), MSE/MAE in the scaled space, last weights, mean "
            "and sample std over seeds."
        ),
        "date": today(),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": facts
        | {
            "transformers": transformers.__version__,
            "neuralforecast": neuralforecast.__version__,
            "pytorch_lightning": pytorch_lightning.__version__,
            "native_bf16": native_bf16,
        },
        "bf16": (
            "not run: this CPU has AVX-512 BF16 or AMX, but this bench measures fp32 only"
            if native_bf16
            else "not run: this CPU has no native bf16 (no AVX-512 BF16, no AMX), so bf16 autocast is "
            "emulated there (about 14x slower than fp32)"
        ),
        "data": "ETTh1",
        "features": "M",
        "look_back": SEQ_LEN,
        "horizon": HORIZON,
        "backbone": {"name": BACKBONE, "layers": args.layers},
        "windows_per_step": UNIVARIATE_PER_STEP,
        "steps": steps,
        "seeds": seeds,
        "variants": {name: VARIANTS[name] for name in variants},
        "equal": EQUAL,
        "differences": DIFFERENCES,
        "noise": (
            "cpu_share: this process's CPU time over the timed steps / (wall time x torch threads), 1.0 "
            "when it had the cores to itself; load_avg_1min before and after each run; speed_comparable: "
            f"every timed run had cpu_share >= {FAIR_CPU_SHARE}"
        ),
        "load_avg_start": list(load_start),
        "test_window_starts": starts,
        "implementation": {"name": NEURALFORECAST, "version": neuralforecast.__version__},
    }

    def elapsed() -> str:
        return f"{(time.perf_counter() - started) / 60:.1f} min"

    runs = []
    for seed in seeds:
        if not args.no_neuralforecast:
            print(f"[{elapsed()}] neuralforecast, seed {seed}, {steps} steps ...", flush=True)
            run = run_neuralforecast(
                data, dataset, folder, steps, seed, starts, backbone, check_api=seed == seeds[0]
            )
            runs.append({"side": NEURALFORECAST, "variant": None, "seed": seed} | run)
            print(f"    step {run['median_step_s']:.2f} s, test MSE {run['test']['mse']:.4f}", flush=True)
        for variant in variants:
            print(f"[{elapsed()}] ours {variant}, seed {seed}, {steps} steps ...", flush=True)
            run = run_ours(data, dataset, steps, variant, seed, args.layers, starts)
            runs.append({"side": "ours", "variant": variant, "seed": seed} | run)
            print(f"    step {run['median_step_s']:.2f} s, test MSE {run['test']['mse']:.4f}", flush=True)
    for run in runs:
        run["architecture"] = _architecture(run["side"], run["variant"], args.layers)
    summary = summarise(runs)
    report["summary"] = summary
    by = {(entry["side"], entry["variant"]): entry for entry in summary}
    equal, theirs = by.get(("ours", "equal")), by.get((NEURALFORECAST, None))
    if equal and theirs:
        ratio = theirs["median_step_s"]["mean"] / equal["median_step_s"]["mean"]
        report["speed_ratio"] = ratio
        report["test_mse_ratio"] = equal["test_mse"]["mean"] / theirs["test_mse"]["mean"]
        report["targets"] = {
            "mse": "ours (equal architecture) mean test MSE at or below neuralforecast's",
            "mse_met": equal["test_mse"]["mean"] <= theirs["test_mse"]["mean"],
            "speed": f"ours at least {SPEED_TARGET:g}x faster per step at fp32",
            "speed_met": ratio >= SPEED_TARGET,
        }
    report["speed_comparable"] = min(run["cpu_share"] for run in runs) >= FAIR_CPU_SHARE
    report["runs"] = runs
    report["load_avg_end"] = list(os.getloadavg())
    report["total_minutes"] = (time.perf_counter() - started) / 60
    report["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")

    print(f"\n{'':<24} {'step s':>7} {'cpu':>5} {'MSE mean ± std':>17} {'MAE mean ± std':>17}")
    for entry in summary:
        name = entry["side"] + (f" {entry['variant']}" if entry["variant"] else "")
        mse, mae = entry["test_mse"], entry["test_mae"]
        print(
            f"{name:<24} {entry['median_step_s']['mean']:>7.2f} {entry['cpu_share_min']:>5.2f} "
            f"{mse['mean']:>8.4f} ± {mse['std'] or 0:.4f} {mae['mean']:>8.4f} ± {mae['std'] or 0:.4f}"
        )
    if not report["speed_comparable"]:
        print(
            f"WARNING: a cpu_share below {FAIR_CPU_SHARE} means another process shared the cores during "
            "a run: the speed ratio is not a fair comparison (see speed_comparable in the JSON)"
        )
    if "speed_ratio" in report:
        print(
            f"step ratio (neuralforecast / ours, fp32) {report['speed_ratio']:.2f}x; test MSE ratio "
            f"{report['test_mse_ratio']:.3f}; targets {report['targets']}"
        )
    print(
        f"total {report['total_minutes']:.1f} min; load {report['load_avg_start'][0]:.2f} -> "
        f"{report['load_avg_end'][0]:.2f}"
    )
    if not args.quick or args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
