"""Solara components of the live page: Plotly charts, event feed, label badges, scenario picker.

Chart components take the model and redraw whenever Mesa's SolaraViz steps or
resets it (they read ``mesa.visualization.utils.update_counter``). The page
itself (``LivePage``) keeps one model per browser session: nothing here lives
at module level except constants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import solara
import solara.lab  # noqa: F401  (SolaraViz uses it; imported here so a broken install fails early)
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.viz import charts, data
from sim.viz.controls import CONTROLS, model_params, overrides_from_controls, parse_seed

DEFAULT_SCENARIO = "baseline"
DEFAULT_SEED = 42

_CELL = "height: 100%; width: 100%; overflow: hidden;"


class LiveModelMixin:
    """Builds the simulated world from the page's flat controls.

    Mesa's Reset re-creates the model as ``type(model)(**params)``, with one
    keyword per control, so the page needs a constructor with those keywords.
    A control left at ``None`` (or at the scenario's value) keeps the scenario's
    own value; the others become dotted-path overrides.
    """

    def __init__(self, scenario_name: str = DEFAULT_SCENARIO, seed: int | str = DEFAULT_SEED,
                 lab_aggressiveness: float | None = None, permit_delay: float | None = None,
                 demand_growth: float | None = None, chip_supply_growth: float | None = None,
                 cost_of_capital: float | None = None, progress_stall: bool | None = None,
                 vendor_financing: bool | None = None):
        from sim.config import load_scenario

        cfg = load_scenario(scenario_name)
        shown = {"lab_aggressiveness": lab_aggressiveness, "permit_delay": permit_delay,
                 "demand_growth": demand_growth, "chip_supply_growth": chip_supply_growth,
                 "cost_of_capital": cost_of_capital, "progress_stall": progress_stall,
                 "vendor_financing": vendor_financing}
        overrides = overrides_from_controls(cfg, shown)
        rng = parse_seed(seed)
        super().__init__(scenario=scenario_name, overrides=overrides or None, rng=rng)
        #: what the page asked for: scenario, seed and the overrides applied
        self.page_settings = {"scenario": scenario_name, "seed": rng, "overrides": overrides}


# --------------------------------------------------------------------------- charts
@solara.component
def Plot(fig):
    """A Plotly figure in a grid cell (``solara.FigurePlotly`` needs the ``anywidget`` package)."""
    with solara.Div(style=_CELL) as main:
        solara.FigurePlotly(fig)
    return main


def _timeseries_component(name: str, builder: Callable[..., Any], doc: str):
    @solara.component
    def Chart(model):
        update_counter.get()
        fig = builder(model.series, data.series_dates(model))
        return Plot(fig)

    Chart.__name__ = Chart.__qualname__ = name
    Chart.__doc__ = doc
    return Chart


PricesChart = _timeseries_component("PricesChart", charts.prices_figure, "Spot and offtake prices.")
PipelineChart = _timeseries_component("PipelineChart", charts.pipeline_figure, "Capacity pipeline, stacked.")
UtilisationChart = _timeseries_component("UtilisationChart", charts.utilisation_figure,
                                         "Utilisation and unmet demand.")
ChipmakerChart = _timeseries_component("ChipmakerChart", charts.chipmaker_figure,
                                       "Chipmaker revenue, margin and backlog.")


@solara.component
def BalanceChart(model):
    """Cash and debt per firm, now."""
    update_counter.get()
    return Plot(charts.balance_sheet_figure(data.firms(model)))


@solara.component
def NetworkChart(model):
    """Who is tied to whom, with a switch between sizing by money and by GW."""
    update_counter.get()
    size_by, set_size_by = solara.use_state("busd")
    fig = charts.network_figure(data.nodes(model), model.links(), size_by=size_by)
    with solara.Div(style="position: relative; " + _CELL) as main:
        Plot(fig)
        with solara.Div(style="position: absolute; top: 6px; right: 8px; z-index: 2;"):
            solara.ToggleButtonsSingle(value=size_by, on_value=set_size_by, values=["busd", "gw"],
                                       dense=True, classes=["cm-network-size"])
    return main


@solara.component
def EventFeed(model):
    """Big contracts, defaults, acquisitions and moratoria, newest first."""
    update_counter.get()
    rows = charts.event_feed(model.event_log)
    with solara.Div(style=_CELL + " display: flex; flex-direction: column;", classes=["cm-events"]) as main:
        solara.Text("Events: big deals, defaults, acquisitions, moratoria",
                    style="font-weight: 500; font-size: 13px; padding: 6px 8px;")
        with solara.Div(style="overflow-y: auto; flex: 1; font-size: 12px; padding: 0 8px;"):
            if not rows:
                solara.Text("nothing notable yet", style="color: #888;")
            for r in rows:
                with solara.Row(gap="6px", style="border-bottom: 1px solid #eee; padding: 2px 0;",
                                classes=["cm-event"]):
                    solara.Text(r["date"], style="color: #666; min-width: 56px;")
                    solara.Text(r["icon"])
                    solara.Text(r["kind"], style="font-weight: 500; min-width: 90px;")
                    solara.Text(r["text"])
    return main


#: The grid of SolaraViz, in reading order (two per row).
COMPONENTS = [PricesChart, PipelineChart, UtilisationChart, ChipmakerChart, BalanceChart, NetworkChart, EventFeed]


# --------------------------------------------------------------------------- status
@solara.component
def Badges(labels: dict[str, bool]):
    """The run's labels as chips: red when the label holds so far."""
    with solara.Row(gap="4px", classes=["cm-badges"]) as main:
        for b in charts.label_badges(labels):
            solara.v.Chip(children=[b.text], small=True, color=b.color, label=True,
                          class_="cm-badge " + ("cm-badge-on" if b.active else "cm-badge-off"),
                          text_color="white" if b.active else None, attributes={"title": b.tooltip})
    return main


@solara.component
def Status(model: solara.Reactive):
    """Month counter and label badges for the app bar."""
    update_counter.get()
    m = model.value
    months = None
    cfg = getattr(m, "config", None) or getattr(m, "cfg", None)
    if cfg is not None:
        months = cfg.meta.months
    with solara.Row(gap="12px", style="align-items: center;") as main:
        solara.Text(f"Month {m.tick}" + (f"/{months}" if months else ""), classes=["cm-month"])
        solara.Text(str(m.date), classes=["cm-date"])
        Badges(m.current_labels())
    return main


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}"


