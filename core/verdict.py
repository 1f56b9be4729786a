"""How good a forecast is, against what anyone could do without a model, in plain words.

Every run is scored beside three baselines forecasting the very same test windows: naive (repeat
the last value), seasonal naive (repeat the last season) and Naive2 (the M4 competition's
benchmark: naive on the seasonally adjusted series). The verdict compares the model's MASE with
the strongest of the three on the run's windows, so that it never flatters a model by picking a
weak rule: skill = 1 − MASE_model / MASE_baseline, the share of the baseline's error the model
removes. It also counts the test windows on which the model's error is the lower one.
`test.skill` in the command line's JSON is the skill against seasonal naive, the protocol's
reference; `test.baselines` has every baseline's MASE beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import horizon, metrics
from core.models import baselines

TIE = 0.02  # skills within ±2 % are called "about as accurate"
FEW_WINDOWS = 30  # fewer past forecasts than this: the share won is uncertain by ±10 points or more
NARROW_BAND = 0.6  # an 80 % range holding fewer of the actual values than this is too narrow to trust


def baseline_forecasts(
    x_scaled: np.ndarray,
    output_index: list[int],
    pred_len: int,
    season: int,
    to_units,
    from_units,
) -> dict[str, np.ndarray]:
    """Naive, seasonal naive and Naive2 forecasts (N, H, C_out), scaled, of the input windows
    (N, L, C_in). Naive2 runs on the series' own units (its seasonal adjustment is multiplicative);
    seasonal naive needs a look-back of at least a season and is left out otherwise."""
    x = np.asarray(x_scaled, dtype=np.float64)[:, :, output_index]
    found = {"naive": baselines.naive(x, pred_len)}
    if 1 < season <= x.shape[1]:
        found["snaive"] = baselines.seasonal_naive(x, pred_len, season)
        found["naive2"] = from_units(baselines.naive2_windows(to_units(x), pred_len, season))
    return found


def window_wins(actual: np.ndarray, forecast: np.ndarray, other: np.ndarray) -> float:
    """The share of windows on which `forecast` has the lower mean absolute error than `other`."""
    mine = np.abs(forecast - actual).mean(axis=(1, 2))
    theirs = np.abs(other - actual).mean(axis=(1, 2))
    return float(np.mean(mine < theirs))


def comparator(scores: dict) -> str | None:
    """The baseline a run is judged against: the strongest of those scored on its windows (the
    lowest MASE). On hourly ETTh1's target, repeating the last value beats repeating the last day
    over a day ahead; the verdict then names the last value."""
    baselines_scored = scores.get("baselines") or {}
    scored = {name: found for name, found in baselines_scored.items() if found.get("mase") is not None}
    if not scored:
        return None
    return min(scored, key=lambda name: scored[name]["mase"])


def baseline_words(name: str, season: int, freq: str | None) -> str:
    if name == "naive":
        return "repeating the last value (naive)"
    if name == "snaive":
        return f"repeating the last {horizon.span(season, freq)} (seasonal naive)"
    return "the M4 competition's benchmark (Naive2: the last value, adjusted for the season)"


@dataclass(frozen=True)
class Verdict:
    headline: str  # one sentence, the worse news first
    advice: str  # what to try when the model does not win; empty when it does
    better: bool | None  # None: about as good, or a win on too few past forecasts to call
    caution: str = ""  # why to read it with care (few past forecasts, too narrow a range); may be empty


VARIANT_LABELS = {  # the forecasts of a model that decodes each window several ways, in words
    "base": "language model alone (α = 0)",
    "expert": "small tuned model alone",
    "proxy": "proxy-tuned, chosen α",
    "proxy_alpha_1": "proxy-tuned, α = 1",
}


def variant_label(name: str) -> str:
    return VARIANT_LABELS.get(name, name)


def better_variant(scores: dict) -> tuple[str, float] | None:
    """For a run that forecast each window several ways (`scores["variants"]`), the other way with
    the lowest MAE and how much lower it is than the chosen one's (a share); None when none is lower."""
    variants = scores.get("variants") or {}
    chosen = (variants.get(scores.get("variant_name")) or {}).get("mae")
    others = {
        name: found["mae"]
        for name, found in variants.items()
        if name != scores.get("variant_name") and np.isfinite(found.get("mae", np.nan))
    }
    if chosen is None or not others or not chosen > 0:
        return None
    best = min(others, key=others.__getitem__)
    return (best, 1 - others[best] / chosen) if others[best] < chosen else None


