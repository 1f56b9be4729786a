"""The long-term forecasting protocol: splits, scaling on training rows only, stride-1 windows.

This follows the Time-Series-Library protocol used by every paper the project builds on:

- ETT hourly: train rows [0, 8640), validation [8640 − L, 11520), test [11520 − L, 14400); the
  15-minute files use the same borders times 4, and later rows are never used.
- Other data sets: 70 % / 10 % / 20 % by `int()`, validation and test starting L rows early.
- A standard scaler per channel is fit on the training rows only and applied to every split.
- Features: `M` all channels in and out, `S` the target only, `MS` all in and the target scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROTOCOLS = ("ett-hour", "ett-minute", "ratio")
FEATURES = ("M", "S", "MS")
SPLITS = ("train", "val", "test")

_ETT_MONTH_HOURS = 30 * 24


def split_borders(n_rows: int, seq_len: int, protocol: str) -> dict[str, tuple[int, int]]:
    """Row ranges [start, end) of the train, validation and test splits.

    Validation and test start `seq_len` rows early so that their first window has a full
    look-back; those rows are inputs only and are never scored.
    """
    if protocol in ("ett-hour", "ett-minute"):
        per_hour = 1 if protocol == "ett-hour" else 4
        train_end = 12 * _ETT_MONTH_HOURS * per_hour
        val_end = train_end + 4 * _ETT_MONTH_HOURS * per_hour
        test_end = val_end + 4 * _ETT_MONTH_HOURS * per_hour
        if n_rows < test_end:
            raise ValueError(
                f"the {protocol} protocol needs {test_end} rows (20 months), the data has {n_rows}; "
                "use the 'ratio' protocol for other data sets"
            )
        return {
            "train": (0, train_end),
            "val": (train_end - seq_len, val_end),
            "test": (val_end - seq_len, test_end),
        }
    if protocol == "ratio":
        n_train = int(n_rows * 0.7)
        n_test = int(n_rows * 0.2)
        n_val = n_rows - n_train - n_test
        return {
            "train": (0, n_train),
            "val": (n_train - seq_len, n_train + n_val),
            "test": (n_rows - n_test - seq_len, n_rows),
        }
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


SPLIT_WORDS = {"train": "training", "val": "validation", "test": "test"}


def window_problem(n_rows: int, seq_len: int, pred_len: int, protocol: str) -> str | None:
    """Why this look-back and horizon leave a split of the data without a whole window, in plain
    words with lengths that fit; None when every split holds one. The training split needs a
    look-back plus a horizon of rows; validation and test (which read the look-back before them)
    need a horizon."""
    borders = split_borders(n_rows, seq_len, protocol)
    own = {name: end - start - (0 if name == "train" else seq_len) for name, (start, end) in borders.items()}
    short = [
        name
        for name in ("train", "val", "test")
        if own[name] < (seq_len + pred_len if name == "train" else pred_len)
    ]
    if not short:
        return None
    name = short[0]
    horizon = min(own["val"], own["test"], own["train"] // 2)
    look_back = own["train"] - horizon
    need = (
        f"a look-back plus a horizon ({seq_len + pred_len})" if name == "train" else f"a horizon ({pred_len})"
    )
    fix = (
        f"Choose a horizon of at most {horizon} and a look-back of at most {look_back} in the sidebar, or "
        "load a longer series."
        if horizon >= 1 and look_back >= 1
        else "Load a longer series."
    )
    return (
        f"The series is too short for a look-back of {seq_len} and a horizon of {pred_len}: its "
        f"{SPLIT_WORDS[name]} part has {own[name]} rows and needs at least {need}. {fix}"
    )


def fitting_lengths(n_rows: int, seq_len: int, pred_len: int, protocol: str) -> tuple[int, int] | None:
    """A look-back and horizon that this data can be cut into: `seq_len` and `pred_len` when every
    split holds a window of them; else the horizon cut to what validation and test hold (and to a
    third of the training rows), and the look-back to half the training rows the horizon leaves, so
    that training has several windows. None when no look-back of 2 and horizon of 1 fit."""
    try:
        if window_problem(n_rows, seq_len, pred_len, protocol) is None:
            return seq_len, pred_len
        borders = split_borders(n_rows, 0, protocol)
    except ValueError:  # the protocol needs more rows than the data has
        return None
    own = {name: end - start for name, (start, end) in borders.items()}
    horizon = min(pred_len, own["val"], own["test"], own["train"] // 3)
    look_back = min(seq_len, (own["train"] - horizon) // 2)
    if horizon < 1 or look_back < 2:
        return None
    return look_back, horizon


@dataclass
class StandardScaler:
    """Per-channel standardisation, fit on training rows only (population std, like sklearn)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> StandardScaler:
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        # A constant training channel would divide by zero; leave it centred but unscaled.
        std = np.where(std == 0, 1.0, std)
        return cls(mean=mean, std=std)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean) / self.std

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        return values * self.std + self.mean


