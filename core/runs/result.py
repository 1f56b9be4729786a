"""A finished run's results, written once and read back typed: the only module that knows the names
of a run's stored arrays, and the one place where scaled values become the series' own units.

A run keeps two array sets: `test` (its test predictions, scaled as the model saw them, with the
test rows it read) and `series` (every row of its input channels in their units, the timestamps,
the training rows' scaler and the MASE scales), so that its pages work after the data set is gone.
`load_result` gives both back as a `RunResult`: forecasts, actual values, bands, parts and variants
in the series' units and standardised, prompt picks, metrics, cost and the split's spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import metrics
from core.data import ProtocolData, StandardScaler, sliding_windows
from core.dataset import Dataset
from core.decompose import frequency_period
from core.intervals import level_key
from core.models.contract import Band, Predictions
from core.models.registry import MODELS, label_of
from core.runs.store import RunRecord, RunStore

TEST, SERIES = "test", "series"  # the array sets a run keeps


class ResultMissing(FileNotFoundError):
    """A run's stored results are gone or were stored by a version that kept less; says which."""


def _band_key(coverage: float) -> str:
    return f"band{round(coverage * 100)}"


def _band_arrays(prefix: str, bands: dict[float, Band]) -> dict[str, np.ndarray]:
    arrays = {}
    for coverage, band in bands.items():
        arrays[f"{prefix}{_band_key(coverage)}_lower"] = band.lower
        arrays[f"{prefix}{_band_key(coverage)}_upper"] = band.upper
    return arrays


def _read_bands(arrays: dict[str, np.ndarray], prefix: str) -> dict[float, np.ndarray]:
    found = {}
    for key in arrays:
        if key.startswith(f"{prefix}band") and key.endswith("_lower"):
            number = key[len(prefix) + len("band") : -len("_lower")]
            if number.isdigit():
                found[int(number) / 100] = key[: -len("_lower")]
    return found


def save_predictions(
    store: RunStore,
    run_id: str,
    predictions: Predictions,
    data: ProtocolData,
    ahead: dict[float, np.ndarray] | None = None,
) -> None:
    """The test predictions (scaled), the test rows the model read, the output channels' scaler,
    and the half-widths (H, C) of the bands of a forecast past the data (`ahead`, by coverage)."""
    outputs = data.output_index
    arrays = {
        "forecast": predictions.forecast,
        "actual": predictions.actual,
        "window_index": np.asarray(predictions.window_index, dtype=np.int64),
        "inputs": data.splits["test"].astype(np.float32),  # (rows, C_in): the windows rebuild from it
        "scaler_mean": np.asarray(data.scaler.mean, dtype=np.float64)[outputs],
        "scaler_std": np.asarray(data.scaler.std, dtype=np.float64)[outputs],
    }
    arrays |= _band_arrays("", predictions.bands)
    for coverage, width in (ahead or {}).items():
        arrays[f"ahead_{_band_key(coverage)}_halfwidth"] = np.asarray(width, dtype=np.float64)
    if predictions.parts is not None:
        arrays["parts"] = predictions.parts
    if predictions.picks is not None:
        arrays["picks"] = predictions.picks
    for name, variant in predictions.variants.items():
        arrays[f"variant_{name}_forecast"] = variant.forecast
        arrays |= _band_arrays(f"variant_{name}_", variant.bands)
    store.save_arrays(run_id, TEST, arrays)


def save_series(store: RunStore, run_id: str, dataset: Dataset, data: ProtocolData) -> None:
    """Every row of the run's input channels (model order, series' units), their scaler, the
    timestamps, and each output channel's MASE scale (the seasonal naive error on the scaled
    training rows)."""
    order = [dataset.channels.index(c) for c in data.columns]
    values = dataset.frame.to_numpy(dtype=np.float64)[:, order]
    train = data.splits["train"]
    season = metrics.mase_season(frequency_period(dataset.freq) or 1, len(train))
    arrays = {
        "values": values.astype(np.float32),
        "scaler_mean": np.asarray(data.scaler.mean, dtype=np.float64),
        "scaler_std": np.asarray(data.scaler.std, dtype=np.float64),
        "mase_scale": np.array(
            [metrics.seasonal_naive_scale(train[:, i], season) for i in data.output_index]
        ),
        "season": np.array([season]),
    }
    if dataset.has_time_index:
        arrays["time_ns"] = dataset.frame.index.as_unit("ns").asi8.astype(np.int64)
    store.save_arrays(run_id, SERIES, arrays)


