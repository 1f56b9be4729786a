"""The project's Time-LLM against neuralforecast's `TimeLLM`: training speed and test accuracy on the CPU.

The claim under test: our Time-LLM trains at least 5x faster than neuralforecast 3.3.0's (which builds
each prompt in a Python loop, sample by sample, writes full-precision floats into it and runs the
frozen LLM with gradients over the whole [prompt; patches] sequence) with the same or better test MSE.
The script reports what it measures; nothing in it is tuned towards that target.

Shared settings: ETTh1, features M (7 channels), the ett-hour borders and a scaler fit on the training
rows (`core.data.prepare`); both models get the same scaled data. Look-back 96, horizon 96, patch 16,
stride 8, d_model 16, d_ff 32, 8 heads, dropout 0.1, the data set's description in the prompt, MSE
loss, Adam at lr 1e-3 with a constant rate, no validation, no gradient clipping. Backbone: the bundled
SmolLM2-135M (Llama) kept to its first 6 layers, loaded by `core.lm.load_backbone`; for
neuralforecast that same body is saved (safetensors, config with num_hidden_layers 6, and the GGUF
file's own tokenizer) to bench/.cache/ and passed as `llm=<folder>`, and the script checks that every
backbone tensor is equal in the two models and that the tokenizers give the same ids.

Training: N steps of 112 univariate windows each for both (`--steps`, default 60: about 20 minutes
in all on an idle 2-core CPU, of which neuralforecast takes about 12). Ours: the project's
`Trainer` (fp32, one epoch) over N × 16 training windows drawn at random without replacement, 16
windows × 7 channels per step. neuralforecast: `NeuralForecast(freq=1).fit` on the 7 scaled training
series (no validation: `val_size=0`, `limit_val_batches=0`), `batch_size=7` (every series in each
step) and `windows_batch_size=112`, so each step draws 112 (series, start) windows at random from the
same 7 × 8449 training windows (`training_data_availability_threshold=[0, 1]`: only windows whose
whole horizon lies inside the training rows, as ours); `scaler_type="identity"`, no local scaler.
Both models also normalise each window internally (RevIN).

Speed: each step is timed from the end of one step to the end of the next (ours: the `Trainer`'s
`on_step` callback; neuralforecast: a Lightning callback's `on_train_batch_end`), so data, forward,
backward, optimiser and loop overhead all count; the first 2 steps are warm-up, the median of the rest
gives univariate windows/s = 112 / median step. The two runs go back to back in one process;
`cpu_share` (process CPU time / wall time x torch threads; 1.0: the cores were ours) and the load
averages say how busy the machine was; `speed_comparable` is false when either fp32 run's share fell
below 0.9 (on 2 cores a parallel job slows the 2-thread steps far more than its CPU share suggests),
and the speed ratio should then be measured again on a quiet machine. Extra lines, timing only
(`--speed-steps`, default 6): ours under bf16 autocast, and neuralforecast with Lightning's
`precision="bf16-mixed"`.

Accuracy: MSE and MAE (`core.metrics`) in the scaled space on every 25th window start of the test split
(112 windows x 7 channels, 784 forecasts of 96 steps), the same windows for both. neuralforecast's
forecasts come from calling the fitted model on those look-backs in eval mode, 112 series per call
(what its `predict_step` does, with the identity scaler); one window is also forecast through
`NeuralForecast.predict` to check that the two agree on the same batch.

    bash bench/neuralforecast_env.sh            # once: .venv-nf with neuralforecast 3.3.0
    HF_HUB_OFFLINE=1 .venv-nf/bin/python bench/bench_time_llm_vs_neuralforecast.py [--quick] [--steps 60]

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
    accuracy_row,
    machine,
    peak_rss_mb,
    release_memory,
    reset_peak_rss,
    rss_mb,
    today,
)

RESULTS = ROOT / "bench" / "results" / "time_llm_vs_neuralforecast.json"
CACHE = ROOT / "bench" / ".cache" / "smollm2-135m-6layers"

BACKBONE, LAYERS = "smollm2-135m", 6
SEQ_LEN = HORIZON = 96
BATCH = 16  # our windows per step, each with 7 channels
CHANNELS = 7
UNIVARIATE_PER_STEP = BATCH * CHANNELS  # 112, neuralforecast's windows_batch_size
FAIR_CPU_SHARE = 0.9  # below this, something else ran on the cores during a run's timed steps
TEST_EVERY = 25  # every 25th test window start: all hours of the day, 112 windows
LR = 1e-3
SEED = 0
SHARED = dict(patch_len=16, stride=8, d_model=16, d_ff=32, n_heads=8, dropout=0.1)
OURS = dict(n_prototypes=1000, **SHARED)


# What differs between the two implementations beyond the shared settings (from their source code).
DIFFERENCES = [
    "prompt: ours describes each window in the series' own units (the scaler undone, as the app does), "
    "4 significant digits, a non-circular autocorrelation without lag 0; neuralforecast describes the "
    "RevIN-normalised window with Python's full float repr (e.g. -0.13839712738990784), FFT (circular) "
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
    "text prototypes: V' 1000 (ours) vs 1024 (fixed in neuralforecast's code, not a parameter)",
    "reprogramming attention: ours 8 heads x 8 = 64 wide (d_keys = 4 x d_model / heads); neuralforecast "
    "passes d_ff as d_keys: 8 heads x 32 = 256 wide",
    "patch embedding: ours a linear map of each patch; neuralforecast a circular 1-D convolution "
    "(kernel 3) across neighbouring patches",
    "head dropout: ours before the output linear layer, neuralforecast after it",
    "layers: neuralforecast's llm_num_hidden_layers is stored but unused; the 6 layers come from the "
    "saved config (num_hidden_layers 6, use_cache false) and the 6 saved blocks",
    "batches: ours 16 time windows x all 7 channels; neuralforecast 112 (series, start) windows drawn "
    "independently, so a batch mixes channels and times",
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


def save_backbone_for_neuralforecast(backbone) -> Path:
    """Our truncated SmolLM2 body and the GGUF file's tokenizer as a folder `from_pretrained` reads."""
    from transformers import AutoTokenizer

    from core.lm.load import smollm2_location

    config = CACHE / "config.json"
    if config.is_file() and json.loads(config.read_text()).get("num_hidden_layers") == LAYERS:
        return CACHE
    CACHE.mkdir(parents=True, exist_ok=True)
    backbone.body.save_pretrained(CACHE, safe_serialization=True)  # its config says 6 layers, no cache
    # A fresh tokenizer: the project's cached one is set to pad on the left; neuralforecast gets the
    # model's own settings (right padding, end-of-text as padding).
    folder, filename = smollm2_location()
    AutoTokenizer.from_pretrained(folder, gguf_file=filename, local_files_only=True).save_pretrained(CACHE)
    return CACHE


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