@solara.component
def InEffect(model: solara.Reactive):
    """The parameters of the world being shown, read back from its configuration."""
    update_counter.get()
    m = model.value
    settings = data.settings_in_effect(m)
    page = getattr(m, "page_settings", {})
    lines = [f"**{page.get('scenario', '?')}**, seed {page.get('seed', '?')}"]
    units = {"demand_growth": " %/yr", "chip_supply_growth": " %/yr", "cost_of_capital": " %/yr",
             "lab_aggressiveness": "×", "permit_delay": "×"}
    for c in CONTROLS:
        if c.name in settings:
            short = c.label.split(" (")[0].split(":")[0]
            lines.append(f"{short}: <span class='cm-set-{c.name}'>{_fmt(settings[c.name])}{units.get(c.name, '')}</span>")
    solara.Markdown("  \n".join(lines), style="font-size: 12px;")


@solara.component
def ScenarioPicker(scenario: str, on_scenario: Callable[[str], None], names: Sequence[str],
                   describe: Callable[[str], str]):
    """Pick a scenario: loads it at once; sliders then start from its values."""
    with solara.Card("Scenario", margin=0, classes=["cm-scenario"]) as main:
        solara.Select("Scenario", values=list(names), value=scenario, on_value=on_scenario)
        try:
            text = describe(scenario)
        except Exception:  # a description is a nicety; never break the page for it
            text = ""
        if text:
            solara.Text(text, style="font-size: 12px; color: #666;")
        solara.Text("Move sliders or change the seed, then press Reset to rebuild the world.",
                    style="font-size: 12px; color: #666;")
    return main


# --------------------------------------------------------------------------- page
@solara.component
def LivePage(model_class: type, names: Sequence[str], load_config: Callable[[str], Any],
             describe: Callable[[str], str] = lambda name: "", name: str = "computemarket: one world, live"):
    """The whole page: a scenario picker above Mesa's SolaraViz, one model per browser session.

    ``model_class`` takes the control keywords of ``LiveModelMixin``; ``load_config(name)``
    returns the scenario config the sliders start from.
    """
    scenario, set_scenario = solara.use_state(DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0])
    # per session and per scenario: a fresh world whenever the scenario changes
    initial = solara.use_memo(lambda: model_class(scenario_name=scenario, seed=DEFAULT_SEED), [scenario])
    model = solara.use_reactive(initial)
    params = solara.use_memo(lambda: model_params(scenario, load_config(scenario), DEFAULT_SEED), [scenario])

    with solara.Sidebar():
        ScenarioPicker(scenario, set_scenario, names, describe)
    with solara.AppBar():
        Status(model)
    with solara.Column(style="padding: 0;") as main:
        SolaraViz(model, components=list(COMPONENTS), model_params=params, name=name,
                  play_interval=150).key(f"viz-{scenario}")
        with solara.Sidebar():
            with solara.Card("World in view", margin=0, classes=["cm-in-effect"]):
                InEffect(model)
    return main
