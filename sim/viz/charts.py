"""Plotly figures of one world, as pure functions of plain data.

Every function here takes plain Python data (series dicts, lists of firms,
links or events) and returns a ``plotly.graph_objects.Figure`` or plain rows;
none of them touches the model, so they are tested with hand-made data
(``tests/test_app.py``). ``sim/viz/data.py`` extracts that data from a live
``ComputeMarketModel``; ``sim/viz/components.py`` puts the figures on the page.

Each figure function returns a ``go.Figure``; its ``.spec(...)`` returns the
same figure as a plain ``{"data", "layout"}`` dict, which the live page sends
as is. Each figure carries ``layout.meta = {"chart": <name>}`` so the browser
tests can find it and count its points.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

#: Height of every chart in pixels (the page's chart panels are this tall).
CHART_HEIGHT = 360

#: Names of the time-series charts (one point per simulated month each).
TIMESERIES_CHARTS = ("prices", "pipeline", "utilisation", "chipmaker")

PIPELINE_STAGES = (  # bottom of the stack first: what is built carries what is planned
    ("gw_operational", "operational", "#2a9d8f"),
    ("gw_construction", "construction", "#e9c46a"),
    ("gw_interconnection", "interconnection", "#f4a261"),
    ("gw_permitting", "permitting", "#e76f51"),
    ("gw_announced", "announced", "#b8b8d1"),
)

LINK_KINDS = {  # kind -> (colour, label)
    "offtake": ("#1f77b4", "offtake contract"),
    "loan": ("#ff7f0e", "loan"),
    "guarantee": ("#9467bd", "loan guarantee"),
    "equity": ("#2ca02c", "equity stake"),
}

NODE_KINDS = {  # kind -> (colour, legend label, ring order)
    "lab": ("#d62728", "labs", 0),
    "cloud": ("#1f77b4", "clouds", 1),
    "chipmaker": ("#2ca02c", "chipmaker", 2),
    "financier": ("#ff7f0e", "capital markets", 3),
    "regulator": ("#7f7f7f", "regulators", 4),
    "other": ("#bbbbbb", "others", 5),
}

#: Node groups that always have a trace in the network figure.
NODE_GROUPS = ("lab", "cloud", "chipmaker", "financier")

LABEL_TEXT = {  # label name (with or without "label_") -> (badge text, what it means)
    "glut": ("glut", "sustained low utilisation with spot below full cost"),
    "scarcity": ("scarcity", "sustained unmet demand with spot well above full cost"),
    "cascade": ("default cascade", "a default triggered by an earlier one's unpaid obligations"),
    "consolidation": ("consolidation", "acquisitions raised lab concentration"),
}

_AXIS_STYLE = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8"}

#: A small explicit template (plotly_white's look): a named template such as
#: "plotly_white" is re-validated in full on every live update, ~30 ms per chart.
TEMPLATE: dict[str, Any] = {"layout": {
    "paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"color": "#2a3f5f"},
    "xaxis": _AXIS_STYLE, "yaxis": _AXIS_STYLE, "hoverlabel": {"align": "left"},
}}

_BASE_LAYOUT: dict[str, Any] = {
    "template": TEMPLATE,
    "height": CHART_HEIGHT,
    # fixed margins with room for the legend: letting plotly grow them to fit
    # (autoexpand, automargin) costs a second layout pass on every redraw
    "margin": {"l": 55, "r": 20, "t": 36, "b": 62, "autoexpand": False},
    "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0, "font": {"size": 10}},
    "hovermode": "x unified",
    "uirevision": "keep",  # keep the user's zoom across monthly updates
    "font": {"size": 11},
}


# --------------------------------------------------------------------------- helpers
def month_axis(start: str, n: int) -> list[str]:
    """``n`` consecutive months "YYYY-MM" beginning at ``start`` ("YYYY-MM")."""
    year, month = (int(p) for p in start.split("-")[:2])
    out = []
    for i in range(n):
        k = (month - 1) + i
        out.append(f"{year + k // 12:04d}-{k % 12 + 1:02d}")
    return out


def _layout(chart: str, title: str, **extra: Any) -> dict[str, Any]:
    layout = {**_BASE_LAYOUT, "title": {"text": title, "font": {"size": 13}, "x": 0.01}, "meta": {"chart": chart}}
    layout.update(extra)
    return layout


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "layout": layout}


def figure_builder(spec_fn: Callable[..., dict[str, Any]]) -> Callable[..., go.Figure]:
    """Make a figure function out of a function returning a plain ``{"data", "layout"}`` dict.

    The result returns a ``go.Figure``; ``.spec(...)`` gives the plain dict, which the
    live page sends as is (comparing and serialising figures costs ~10 ms each).
    """
    @functools.wraps(spec_fn)
    def build(*args: Any, **kwargs: Any) -> go.Figure:
        # built from known-good literals: skip plotly's per-property validation
        return go.Figure(spec_fn(*args, **kwargs), _validate=False)

    build.spec = spec_fn  # type: ignore[attr-defined]
    return build


def _values(series: Mapping[str, Sequence[float]], name: str, n: int) -> list[float | None]:
    """The last ``n`` values of a series, padded with gaps when it is shorter or missing."""
    vals = list(series.get(name, ()))[-n:] if n else []
    vals = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in vals]
    return [None] * (n - len(vals)) + vals


def _note(text: str, visible: bool) -> list[dict[str, Any]]:
    # always present and toggled, so a live figure update hides it again
    return [{"text": text, "showarrow": False, "visible": visible,
             "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "font": {"color": "#888"}}]


def _empty_note(n: int) -> list[dict[str, Any]]:
    return _note("press Step or ▶ to simulate a month", n == 0)


_MONTH_AXIS = {"type": "category", "nticks": 8, "tickangle": 0}


# --------------------------------------------------------------------------- time series
@figure_builder
def prices_figure(series: Mapping[str, Sequence[float]], dates: Sequence[str]) -> dict[str, Any]:
    """Spot and offtake prices, with the full cost of new capacity as the glut/scarcity yardstick."""
    n = len(dates)
    x = list(dates)
    gpu_hour = _values(series, "spot_price_usd_gpu_hour", n)
    data = [
        {"type": "scatter", "mode": "lines", "name": "spot ($B/eGW-month)", "x": x,
         "y": _values(series, "spot_price", n), "line": {"color": "#d62728", "width": 2},
         "customdata": gpu_hour, "hovertemplate": "%{y:.3f} (≈ $%{customdata:.2f} per GPU-hour)"},
        {"type": "scatter", "mode": "lines", "name": "offtake ($B/GW-month)", "x": x,
         "y": _values(series, "offtake_price", n), "line": {"color": "#1f77b4", "width": 2}},
        {"type": "scatter", "mode": "lines", "name": "full cost of new capacity", "x": x,
         "y": _values(series, "full_cost", n), "line": {"color": "#555", "width": 1, "dash": "dot"}},
    ]
    layout = _layout("prices", "Prices", xaxis=_MONTH_AXIS,
                     yaxis={"title": {"text": "US$ B per GW-month"}, "rangemode": "tozero"},
                     annotations=_empty_note(n))
    return _figure(data, layout)


@figure_builder
def pipeline_figure(series: Mapping[str, Sequence[float]], dates: Sequence[str]) -> dict[str, Any]:
    """The capacity pipeline as stacked areas: operational at the bottom, announced on top."""
    n = len(dates)
    x = list(dates)
    data = [
        {"type": "scatter", "mode": "lines", "name": label, "x": x, "y": _values(series, key, n),
         "stackgroup": "pipeline", "line": {"color": colour, "width": 0.5}, "fillcolor": colour}
        for key, label, colour in PIPELINE_STAGES
    ]
    layout = _layout("pipeline", "Capacity pipeline", xaxis=_MONTH_AXIS,
                     yaxis={"title": {"text": "GW of IT power"}, "rangemode": "tozero"},
                     # legend beside the stack, in the stack's order (announced on top)
                     legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top",
                             "traceorder": "reversed", "font": {"size": 10}},
                     margin={**_BASE_LAYOUT["margin"], "r": 105, "b": 40},
                     annotations=_empty_note(n))
    return _figure(data, layout)


@figure_builder
def utilisation_figure(series: Mapping[str, Sequence[float]], dates: Sequence[str]) -> dict[str, Any]:
    """Utilisation of operational capacity (%) and unmet demand (effective GW) on a second axis."""
    n = len(dates)
    x = list(dates)
    util = [None if v is None else 100.0 * v for v in _values(series, "utilisation", n)]
    data = [
        {"type": "scatter", "mode": "lines", "name": "utilisation (%)", "x": x, "y": util,
         "line": {"color": "#2a9d8f", "width": 2}},
        {"type": "scatter", "mode": "lines", "name": "unmet demand (eGW)", "x": x,
         "y": _values(series, "unmet_demand_egw", n), "yaxis": "y2", "fill": "tozeroy",
         "line": {"color": "#e76f51", "width": 1}, "fillcolor": "rgba(231,111,81,0.25)"},
    ]
    layout = _layout(
        "utilisation", "Utilisation and unmet demand", xaxis=_MONTH_AXIS,
        yaxis={"title": {"text": "utilisation (%)"}, "range": [0, 105]},
        yaxis2={"title": {"text": "unmet demand (eGW)"}, "overlaying": "y", "side": "right",
                "rangemode": "tozero", "showgrid": False, "tickmode": "auto"},
        margin={**_BASE_LAYOUT["margin"], "r": 55},
        annotations=_empty_note(n),
    )
    return _figure(data, layout)


@figure_builder
def chipmaker_figure(series: Mapping[str, Sequence[float]], dates: Sequence[str]) -> dict[str, Any]:
    """Chipmaker revenue and gross margin on top, order backlog (GW) below."""
    n = len(dates)
    x = list(dates)
    margin = [None if v is None else 100.0 * v for v in _values(series, "chipmaker_margin", n)]
    data = [
        {"type": "scatter", "mode": "lines", "name": "revenue ($B/month)", "x": x,
         "y": _values(series, "chipmaker_revenue_busd", n), "fill": "tozeroy",
         "line": {"color": "#76b041", "width": 2}, "fillcolor": "rgba(118,176,65,0.25)"},
        {"type": "scatter", "mode": "lines", "name": "gross margin (%)", "x": x, "y": margin, "yaxis": "y2",
         "line": {"color": "#333", "width": 1.5}},
        {"type": "scatter", "mode": "lines", "name": "backlog (GW)", "x": x,
         "y": _values(series, "chip_backlog_gw", n), "xaxis": "x2", "yaxis": "y3",
         "line": {"color": "#9467bd", "width": 2}},
    ]
    in_house = _values(series, "in_house_chip_gw", n)
    if any(in_house):   # a world where some clouds make their own accelerators (custom_silicon)
        data.append({"type": "scatter", "mode": "lines", "name": "clouds' own chips (GW/month)", "x": x,
                     "y": in_house, "xaxis": "x2", "yaxis": "y3", "line": {"color": "#e377c2", "width": 2}})
    layout = _layout(
        "chipmaker", "Chipmaker: revenue, margin, backlog",
        xaxis={**_MONTH_AXIS, "anchor": "y", "showticklabels": False},
        yaxis={"domain": [0.42, 1.0], "title": {"text": "$B / month"}, "rangemode": "tozero"},
        yaxis2={"overlaying": "y", "side": "right", "range": [0, 100], "title": {"text": "margin %"}, "showgrid": False,
                "tickmode": "linear", "tick0": 0, "dtick": 25},
        xaxis2={**_MONTH_AXIS, "anchor": "y3"},
        yaxis3={"domain": [0.0, 0.32], "title": {"text": "backlog GW"}, "rangemode": "tozero"},
        margin={**_BASE_LAYOUT["margin"], "r": 55},
        annotations=_empty_note(n),
    )
    return _figure(data, layout)


# --------------------------------------------------------------------------- balance sheets
@figure_builder
def balance_sheet_figure(firms: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Cash and debt of each firm now, grouped bars. ``firms``: dicts with id, kind, cash_busd, debt_busd."""
    order = sorted(firms, key=lambda f: (NODE_KINDS[_node_kind(f.get("kind", ""))][2], str(f["id"])))
    ids = [str(f["id"]) for f in order]
    kinds = [str(f.get("kind", "")) for f in order]
    data = [
        {"type": "bar", "name": "cash ($B)", "x": ids, "y": [float(f.get("cash_busd", 0.0)) for f in order],
         "marker": {"color": "#2a9d8f"}, "customdata": kinds,
         "hovertemplate": "%{x} (%{customdata}): cash %{y:.1f} $B<extra></extra>"},
        {"type": "bar", "name": "debt ($B)", "x": ids, "y": [float(f.get("debt_busd", 0.0)) for f in order],
         "marker": {"color": "#e63946"}, "customdata": kinds,
         "hovertemplate": "%{x} (%{customdata}): debt %{y:.1f} $B<extra></extra>"},
    ]
    layout = _layout("balance", "Cash and debt per firm (now)", barmode="group", hovermode="closest",
                     yaxis={"title": {"text": "US$ B"}}, xaxis={"tickangle": -40, "tickfont": {"size": 9}},
                     legend={**_BASE_LAYOUT["legend"], "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
                     margin={**_BASE_LAYOUT["margin"], "b": 90})
    return _figure(data, layout)


# --------------------------------------------------------------------------- network
def _node_kind(kind: str) -> str:
    """Map an agent's kind (e.g. "hyperscaler", "neocloud") to a node group."""
    k = (kind or "").lower()
    if k in NODE_KINDS:
        return k
    if k in ("hyperscaler", "neocloud", "landlord", "build_on_spec", "spec"):
        return "cloud"
    for group in NODE_KINDS:
        if group in k:
            return group
    return "other"


def ring_layout(nodes: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """Place nodes on a circle, grouped by kind (labs, clouds, chipmaker, financier), stable across months."""
    ordered = sorted(nodes, key=lambda nd: (NODE_KINDS[_node_kind(nd.get("kind", ""))][2], str(nd["id"])))
    n = max(len(ordered), 1)
    return {
        str(nd["id"]): (math.cos(math.pi / 2 - 2 * math.pi * i / n), math.sin(math.pi / 2 - 2 * math.pi * i / n))
        for i, nd in enumerate(ordered)
    }


def aggregate_links(links: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sum links by (source, target, kind): one edge per tie, with total $B, GW and the count."""
    acc: dict[tuple[str, str, str], dict[str, Any]] = {}
    for ln in links:
        key = (str(ln["source"]), str(ln["target"]), str(ln["kind"]))
        e = acc.setdefault(key, {"source": key[0], "target": key[1], "kind": key[2],
                                 "busd": 0.0, "gw": 0.0, "count": 0})
        e["busd"] += float(ln.get("busd") or 0.0)
        e["gw"] += float(ln.get("gw") or 0.0)
        e["count"] += 1
    return sorted(acc.values(), key=lambda e: (e["kind"], e["source"], e["target"]))


#: Edge widths (px) used for the quartiles of edge weight; few widths -> few traces -> fast redraw.
EDGE_WIDTHS = (1.0, 2.5, 4.5, 7.5)


def edge_width(weight: float, max_weight: float) -> float:
    """Line width of an edge: one of ``EDGE_WIDTHS`` by its share of the heaviest edge (square-root scale)."""
    if max_weight <= 0 or weight <= 0:
        return EDGE_WIDTHS[0]
    share = math.sqrt(min(weight / max_weight, 1.0))
    return EDGE_WIDTHS[min(int(share * len(EDGE_WIDTHS)), len(EDGE_WIDTHS) - 1)]


@figure_builder
def network_figure(nodes: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]],
                   size_by: str = "busd") -> dict[str, Any]:
    """Who is tied to whom: firms on a ring, edges coloured by tie kind, widths and node sizes by $B or GW.

    ``nodes``: dicts with id and kind; ``links``: dicts with source, target, kind, busd, gw
    (``model.links()``). Nodes named only by links are added as well.
    """
    if size_by not in ("busd", "gw"):
        raise ValueError(f"size_by must be 'busd' or 'gw', got {size_by!r}")
    unit = "$B" if size_by == "busd" else "GW"
    edges = aggregate_links(links)
    known = {str(nd["id"]): dict(nd) for nd in nodes}
    for e in edges:
        for end in (e["source"], e["target"]):
            known.setdefault(end, {"id": end, "kind": "other"})
    pos = ring_layout(list(known.values()))
    max_w = max((e[size_by] for e in edges), default=0.0)

    # A fixed set of traces whatever the month (one per tie kind and width, one for
    # the hover targets, one per node group), so a live update restyles in place.
    data: list[dict[str, Any]] = []
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for e in edges:
        groups.setdefault((e["kind"], edge_width(e[size_by], max_w)), []).append(e)
    kinds = list(LINK_KINDS) + sorted({e["kind"] for e in edges} - set(LINK_KINDS))
    for kind in kinds:
        colour, label = LINK_KINDS.get(kind, ("#999", kind))
        legend_done = False
        for width in EDGE_WIDTHS:
            group = groups.get((kind, width), [])
            xs: list[float | None] = []
            ys: list[float | None] = []
            for e in group:
                (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
                xs += [x0, x1, None]
                ys += [y0, y1, None]
            data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": label, "legendgroup": kind,
                         "showlegend": bool(group) and not legend_done, "hoverinfo": "skip",
                         "line": {"color": colour, "width": width}, "opacity": 0.7})
            legend_done = legend_done or bool(group)
    data.append({
        "type": "scatter", "mode": "markers", "showlegend": False, "name": "ties",
        "x": [(pos[e["source"]][0] + pos[e["target"]][0]) / 2 for e in edges],
        "y": [(pos[e["source"]][1] + pos[e["target"]][1]) / 2 for e in edges],
        "marker": {"size": 8, "color": [LINK_KINDS.get(e["kind"], ("#999",))[0] for e in edges], "opacity": 0.35},
        "text": [f"{e['source']} → {e['target']}: {LINK_KINDS.get(e['kind'], ('', e['kind']))[1]}, "
                 f"{e['busd']:.1f} $B, {e['gw']:.2f} GW ({e['count']})" for e in edges],
        "hoverinfo": "text",
    })
    # nodes: size by the total weight of their ties
    weight = {nid: 0.0 for nid in known}
    for e in edges:
        weight[e["source"]] += e[size_by]
        weight[e["target"]] += e[size_by]
    max_node = max(weight.values(), default=0.0)
    by_group: dict[str, list[str]] = {group: [] for group in NODE_GROUPS}
    for nid, nd in known.items():
        by_group.setdefault(_node_kind(nd.get("kind", "")), []).append(nid)
    for group, ids in sorted(by_group.items(), key=lambda kv: NODE_KINDS[kv[0]][2]):
        colour, label, _ = NODE_KINDS[group]
        ids = sorted(ids)
        data.append({
            "type": "scatter", "mode": "markers+text", "name": label, "legendgroup": "node-" + group,
            "showlegend": bool(ids),
            "x": [pos[i][0] for i in ids], "y": [pos[i][1] for i in ids],
            "text": ids, "textposition": "top center", "textfont": {"size": 9},
            "hovertext": [f"{i} ({known[i].get('detail') or known[i].get('kind', group)}): ties {weight[i]:.1f} {unit}"
                          for i in ids],
            "hoverinfo": "text",
            "marker": {"color": colour, "line": {"color": "white", "width": 1},
                       "size": [10 + 30 * math.sqrt(weight[i] / max_node) if max_node > 0 else 10 for i in ids]},
        })
    layout = _layout(
        "network", f"Who is tied to whom (sized by {unit})", hovermode="closest",
        xaxis={"visible": False, "range": [-1.35, 1.35]},
        yaxis={"visible": False, "range": [-1.25, 1.3], "scaleanchor": "x"},
        legend={**_BASE_LAYOUT["legend"], "y": -0.01},
        margin={"l": 10, "r": 10, "t": 36, "b": 48, "autoexpand": False},
        annotations=_note("no contracts, loans or stakes yet", not edges),
    )
    return _figure(data, layout)


# --------------------------------------------------------------------------- page mode
def legend_items(spec: Mapping[str, Any]) -> list[dict[str, str]]:
    """The legend of a figure spec as plain items (name, colour, style "line"|"dash"|"area"|"dot"),
    in the order plotly would list them; one item per legend group."""
    layout = spec.get("layout", {})
    if layout.get("showlegend") is False:
        return []
    traces = list(spec.get("data", []))
    if (layout.get("legend") or {}).get("traceorder") == "reversed":
        traces.reverse()
    items, seen = [], set()
    for t in traces:
        if t.get("showlegend") is False or not t.get("name"):
            continue
        group = t.get("legendgroup") or t["name"]
        if group in seen:
            continue
        seen.add(group)
        line = t.get("line") or {}
        marker = t.get("marker") or {}
        if t.get("type") == "bar" or t.get("stackgroup") or t.get("fill", "none") != "none":
            style, colour = "area", t.get("fillcolor") or marker.get("color") or line.get("color")
        elif "markers" in str(t.get("mode", "")) and "lines" not in str(t.get("mode", "")):
            style, colour = "dot", marker.get("color")
        else:
            style, colour = ("dash" if line.get("dash") else "line"), line.get("color")
        items.append({"name": str(t["name"]), "color": str(colour or "#888"), "style": style})
    return items


def for_page(spec: Mapping[str, Any], height: int) -> dict[str, Any]:
    """A figure spec for the live page: title and legend are drawn once in HTML around the chart,
    because redrawing them is about half the cost of a Plotly redraw."""
    layout = dict(spec.get("layout", {}))
    margin = dict(layout.get("margin") or {})
    bottom = margin.get("b", 40)
    if (layout.get("legend") or {}).get("y", 1) < 0:   # the room a bottom legend took is free now
        bottom = max(bottom - 32, 14)
    layout.update(showlegend=False, title={"text": ""}, height=height,
                  margin={**margin, "t": 8, "b": bottom,
                          "r": 55 if "yaxis2" in layout else min(margin.get("r", 20), 20)})
    return {"data": list(spec.get("data", [])), "layout": layout}


def title_of(spec: Mapping[str, Any]) -> str:
    """The figure's title text."""
    title = spec.get("layout", {}).get("title") or {}
    return str(title.get("text", "") if isinstance(title, Mapping) else title)


# --------------------------------------------------------------------------- event feed
#: Event kinds always shown in the feed: failures, takeovers, regulation, shocks.
FEED_ALWAYS = ("default", "acquisition", "liquidation", "moratorium", "contract_terminated", "litigation_killed",
               "vendor_equity", "rescue_loan", "efficiency_shock", "demand_surge", "progress_stall")
#: Words that make an unknown event kind notable.
FEED_KEYWORDS = ("default", "acqui", "moratori", "liquidat", "bankrupt", "insolv", "cascade")
#: Deals shown only when big: kind -> (minimum $B, minimum GW); either is enough.
FEED_BIG = {"contract_signed": (100.0, 1.0), "equity_round": (20.0, math.inf), "rescue_round": (5.0, math.inf),
            "loan": (25.0, math.inf)}

#: (part of an event kind, category, colour): a coloured dot marks each row of the feed
EVENT_CATEGORIES = (("default", "failure", "#d62728"), ("liquidat", "failure", "#d62728"),
                    ("terminat", "failure", "#d62728"), ("acqui", "takeover", "#9467bd"),
                    ("moratori", "regulation", "#ff7f0e"), ("killed", "regulation", "#ff7f0e"),
                    ("shock", "shock", "#e9c46a"), ("stall", "shock", "#e9c46a"), ("surge", "shock", "#e9c46a"),
                    ("rescue", "rescue", "#8c564b"), ("contract", "deal", "#1f77b4"), ("loan", "finance", "#2a9d8f"),
                    ("equity", "finance", "#2a9d8f"), ("round", "finance", "#2a9d8f"))


def is_notable(event: Mapping[str, Any]) -> bool:
    """Whether an event belongs in the feed: a default, acquisition, moratorium, shock... or a big deal."""
    kind = str(event.get("kind", "")).lower()
    if kind in FEED_ALWAYS or any(k in kind for k in FEED_KEYWORDS):
        return True
    if kind in FEED_BIG:
        min_busd, min_gw = FEED_BIG[kind]
        return float(event.get("amount_busd") or 0.0) >= min_busd or float(event.get("gw") or 0.0) >= min_gw
    return False


def event_feed(events: Sequence[Mapping[str, Any]], limit: int = 40) -> list[dict[str, str]]:
    """The newest notable events first (``is_notable``), as display rows: date, category, colour, kind, text."""
    rows = []
    for ev in reversed(events):
        if not is_notable(ev):
            continue
        kind = str(ev.get("kind", ""))
        category, colour = next(((cat, col) for key, cat, col in EVENT_CATEGORIES if key in kind.lower()),
                                ("other", "#7f7f7f"))
        parts = [str(ev.get("party") or "")]
        if ev.get("counterparty"):
            parts.append("↔ " + str(ev["counterparty"]))
        amount, gw = float(ev.get("amount_busd") or 0.0), float(ev.get("gw") or 0.0)
        if amount:
            parts.append(f"{amount:,.1f} $B")
        if gw:
            parts.append(f"{gw:,.2f} GW")
        if ev.get("detail"):
            parts.append(f"({ev['detail']})")
        rows.append({"date": str(ev.get("date", "")), "category": category, "color": colour,
                     "kind": kind.replace("_", " "),
                     "text": " ".join(p for p in parts if p)})
        if len(rows) >= limit:
            break
    return rows


# --------------------------------------------------------------------------- labels
@dataclass(frozen=True)
class Badge:
    """One label shown as a coloured chip."""

    key: str
    text: str
    active: bool
    tooltip: str

    @property
    def color(self) -> str:
        """Vuetify colour of the chip: red when the label holds, grey otherwise."""
        return "error" if self.active else "grey lighten-2"


def label_badges(labels: Mapping[str, bool]) -> list[Badge]:
    """Badges for the labels of the months so far, known labels first in a fixed order."""
    def name(key: str) -> str:
        return key.removeprefix("label_")

    order = list(LABEL_TEXT)
    keys = sorted(labels, key=lambda k: (order.index(name(k)) if name(k) in order else len(order), k))
    out = []
    for key in keys:
        text, meaning = LABEL_TEXT.get(name(key), (name(key).replace("_", " "), ""))
        out.append(Badge(key=key, text=text, active=bool(labels[key]), tooltip=meaning))
    return out
