"""The verdict against baselines on the same windows, in words."""

import numpy as np
import pytest

from core import verdict


def _scores(mase, baseline_mase, wins=0.7, name="snaive"):
    return {"mase": mase, "season": 24, "baselines": {name: {"mase": baseline_mase, "model_wins": wins}}}


def test_a_winner_is_told_by_how_much_and_how_often():
    found = verdict.verdict(_scores(0.77, 1.0), "h")
    assert found.better is True and found.advice == ""
    assert found.headline == (
        "23% lower error than repeating the last day (seasonal naive); better in 70% of the past forecasts "
        "it was checked on."
    )


def test_a_loser_hears_it_first_with_advice():
    found = verdict.verdict(_scores(2.99, 2.74, wins=0.35, name="naive"), "D")
    assert found.better is False and found.headline.startswith("Worse than repeating the last value")
    assert (
        "9% higher error" in found.headline
        and "longer history" in found.advice
        and found.advice.startswith("Until a model does better, repeating the last value is")
    )


def test_a_near_tie_is_called_one():
    assert verdict.verdict(_scores(1.01, 1.0), "h").headline.startswith("About as accurate as")


def test_the_verdict_is_against_the_strongest_baseline():
    scores = _scores(0.5, 1.0)
    scores["baselines"]["naive"] = {"mase": 0.6, "model_wins": 0.6}
    scores["baselines"]["naive2"] = {"mase": 0.8, "model_wins": 0.7}
    assert verdict.comparator(scores) == "naive"
    found = verdict.verdict(scores, "h")
    assert found.headline.startswith("17% lower error than repeating the last value (naive)")
    assert verdict.verdict({"mase": 1.0}, "h") is None  # a run stored before baselines were scored


def test_baselines_of_windows_and_the_share_of_windows_won():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 48, 2)) + 5
    found = verdict.baseline_forecasts(x, [1], 12, 24, lambda v: v, lambda v: v)
    assert set(found) == {"naive", "snaive", "naive2"}
    assert np.all(found["naive"] == x[:, -1:, 1:2])
    assert np.all(found["snaive"][:, :12] == x[:, 24:36, 1:2])
    assert "snaive" not in verdict.baseline_forecasts(x, [1], 12, 96, lambda v: v, lambda v: v)
    actual = np.zeros((4, 2, 1))
    good, bad = np.zeros_like(actual), np.ones_like(actual)
    good[0] = 5.0  # loses one window of four
    assert verdict.window_wins(actual, good, bad) == 0.75


def test_few_past_forecasts_or_a_too_narrow_range_are_said_with_the_verdict():
    plenty = verdict.verdict(_scores(0.8, 1.0) | {"windows": 2857, "coverage_80": 0.78}, "h")
    assert plenty.caution == ""
    few = verdict.verdict(_scores(0.8, 1.0) | {"windows": 8}, "h")
    assert few.caution.startswith("It was checked on only 8 past forecasts")
    assert few.better is None  # a win on 8 past forecasts is not called one (no green box)
    narrow = verdict.verdict(_scores(1.2, 1.0) | {"windows": 100, "coverage_80": 0.26}, "h")
    assert narrow.better is False
    assert narrow.caution.startswith("Its 80% range held only 26% of the actual values:")
    narrow_too = verdict.verdict(_scores(1.2, 1.0) | {"coverage_80": 0.41, "coverage_95": 0.46}, "h")
    assert "80% range held only 41% of the actual values and its 95% range only 46%" in narrow_too.caution
    both = verdict.verdict(_scores(1.0, 1.0) | {"windows": 1, "coverage_80": 0.5}, "h")
    assert "only 1 past forecast," in both.caution and "held only 50%" in both.caution


def test_another_of_the_runs_own_forecasts_that_erred_less_is_named():
    variants = {"proxy": {"mae": 0.128}, "expert": {"mae": 0.119}, "base": {"mae": 0.2}}
    scores = _scores(0.8, 1.0) | {"windows": 100, "variant_name": "proxy", "variants": variants}
    assert verdict.better_variant(scores) == ("expert", pytest.approx(1 - 0.119 / 0.128))
    assert verdict.verdict(scores, "h").caution == (
        "On the same past forecasts, the small tuned model alone forecast erred 7% less than the chosen one."
    )
    variants["expert"]["mae"] = 0.128  # a tie is not "less"
    assert verdict.better_variant(scores) is None and verdict.verdict(scores, "h").caution == ""
