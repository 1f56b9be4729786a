"""Figure builders. Each is a pure function returning a plotly `go.Figure`; pages only draw them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.decompose import Decomposition
from core.explain import Heatmap
from core.patching import make_patches, patch_starts
from core.verdict import variant_label

# Ten distinct colours (D3's category10), so that a comparison of up to ten rows repeats none.
_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified")


def series_figure(frame: pd.DataFrame, columns: list[str], title: str = "") -> go.Figure:
    """Channels over time with a range slider (SVG lines: the slider cannot draw WebGL traces)."""
    fig = go.Figure()
    for i, column in enumerate(columns):
        fig.add_trace(
            go.Scatter(
                x=frame.index,
                y=frame[column],
                name=column,
                mode="lines",
                line=dict(width=1, color=_PALETTE[i % len(_PALETTE)]),
            )
        )
    fig.update_layout(title=title, height=420, **_LAYOUT)
    fig.update_xaxes(rangeslider=dict(visible=True, thickness=0.08))
    return fig


DRAWN_POINTS = 5_000  # the most points one line of a long series is drawn with (see _thin)


def _thin(x, y, max_points: int = DRAWN_POINTS):
    """At most `max_points` of a long line: the lowest and highest point of each stretch, in time
    order, so that no peak or dip is lost. Short lines come back as they are."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    if n <= max_points:
        return x, y
    size = -(-n // (max_points // 2))  # points per stretch
    rows = -(-n // size)
    low = np.full(rows * size, np.inf)
    high = np.full(rows * size, -np.inf)
    low[:n] = np.where(np.isnan(y), np.inf, y)
    high[:n] = np.where(np.isnan(y), -np.inf, y)
    starts = np.arange(rows) * size
    picks = np.union1d(
        starts + low.reshape(rows, size).argmin(1), starts + high.reshape(rows, size).argmax(1)
    )
    return pd.Index(x)[picks], y[picks]


_TOP_RIGHT_LEGEND = dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom")


def _time_title(index) -> str:
    return "time" if isinstance(index, pd.DatetimeIndex) else "row"


def decomposition_figure(decomposition: Decomposition, title: str = "") -> go.Figure:
    """The series with its trend, and what is left over, sharing the time axis (long lines thinned
    by `_thin`). The seasonal pattern has a figure of its own, `seasonal_figure`."""
    frame = decomposition.frame
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.65, 0.35],
        subplot_titles=["The series and its slow trend", "What is left over"],
    )
    lines = [("observed", "series", "#9a9a9a", 1, 1), ("trend", "trend", _PALETTE[0], 2, 1)]
    lines.append(("resid", "left over", _PALETTE[3], 1, 2))
    for column, name, color, width, row in lines:
        x, y = _thin(frame.index, frame[column])
        fig.add_trace(
            go.Scattergl(x=x, y=y, name=name, mode="lines", line=dict(width=width, color=color)),
            row=row,
            col=1,
        )
    fig.update_xaxes(title_text=_time_title(frame.index), row=2, col=1)
    fig.update_layout(title=title, height=520, legend=_TOP_RIGHT_LEGEND, **_LAYOUT)
    return fig