def few_windows(scores: dict) -> bool:
    """Whether the run was checked on too few past forecasts for its verdict to be settled."""
    return scores.get("windows") is not None and scores["windows"] < FEW_WINDOWS


def caution(scores: dict) -> str:
    """Plain words on what makes the verdict or the range less sure than it reads: a verdict from few
    past forecasts, ranges that held far fewer of the actual values than they should, and another of
    the run's own forecasts that erred less than the chosen one."""
    notes = []
    if few_windows(scores):
        windows = scores["windows"]
        notes.append(
            f"It was checked on only {windows} past forecast{'s' if windows != 1 else ''}, so take it as a "
            "rough guide: a few more could change it."
        )
    held = scores.get("coverage_80")
    if held is not None and np.isfinite(held) and held < NARROW_BAND:
        wide = scores.get("coverage_95")
        also = f" and its 95% range only {wide:.0%}" if wide is not None and np.isfinite(wide) else ""
        notes.append(
            f"Its 80% range held only {held:.0%} of the actual values{also}: the ranges are too narrow, so "
            "expect misses outside them more often than they suggest."
        )
    other = better_variant(scores)
    if other is not None:
        notes.append(
            f"On the same past forecasts, the {variant_label(other[0])} forecast erred {other[1]:.0%} less "
            "than the chosen one."
        )
    return " ".join(notes)


def verdict(scores: dict, freq: str | None) -> Verdict | None:
    """The verdict of a run's test metrics (`runner.test_scores`); None for runs stored before
    baselines were scored."""
    name = comparator(scores)
    if name is None or scores.get("mase") is None:
        return None
    base = scores["baselines"][name]
    skill = 1 - scores["mase"] / base["mase"] if base["mase"] else float("nan")
    words = baseline_words(name, int(scores.get("season") or 1), freq)
    wins = base.get("model_wins")
    share = "" if wins is None else f"; better in {wins:.0%} of the past forecasts it was checked on"
    careful = caution(scores)
    if not np.isfinite(skill):
        return Verdict(f"Compared with {words}: not measurable on these windows.", "", None, careful)
    if skill > TIE:
        # a win on few past forecasts is not called one: the box is the "about as good" kind
        better = None if few_windows(scores) else True
        return Verdict(f"{skill:.0%} lower error than {words}{share}.", "", better, careful)
    advice = (
        f"Until a model does better, {words.split(' (')[0]} is the honest forecast for this series. To try "
        "for better: a longer history (look-back), a bigger budget or another model on the Train page."
    )
    if skill < -TIE:
        return Verdict(f"Worse than {words}: {-skill:.0%} higher error{share}.", advice, False, careful)
    return Verdict(f"About as accurate as {words} ({skill:+.0%} error){share}.", advice, None, careful)


def score_baselines(
    forecasts: dict[str, np.ndarray],
    actual: np.ndarray,
    model_forecast: np.ndarray,
    scales: list[float],
) -> dict[str, dict]:
    """Each baseline's MSE and MAE (scaled, as the research tables), MASE, and the share of windows
    on which the model beats it."""
    return {
        name: {
            "mse": metrics.mse(actual, forecast),
            "mae": metrics.mae(actual, forecast),
            "mase": metrics.channel_mase(actual, forecast, scales),
            "model_wins": window_wins(actual, model_forecast, forecast),
        }
        for name, forecast in forecasts.items()
    }


def units_errors(actual_units: np.ndarray, forecast_units: np.ndarray, channels: list[str]) -> dict:
    """MAE and RMSE of each output channel in its own units."""
    return {
        channel: {
            "mae": metrics.mae(actual_units[..., c], forecast_units[..., c]),
            "rmse": metrics.rmse(actual_units[..., c], forecast_units[..., c]),
        }
        for c, channel in enumerate(channels)
    }
