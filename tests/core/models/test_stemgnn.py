"""StemGNN: the learned graph, the graph Fourier transform, the spectral filter, and a fit."""

import numpy as np
import pytest
import torch

from core.models.stemgnn import StemGNN, StemGNNConfig, SymmetricEigen, graph_fourier_basis


def _model(**options) -> StemGNN:
    settings = dict(seq_len=24, pred_len=6, n_channels=4, hidden=8, feature_maps=4, dropout=0.0)
    return StemGNN(StemGNNConfig(**(settings | options)))


def test_each_window_has_its_own_symmetric_graph():
    model = _model().eval()
    x = torch.randn(3, 24, 4)
    w = model.graph(x)
    assert w.shape == (3, 4, 4)
    torch.testing.assert_close(w, w.transpose(1, 2))
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(dim=(1, 2)), torch.full((3,), 4.0))  # rows summed to one before
    alone = model.graph(x[1:2])  # a window's graph does not depend on the rest of its batch
    torch.testing.assert_close(alone[0], w[1])
    assert model(x).forecast.shape == (3, 6, 4)


def test_the_graph_fourier_basis_is_orthonormal_and_diagonalises_the_laplacian():
    w = torch.rand(2, 5, 5)
    w = (w + w.transpose(1, 2)) / 2
    values, vectors = graph_fourier_basis(w)
    identity = torch.eye(5).expand(2, 5, 5)
    torch.testing.assert_close(vectors.transpose(1, 2) @ vectors, identity, atol=1e-5, rtol=1e-5)
    scale = w.sum(-1).rsqrt()
    laplacian = identity - scale[..., :, None] * w * scale[..., None, :]
    torch.testing.assert_close(
        vectors @ torch.diag_embed(values) @ vectors.transpose(1, 2), laplacian, atol=1e-5, rtol=1e-5
    )
    assert values.min() > -1e-5 and values.max() < 2 + 1e-5  # a normalised Laplacian's spectrum


def test_the_spectral_filter_starts_as_the_identity_and_follows_chebyshev():
    block = _model(filter_order=3).blocks[0]
    eigenvalues = torch.tensor([[0.0, 0.5, 1.5, 2.0]])
    torch.testing.assert_close(block.spectral_filter(eigenvalues), torch.ones(1, 4))
    with torch.no_grad():
        block.filter.copy_(torch.tensor([0.0, 0.0, 1.0]))  # T_2(s) = 2s² − 1 with s = λ − 1
    expected = 2 * (eigenvalues - 1) ** 2 - 1
    torch.testing.assert_close(block.spectral_filter(eigenvalues), expected)


def test_the_eigendecomposition_s_gradient_matches_torch_s_where_eigenvalues_are_apart():
    torch.manual_seed(0)
    a = torch.randn(3, 5, 5, dtype=torch.float64)
    a = (a + a.transpose(1, 2)).requires_grad_()
    values, vectors = SymmetricEigen.apply(a)
    reference_values, reference_vectors = torch.linalg.eigh(a)
    signs = torch.where(reference_vectors.sum(dim=-2, keepdim=True) < 0, -1.0, 1.0)
    torch.testing.assert_close(vectors, reference_vectors * signs)
    assert (vectors.sum(dim=-2) >= 0).all()
    weights = torch.randn_like(vectors)
    ours = torch.autograd.grad((values.sum() + (vectors * weights).sum()), a)[0]
    theirs = torch.autograd.grad((reference_values.sum() + (reference_vectors * signs * weights).sum()), a)[0]
    torch.testing.assert_close(ours, (theirs + theirs.transpose(1, 2)) / 2, rtol=1e-4, atol=1e-6)


def test_the_graph_learns_through_the_transforms():
    model = _model()
    x, y = torch.randn(8, 24, 4), torch.randn(8, 6, 4)
    torch.nn.functional.mse_loss(model(x).forecast, y).backward()
    for name in ("gru.weight_ih_l0", "query.weight", "key.weight"):
        grad = dict(model.correlation.named_parameters())[name].grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    assert all(block.filter.grad.abs().sum() > 0 for block in model.blocks)


def test_a_near_uniform_graph_still_gives_finite_gradients():
    """Every pair of channels weighing the same gives repeated eigenvalues, where the eigenvectors'
    gradient has no limit: the damped backward pass keeps training clean."""
    model = _model()
    with torch.no_grad():
        model.correlation.query.weight.zero_()
    x, y = torch.randn(4, 24, 4), torch.randn(4, 6, 4)
    torch.nn.functional.mse_loss(model(x).forecast, y).backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())


def test_it_fits_channels_that_lead_one_another():
    """The second channel repeats the first three steps later: the graph lets one read the other."""
    torch.manual_seed(0)
    t = np.arange(600)
    lead = np.sin(2 * np.pi * t / 12) + 0.1 * np.sin(2 * np.pi * t / 37)
    series = np.stack([lead, np.roll(lead, 3), np.cos(2 * np.pi * t / 12)], axis=1).astype(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(series, 30, axis=0).transpose(0, 2, 1)[::3]
    x, y = torch.tensor(windows[:, :24].copy()), torch.tensor(windows[:, 24:].copy())
    model = _model(n_channels=3, blocks=2)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss = torch.nn.functional.mse_loss(model(x).forecast, y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(loss.detach()) < 0.05


def test_one_channel_is_refused_plainly():
    with pytest.raises(ValueError, match="at least two"):
        _model(n_channels=1)


def test_the_explanation_is_the_window_s_graph_over_the_channel_names():
    model = _model().eval()
    x = torch.randn(1, 24, 4)
    heatmap, table = model.explain(x, ["a", "b", "c", "d"], None)
    assert heatmap.rows == heatmap.columns == ["a", "b", "c", "d"]
    np.testing.assert_allclose(heatmap.values[0], model.graph(x)[0].detach().numpy(), rtol=1e-6)
    assert list(table.frame.columns) == ["channel", "with", "weight"] and len(table.frame) == 6
    assert table.frame["weight"].is_monotonic_decreasing