@dataclass
class RunSeries:
    """A stored run's whole series (input channels, series' units) on its time or step axis."""

    values: np.ndarray  # (T, C_in)
    index: pd.Index  # DatetimeIndex or RangeIndex, length T
    channels_in: list[str]
    channels_out: list[str]
    scaler_mean: np.ndarray  # (C_in,)
    scaler_std: np.ndarray
    mase_scale: np.ndarray  # (C_out,) on scaled values
    season: int
    freq: str | None

    @property
    def output_index(self) -> list[int]:
        return [self.channels_in.index(c) for c in self.channels_out]

    def scaled(self, rows: slice) -> np.ndarray:
        """Rows of the input channels, scaled with the training rows' statistics as in training."""
        return (self.values[rows] - self.scaler_mean) / self.scaler_std

    def future_index(self, horizon: int) -> pd.Index:
        """The `horizon` time stamps (or step numbers) that follow the last row."""
        if isinstance(self.index, pd.DatetimeIndex):
            if self.freq:
                dates = pd.date_range(self.index[-1], periods=horizon + 1, freq=self.freq)[1:]
            else:
                step = pd.Series(self.index).diff().median()
                dates = pd.DatetimeIndex([self.index[-1] + step * (i + 1) for i in range(horizon)])
            return dates.rename("timestamp")
        start = len(self.index)
        return pd.RangeIndex(start, start + horizon, name="step")


@dataclass(frozen=True)
class Spans:
    """Row ranges [start, end) of the scored rows of each split (validation and test start a
    look-back into their borders), and the rows at the end that no split uses."""

    train: tuple[int, int]
    validation: tuple[int, int]
    test: tuple[int, int]
    unused: int


@dataclass(frozen=True)
class Cost:
    wall_time_s: float | None
    trainable_params: int | None
    total_params: int | None
    peak_memory_mb: float | None
    precision: str | None
    device: str | None


@dataclass
class RunVariant:
    """A variant's forecast and bands in the series' units, with its metrics."""

    forecast: np.ndarray
    bands: dict[float, Band]
    metrics: dict