def _cycle_buttons(index: pd.DatetimeIndex, period: int, counts=(2, 4, 8)) -> list[dict]:
    """Range-selector buttons of 2, 4 and 8 cycles, when a cycle has a fixed length in time."""
    steps = np.diff(index.asi8)  # in the index's own time unit
    if len(steps) == 0 or steps.min() != steps.max():
        return []  # months and years vary in length: the range slider alone
    cycle = period * (index[1] - index[0]).total_seconds()
    units = [("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)]
    buttons = []
    for count in counts:
        for unit, size in units:
            if (count * cycle) % size == 0:
                buttons.append(
                    dict(
                        count=int(count * cycle // size),
                        step=unit,
                        stepmode="backward",
                        label=f"{count} cycles",
                    )
                )
                break
    return [*buttons, dict(step="all", label="all drawn")]


def seasonal_figure(
    decomposition: Decomposition, cycles: int = 8, max_points: int = DRAWN_POINTS
) -> go.Figure:
    """The seasonal pattern, opened on its last `cycles` cycles with a range slider for the rest.

    The most recent `max_points` steps are drawn point for point; anything earlier is thinned to
    its highs and lows (one line, drawn fainter and named so), which shows how the pattern's size
    changed without drawing years of cycles as a solid band.
    """
    seasonal = decomposition.frame["seasonal"]
    period = decomposition.period
    recent = seasonal.iloc[-max_points:]
    shown = min(len(recent), cycles * period)
    fig = go.Figure()
    if len(seasonal) > len(recent):
        earlier = seasonal.iloc[: len(seasonal) - len(recent)]
        x, y = _thin(earlier.index, earlier.to_numpy(), max_points)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name="earlier (highs and lows only)",
                line=dict(width=1, color="#b8c4d6"),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=recent.index,
            y=recent.to_numpy(),
            mode="lines",
            name="seasonal pattern",
            line=dict(color=_PALETTE[2]),
        )
    )
    index = seasonal.index
    slider = dict(visible=True, thickness=0.1)
    fig.update_xaxes(
        range=[recent.index[-shown], recent.index[-1]], rangeslider=slider, title_text=_time_title(index)
    )
    if isinstance(index, pd.DatetimeIndex):
        fig.update_xaxes(rangeselector=dict(buttons=_cycle_buttons(recent.index, period)))
    fig.update_yaxes(title_text="above or below the trend")
    fig.update_layout(
        title=f"The seasonal pattern, last {shown // period} cycles of {period} steps",
        height=380,
        showlegend=len(fig.data) > 1,
        legend=_TOP_RIGHT_LEGEND,
        **_LAYOUT,
    )
    return fig


MAX_PATCH_LANES = 48  # patches drawn one below the other; a longer window shows its last ones


def _window_axis(index, length: int, extra: int):
    """The window's x values (timestamps or row numbers), continued `extra` steps past its end."""
    if index is None or len(index) < 2:
        start = 0 if index is None or len(index) == 0 else index[0]
        return np.arange(length + extra) + start
    step = index[-1] - index[-2]
    ahead = [index[-1] + step * k for k in range(1, extra + 1)]
    if isinstance(index, pd.DatetimeIndex):
        return index.append(pd.DatetimeIndex(ahead))
    return np.concatenate([np.asarray(index), np.asarray(ahead)])


def patches_figure(
    window: np.ndarray, patch_len: int, stride: int, index=None, name: str = "value"
) -> go.Figure:
    """The window over time and, below it, each patch in a row of its own over the stretch of time
    it covers (its values drawn inside the row); padding past the window's end as open markers.

    `index` holds the window's timestamps or row numbers (row numbers 0.. when None).
    """
    window = np.asarray(window, dtype=np.float64)
    length = len(window)
    patches = make_patches(window, patch_len, stride)  # (P, Lp)
    starts = patch_starts(length, patch_len, stride)
    x = _window_axis(index, length, stride)  # (T + S,) the padding continues the time axis
    lanes = list(enumerate(starts))[-MAX_PATCH_LANES:]
    low, span = float(window.min()), float(np.ptp(window)) or 1.0
    lower = f"Its {len(starts)} patches of {patch_len} steps, a new one every {stride} steps"
    if len(lanes) < len(starts):
        lower += f" (the last {len(lanes)} drawn)"
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        row_heights=[0.3, 0.7],
        subplot_titles=["The look-back window", lower],
    )
    fig.add_trace(
        go.Scatter(x=x[:length], y=window, name=name, mode="lines", line=dict(color="#444", width=2)),
        row=1,
        col=1,
    )
    traces, shapes = [], []
    for p, start in lanes:
        steps = np.arange(start, start + patch_len)
        color = _PALETTE[p % len(_PALETTE)]
        centre = -(p + 1)  # patch 1 on top
        shapes.append(
            dict(
                type="rect",
                xref="x2",
                yref="y2",
                x0=x[start],
                x1=x[start + patch_len - 1],
                y0=centre - 0.45,
                y1=centre + 0.45,
                fillcolor=_rgba(color, 0.12),
                line_width=0,
                layer="below",
            )
        )
        traces.append(
            go.Scatter(
                x=x[steps],
                y=centre - 0.4 + 0.8 * (patches[p] - low) / span,
                mode="lines+markers",
                name=f"patch {p + 1}",
                line=dict(color=color, width=1.5),
                marker=dict(size=4, symbol=np.where(steps >= length, "circle-open", "circle")),
                hovertemplate=f"patch {p + 1}<br>%{{x}}<extra></extra>",
            )
        )
    fig.add_traces(traces, rows=2, cols=1)  # at once: one call per trace costs ~5 ms each
    numbers = [p + 1 for p, _ in lanes][:: max(1, len(lanes) // 16)]
    fig.update_yaxes(title_text=name, row=1, col=1)
    fig.update_yaxes(
        title_text="patch", tickvals=[-k for k in numbers], ticktext=[str(k) for k in numbers], row=2, col=1
    )
    fig.update_xaxes(title_text=_time_title(index), row=2, col=1)
    for axis in ("", "2"):  # the padding, shaded in both rows
        shapes.append(
            dict(
                type="rect",
                xref=f"x{axis}",
                yref=f"y{axis} domain",
                x0=x[length - 1],
                x1=x[-1],
                y0=0,
                y1=1,
                fillcolor="rgba(204, 204, 204, 0.3)",
                line_width=0,
                layer="below",
            )
        )
    note = dict(x=x[length - 1], y=1, xref="x", yref="y domain", text="padding", showarrow=False)
    fig.update_layout(  # shapes and notes in one update: added one by one they cost ~10 ms each
        shapes=shapes,
        annotations=[*fig.layout.annotations, dict(note, xanchor="left", yanchor="bottom")],
        height=320 + 16 * len(lanes),
        showlegend=False,
        **_LAYOUT,
    )
    return fig


def revin_figure(window: np.ndarray, normalised: np.ndarray, index=None) -> go.Figure:
    """The look-back window in its own units and after RevIN (average 0, spread 1)."""
    x = np.arange(len(window)) if index is None else index
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=["Before: in the series' own units", "After: average 0, spread 1"],
    )
    fig.add_trace(
        go.Scatter(x=x, y=window, mode="lines", name="before", line=dict(color=_PALETTE[0])), row=1, col=1
    )
    fig.add_trace(
        go.Scatter(x=x, y=normalised, mode="lines", name="after", line=dict(color=_PALETTE[1])), row=2, col=1
    )
    fig.add_hline(y=0, line_dash="dot", line_color="#999", row=2, col=1)
    fig.update_xaxes(title_text=_time_title(index), row=2, col=1)
    fig.update_yaxes(title_text="value", row=1, col=1)
    fig.update_yaxes(title_text="rescaled", row=2, col=1)
    fig.update_layout(height=440, showlegend=False, **_LAYOUT)
    return fig


def autocorrelation_figure(acf: np.ndarray, highlighted: list[int], unit: str = "step") -> go.Figure:
    """How much the window resembles itself k steps back (lag 0 left out), the prompt's lags in red."""
    lags = np.arange(1, len(acf) + 1)
    colors = np.where(np.isin(lags, highlighted), _PALETTE[3], "#9ab")
    units = "steps" if unit[:1].isdigit() else f"{unit}s"
    fig = go.Figure(
        go.Bar(
            x=lags,
            y=acf,
            marker_color=colors,
            name="similarity",
            hovertemplate=f"%{{x}} {units} back: %{{y:.2f}}<extra></extra>",
        )
    )
    fig.update_layout(
        title="How much the window resembles itself, step by step back (red: the lags in the prompt)",
        xaxis_title=f"{units} back (lag)",
        yaxis_title="similarity (autocorrelation)",
        height=320,
        **_LAYOUT,
    )
    return fig


def training_figure(epochs: list[dict], steps: list[float] | None = None) -> go.Figure:
    """Train and validation loss by epoch, drawn over the faint per-step training loss."""
    fig = go.Figure()
    if steps:
        per_epoch = len(steps) / max(len(epochs), 1) if epochs else len(steps)
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(steps) + 1) / max(per_epoch, 1),
                y=steps,
                mode="lines",
                name="train (per step)",
                line=dict(color="#c7d7ea", width=1),
            )
        )
    if epochs:
        x = [e["epoch"] for e in epochs]
        for key, name, color in (
            ("train_loss", "train", _PALETTE[0]),
            ("val_loss", "validation", _PALETTE[1]),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x, y=[e[key] for e in epochs], mode="lines+markers", name=name, line=dict(color=color)
                )
            )
    fig.update_layout(title="Loss", xaxis_title="epoch", height=320, **_LAYOUT)
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return fig


