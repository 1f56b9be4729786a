"""Which model to start with for a series, and why, in words a non-programmer reads.

The rule is deliberately simple and stated where it is shown: a strong, fast linear model (DLinear)
for most series, and PatchTST, which needs more data to pay for its size, only for long series.
Both forecast the target alone here (features S): that is what a person asking "forecast this
series" means, and it trains in seconds. The look-back is the longest of the usual ones that the
data's three splits can hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.data import split_borders, window_problem

LONG_SERIES_ROWS = 20_000  # training rows from which PatchTST is recommended instead of DLinear
LOOK_BACKS = (336, 192, 96, 48, 24, 12, 6)  # tried in this order; the first that fits is used


@dataclass(frozen=True)
class Recommendation:
    model: str  # a registry name
    features: str
    look_back: int
    reason: str  # one sentence for the page
    learning_rates: tuple[float, ...]  # tried on the validation split; the best is kept
    epochs: int = 10  # the most each try trains, with early stopping on the validation loss
    patience: int = 2


def look_back_for(n_rows: int, horizon: int, protocol: str) -> int | None:
    """The longest usual look-back that leaves every split a whole window, with at least four
    training windows per look-back row; None when even the shortest does not fit."""
    for look_back in LOOK_BACKS:
        try:
            if window_problem(n_rows, look_back, horizon, protocol) is not None:
                continue
            train_start, train_end = split_borders(n_rows, look_back, protocol)["train"]
        except ValueError:
            continue
        if train_end - train_start - look_back - horizon + 1 >= 4 * look_back or look_back == LOOK_BACKS[-1]:
            return look_back
    return None


def recommend(n_rows: int, horizon: int, protocol: str) -> Recommendation | None:
    """The model to start with for a series of `n_rows` rows forecast `horizon` steps ahead under
    `protocol`; None when the series is too short for any look-back."""
    look_back = look_back_for(n_rows, horizon, protocol)
    if look_back is None:
        return None
    train_rows = split_borders(n_rows, look_back, protocol)["train"][1]
    if train_rows >= LONG_SERIES_ROWS:
        return Recommendation(
            "patchtst",
            "S",
            look_back,
            f"PatchTST: a long series ({train_rows:,} training rows) gives a Transformer enough examples "
            "to beat simpler models.",
            learning_rates=(1e-4, 5e-4),
        )
    return Recommendation(
        "dlinear",
        "S",
        look_back,
        "DLinear: a fast linear model that splits the series into a trend and a repeating pattern; it "
        "trains in seconds, and in published benchmarks it often matches far larger models.",
        # The registry's ETTh1-tuned 0.005 stopped improving after one epoch on another ETT-style
        # data set; a small grid chosen on validation holds up on data nobody tuned it for.
        learning_rates=(3e-4, 1e-3, 3e-3),
    )
