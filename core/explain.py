"""What a model's explanation of one window is made of: panels of a few plain kinds.

`Forecaster.explain` returns a list of them; the Attention page draws each kind, whichever model
made it, so a new model that explains itself with these kinds needs no page of its own. Plain
NumPy and pandas: importing this costs the pages nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Heatmap:
    """A matrix of weights; with several `layers` (heads, say) the page offers a choice between them."""

    title: str
    values: np.ndarray  # (layers, rows, columns)
    rows: list[str]
    columns: list[str]
    row_title: str = ""
    column_title: str = ""
    layers: list[str] = field(default_factory=lambda: [""])
    caption: str = ""


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    caption: str = ""


@dataclass
class Text:
    title: str
    text: str
    caption: str = ""


Panel = Heatmap | Table | Text