def learning_rate_figure(rates: list[float], scales: list[float | None] | None = None) -> go.Figure:
    """The learning rate used at each step; the fp16 loss scale on a second axis when there is one."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    steps = np.arange(1, len(rates) + 1)
    fig.add_trace(
        go.Scatter(x=steps, y=rates, mode="lines", name="learning rate", line=dict(color=_PALETTE[2])),
        secondary_y=False,
    )
    top = max(rates, default=0.0)
    fig.update_yaxes(range=[0, 1.1 * top if top > 0 else 1], exponentformat="e", secondary_y=False)
    if scales and any(s is not None for s in scales):
        fig.add_trace(
            go.Scatter(
                x=steps, y=scales, mode="lines", name="loss scale", line=dict(color=_PALETTE[3], dash="dot")
            ),
            secondary_y=True,
        )
        fig.update_yaxes(type="log", title_text="loss scale", exponentformat="power", secondary_y=True)
    fig.update_layout(title="Learning rate by step", xaxis_title="step", height=320, **_LAYOUT)
    fig.update_layout(legend=dict(orientation="h", y=-0.25), margin=dict(l=10, r=60, t=40, b=10))
    return fig


def forecast_figure(
    actual: np.ndarray, forecast: np.ndarray, history: np.ndarray | None = None, title: str = ""
) -> go.Figure:
    """One test window: the look-back (when known), the actual future and the forecast."""
    fig = go.Figure()
    offset = 0
    if history is not None:
        offset = len(history)
        fig.add_trace(
            go.Scatter(x=np.arange(offset), y=history, mode="lines", name="history", line=dict(color="#444"))
        )
    steps = np.arange(offset + 1, offset + len(actual) + 1)  # horizon steps count from 1
    fig.add_trace(go.Scatter(x=steps, y=actual, mode="lines", name="actual", line=dict(color=_PALETTE[0])))
    fig.add_trace(
        go.Scatter(
            x=steps, y=forecast, mode="lines", name="forecast", line=dict(color=_PALETTE[1], dash="dash")
        )
    )
    fig.update_layout(title=title, xaxis_title="step", height=380, **_LAYOUT)
    return fig


def heatmap_figure(panel: Heatmap, layer: int = 0) -> go.Figure:
    """An explanation's heatmap (one of its layers): rows over columns, each cell a weight."""
    values = panel.values[layer]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=panel.columns,
            y=panel.rows,
            zmin=0,  # weights: the colours start at none, so near-equal weights look near-equal
            zmax=float(values.max()) if values.size else 1,
            colorscale="Blues",
            colorbar=dict(title="weight"),
            hovertemplate="%{y} → %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title_text=panel.row_title)
    fig.update_xaxes(title_text=panel.column_title)
    fig.update_layout(title=panel.title, height=300 + 18 * len(panel.rows), xaxis_tickangle=-45, **_LAYOUT)
    fig.update_layout(hovermode="closest")
    return fig


