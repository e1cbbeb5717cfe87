"""A Plotly figure that updates in place each month.

``solara.FigurePlotly`` replaces the layout (re-validating the template) and
then adds and deletes every trace on each update: three redraws in the browser
and ~15-50 ms of Python per chart. ``LivePlot`` creates the same
``plotly.graph_objs.FigureWidget`` (an anywidget) once, then restyles its traces
and relayouts in one ``batch_update``: one message and one redraw per month.
When the number or types of traces change it falls back to replacing them.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import solara


def _spec(fig: go.Figure | dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    spec = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig
    return list(spec.get("data", [])), dict(spec.get("layout", {}))


def apply_figure(widget: go.FigureWidget, fig: go.Figure | dict[str, Any]) -> bool:
    """Make ``widget`` show ``fig``; returns True when it could restyle in place."""
    data, layout = _spec(fig)
    same = len(widget.data) == len(data) and all(
        t.type == d.get("type", "scatter") for t, d in zip(widget.data, data))
    if same:
        with widget.batch_update():
            for trace, new in zip(widget.data, data):
                trace.update({k: v for k, v in new.items() if k != "type"}, overwrite=True)
            widget.layout.update(layout, overwrite=True)
        return True
    with widget.batch_update():
        widget.layout.update(layout, overwrite=True)
    widget.data = []
    widget.add_traces(data)
    return False


@solara.component
def LivePlot(fig: go.Figure):
    """A Plotly figure on the page, redrawn in place when ``fig`` changes (needs ``anywidget``)."""
    from plotly.graph_objs._figurewidget import FigureWidget

    element = FigureWidget.element()

    def update() -> None:
        apply_figure(solara.get_widget(element), fig)

    solara.use_effect(update, [fig])
    return element