def run_ours(data, dataset, steps: int, precision: str, test_starts: list[int] | None) -> dict:
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
    picked = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(SEED))[: steps * BATCH]
    train_loader = make_loader(Subset(train_set, picked.tolist()), BATCH, shuffle=False, drop_last=True)
    no_validation = make_loader(Subset(val_set, range(0)), BATCH, shuffle=False)
    torch.manual_seed(SEED)
    model, _ = build_model(
        "time_llm",
        seq_len=SEQ_LEN,
        pred_len=HORIZON,
        n_channels=CHANNELS,
        backbone=BACKBONE,
        layers=LAYERS,
        description=dataset.description,
        # as the app's runner passes them: the prompt describes the series in its own units
        input_mean=data.scaler.mean.tolist(),
        input_std=data.scaler.std.tolist(),
        **OURS,
    )
    clock = Clock()
    config = TrainConfig(epochs=1, batch_size=BATCH, lr=LR, precision=precision, device="cpu")
    trainer = Trainer(model, config, on_step=lambda info: clock.stamp())
    tokens = OurPromptTokens(model)
    fitted = {}
    result = _timed_run(lambda: fitted.setdefault("fit", trainer.fit(train_loader, no_validation)))
    result |= {"precision": trainer.precision, "steps": steps, **clock.summary()}
    result["prompt_tokens"] = tokens.summary(model.n_patches)
    losses = fitted["fit"].history["step"]["loss"]
    result["train_loss_last10"] = statistics.fmean(losses[-10:])
    result["trainable_parameters"] = _trainable(model)
    if test_starts is not None:
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


