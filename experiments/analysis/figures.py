"""Plotly figures shared by the batch, compare and sensitivity reports.

Each function takes plain tables (pandas / numpy) and returns a
``plotly.graph_objects.Figure``; none reads files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

PALETTE = qualitative.Plotly
FAN_TITLES = {
    "spot_price": "Spot price ($B per effective-GW-month)",
    "utilisation": "Utilisation (share of capacity)",
    "gw_operational": "Capacity operational (GW)",
}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return max(1, math.ceil(n / ncols)), ncols


def interval_dots(table: pd.DataFrame, category: str, group: str, value: str = "estimate",
                  low: str = "low", high: str = "high", title: str = "", axis_title: str = "",
                  zero_line: bool = False, percent: bool = True, colour_offset: int = 0) -> go.Figure:
    """Points with interval bars: one trace per ``group`` (dodged), categories on the y axis.

    ``colour_offset`` keeps a group's colour when the first groups are left out
    (e.g. differences against the reference batch start at the second colour).
    """
    fig = go.Figure()
    groups = list(dict.fromkeys(table[group]))
    for i, g in enumerate(groups):
        sub = table[table[group] == g]
        fig.add_trace(go.Scatter(
            x=sub[value], y=sub[category], mode="markers", name=str(g), orientation="h",
            marker=dict(color=colour(i + colour_offset), size=9),
            error_x=dict(type="data", symmetric=False, array=sub[high] - sub[value],
                         arrayminus=sub[value] - sub[low], thickness=1.5, width=4),
            hovertemplate="%{y}: %{x:.3f}<extra>" + str(g) + "</extra>",
        ))
    if zero_line:
        fig.add_vline(x=0, line_dash="dash", line_color="#888")
    n_cat = table[category].nunique()
    fig.update_layout(title=title, scattermode="group", height=140 + 60 * n_cat,
                      xaxis=dict(title=axis_title, tickformat=".0%" if percent else None, zeroline=False),
                      yaxis=dict(autorange="reversed"), legend=dict(orientation="h", y=-0.2),
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def distributions(samples: Mapping[str, Mapping[str, np.ndarray]], title: str = "", ncols: int = 3,
                  y_titles: Mapping[str, str] | None = None) -> go.Figure:
    """Violins of each outcome, one per batch: ``samples[outcome][batch] -> values``; ``y_titles[outcome]`` (its
    unit, say) titles that panel's value axis."""
    outcomes = list(samples)
    rows, cols = _grid(len(outcomes), ncols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=outcomes, vertical_spacing=0.5 / max(rows, 1) ** 0.9 / 3)
    batches = list(dict.fromkeys(b for per in samples.values() for b in per))
    for k, outcome in enumerate(outcomes):
        r, c = divmod(k, cols)
        for i, b in enumerate(batches):
            values = samples[outcome].get(b)
            if values is None or len(values) == 0:
                continue
            fig.add_trace(go.Violin(
                y=np.asarray(values, dtype=np.float32), name=b, legendgroup=b, showlegend=(k == 0),
                line_color=colour(i), box_visible=True, meanline_visible=False, points=False,
                spanmode="hard", scalemode="width", width=0.9), row=r + 1, col=c + 1)
        if y_titles and y_titles.get(outcome):
            fig.update_yaxes(title_text=y_titles[outcome], row=r + 1, col=c + 1)
    fig.update_xaxes(showticklabels=False)
    height, top, bottom = 300 * rows + 110, 110, 10
    fig.update_layout(title=title, height=height, violinmode="group" if len(batches) > 1 else None,
                      legend=dict(orientation="h", y=1.0 + 45 / (height - top - bottom), yanchor="bottom",
                                  x=1.0, xanchor="right"),
                      margin=dict(l=10, r=10, t=top, b=bottom))
    return fig


