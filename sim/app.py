"""The live page: one simulated world, month by month, in the browser (Mesa SolaraViz + Plotly).

Run it with ``computemarket viz`` (or ``solara run sim/app.py``). Every browser
session builds its own ``ComputeMarketModel``: stepping in one tab never moves
another. The page is assembled in ``sim/viz/components.py`` (``LivePage``) from
pure chart functions (``sim/viz/charts.py``); see docs/viz.md.
"""

from __future__ import annotations

import solara

from sim.config import describe_scenario, load_scenario, scenario_names
from sim.model import ComputeMarketModel
from sim.viz.components import LiveModelMixin, LivePage
from sim.viz.plot import serve_plotly_js

# plotly.js for the charts comes from the installed plotly package, served by Solara itself
serve_plotly_js()


class LiveModel(LiveModelMixin, ComputeMarketModel):
    """``ComputeMarketModel`` built from the page's settings (scenario, sliders, switches) and seed."""


@solara.component
def Page():
    """The page Solara serves: scenario picker, sliders, play/step/reset, charts, events, labels."""
    return LivePage(LiveModel, scenario_names(), load_scenario, describe_scenario)
