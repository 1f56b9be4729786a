"""StemGNN (Cao et al., NeurIPS 2020, "Spectral Temporal Graph Neural Network for Multivariate
Time-series Forecasting"): a graph between the channels, learned from the window, and spectral
convolutions over it and over time. Unlike the channel-independent models, the channels interact:
it is the comparator that tells whether a graph helps.

For a window x (B, L, N) of N channels, after RevIN:

1. Latent correlation layer: a GRU reads each channel's window over time; its last hidden states R
   (B, N, d) give the graph by self-attention, W = softmax(Q Kᵀ / √d) with Q = R W_q, K = R W_k,
   symmetrised. Each window has its own W (the official code averages W over the batch, which makes
   a forecast depend on the other windows in its batch; the paper describes one W per input).
2. The graph Fourier transform (GFT) projects the channels onto the eigenvectors U of W's normalised
   Laplacian, L = I − D^-1/2 W D^-1/2 = U Λ Uᵀ (`torch.linalg.eigh`).
3. StemGNN blocks, each on the spectral modes (B, N, L):
   - Spe-Seq cell: a DFT along time; the real and imaginary parts each go through 1-D convolutions
     over the frequencies with GLU gates; the inverse DFT brings them back to time;
   - graph convolution: each mode is scaled by a spectral filter g(λ) = Σ_k θ_k T_k(λ − 1), a
     Chebyshev polynomial of its eigenvalue (the official code approximates the GFT itself with
     Chebyshev polynomials of L instead of eigenvectors);
   - the inverse GFT (U ·) brings the modes back to channels, and two heads give the block's forecast
     (L → H) and backcast (L → L). A block reads what the blocks before it left unexplained (the
     input minus their backcasts); the forecast is the sum of the blocks' forecasts.

The graph learns through both the eigenvalues the filters read and the eigenvectors of the
transforms. Where two eigenvalues (nearly) repeat, as they do while W is near uniform, the
eigenvectors' gradient has a 1 / (λ_j − λ_i) factor that has no limit; `symmetric_eigen` damps it
there, as robust differentiable eigendecompositions do, and fixes each eigenvector's sign (eigh's is
arbitrary, and the Spe-Seq cell is not odd, so a flipped sign would change the forecast). `explain`
shows a window's W over the channel names, the model's explanation on the Attention page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from core.explain import Heatmap, Panel, Table
from core.models.contract import Forecaster, ForecastOutput, option
from core.models.layers import RevIN


@dataclass
class StemGNNConfig:
    seq_len: int = 336  # look-back L (the paper: 12 steps on its traffic sets)
    pred_len: int = 96  # horizon H
    n_channels: int = 7  # N, the graph's nodes
    hidden: int = option(
        32, help="How much of each column's recent past is kept to decide how columns are tied."
    )
    blocks: int = option(2, help="Blocks stacked; each forecasts what the ones before it left unexplained.")
    filter_order: int = option(3, help="Terms of each block's filter over the graph's frequencies.")
    feature_maps: int = option(8, help="Feature maps of the convolutions over each frequency spectrum.")
    kernel: int = option(3, help="Width of those convolutions, in frequencies.")
    glu_layers: int = option(3, help="Gated convolution layers per part of the spectrum (the paper: 3).")
    # on the attention weights (the official code's rate) and before the heads
    dropout: float = option(0.5, help="Share of weights switched off at random while training.")
    revin: bool = option(True, help="Normalise each window on its own, and map the forecast back.")


class LatentCorrelation(nn.Module):
    """The graph W (B, N, N) of a batch of windows (B, L, N)."""

    def __init__(self, hidden: int, dropout: float):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.query = nn.Linear(hidden, hidden, bias=False)
        self.key = nn.Linear(hidden, hidden, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, nodes = x.shape
        series = x.transpose(1, 2).reshape(batch * nodes, length, 1)  # (B·N, L, 1)
        _, last = self.gru(series)  # (1, B·N, d): each channel's window in one vector
        r = last[0].view(batch, nodes, -1)  # (B, N, d)
        scores = self.query(r) @ self.key(r).transpose(1, 2) / r.shape[-1] ** 0.5  # (B, N, N)
        w = self.dropout(scores.softmax(dim=-1))
        return (w + w.transpose(1, 2)) / 2  # symmetric: the Laplacian has real eigenvalues


EIGEN_DAMPING = 1e-6  # ε in (λ_j − λ_i) / ((λ_j − λ_i)² + ε): at most 1 / (2√ε) = 500


class SymmetricEigen(torch.autograd.Function):
    """`torch.linalg.eigh` of symmetric matrices, with each eigenvector's components summing to a
    non-negative number, and a backward pass that stays finite where eigenvalues repeat."""

    @staticmethod
    def forward(ctx, matrix: torch.Tensor):
        values, vectors = torch.linalg.eigh(matrix)
        vectors = vectors * torch.where(vectors.sum(dim=-2, keepdim=True) < 0, -1.0, 1.0)
        ctx.save_for_backward(values, vectors)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values: torch.Tensor | None, grad_vectors: torch.Tensor | None):
        """Ā = U (diag(λ̄) + F ∘ (Uᵀ Ū)) Uᵀ, made symmetric, with F_ij = 1 / (λ_j − λ_i) damped."""
        values, vectors = ctx.saved_tensors
        middle = torch.zeros_like(vectors)
        if grad_values is not None:
            middle = middle + torch.diag_embed(grad_values)
        if grad_vectors is not None:
            gap = values[..., None, :] - values[..., :, None]  # (…, i, j): λ_j − λ_i
            middle = middle + gap / (gap**2 + EIGEN_DAMPING) * (vectors.transpose(-1, -2) @ grad_vectors)
        grad = vectors @ middle @ vectors.transpose(-1, -2)
        return (grad + grad.transpose(-1, -2)) / 2


def graph_fourier_basis(w: torch.Tensor, eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (B, N) in [0, 2] and eigenvectors (B, N, N) of W's normalised Laplacian."""
    degree = w.sum(dim=-1).clamp_min(eps)  # (B, N)
    scale = degree.rsqrt()
    identity = torch.eye(w.shape[-1], device=w.device, dtype=w.dtype)
    laplacian = identity - scale[..., :, None] * w * scale[..., None, :]
    return SymmetricEigen.apply(laplacian.float())