def _neuralforecast_model(folder: Path, description: str, steps: int, precision: str, clock: Clock):
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
        random_seed=1,
        # Lightning trainer keywords
        accelerator="cpu",
        devices=1,
        precision=precision,
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
    data, dataset, folder: Path, steps: int, precision: str, test_starts: list[int] | None, backbone
) -> dict:
    from neuralforecast import NeuralForecast

    from core import metrics
    from core.data import sliding_windows

    clock = Clock()
    lightning_precision = {"fp32": "32-true", "bf16": "bf16-mixed"}[precision]
    model = _neuralforecast_model(folder, dataset.description, steps, lightning_precision, clock)
    forecaster = NeuralForecast(models=[model], freq=1)  # deep-copies the model: use its copy
    del model
    model = forecaster.models[0]
    same = check_same_backbone(backbone.body, model.llm, backbone.tokenizer, model.llm_tokenizer)
    tokens = PromptTokens(model.llm.get_input_embeddings(), model.llm_tokenizer)
    train = _series_frame(data.splits["train"], data.columns)
    result = _timed_run(lambda: forecaster.fit(df=train, val_size=0))
    model = forecaster.models[0]
    step_clock = next(c for c in model.trainer_kwargs["callbacks"] if hasattr(c, "compute"))
    result |= {"precision": precision, "lightning_precision": lightning_precision, "steps": steps}
    result |= clock.summary()
    result["median_compute_s"] = statistics.median(step_clock.compute[WARMUP:])
    result["prompt_tokens"] = tokens.summary(model.patch_nums)
    losses = [loss for _, loss in model.train_trajectories]
    result["train_loss_last10"] = statistics.fmean(losses[-10:])
    result["trainable_parameters"] = _trainable(model)
    result["backbone_check"] = same
    if test_starts is not None:
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


# ---------------------------------------------------------------- main


