"""The types that pass between the ingest steps and the rest of the engine.

A `Table` is a parsed file, a `ColumnMapping` the role the user gave each of its columns, a
`Dataset` the series the engine forecasts, and a `Problem` one thing `core.ingest.inspect` found in
it. Every problem with the user's data raises `DataError`, worded for the user.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class DataError(ValueError):
    """A problem with the user's data, worded for the user: what is wrong and how to fix it."""


class AmbiguousDateOrder(DataError):
    """Every date in the timestamp column reads both day first and month first ('03/01/2021').

    Not a fault of the file: the user must say which it is. A page asks and builds again with
    `ColumnMapping.dayfirst` set; elsewhere the message says how to write the dates unambiguously.
    """

    def __init__(self, message: str, column: str, example: str):
        super().__init__(message)
        self.column = column  # the timestamp column
        self.example = example  # one of its dates, as written

    def __reduce__(self):  # pickled whole (an exception pickles only its first argument)
        return type(self), (str(self), self.column, self.example)


@dataclass
class Table:
    """A parsed file before any column has been given a role."""

    frame: pd.DataFrame
    delimiter: str
    decimal: str
    encoding: str
    timestamp_candidates: list[str]  # columns whose values parse as dates, best first
    numeric_candidates: list[str]  # columns whose values are (mostly) numbers
    id_candidates: list[str]  # text columns that look like series ids (long layout)
    notes: list[str] = field(default_factory=list)  # what the reader decided, for the user
    first_data_line: int = 2  # the file line of the first data row (for messages)
    # What reading left out of the data or read as missing (summary rows, a repeated header, a units
    # row, Excel error cells); `build_dataset` passes it on in the Dataset's notes.
    changes: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)  # numeric column -> unit ('kWh', '£')

    @property
    def layout(self) -> str:
        return "long" if self.id_candidates else "wide"


@dataclass
class ColumnMapping:
    """Which column plays which role. `timestamp=None` means rows are equally spaced steps."""

    timestamp: str | None
    target: str
    channels: list[str] = field(default_factory=list)  # extra input channels, target excluded
    id_column: str | None = None  # long layout only
    series_id: str | None = None  # which series of a long file
    # Dates such as 03/01/2021: True day first, False month first, None read from the dates
    # themselves (a day over 12 decides; `AmbiguousDateOrder` when none is).
    dayfirst: bool | None = None


@dataclass
class Dataset:
    """A series ready for the engine: numeric channels on a time (or step) index, target named."""

    frame: pd.DataFrame  # index: DatetimeIndex "timestamp" or RangeIndex "step"
    target: str
    name: str
    description: str = ""
    source: str = ""
    freq: str | None = None  # pandas offset alias, None for step-indexed series
    notes: list[str] = field(default_factory=list)  # what reading it assumed, for the user
    units: dict[str, str] = field(default_factory=dict)  # channel -> unit ('kWh'); absent: unknown
    # The file line of each row while the rows are as read (for messages); None for built-ins and
    # after a repair has sorted, dropped or inserted rows.
    file_lines: np.ndarray | None = field(default=None, repr=False, compare=False)

    def unit(self, column: str) -> str:
        """The unit of a channel ('kWh', '£'), or '' when the file did not say."""
        return self.units.get(column, "")

    @property
    def channels(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def has_time_index(self) -> bool:
        return isinstance(self.frame.index, pd.DatetimeIndex)

    def content_hash(self) -> str:
        """A short hash of the values and index, so that runs can name the exact data they used."""
        hashed = pd.util.hash_pandas_object(self.frame, index=True).to_numpy()
        return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]

    def summary(self) -> dict:
        index = self.frame.index
        return {
            "rows": len(self.frame),
            "start": str(index[0]) if len(index) else "",
            "end": str(index[-1]) if len(index) else "",
            "frequency": describe_frequency(self.freq),
            "channels": len(self.channels),
            "target": self.target,
        }


@dataclass
class Problem:
    kind: str  # duplicates | unsorted | gaps | missing | constant | irregular | outlier
    message: str
    needs_repair: bool  # the series cannot be used as it is
    blocking: bool = False  # ... and `repair` cannot fix it: the file or the column choice must change
    warning: bool = False  # usable as it is, but worth a look before training (a probable outlier)
    columns: list[str] = field(default_factory=list)  # every column a problem about many is about


def describe_frequency(freq: str | None) -> str:
    if freq is None:
        return "equally spaced steps"
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return freq
    names = {
        "h": "hour",
        "min": "minute",
        "s": "second",
        "D": "day",
        "B": "business day",
        "W": "week",
        "ME": "month",
        "MS": "month",
        "QE": "quarter",
        "QS": "quarter",
        "YE": "year",
        "YS": "year",
    }
    base = offset.rule_code.split("-")[0]
    unit = names.get(base, base)
    if offset.n == 1:
        return f"every {unit} ({freq})"
    return f"every {offset.n} {unit}s ({freq})"
