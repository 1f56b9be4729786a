"""Which model the one-click forecast starts from."""

from core.recommend import recommend


def test_etth1_gets_dlinear_on_the_target_with_the_longest_usual_look_back():
    chosen = recommend(17_420, 24, "ett-hour")
    assert (chosen.model, chosen.features, chosen.look_back) == ("dlinear", "S", 336)
    assert "DLinear" in chosen.reason


def test_a_long_series_gets_patchtst():
    assert recommend(69_680, 96, "ett-minute").model == "patchtst"


def test_a_short_series_gets_a_short_look_back_and_a_tiny_one_none():
    assert recommend(200, 12, "ratio").look_back == 24
    assert recommend(50, 40, "ratio") is None