@dataclass
class RunResult:
    """A finished run, read back: everything a page shows of it."""

    run: RunRecord
    label: str  # the model's label
    seq_len: int
    pred_len: int
    features: str
    channels: list[str]  # the output channels, in the arrays' last axis
    window_index: np.ndarray  # (N,) which test windows the forecasts are (0 = the split's first)
    windows_available: int  # how many test windows the split holds
    forecast: np.ndarray  # (N, H, C) in the series' units
    actual: np.ndarray
    forecast_scaled: np.ndarray  # (N, H, C) standardised with the training rows' statistics
    actual_scaled: np.ndarray
    bands: dict[float, Band]  # by nominal coverage, in the series' units
    ahead_half_widths: dict[float, np.ndarray]  # (H, C) scaled: conformal bands past the data
    parts: np.ndarray | None  # (N, n, H, C) in units: the channel's mean is counted in the first part
    part_names: list[str]
    picks: np.ndarray | None  # (n_parts, M) prompt picks counted over the test windows
    variant_name: str  # what the main forecast is called among the variants
    variants: dict[str, RunVariant]
    test_inputs: np.ndarray  # (rows, C_in) the test split's scaled rows the windows read
    series: RunSeries | None  # None for runs stored before the whole series was kept
    scaler: StandardScaler  # the output channels' scaler (the training rows' statistics)
    metrics: dict
    cost: Cost
    notes: list[str] = field(default_factory=list)

    @property
    def spans(self) -> Spans:
        borders = self.run.config["borders"]
        rows = len(self.series.index) if self.series is not None else borders["test"][1]
        return Spans(
            (borders["train"][0], borders["train"][1]),
            (borders["val"][0] + self.seq_len, borders["val"][1]),
            (borders["test"][0] + self.seq_len, borders["test"][1]),
            rows - borders["test"][1],
        )

    def test_windows(self) -> np.ndarray:
        """Every test window's scaled input (N_all, L, C_in), what the model read."""
        x, _ = sliding_windows(self.test_inputs, self.seq_len, self.pred_len)
        return x

    def window_rows(self, i: int) -> slice:
        """The rows of the series that stored forecast `i` covers."""
        first = self.spans.test[0] + int(self.window_index[i])
        return slice(first, first + self.pred_len)

    def to_units(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled values (..., C) of the output channels in the series' own units."""
        return self.scaler.inverse_transform(np.asarray(scaled, dtype=np.float64))

    def future_frame(self, predictions: Predictions) -> pd.DataFrame:
        """A forecast past the end of the data (one window of scaled `Predictions`) as a table in
        the series' units: one row per future time stamp and output channel, with the forecast and,
        for each band, `lower_80`, `upper_80` (…) columns."""
        if self.series is None:
            raise ResultMissing(
                "this run was stored before the whole series was kept with it; train it again"
            )
        index = self.series.future_index(self.pred_len)
        forecast = self.to_units(predictions.forecast[0])  # (H, C)
        bands = {
            level: Band(self.to_units(band.lower[0]), self.to_units(band.upper[0]))
            for level, band in predictions.bands.items()
        }
        frames = [
            pd.DataFrame(
                {"channel": name, "forecast": forecast[:, c]} | interval_columns(bands, (slice(None), c)),
                index=index,
            )
            for c, name in enumerate(self.channels)
        ]
        return pd.concat(frames)

    def forecast_table(self, first: int = 1, last: int | None = None) -> pd.DataFrame:
        """Stored test windows `first` to `last` (counted from 1, as the pages do; all by default) as
        a long table in the series' units: per window, horizon step and channel, the time stamp
        (or row number) forecast, the actual value, the forecast and its bands' bounds."""
        windows = slice(first - 1, last)
        forecast, actual = self.forecast[windows], self.actual[windows]
        count, horizon, n_channels = forecast.shape
        numbers = np.arange(first, first + count)
        columns = {
            "window": np.repeat(numbers, horizon * n_channels),
            "step": np.tile(np.repeat(np.arange(1, horizon + 1), n_channels), count),
        }
        if self.series is not None:
            rows = self.spans.test[0] + self.window_index[windows, None] + np.arange(horizon)  # (N, H)
            columns[self.series.index.name or "timestamp"] = np.repeat(
                self.series.index[rows.reshape(-1)], n_channels
            )
        columns |= {
            "channel": np.tile(np.asarray(self.channels, dtype=object), count * horizon),
            "actual": actual.reshape(-1),
            "forecast": forecast.reshape(-1),
        }
        columns |= {
            name: values.reshape(-1) for name, values in interval_columns(self.bands, (windows,)).items()
        }
        return pd.DataFrame(columns)


def interval_columns(bands: dict[float, Band], where: tuple) -> dict[str, np.ndarray]:
    """`lower_80`, `upper_80`, `lower_95`, … of each band, at `where` of its arrays."""
    columns = {}
    for level, band in sorted(bands.items()):
        key = level_key(level)
        columns[f"lower_{key}"], columns[f"upper_{key}"] = band.lower[where], band.upper[where]
    return columns


def load_result(store: RunStore, run_id: str) -> RunResult:
    """A finished run's stored results; a plain `ResultMissing` when its files are gone."""
    run = store.get(run_id)
    try:
        arrays = store.load_arrays(run_id, TEST)
    except FileNotFoundError as error:
        raise ResultMissing(f"run {run_id} has no stored test forecasts (its files were removed)") from error
    if "inputs" not in arrays:
        raise ResultMissing(
            f"run {run_id} was stored by an older version without its test inputs; train it again"
        )
    config = run.config
    notes = []
    try:
        series = _run_series(store.load_arrays(run_id, SERIES), config)
    except FileNotFoundError:
        series = None
        notes.append(
            "This run was stored before the whole series was kept with it; train it again to see more."
        )
    scaler = StandardScaler(
        np.asarray(arrays["scaler_mean"], dtype=np.float64).reshape(-1),
        np.asarray(arrays["scaler_std"], dtype=np.float64).reshape(-1),
    )

    def units(scaled: np.ndarray) -> np.ndarray:
        return scaler.inverse_transform(np.asarray(scaled, dtype=np.float64))

    def bands(prefix: str) -> dict[float, Band]:
        return {
            coverage: Band(units(arrays[f"{key}_lower"]), units(arrays[f"{key}_upper"]))
            for coverage, key in _read_bands(arrays, prefix).items()
        }

    forecast, actual = arrays["forecast"].astype(np.float64), arrays["actual"].astype(np.float64)
    parts = None
    if "parts" in arrays:  # each part scaled back by the spread; the mean joins the first (the trend)
        parts = arrays["parts"].astype(np.float64) * scaler.std
        parts[:, 0] += scaler.mean
    stored_variants = [
        key[len("variant_") : -len("_forecast")]
        for key in arrays
        if key.startswith("variant_") and key.endswith("_forecast")
    ]
    variant_metrics = run.test_metrics.get("variants") or {}
    seq_len, pred_len = config["seq_len"], config["pred_len"]
    spec = MODELS.get(run.model or "")
    return RunResult(
        run=run,
        label=label_of(run.model),
        seq_len=seq_len,
        pred_len=pred_len,
        features=config.get("features", "M"),
        channels=list(config.get("channels_out") or [f"channel {i + 1}" for i in range(forecast.shape[2])]),
        window_index=arrays.get("window_index", np.arange(len(forecast))).astype(np.int64),
        windows_available=max(len(arrays["inputs"]) - seq_len - pred_len + 1, 0),
        forecast=units(forecast),
        actual=units(actual),
        forecast_scaled=forecast,
        actual_scaled=actual,
        bands=bands(""),
        ahead_half_widths={
            int(key[len("ahead_band") : -len("_halfwidth")]) / 100: np.asarray(value, dtype=np.float64)
            for key, value in arrays.items()
            if key.startswith("ahead_band") and key.endswith("_halfwidth")
        },
        parts=parts,
        part_names=list(config.get("part_names") or _default_part_names(parts)),
        picks=arrays.get("picks"),
        variant_name=str(run.test_metrics.get("variant_name", "")),
        variants={
            name: RunVariant(
                units(arrays[f"variant_{name}_forecast"]),
                bands(f"variant_{name}_"),
                variant_metrics.get(name, {}),
            )
            for name in stored_variants
        },
        test_inputs=arrays["inputs"].astype(np.float64),
        series=series,
        scaler=scaler,
        metrics=dict(run.test_metrics),
        cost=Cost(
            run.wall_time_s,
            run.trainable_params,
            run.total_params,
            run.peak_memory_mb,
            run.precision,
            run.device,
        ),
        notes=notes
        if spec is not None
        else [*notes, f"The model '{run.model}' is no longer in the registry."],
    )


def _default_part_names(parts: np.ndarray | None) -> list[str]:
    return [] if parts is None else [f"part {i + 1}" for i in range(parts.shape[1])]


def _run_series(arrays: dict[str, np.ndarray], config: dict) -> RunSeries:
    if "time_ns" in arrays:
        index = pd.DatetimeIndex(pd.to_datetime(arrays["time_ns"], unit="ns"), name="timestamp")
    else:
        index = pd.RangeIndex(len(arrays["values"]), name="step")
    return RunSeries(
        values=arrays["values"].astype(np.float64),
        index=index,
        channels_in=list(config["channels_in"]),
        channels_out=list(config["channels_out"]),
        scaler_mean=arrays["scaler_mean"],
        scaler_std=arrays["scaler_std"],
        mase_scale=arrays["mase_scale"],
        season=int(arrays["season"][0]),
        freq=config.get("freq"),
    )
