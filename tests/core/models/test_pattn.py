"""PAttn: patches, one attention layer and a linear head, as Tan et al. built it."""

import numpy as np
import torch

from core.models.pattn import PAttn, PAttnConfig
from core.patching import patch_count


def _model(**options) -> PAttn:
    return PAttn(PAttnConfig(**(dict(seq_len=32, pred_len=8, n_channels=2, d_model=32, n_heads=4) | options)))


def test_shapes_and_the_authors_structure():
    model = _model()
    assert model.n_patches == patch_count(32, 16, 8) == 4
    assert model(torch.randn(3, 32, 2)).forecast.shape == (3, 8, 2)
    assert model.attention.qkv.bias is None and model.attention.out.bias is None  # no biases
    names = {name for name, _ in model.named_parameters()}
    assert not any("position" in name for name in names)  # no positional embedding
    assert model.head.in_features == 4 * 32


def test_channels_are_forecast_independently():
    model = _model().eval()
    x = torch.randn(2, 32, 2)
    both = model(x).forecast
    changed = x.clone()
    changed[:, :, 0] = torch.randn(2, 32)
    torch.testing.assert_close(model(changed).forecast[:, :, 1], both[:, :, 1])


def test_revin_makes_it_blind_to_a_window_s_level_and_scale():
    model = _model().eval()
    x = torch.randn(2, 32, 2)
    torch.testing.assert_close(model(x * 3 + 10).forecast, model(x).forecast * 3 + 10, rtol=1e-4, atol=1e-4)


def test_it_fits_a_short_sine():
    torch.manual_seed(0)
    series = np.sin(2 * np.pi * np.arange(400) / 16).astype(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(series, 40)[::4]
    x, y = torch.tensor(windows[:, :32, None].copy()), torch.tensor(windows[:, 32:, None].copy())
    model = _model(n_channels=1)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(100):
        loss = torch.nn.functional.mse_loss(model(x).forecast, y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(loss.detach()) < 0.01