def accuracy(result: dict, implementation: dict | None) -> dict:
    """A scored run's test figures as an accuracy row (bench/common.py); the run keeps its timings."""
    test = result.pop("test")
    return accuracy_row(
        "time_llm",
        "ETTh1",
        features="M",
        look_back=SEQ_LEN,
        horizon=HORIZON,
        split="ett-hour",
        scored="every_nth",
        windows=test["windows"],
        checkpoint="last",
        budget={
            "steps": result["steps"],
            "batch_size": UNIVARIATE_PER_STEP,
            "optimizer": "Adam",
            "lr": LR,
            "schedule": "constant",
        },
        precision=result["precision"],
        backbone={"name": BACKBONE, "layers": LAYERS},
        metrics={"mse": test["mse"], "mae": test["mae"]},
        implementation=implementation,
        every=TEST_EVERY,
        forecasts=test["forecasts"],
        train_time_s=result["training_s"],
        test_time_s=test["seconds"],
        train_loss_last10=result["train_loss_last10"],
        **{key: value for key, value in test.items() if key.endswith("_max_abs_diff")},
    )


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
    parser.add_argument("--quick", action="store_true", help="4 steps, 3 timing-only steps, 8 test windows")
    parser.add_argument("--steps", type=int, default=60, help="training steps of 112 univariate windows")
    parser.add_argument("--speed-steps", type=int, default=6, help="steps of the bf16 timing-only runs")
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 timing-only runs")
    parser.add_argument("--write", action="store_true", help="write the JSON after --quick too")
    args = parser.parse_args()
    steps, speed_steps = (4, 3) if args.quick else (args.steps, args.speed_steps)
    if min(steps, speed_steps) < WARMUP + 1:
        parser.error(f"--steps and --speed-steps must be at least {WARMUP + 1}")

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
    backbone = load_backbone(BACKBONE, layers=LAYERS)
    folder = save_backbone_for_neuralforecast(backbone)

    report = {
        "protocol": (
            f"ETTh1, features M (7 channels), ett-hour borders, training-rows scaler, L {SEQ_LEN}, "
            f"H {HORIZON}; "
            f"backbone {BACKBONE} first {LAYERS} layers (identical tensors in both); patch 16 stride 8, "
            f"d_model 16, d_ff 32, 8 heads, dropout 0.1, the data set's description as prompt prefix; MSE "
            f"loss, Adam lr {LR} constant, fp32, no validation. {steps} training steps of "
            f"{UNIVARIATE_PER_STEP} univariate windows each for both: ours batch {BATCH} x {CHANNELS} "
            f"channels from {steps * BATCH} random training windows, neuralforecast windows_batch_size "
            f"{UNIVARIATE_PER_STEP} drawn from all 7 x 8449 training windows. Step time from one step's end "
            f"to the next, first {WARMUP} steps warm-up, median of the rest. Test: every {TEST_EVERY}th "
            f"test window start ({len(starts)} windows x 7 channels), MSE/MAE in the scaled space."
        ),
        "date": today(),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine()
        | {
            "transformers": transformers.__version__,
            "neuralforecast": neuralforecast.__version__,
            "pytorch_lightning": pytorch_lightning.__version__,
        },
        "data": "ETTh1",
        "features": "M",
        "look_back": SEQ_LEN,
        "horizon": HORIZON,
        "backbone": {"name": BACKBONE, "layers": LAYERS},
        "windows_per_step": UNIVARIATE_PER_STEP,
        "noise": (
            "cpu_share: this process's CPU time over the timed steps / (wall time x torch threads), 1.0 "
            "when it had the cores to itself; load_avg_1min before and after each run; speed_comparable: "
            f"both fp32 runs had cpu_share >= {FAIR_CPU_SHARE}"
        ),
        "differences": DIFFERENCES,
        "load_avg_start": list(load_start),
        "test_window_starts": starts,
    }

    print(f"ours, fp32, {steps} steps ...", flush=True)
    ours = run_ours(data, dataset, steps, "fp32", starts)
    print(f"neuralforecast, fp32, {steps} steps ...", flush=True)
    theirs = run_neuralforecast(data, dataset, folder, steps, "fp32", starts, backbone)
    theirs_are = {"name": "neuralforecast", "version": neuralforecast.__version__}
    report["rows"] = [accuracy(ours, None), accuracy(theirs, theirs_are)]
    report["speed_ratio"] = ours["univariate_windows_per_s"] / theirs["univariate_windows_per_s"]
    report["speed_comparable"] = min(ours["cpu_share"], theirs["cpu_share"]) >= FAIR_CPU_SHARE
    report["test_mse_ratio"] = report["rows"][0]["metrics"]["mse"] / report["rows"][1]["metrics"]["mse"]
    runs = [
        {"implementation": None, "timing_only": False, **ours},
        {"implementation": theirs_are, "timing_only": False, **theirs},
    ]
    if not args.no_bf16:
        print(f"ours, bf16, {speed_steps} steps ...", flush=True)
        ours_bf16 = run_ours(data, dataset, speed_steps, "bf16", None)
        runs.append({"implementation": None, "timing_only": True, **ours_bf16})
        print(f"neuralforecast, bf16-mixed, {speed_steps} steps ...", flush=True)
        try:
            theirs_bf16 = run_neuralforecast(data, dataset, folder, speed_steps, "bf16", None, backbone)
        except Exception as error:  # report it rather than lose the fp32 results
            theirs_bf16 = {"precision": "bf16", "error": f"{type(error).__name__}: {error}"}
        runs.append({"implementation": theirs_are, "timing_only": True, **theirs_bf16})
    report["runs"] = runs
    report["load_avg_end"] = list(os.getloadavg())
    report["total_minutes"] = (time.perf_counter() - started) / 60
    report["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")

    print(f"\n{'':<22} {'win/s':>7} {'step s':>7} {'cpu':>5} {'prompt':>6} {'MSE':>7} {'MAE':>7} {'min':>6}")
    for index, run in enumerate(runs):
        name = f"{'ours' if run['implementation'] is None else 'neuralforecast'} {run['precision']}"
        if "error" in run:
            print(f"{name}: {run['error']}")
            continue
        scores = report["rows"][index]["metrics"] if index < len(report["rows"]) else {}
        mse = f"{scores['mse']:.4f}" if scores else ""
        mae = f"{scores['mae']:.4f}" if scores else ""
        print(
            f"{name:<22} {run['univariate_windows_per_s']:>7.2f} {run['median_step_s']:>7.2f} "
            f"{run['cpu_share']:>5.2f} {run['prompt_tokens']['padded_per_batch_median']:>6.0f} {mse:>7} "
            f"{mae:>7} {run['training_s'] / 60:>6.1f}"
        )
    if not report["speed_comparable"]:
        print(
            f"WARNING: a cpu_share below {FAIR_CPU_SHARE} means another process shared the cores during "
            "that run: the fp32 speed ratio is not a fair comparison (see speed_comparable in the JSON)"
        )
    print(
        f"speed ratio (ours / neuralforecast, fp32) {report['speed_ratio']:.2f}x; "
        f"test MSE ratio {report['test_mse_ratio']:.3f}; total {report['total_minutes']:.1f} min; "
        f"load {report['load_avg_start'][0]:.2f} -> {report['load_avg_end'][0]:.2f}"
    )
    if args.quick:  # everything but the step lists, for a look at what the full run will record
        brief = report | {"runs": [{k: v for k, v in run.items() if k != "step_s"} for run in runs]}
        print(json.dumps(brief, indent=1, default=str))
    if not args.quick or args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