class GatedConvolutions(nn.Module):
    """1-D convolutions over the frequencies of each mode, each with a GLU gate: (M, F) to (M, F)."""

    def __init__(self, channels: int, kernel: int, layers: int):
        super().__init__()
        widths = [1] + [channels] * layers
        self.layers = nn.ModuleList(
            nn.Conv1d(widths[i], 2 * widths[i + 1], kernel, padding=kernel // 2) for i in range(layers)
        )
        self.out = nn.Conv1d(channels, 1, 1)

    def forward(self, spectrum: torch.Tensor) -> torch.Tensor:
        h = spectrum.unsqueeze(1)  # (M, 1, F)
        for layer in self.layers:
            h = F.glu(layer(h), dim=1)  # (M, channels, F)
        return self.out(h).squeeze(1)


class StemGNNBlock(nn.Module):
    def __init__(self, config: StemGNNConfig):
        super().__init__()
        self.real = GatedConvolutions(config.feature_maps, config.kernel, config.glu_layers)
        self.imaginary = GatedConvolutions(config.feature_maps, config.kernel, config.glu_layers)
        self.filter = nn.Parameter(torch.zeros(config.filter_order))  # θ_k; θ_0 starts at 1 (identity)
        with torch.no_grad():
            self.filter[0] = 1.0
        self.dropout = nn.Dropout(config.dropout)
        self.forecast = nn.Sequential(
            nn.Linear(config.seq_len, config.seq_len),
            nn.LeakyReLU(),
            nn.Linear(config.seq_len, config.pred_len),
        )
        self.backcast = nn.Linear(config.seq_len, config.seq_len)

    def spectral_filter(self, eigenvalues: torch.Tensor) -> torch.Tensor:
        """g(λ) = Σ_k θ_k T_k(λ − 1) for each mode: (B, N)."""
        shifted = eigenvalues - 1  # the normalised Laplacian's eigenvalues lie in [0, 2]
        terms = [torch.ones_like(shifted), shifted]
        while len(terms) < len(self.filter):
            terms.append(2 * shifted * terms[-1] - terms[-2])
        return sum(theta * term for theta, term in zip(self.filter, terms, strict=False))

    def forward(
        self, x: torch.Tensor, eigenvalues: torch.Tensor, eigenvectors: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, nodes, length = x.shape  # (B, N, L), channels on the graph
        modes = eigenvectors.transpose(1, 2) @ x  # the GFT: (B, N, L) over the graph's modes
        spectrum = torch.fft.rfft(modes.float(), dim=-1)  # (B, N, L // 2 + 1)
        rows = spectrum.reshape(batch * nodes, -1)
        real, imaginary = self.real(rows.real).float(), self.imaginary(rows.imag).float()
        spectrum = torch.complex(real, imaginary).view(batch, nodes, -1)
        modes = torch.fft.irfft(spectrum, n=length, dim=-1)  # (B, N, L)
        modes = self.spectral_filter(eigenvalues)[..., None] * modes  # graph convolution per mode
        y = self.dropout(eigenvectors @ modes)  # the inverse GFT: (B, N, L)
        return self.forecast(y), self.backcast(y)  # (B, N, H), (B, N, L)


class StemGNN(Forecaster):
    def __init__(self, config: StemGNNConfig):
        super().__init__()
        if config.n_channels < 2:
            raise ValueError(
                "StemGNN learns a graph between channels and needs at least two: choose features M or MS"
            )
        if config.filter_order < 1:
            raise ValueError(f"the spectral filter needs at least one term, got {config.filter_order}")
        self.config = config
        self.revin = RevIN(config.n_channels) if config.revin else None
        self.correlation = LatentCorrelation(config.hidden, config.dropout)
        self.blocks = nn.ModuleList(StemGNNBlock(config) for _ in range(config.blocks))

    def graph(self, x: torch.Tensor) -> torch.Tensor:
        """W (B, N, N) of scaled windows x (B, L, N)."""
        if self.revin is not None:
            x, _ = self.revin.normalise(x)
        return self.correlation(x.float())

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        stats = None
        if self.revin is not None:
            x, stats = self.revin.normalise(x)
        x = x.float()  # (B, L, N)
        with torch.autocast(x.device.type, enabled=False):  # the eigendecomposition wants fp32
            eigenvalues, eigenvectors = graph_fourier_basis(self.correlation(x).float())
        residual = x.transpose(1, 2)  # (B, N, L)
        total = 0
        for block in self.blocks:
            forecast, backcast = block(residual, eigenvalues, eigenvectors)
            total = total + forecast
            residual = residual - backcast
        y = total.transpose(1, 2).float()  # (B, H, N)
        if self.revin is not None:
            y = self.revin.denormalise(y, stats)
        return ForecastOutput(y)

    @torch.no_grad()
    def explain(self, x: torch.Tensor, channels: list[str], channel: int | None) -> list[Panel]:
        """The graph the model learned from one window (1, L, N): how strongly each channel is tied
        to each other one."""
        self.eval()
        w = self.graph(x)[0].detach().cpu().numpy()  # (N, N)
        strongest = [
            (channels[i], channels[j], float(w[i, j]))
            for i in range(len(channels))
            for j in range(i + 1, len(channels))
        ]
        strongest.sort(key=lambda row: -row[2])
        equal = 1 / len(channels)  # every channel tied to every other alike
        low, high = float(w.min()), float(w.max())
        if high - low < 0.1 * equal:
            spread = (
                f"The weights are nearly equal here (from {low:.3f} to {high:.3f}; ties that were all alike "
                f"would each be {equal:.3f}): the model has not learned to tie some channels more than "
                "others, as after a short training or when the channels move independently."
            )
        else:
            first, last = strongest[0], strongest[-1]
            spread = (
                f"The strongest tie is {first[0]} with {first[1]} ({first[2]:.3f}), the weakest {last[0]} "
                f"with {last[1]} ({last[2]:.3f}); ties that were all alike would each be {equal:.3f}."
            )
        return [
            Heatmap(
                "The graph between the channels, learned from this window",
                w[None],
                list(channels),
                list(channels),
                row_title="channel",
                column_title="channel",
                caption="StemGNN reads each channel's window, then weighs every pair of channels by "
                "attention (each row sums to one before the graph is made symmetric); its spectral "
                f"convolutions pass information along these weights. {spread}",
            ),
            Table(
                "The most strongly tied pairs",
                pd.DataFrame(strongest[:10], columns=["channel", "with", "weight"]),
            ),
        ]
