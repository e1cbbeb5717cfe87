"""A light Plotly widget for figures that change every simulated month.

Why not ``solara.FigurePlotly``: it renders a ``plotly.graph_objs.FigureWidget``,
an anywidget whose front-end bundle (~5 MB of JavaScript) travels over the
websocket once *per chart per browser session* (six charts: ~30 MB and ~15 s
before the page is usable here), and every update costs three redraws plus
layout/trace deltas sent back to Python. Measured on the 2-core reference
machine in headless Chromium, Step-to-updated-charts took ~650 ms that way.

``PlotlyChart`` is a ~40-line anywidget: the browser loads plotly.js once
(``/static/assets/plotly.min.js``, served by the Solara server from the
installed ``plotly`` package, so nothing comes from a CDN) and each update is a
single ``Plotly.react`` call on the figure's plain JSON.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import anywidget
import plotly
import plotly.graph_objects as go
import solara
import traitlets

#: URL path under which the Solara server serves plotly.js (see ``serve_plotly_js``).
PLOTLY_JS_PATH = "static/assets/plotly.min.js"

_ESM = r"""
function plotlyUrl(model) {
  const explicit = model.get("plotly_url");
  if (explicit) return explicit;
  // Solara pages carry <body data-base-url="{root_path}/jupyter/">
  const base = (document.body.dataset.baseUrl || "/jupyter/").replace(/jupyter\/?$/, "");
  return base + "%s";
}
function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__computemarketPlotly) {
    window.__computemarketPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__computemarketPlotly = null; reject(new Error("could not load plotly.js from " + url)); };
      document.head.appendChild(script);
    });
  }
  return window.__computemarketPlotly;
}
const CONFIG = {displaylogo: false, responsive: false, modeBarButtonsToRemove: ["lasso2d", "select2d"]};
export default {
  async render({ model, el }) {
    const div = document.createElement("div");
    div.style.width = "100%%";
    el.appendChild(div);
    const Plotly = await loadPlotly(plotlyUrl(model));
    const draw = () => {
      const fig = model.get("figure") || {};
      Plotly.react(div, fig.data || [], fig.layout || {}, CONFIG);
    };
    draw();
    model.on("change:figure", draw);
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth && el.clientWidth !== width) { width = el.clientWidth; Plotly.Plots.resize(div); }
    });
    observer.observe(el);
    return () => { model.off("change:figure", draw); observer.disconnect(); Plotly.purge(div); };
  },
};
""" % PLOTLY_JS_PATH


def _plain(value: Any) -> Any:
    """JSON-safe copy of a figure spec: NaN/inf become gaps (null), tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _plain(value.tolist())
    return value


def figure_json(fig: go.Figure | dict[str, Any]) -> dict[str, Any]:
    """The ``{"data": [...], "layout": {...}}`` JSON of a figure or figure spec."""
    spec = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig
    return _plain({"data": list(spec.get("data", [])), "layout": dict(spec.get("layout", {}))})


class PlotlyChart(anywidget.AnyWidget):
    """A Plotly figure drawn with ``Plotly.react`` whenever ``figure`` changes."""

    _esm = _ESM
    figure = traitlets.Dict().tag(sync=True)
    #: where the browser loads plotly.js from; "" = the Solara server's /static/assets/
    plotly_url = traitlets.Unicode("").tag(sync=True)


def serve_plotly_js() -> None:
    """Let the Solara server serve the installed plotly.js at ``/static/assets/plotly.min.js``.

    Adds the ``plotly`` package's data folder to Solara's asset folders (read
    per request, so calling this when the app module is imported is enough).
    """
    import solara.server.settings

    folder = str(Path(plotly.__file__).parent / "package_data")
    locations = solara.server.settings.assets.extra_locations
    if folder not in locations:
        locations.append(folder)


@solara.component
def LivePlot(fig: go.Figure | dict[str, Any]):
    """A Plotly figure on the page, redrawn in place when ``fig`` changes.

    Pass the plain ``{"data": [...], "layout": {...}}`` dict (``charts.*_figure.spec``)
    when redrawing often: comparing two dicts is cheap, comparing two ``go.Figure`` is not.
    """
    return PlotlyChart.element(figure=figure_json(fig))