def parts_figure(parts: np.ndarray, names: list[str], title: str = "") -> go.Figure:
    """A forecast's additive parts (n, H), one row each, under one horizon axis; they sum to it."""
    fig = make_subplots(
        rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.08
    )
    steps = np.arange(1, parts.shape[1] + 1)
    for row, (name, values) in enumerate(zip(names, parts, strict=True), start=1):
        fig.add_trace(
            go.Scatter(x=steps, y=values, mode="lines", name=name, line=dict(color=_PALETTE[row + 1])),
            row=row,
            col=1,
        )
    fig.update_xaxes(title_text="step", row=len(names), col=1)
    fig.update_layout(title=title, height=140 + 130 * len(names), showlegend=False, **_LAYOUT)
    return fig


def prompt_counts_figure(counts: np.ndarray, names: list[str]) -> go.Figure:
    """How often each pool prompt (columns) was picked by each part (rows)."""
    fig = go.Figure(
        go.Heatmap(
            z=counts,
            x=[f"prompt {i}" for i in range(counts.shape[1])],
            y=names,
            colorscale="Blues",
            colorbar=dict(title="picks"),
            hovertemplate="%{y} picked %{x} %{z:.0f} times<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="Prompt picks over the test windows", height=120 + 60 * len(names), **_LAYOUT)
    fig.update_layout(hovermode="closest")
    return fig


METRIC_LABELS = {"mse": "MSE", "mae": "MAE", "rmse": "RMSE", "smape": "sMAPE", "mase": "MASE", "nll": "NLL"}


def _rgba(color: str, opacity: float) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {opacity})"


def _add_band(fig: go.Figure, x, lower, upper, color: str, name: str) -> None:
    """A shaded band between `lower` and `upper`, grouped in the legend with `name`."""
    common = dict(x=x, mode="lines", line=dict(width=0), legendgroup=name, hoverinfo="skip")
    fig.add_trace(go.Scatter(y=upper, showlegend=False, **common))
    fig.add_trace(
        go.Scatter(y=lower, fill="tonexty", fillcolor=_rgba(color, 0.15), name=f"{name} band", **common)
    )


def variants_figure(
    history: pd.Series, actual: pd.Series, variants: dict[str, pd.DataFrame], title: str = ""
) -> go.Figure:
    """One test window: the look-back, the actual future, and each variant's forecast over its
    shaded band; `variants[name]` is indexed like `actual` with `forecast` (and `lower`, `upper`)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=history.index, y=history.to_numpy(), mode="lines", name="history", line=dict(color="#444")
        )
    )
    for i, (key, frame) in enumerate(variants.items()):
        color, name = _PALETTE[(i + 1) % len(_PALETTE)], variant_label(key)
        if "lower" in frame:
            _add_band(fig, frame.index, frame["lower"], frame["upper"], color, name)
        fig.add_trace(
            go.Scatter(
                x=frame.index,
                y=frame["forecast"],
                mode="lines",
                name=name,
                legendgroup=name,
                line=dict(color=color, dash="dash"),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=actual.index,
            y=actual.to_numpy(),
            mode="lines",
            name="actual",
            line=dict(color=_PALETTE[0], width=2.5),
        )
    )
    fig.update_layout(title=title, height=420, **_LAYOUT)
    return fig


def variants_table(
    variants: dict[str, dict], metrics: tuple[str, ...] = ("mse", "mae", "smape", "mase", "nll")
) -> pd.DataFrame:
    """One row per variant, one column per metric it has (missing ones left empty)."""
    shown = [m for m in metrics if any(m in scores for scores in variants.values())]
    return pd.DataFrame(
        [[scores.get(m, float("nan")) for m in shown] for scores in variants.values()],
        index=pd.Index([variant_label(name) for name in variants], name="forecast"),
        columns=[METRIC_LABELS.get(m, m) for m in shown],
    )


def alpha_figure(curve: dict[str, float], chosen: float, title: str = "") -> go.Figure:
    """Proxy decoding's validation NLL per alpha (`curve`: alpha as text -> NLL), the chosen one
    marked. alpha 0 is the language model alone, 1 the paper's proxy-tuning."""
    alphas = [float(alpha) for alpha in curve]
    fig = go.Figure(
        go.Scatter(
            x=alphas,
            y=list(curve.values()),
            mode="lines+markers",
            name="validation NLL",
            line=dict(color=_PALETTE[1]),
        )
    )
    if str(f"{chosen:g}") in curve:
        fig.add_trace(
            go.Scatter(
                x=[chosen],
                y=[curve[f"{chosen:g}"]],
                mode="markers",
                name=f"chosen: α = {chosen:g}",
                marker=dict(size=14, color=_PALETTE[3], symbol="star"),
            )
        )
    fig.update_layout(
        title=title,
        height=300,
        xaxis_title="α: how strongly the small tuned model steers (0: language model alone; 1: the standard)",
        yaxis_title="NLL per step (lower is better)",
        **_LAYOUT,
    )
    return fig


SPLIT_COLOURS = {"train": "#2ca02c", "validation": "#ff7f0e", "test": "#d62728"}


def forecast_overview_figure(
    history: pd.Series,
    splits: dict[str, tuple],
    test_window: pd.DataFrame | None = None,
    future: pd.DataFrame | None = None,
    focus: tuple | None = None,
    title: str = "",
    unit: str = "",
) -> go.Figure:
    """The whole series of one channel with its training/validation/test spans shaded, one past
    (test) forecast beside what happened, and the forecast past the end, under a range slider.

    `splits[name] = (first x, last x)` of each part's scored rows. `test_window` and `future` are
    indexed by x with a `forecast` column and, for each band, `lower_80`/`upper_80` (…);
    `test_window` also has `actual`. `focus = (x0, x1)` is the span shown at first.
    """
    fig = go.Figure()
    for shade, (name, (start, end)) in enumerate(splits.items()):  # neutral greys: the ranges keep colour
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor="#808080",
            opacity=0.04 + 0.04 * shade,
            line_width=0,
            annotation_text=f"{name} part",
            annotation_position="top left",
        )
    fig.add_trace(
        go.Scatter(x=history.index, y=history.to_numpy(), mode="lines", name="data", line=dict(color="#444"))
    )
    for frame, name, color in (
        (test_window, "past forecast", _PALETTE[1]),
        (future, "forecast", _PALETTE[3]),
    ):
        if frame is None:
            continue
        levels = sorted({int(c.split("_")[1]) for c in frame.columns if c.startswith("lower_")}, reverse=True)
        for level in levels:  # the widest first, the palest
            common = dict(x=frame.index, mode="lines", line=dict(width=0), hoverinfo="skip")
            fig.add_trace(
                go.Scatter(
                    y=frame[f"upper_{level}"], showlegend=False, legendgroup=f"{name}{level}", **common
                )
            )
            fig.add_trace(
                go.Scatter(
                    y=frame[f"lower_{level}"],
                    fill="tonexty",
                    fillcolor=_rgba(color, 0.12 if level >= 90 else 0.25),
                    name=f"{level}% range",
                    legendgroup=f"{name}{level}",
                    **common,
                )
            )
        if "actual" in frame:
            fig.add_trace(
                go.Scatter(
                    x=frame.index,
                    y=frame["actual"],
                    mode="lines",
                    name="what happened",
                    line=dict(color=_PALETTE[0]),
                )
            )
        fig.add_trace(
            go.Scatter(
                x=frame.index,
                y=frame["forecast"],
                mode="lines",
                name=name,
                line=dict(color=color, dash="dash"),
            )
        )
    fig.update_layout(title=title, height=460, **_LAYOUT)
    fig.update_xaxes(rangeslider=dict(visible=True, thickness=0.08))
    if unit:
        fig.update_yaxes(title_text=unit)
    if focus is not None:
        fig.update_xaxes(range=list(focus))
        # The range slider does not rescale y: fit it to what the opening span shows.
        shown = [history.loc[focus[0] : focus[1]]]
        for frame in (test_window, future):
            if frame is not None:
                shown += [frame.loc[focus[0] : focus[1], c] for c in frame.columns]
        values = pd.concat(shown).to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            low, high = float(values.min()), float(values.max())
            pad = 0.05 * (high - low or abs(high) or 1.0)
            fig.update_yaxes(range=[low - pad, high + pad])
    return fig


