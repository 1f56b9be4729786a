"""A stored run's rebuilt model: the forecast past the end of the data."""

import numpy as np
import pandas as pd
import pytest
import torch

from core.data import prepare
from core.runs.rebuild import forecast_ahead, rebuild_model
from core.runs.result import load_result
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.runner import run_training
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")

FAST = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")


@pytest.mark.parametrize("features", ["S", "MS", "M"])
def test_the_forecast_past_the_end_reads_the_last_rows(etth1_dataset, tmp_path, features):
    store = RunStore(tmp_path)
    spec = RunSpec(model="dlinear", seq_len=48, pred_len=24, features=features, train=FAST)
    run_id = run_training(spec, etth1_dataset, store).run_id
    run = store.get(run_id)
    result = load_result(store, run_id)
    model = rebuild_model(store, run_id)
    future = result.future_frame(forecast_ahead(model, result))
    last = etth1_dataset.frame.index[-1]
    stamps = list(pd.date_range(last, periods=25, freq="h")[1:])
    assert list(future.index) == stamps * len(run.config["channels_out"])
    assert list(future.columns) == ["channel", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert list(future["channel"].unique()) == run.config["channels_out"]
    assert (future["lower_95"] <= future["lower_80"]).all() and (
        future["lower_80"] <= future["forecast"]
    ).all()
    assert (future["forecast"] <= future["upper_80"]).all() and (
        future["upper_80"] <= future["upper_95"]
    ).all()
    # By hand: the last 48 rows of the data, scaled with the training rows' statistics.
    data = prepare(etth1_dataset.frame.to_numpy(), etth1_dataset.channels, "OT", features, "ett-hour", 48)
    frame = etth1_dataset.frame[data.columns].to_numpy()[-48:]
    with torch.no_grad():
        out = model(torch.tensor(data.scaler.transform(frame)[None], dtype=torch.float32)).forecast.numpy()[0]
    out = data.scaler.inverse_transform(out)[:, data.output_index]
    by_channel = np.stack(
        [future.loc[future["channel"] == c, "forecast"] for c in run.config["channels_out"]], 1
    )
    np.testing.assert_allclose(by_channel, out, rtol=1e-4, atol=1e-4)