def histograms(samples: Mapping[str, np.ndarray], title: str = "", ncols: int = 3,
               x_titles: Mapping[str, str] | None = None, zero_line: bool = False) -> go.Figure:
    """One histogram per entry of ``samples`` (name -> values); integer data get one bar per value;
    ``x_titles[name]`` (its unit, say) titles that panel's value axis."""
    names = list(samples)
    rows, cols = _grid(len(names), ncols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names)
    for k, name in enumerate(names):
        r, c = divmod(k, cols)
        values = np.asarray(samples[name], dtype=float)
        values = values[~np.isnan(values)]
        integer = values.size > 0 and np.all(values == np.round(values)) and np.ptp(values) <= 60
        bins = dict(xbins=dict(size=1, start=values.min() - 0.5)) if integer else dict(nbinsx=40)
        fig.add_trace(go.Histogram(x=values.astype(np.float32), marker_color=colour(0), showlegend=False,
                                   name=name, **bins), row=r + 1, col=c + 1)
        if x_titles and name in x_titles:
            fig.update_xaxes(title_text=x_titles[name], row=r + 1, col=c + 1)
        if zero_line:
            fig.add_vline(x=0, line_dash="dash", line_color="#888", row=r + 1, col=c + 1)
    fig.update_layout(title=title, height=260 * rows + 60, bargap=0.05, margin=dict(l=10, r=10, t=70, b=10))
    return fig


def fan_charts(fans: Mapping[str, Mapping[str, pd.DataFrame]], variables: Sequence[str], title: str = "") -> go.Figure:
    """Fan charts side by side: rows are variables, columns batches.

    ``fans[batch][variable]`` is a frame from :func:`loading.fan_quantiles`:
    median line, 25-75 band (darker) and 10-90 band (lighter). Rows share
    their y axis so batches compare at a glance.
    """
    batches = list(fans)
    variables = [v for v in variables if any(v in fans[b] for b in batches)]
    rows, cols = max(1, len(variables)), max(1, len(batches))
    titles = [f"{b}: {v}" for v in variables for b in batches]
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes="rows", shared_xaxes=True,
                        subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.08)
    for r, var in enumerate(variables):
        for c, b in enumerate(batches):
            frame = fans[b].get(var)
            if frame is None or frame.empty:
                continue
            x = frame["date"] if "date" in frame.columns else frame["tick"]
            base = colour(c)
            first = r == 0
            for lo, hi, alpha, name in (("q10", "q90", 0.18, "10-90%"), ("q25", "q75", 0.35, "25-75%")):
                fig.add_trace(go.Scatter(x=x, y=frame[hi], mode="lines", line=dict(width=0), showlegend=False,
                                         hoverinfo="skip", legendgroup=b), row=r + 1, col=c + 1)
                fig.add_trace(go.Scatter(x=x, y=frame[lo], mode="lines", line=dict(width=0), fill="tonexty",
                                         fillcolor=_rgba(base, alpha), name=f"{b} {name}", legendgroup=b,
                                         showlegend=first, hoverinfo="skip"), row=r + 1, col=c + 1)
            fig.add_trace(go.Scatter(x=x, y=frame["q50"], mode="lines", line=dict(color=base, width=2),
                                     name=f"{b} median", legendgroup=b, showlegend=first,
                                     hovertemplate="%{x}: %{y:.3g}<extra>" + f"{b} median</extra>"),
                          row=r + 1, col=c + 1)
        fig.update_yaxes(title_text=FAN_TITLES.get(var, var), row=r + 1, col=1)
    fig.update_layout(title=title, height=280 * rows + 100, legend=dict(orientation="h", y=-0.05),
                      margin=dict(l=10, r=10, t=80, b=10))
    return fig


def index_bars(table: pd.DataFrame, title: str = "", indices: Sequence[tuple[str, str]] = (("S1", "S1_conf"), ("ST", "ST_conf")),
               axis_title: str = "index") -> go.Figure:
    """Grouped bars of sensitivity indices with CI whiskers, one panel per outcome.

    ``table`` has columns ``outcome``, ``parameter`` and the index / half-width
    columns named in ``indices``.
    """
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig = make_subplots(rows=len(outcomes), cols=1, subplot_titles=outcomes, vertical_spacing=0.12 / max(1, len(outcomes)) ** 0.5)
    for r, outcome in enumerate(outcomes):
        sub = table[table["outcome"] == outcome]
        for i, (col, conf) in enumerate(indices):
            fig.add_trace(go.Bar(x=sub["parameter"], y=sub[col], name=col, marker_color=colour(i), legendgroup=col,
                                 showlegend=r == 0, error_y=dict(type="data", array=sub[conf], visible=True)),
                          row=r + 1, col=1)
        fig.update_yaxes(title_text=axis_title, row=r + 1, col=1)
    fig.update_layout(title=title, barmode="group", height=320 * len(outcomes) + 80,
                      margin=dict(l=10, r=10, t=80, b=10))
    return fig