def grouped_bars_figure(
    table: pd.DataFrame, metrics: list[str], label: str = "row", log_scale: bool = False
) -> go.Figure:
    """One group of bars per metric, one bar per row of `table` (baselines and runs). Infinite or
    undefined values (MAPE where an actual value is zero) are left out."""
    fig = go.Figure()
    for i, (_, row) in enumerate(table.iterrows()):
        fig.add_trace(
            go.Bar(
                x=metrics,
                y=[row[m] if np.isfinite(row[m]) else None for m in metrics],
                name=str(row[label]),
                marker_color=_PALETTE[i % len(_PALETTE)],
            )
        )
    fig.update_layout(barmode="group", height=420, yaxis_title="lower is better", **_LAYOUT)
    fig.update_layout(hovermode="closest")
    if log_scale:
        fig.update_yaxes(type="log")
    return fig


def horizon_error_figure(
    by_horizon: pd.DataFrame, dotted: tuple[str, ...] = (), log_scale: bool = False
) -> go.Figure:
    """Mean squared error (scaled values) at each horizon step, one line per row label; the
    `dotted` ones (the baselines) drawn dotted."""
    fig = go.Figure()
    for i, column in enumerate(by_horizon.columns):
        fig.add_trace(
            go.Scatter(
                x=by_horizon.index,
                y=by_horizon[column],
                mode="lines",
                name=str(column),
                line=dict(color=_PALETTE[i % len(_PALETTE)], dash="dot" if column in dotted else "solid"),
            )
        )
    fig.update_layout(xaxis_title="horizon step", yaxis_title="MSE (scaled)", height=400, **_LAYOUT)
    if log_scale:
        fig.update_yaxes(type="log")
    return fig
