"""A stored run's model, rebuilt from its config and best checkpoint, and what it is asked for
after training: a forecast past the end of the data, and an explanation of one test window."""

from __future__ import annotations

import numpy as np
import torch

from core.explain import Panel
from core.models.contract import Band, Forecaster, Predictions
from core.models.registry import rebuild
from core.runs.result import ResultMissing, RunResult
from core.runs.store import RunStore


def rebuild_model(store: RunStore, run_id: str) -> Forecaster:
    """A stored run's model with its best checkpoint, in eval mode."""
    run = store.get(run_id)
    model = rebuild(run.model, run.config["model_config"])
    model.load_trainable_state(store.load_checkpoint(run_id))
    return model.eval()


def forecast_ahead(model: Forecaster, result: RunResult) -> Predictions:
    """The model's forecast of the steps after the last row of the data, scaled: it reads the last
    look-back of every input channel, scaled with the training rows' statistics as in training."""
    series = result.series
    if series is None:
        raise ResultMissing("this run was stored before the whole series was kept with it; train it again")
    if len(series.values) < result.seq_len:
        raise ValueError(
            f"the data hold {len(series.values)} rows, fewer than the look-back ({result.seq_len})"
        )
    window = series.scaled(slice(len(series.values) - result.seq_len, None))
    seed = result.run.config.get("train", {}).get("seed", 0)
    predictions = model.forecast_ahead(window, series.output_index, seed=seed)
    if not predictions.bands:  # the run's conformal half-widths, from its latest windows
        predictions.bands = {
            level: Band(predictions.forecast - width, predictions.forecast + width)
            for level, width in result.ahead_half_widths.items()
        }
    return predictions


def explain_window(model: Forecaster, result: RunResult, window: int, channel: int | None) -> list[Panel]:
    """The model's explanation of test window `window` (0 = the split's first); `channel` is an
    input channel's position for models that explain one channel at a time."""
    windows = result.test_windows()
    x = torch.tensor(np.array(windows[window : window + 1], dtype=np.float32))  # a writable copy
    channels = list(result.run.config.get("channels_in") or [f"channel {c + 1}" for c in range(x.shape[2])])
    return model.explain(x, channels, channel)
