"""Horizons in calendar words, from the series' frequency."""

import pytest

from core import horizon


@pytest.mark.parametrize(
    ("steps", "freq", "words"),
    [
        (168, "h", "next 7 days (168 hours)"),
        (24, "h", "next day (24 hours)"),
        (1, "h", "next hour"),
        (30, "h", "next 30 hours"),
        (96, "15min", "next day (96 steps of 15 minutes)"),
        (7, "D", "next 7 days"),
        (12, "MS", "next year (12 months)"),
        (4, "QS-DEC", "next year (4 quarters)"),
        (2, "W-SUN", "next 2 weeks"),
        (5, "B", "next 5 business days"),
        (30, None, "next 30 steps"),
    ],
)
def test_describe_says_the_span_in_calendar_words(steps, freq, words):
    assert horizon.describe(steps, freq) == words


def test_choices_fit_the_data_and_are_whole_steps():
    offered = horizon.choices("h", max_steps=100)
    assert [h.steps for h in offered] == [1, 6, 12, 24, 48, 72, 96]
    assert offered[-1].label == "next 4 days (96 hours)"
    assert all(h.steps <= 100 for h in horizon.choices("15min", 100))


def test_default_is_a_day_for_hourly_data_and_a_year_for_monthly():
    assert horizon.default("h", 720).steps == 24
    assert horizon.default("D", 720).steps == 7
    assert horizon.default("MS", 720).steps == 12
    assert horizon.default("h", 10).steps == 6  # the longest choice that fits


def test_nearest_keeps_an_unlisted_step_count_in_words():
    assert horizon.nearest(30, "h", 720).label == "next 30 hours"
    assert horizon.nearest(168, "h", 720).label == "next 7 days (168 hours)"
