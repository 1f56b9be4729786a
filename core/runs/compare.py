"""Every finished run of one setting side by side, scored again on the windows they all have.

Runs are comparable when they forecast the same targets: the same data (by content hash), scored
channels (the target alone under features S and MS, every channel under M), split protocol and
horizon. Their look-backs and input channels may differ, since the test windows' targets
start at the same row whatever the look-back (see `core.data.split_borders`). Runs that scored a
subset of the test windows (proxy-tuned decoding decodes an evenly spaced few) are compared on the
windows every selected run has, and the naive, seasonal naive and Naive2 baselines are scored on
exactly those windows too, so a model that does not beat them is seen not to.

Conventions, as in the published tables and the M4 competition:
- MSE, MAE and RMSE on values standardised with the training rows' statistics;
- MAPE and sMAPE in percent of the series' own units;
- MASE per output channel against the seasonal naive error on the training rows (the scale each
  run stored), averaged over channels; it does not depend on the units;
- OWA relates sMAPE and MASE to Naive2's on the same windows (Naive2 is 1 by definition).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import horizon, metrics
from core.data import sliding_windows
from core.models import baselines
from core.models.registry import MODELS, label_of
from core.runs.result import ResultMissing, RunResult, RunSeries, load_result
from core.runs.store import RunRecord, RunStore

BASELINES = {"naive": "naive", "snaive": "seasonal naive", "naive2": "Naive2"}
METRIC_COLUMNS = {
    "mse": "MSE",
    "mae": "MAE",
    "rmse": "RMSE",
    "mape": "MAPE (%)",
    "smape": "sMAPE (%)",
    "mase": "MASE",
    "owa": "OWA",
}
COST_COLUMNS = {
    "wall_time_s": "wall time (s)",
    "trainable_params": "trainable parameters",
    "total_params": "total parameters",
    "peak_memory_mb": "peak memory (MB)",
    "precision": "precision",
    "device": "device",
}


@dataclass(frozen=True)
class Setting:
    """What makes runs comparable: they forecast the same targets (so features S and MS, which
    both score the target alone, compare; M scores every channel)."""

    dataset_hash: str
    dataset_name: str
    scored: tuple[str, ...]  # the channels forecast and scored
    protocol: str
    pred_len: int
    freq: str | None = field(default=None, compare=False)  # for the label's calendar words

    @property
    def label(self) -> str:
        """In plain words: "ETTh1 · forecasting OT · next day (24 hours)"."""
        scored = (
            f"forecasting {self.scored[0]}"
            if len(self.scored) == 1
            else f"forecasting all {len(self.scored)} columns"
        )
        split = PROTOCOL_WORDS.get(self.protocol, f"split {self.protocol}")
        return f"{self.dataset_name} · {scored} · {horizon.describe(self.pred_len, self.freq)} · {split}"


# How each protocol cuts the data, in words (`core.data.split_borders`).
PROTOCOL_WORDS = {
    "ett-hour": "12/4/4 months for training/validation/test",
    "ett-minute": "12/4/4 months for training/validation/test",
    "ratio": "70/10/20 % for training/validation/test",
}


def setting_of(run: RunRecord) -> Setting:
    config = run.config
    scored = config.get("channels_out") or [config.get("target")]
    return Setting(
        run.dataset_hash or "",
        run.dataset_name or "?",
        tuple(str(c) for c in scored),
        str(config.get("protocol")),
        int(config.get("pred_len", 0)),
        config.get("freq"),
    )


def settings(runs: list[RunRecord]) -> dict[Setting, list[RunRecord]]:
    """Finished runs grouped by setting, the setting with the newest run first."""
    groups: dict[Setting, list[RunRecord]] = {}
    for run in sorted(runs, key=lambda r: r.created_at or 0, reverse=True):
        if run.status == "succeeded":
            groups.setdefault(setting_of(run), []).append(run)
    return groups


@dataclass
class _Scored:
    """One row's forecasts on the common windows: scaled (N, H, C) and in units."""

    forecast: np.ndarray
    actual: np.ndarray
    forecast_units: np.ndarray
    actual_units: np.ndarray


