"""A stored run read back: the downloadable table of its test forecasts."""

from core.runs.result import load_result


def test_the_test_forecast_table_has_time_stamps_bands_and_a_window_range(two_runs, etth1_dataset):
    store, ids = two_runs
    result = load_result(store, ids[0])  # look-back 48, horizon 24, target OT alone
    table = result.forecast_table(first=3, last=5)
    assert list(table.columns) == [
        "window",
        "step",
        "timestamp",
        "channel",
        "actual",
        "forecast",
        "lower_80",
        "upper_80",
        "lower_95",
        "upper_95",
    ]
    assert len(table) == 3 * 24 and list(table["window"].unique()) == [3, 4, 5]
    first = table.iloc[0]
    # Window 3's first forecast step is the test split's row 48 + 2 (the split starts at 11520 − 48).
    assert first["timestamp"] == etth1_dataset.frame.index[11520 + 2]
    assert abs(first["actual"] - etth1_dataset.frame["OT"].iloc[11520 + 2]) < 1e-4
    assert (table["lower_95"] <= table["lower_80"]).all() and (table["upper_80"] <= table["upper_95"]).all()
    assert len(result.forecast_table()) == result.forecast.shape[0] * 24