def sliding_windows(values: np.ndarray, seq_len: int, pred_len: int):
    """Stride-1 windows of a (T, C) array: inputs (N, L, C) and targets (N, H, C), as views."""
    n_windows = len(values) - seq_len - pred_len + 1
    if n_windows < 1:
        raise ValueError(
            f"a split of {len(values)} rows holds no window of look-back {seq_len} plus horizon "
            f"{pred_len}; shorten them or use more data"
        )
    full = np.lib.stride_tricks.sliding_window_view(values, seq_len + pred_len, axis=0)
    full = full.transpose(0, 2, 1)  # (N, L + H, C)
    return full[:, :seq_len, :], full[:, seq_len:, :]


def feature_columns(columns: list[str], target: str, features: str) -> tuple[list[str], list[int]]:
    """Input columns (target last, as Time-Series-Library orders them) and scored output indices."""
    if target not in columns:
        raise ValueError(f"target column {target!r} is not among {columns}")
    if features not in FEATURES:
        raise ValueError(f"unknown features {features!r}; choose one of {', '.join(FEATURES)}")
    if features == "S":
        return [target], [0]
    inputs = [c for c in columns if c != target] + [target]
    if features == "MS":
        return inputs, [len(inputs) - 1]
    return inputs, list(range(len(inputs)))


@dataclass
class ProtocolData:
    """Scaled splits of one data set, ready to cut into windows."""

    columns: list[str]  # input channels in model order (target last)
    output_index: list[int]  # channels that are forecast and scored
    scaler: StandardScaler
    splits: dict[str, np.ndarray]  # name -> scaled (rows, C) array
    borders: dict[str, tuple[int, int]]

    def windows(self, split: str, seq_len: int, pred_len: int):
        """Inputs (N, L, C) over all channels and targets (N, H, C_out) over the scored ones."""
        x, y = sliding_windows(self.splits[split], seq_len, pred_len)
        return x, y[:, :, self.output_index]


def prepare(
    values: np.ndarray,
    columns: list[str],
    target: str,
    features: str,
    protocol: str,
    seq_len: int,
    pred_len: int = 1,
) -> ProtocolData:
    """Select channels, split by the protocol and scale with statistics of the training rows."""
    inputs, output_index = feature_columns(columns, target, features)
    order = [columns.index(c) for c in inputs]
    values = np.asarray(values, dtype=np.float64)[:, order]
    borders = split_borders(len(values), seq_len, protocol)
    problem = window_problem(len(values), seq_len, pred_len, protocol)
    if problem is not None:
        raise ValueError(problem)
    train_start, train_end = borders["train"]
    scaler = StandardScaler.fit(values[train_start:train_end])
    scaled = scaler.transform(values)
    splits = {name: scaled[start:end] for name, (start, end) in borders.items()}
    return ProtocolData(inputs, output_index, scaler, splits, borders)


def kept_windows(n_windows: int, drop_last_batch: int | None) -> int:
    """How many windows remain when the last incomplete batch of this size is dropped."""
    if not drop_last_batch:
        return n_windows
    full = (n_windows // drop_last_batch) * drop_last_batch
    if full == 0:
        raise ValueError(
            f"only {n_windows} test windows, fewer than one batch of {drop_last_batch}: "
            "dropping the last incomplete batch would leave nothing to score"
        )
    return full