@dataclass
class Comparison:
    setting: Setting
    table: pd.DataFrame  # one row per run and baseline, metric and cost columns
    by_horizon: pd.DataFrame  # MSE per horizon step (rows) for each row label (columns)
    windows: int  # the test windows every row is scored on
    windows_available: int  # the test windows of the setting
    notes: list[str] = field(default_factory=list)


def _order(run: RunRecord) -> tuple:
    """Families in registry order, each full model followed by its ablations, oldest run first."""
    names = list(MODELS)
    spec = MODELS.get(run.model or "")
    family = spec.parent if spec and spec.parent else run.model
    family_rank = names.index(family) if family in names else len(names)
    model_rank = names.index(run.model) if run.model in names else len(names)
    return (family_rank, spec is not None and spec.parent is not None, model_rank, run.created_at or 0)


def run_label(run: RunRecord) -> str:
    shipped = "showcase · " if run.showcase else ""
    return f"{shipped}{run.name or run.model} · {run.id[:6]}"


def compare(store: RunStore, runs: list[RunRecord]) -> Comparison:
    """Score `runs` (all of one setting) and the three baselines on their common test windows."""
    if not runs:
        raise ValueError("pick at least one finished run to compare")
    setting = setting_of(runs[0])
    if any(setting_of(run) != setting for run in runs):
        raise ValueError("these runs forecast different targets (data, scored channels, split or horizon)")
    notes = []
    results: dict[str, RunResult] = {}
    for run in runs:
        try:
            results[run.id] = load_result(store, run.id)
        except ResultMissing as error:
            reason = str(error)
            notes.append(f"{reason[:1].upper()}{reason[1:]}; left out.")
    runs = sorted((run for run in runs if run.id in results), key=_order)
    if not runs:
        raise ValueError("none of these runs has its test forecasts in the run store any more")
    common = sorted(set.intersection(*(set(map(int, r.window_index)) for r in results.values())))
    if not common:
        raise ValueError("these runs share no test window; compare them in smaller groups")

    # Actual values, scaled, from the stored test inputs of the run with the longest look-back.
    reference = results[max(runs, key=lambda r: r.config["seq_len"]).id]
    pred_len = setting.pred_len
    outputs = [reference.run.config["channels_in"].index(c) for c in reference.channels]
    x, y = sliding_windows(reference.test_inputs, reference.seq_len, pred_len)
    windows_available = len(x)
    x, y = x[common], y[common][:, :, outputs]
    series = next(
        (results[run.id].series for run in sorted(runs, key=_newest) if results[run.id].series), None
    )
    season = series.season if series is not None else int(reference.metrics.get("season") or 1)
    mase_scale = series.mase_scale if series is not None else None
    if mase_scale is None:
        notes.append("MASE and OWA are left out: these runs were stored before their scale was kept.")
    if series is not None:
        # The baselines read the same history whichever runs are chosen, and the actual values come
        # from the data as stored (exact zeros stay zeros for MAPE).
        history_units, y_units = _baseline_windows(series, reference.run.config, common, pred_len, season)
        y_units = y_units[:, :, outputs]
    else:  # runs stored before the series was kept: the longest look-back, from scaled values
        if reference.run.config["channels_in"] != reference.channels:
            raise ValueError(
                "this run was stored before its input scaler was kept; train it again to compare it"
            )
        history_units = reference.to_units(x)
        y_units = reference.to_units(y)

    rows: dict[str, tuple[dict, _Scored]] = {}
    for run in runs:
        result = results[run.id]
        position = {int(w): i for i, w in enumerate(result.window_index)}
        keep = [position[w] for w in common]
        forecast, actual = result.forecast_scaled[keep], result.actual_scaled[keep]
        if actual.shape != y.shape or not np.allclose(actual, y, atol=1e-4):
            raise ValueError(
                f"run {run.id} was scored on different actual values from the other runs; "
                "its data set may have been changed since: compare it on its own"
            )
        kind = "showcase run" if run.showcase else "run"
        info = {"row": run_label(run), "kind": kind, "model": result.label, "run id": run.id}
        spec = MODELS.get(run.model)
        info["ablation of"] = label_of(spec.parent) if spec and spec.parent else ""
        info |= {label: getattr(run, name) for name, label in COST_COLUMNS.items()}
        rows[info["row"]] = (info, _Scored(forecast, actual, result.forecast[keep], y_units))

    history = history_units.shape[1]
    if season <= 1:
        notes.append(
            "These data have no natural season (step-indexed, or a frequency without a cycle), so seasonal "
            "naive and Naive2 are the naive forecast."
        )
    elif history < 3 * season:
        notes.append(
            f"Naive2 tests for seasonality only with three seasons of history ({3 * season} steps; there "
            f"are {history} before the test windows), so here it is the naive forecast."
        )
    baseline_forecasts = {
        "naive": baselines.naive(history_units, pred_len),
        "naive2": baselines.naive2_windows(history_units, pred_len, season),
    }
    if history >= season:
        baseline_forecasts["snaive"] = baselines.seasonal_naive(history_units, pred_len, season)
    else:
        notes.append(f"Seasonal naive needs a whole season ({season} steps) of history; left out.")
    baseline_rows = {}
    for name, forecast_units in baseline_forecasts.items():
        forecast_units = forecast_units[:, :, outputs]
        info = {"row": BASELINES[name], "kind": "baseline", "model": BASELINES[name], "ablation of": ""}
        # A baseline costs nothing to fit: no training, no parameters.
        info |= {label: 0 for label in COST_COLUMNS.values()} | {"precision": "", "device": ""}
        scaled = reference.scaler.transform(forecast_units)
        baseline_rows[info["row"]] = (info, _Scored(scaled, y, forecast_units, y_units))
    everything = baseline_rows | rows

    naive2 = everything[BASELINES["naive2"]][1]
    naive2_smape = metrics.smape(naive2.actual_units, naive2.forecast_units)
    naive2_mase = _mase(naive2, mase_scale)
    records, horizon = [], {}
    for label, (info, scored) in everything.items():
        row = dict(info)
        row["mse"] = metrics.mse(scored.actual, scored.forecast)
        row["mae"] = metrics.mae(scored.actual, scored.forecast)
        row["rmse"] = metrics.rmse(scored.actual, scored.forecast)
        row["mape"] = metrics.mape(scored.actual_units, scored.forecast_units)
        row["smape"] = metrics.smape(scored.actual_units, scored.forecast_units)
        row["mase"] = _mase(scored, mase_scale)
        row["owa"] = (
            metrics.owa(row["smape"], row["mase"], naive2_smape, naive2_mase)
            if mase_scale is not None and naive2_smape > 0 and naive2_mase > 0
            else float("nan")
        )
        records.append(row)
        horizon[label] = ((scored.forecast - scored.actual) ** 2).mean(axis=(0, 2))
    table = pd.DataFrame(records).rename(columns=METRIC_COLUMNS)
    first = ["row", "kind", "model", "ablation of", *METRIC_COLUMNS.values(), *COST_COLUMNS.values()]
    table = table[first + [c for c in table.columns if c not in first]]
    by_horizon = pd.DataFrame(horizon, index=pd.RangeIndex(1, pred_len + 1, name="horizon step"))
    if len(common) < windows_available:
        notes.append(
            f"Scored on the {len(common)} test windows every selected run has, of {windows_available}: "
            "a run that scored fewer (decoding an evenly spaced few, or dropping the last incomplete "
            "batch) narrows every row to its windows."
        )
    return Comparison(setting, table, by_horizon, len(common), windows_available, notes)


def _newest(run: RunRecord) -> float:
    return -(run.created_at or 0)


BASELINE_SEASONS = 10  # seasons of history the baselines read before each test window


def _baseline_windows(
    series: RunSeries, config: dict, windows: list[int], pred_len: int, season: int
) -> tuple[np.ndarray, np.ndarray]:
    """History (N, Lb, C_in) and actual values (N, H, C_in) in the series' units for test windows
    `windows`: the baselines read the same `BASELINE_SEASONS` seasons of history before each window
    (or all rows before the test split when fewer), whatever the runs' look-backs."""
    values = series.values
    first = config["borders"]["test"][0] + config["seq_len"]  # the first test target's row
    end = config["borders"]["test"][1]
    look_back = max(min(first, BASELINE_SEASONS * max(season, 1)), 1)
    x, y = sliding_windows(values[first - look_back : end], look_back, pred_len)
    return x[windows], y[windows]


def _mase(scored: _Scored, scale: np.ndarray | None) -> float:
    if scale is None:
        return float("nan")
    return metrics.channel_mase(scored.actual, scored.forecast, scale)
