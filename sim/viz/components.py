"""Solara components of the live page: Plotly charts, event feed, label badges, settings panel.

``LivePage`` is the page: the settings panel, Mesa's SolaraViz (app bar,
play/step/reset, intervals, seed box) and ``Dashboard`` (status line, charts,
events). ``Dashboard`` alone listens to Mesa's step counter
(``mesa.visualization.utils.update_counter``, kept per browser session by
Solara) and hands the month down to the charts. ``LivePage`` keeps one model per
browser session: nothing here lives at module level except constants and
component definitions.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.viz import charts, data
from sim.viz.controls import CONTROLS, overrides_from_controls, parse_seed, settings_for, slider_range
from sim.viz.plot import LivePlot

DEFAULT_SCENARIO = "baseline"
DEFAULT_SEED = 42

_SMALL = "font-size: 12px; color: #666;"


class LiveModelMixin:
    """Builds the simulated world from the page's settings.

    Mix in before the model class: ``class LiveModel(LiveModelMixin, ComputeMarketModel)``.
    Mesa's Reset re-creates the model as ``type(model)(**params)`` with the
    parameters of SolaraViz's ``model_params``: here the page's settings (a
    dict, or a Solara reactive holding one, read when Reset is pressed) and the
    seed typed in Mesa's "Model Parameters" card. Controls equal to the
    scenario's own values are left alone; the others become dotted-path overrides.
    """

    def __init__(self, settings: Mapping[str, Any] | Any = None, seed: int | str = DEFAULT_SEED):
        from sim.config import load_scenario

        if settings is not None and hasattr(settings, "value"):  # a solara.Reactive from the page
            settings = settings.value
        settings = dict(settings or {})
        scenario = settings.get("scenario", DEFAULT_SCENARIO)
        overrides = overrides_from_controls(load_scenario(scenario), settings)
        try:
            rng, problem = parse_seed(seed), ""
        except ValueError as exc:   # a typo in the seed box must not take the page down: say so instead
            rng, problem = DEFAULT_SEED, f"{exc}; used {DEFAULT_SEED}"
        super().__init__(scenario=scenario, overrides=overrides or None, rng=rng)
        #: what the page asked for: scenario, seed, the overrides applied and the settings they came from,
        #: and any input that could not be used
        self.page_settings = {"scenario": scenario, "seed": rng, "overrides": overrides, "settings": settings,
                              "problem": problem}


# --------------------------------------------------------------------------- charts
# Only ``Dashboard`` subscribes to Mesa's step counter: Solara runs one render
# pass per subscribed component, so the charts below get the month as a prop.

#: Height of a plot inside its panel (the panel adds a header with the title and legend).
PLOT_HEIGHT = charts.CHART_HEIGHT - 44


@solara.component
def Panel(children=[], classes: Sequence[str] = (), height: int = charts.CHART_HEIGHT):
    """A white, bordered cell of the chart grid."""
    return solara.Div(children=children, classes=["cm-panel", *classes],
                      style=f"height: {height + 8}px; overflow: hidden; background: white; border-radius: 4px; "
                            "box-shadow: 0 1px 3px rgba(0,0,0,0.15); padding: 4px 6px;")


_SWATCH = {
    "line": "width: 16px; height: 0; border-top: 2px solid {c};",
    "dash": "width: 16px; height: 0; border-top: 2px dotted {c};",
    "area": "width: 12px; height: 10px; background: {c};",
    "dot": "width: 9px; height: 9px; border-radius: 50%; background: {c};",
}


def legend_html(items: Sequence[Mapping[str, str]]) -> str:
    """A static HTML legend: a coloured swatch and a name per item."""
    def swatch(item: Mapping[str, str]) -> str:
        return _SWATCH.get(item["style"], _SWATCH["line"]).format(c=html.escape(item["color"]))

    return "".join(
        f"<span style='display: inline-flex; align-items: center; gap: 4px; margin-right: 10px;'>"
        f"<span style='display: inline-block; {swatch(i)}'></span>{html.escape(i['name'])}</span>" for i in items)


@solara.component
def ChartHeader(title: str, items: Sequence[Mapping[str, str]]):
    """Title and legend of a chart: plain HTML, re-sent only when they change."""
    with solara.Div(style="min-height: 38px; padding: 2px 2px 4px 2px;") as main:
        solara.Text(title, style="font-weight: 500; font-size: 13px; color: #2a3f5f;")
        solara.HTML(tag="div", unsafe_innerHTML=legend_html(items),
                    style="font-size: 11px; color: #444; line-height: 16px;")
    return main


@solara.component
def ChartPanel(spec: dict, name: str):
    """One chart on the page: HTML header with title and legend, then the Plotly figure."""
    with Panel(classes=[f"cm-chart-{name}"]) as main:
        ChartHeader(charts.title_of(spec), charts.legend_items(spec))
        LivePlot(charts.for_page(spec, PLOT_HEIGHT))
    return main


SERIES_CHARTS = {"prices": charts.prices_figure.spec, "pipeline": charts.pipeline_figure.spec,
                 "utilisation": charts.utilisation_figure.spec, "chipmaker": charts.chipmaker_figure.spec}


@solara.component
def SeriesChart(model, tick: int, name: str):
    """One of the time-series charts (``SERIES_CHARTS``): one point per simulated month."""
    return ChartPanel(SERIES_CHARTS[name](model.series, data.series_dates(model)), name)


@solara.component
def BalanceChart(model, tick: int):
    """Cash and debt per firm, now."""
    return ChartPanel(charts.balance_sheet_figure.spec(data.firms(model)), "balance")


@solara.component
def NetworkChart(model, tick: int):
    """Who is tied to whom, with a switch between sizing by money and by GW."""
    size_by, set_size_by = solara.use_state("busd")
    spec = charts.network_figure.spec(data.nodes(model), model.links(), size_by=size_by)
    with solara.Div(style="position: relative;") as main:
        ChartPanel(spec, "network")
        with solara.Div(style="position: absolute; top: 4px; right: 8px; z-index: 2;"):
            with solara.ToggleButtonsSingle(value=size_by, on_value=set_size_by, classes=["cm-network-size"]):
                solara.Button("$B", value="busd", text=True, small=True)
                solara.Button("GW", value="gw", text=True, small=True)
    return main


def _events_html(rows: Sequence[Mapping[str, str]]) -> str:
    if not rows:
        return "<div style='color: #888;'>nothing notable yet</div>"
    cells = "".join(
        "<tr class='cm-event'>"
        f"<td style='color:#666; white-space:nowrap; padding-right:8px;'>{html.escape(r['date'])}</td>"
        f"<td title='{html.escape(r['category'])}'><span style='display: inline-block; width: 9px; height: 9px; "
        f"border-radius: 50%; background: {html.escape(r['color'])};'></span></td>"
        f"<td style='font-weight:500; white-space:nowrap; padding-right:8px;'>{html.escape(r['kind'])}</td>"
        f"<td>{html.escape(r['text'])}</td></tr>"
        for r in rows)
    return f"<table style='border-collapse: collapse; width: 100%;'>{cells}</table>"


@solara.component
def EventFeed(model, tick: int):
    """Big contracts, defaults, acquisitions and moratoria, newest first."""
    rows = charts.event_feed(model.event_log)
    with Panel(classes=["cm-events"]) as main:
        with solara.Div(style="display: flex; flex-direction: column; height: 100%;"):
            solara.Text("Events: big deals, defaults, acquisitions, moratoria (newest first)",
                        style="font-weight: 500; font-size: 13px; padding: 4px;")
            # one HTML element rather than a component per row: cheap to re-render every month
            solara.HTML(tag="div", unsafe_innerHTML=_events_html(rows),
                        style="overflow-y: auto; flex: 1; font-size: 12px; padding: 0 4px;")
    return main


@solara.component
def Dashboard(model: solara.Reactive):
    """Status line and chart grid of the world in view; redrawn after every step and reset."""
    counter = update_counter.get()
    m = model.value
    tick = int(getattr(m, "tick", 0))
    with solara.Column(style="padding: 8px 12px; gap: 10px;", classes=["cm-dashboard"]) as main:
        Status(m, tick, counter)
        with solara.Div(style="display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); "
                              "gap: 12px;"):
            for name in SERIES_CHARTS:
                SeriesChart(m, tick, name)
            BalanceChart(m, tick)
            NetworkChart(m, tick)
        EventFeed(m, tick)
    return main


# --------------------------------------------------------------------------- status
@solara.component
def Badges(labels: Mapping[str, bool]):
    """The run's labels as chips: red when the label holds over the months so far."""
    with solara.Row(gap="4px", classes=["cm-badges"]) as main:
        for b in charts.label_badges(labels):
            solara.v.Chip(children=[b.text], small=True, label=True, color=b.color,
                          text_color="white" if b.active else None, attributes={"title": b.tooltip},
                          class_="cm-badge " + ("cm-badge-on" if b.active else "cm-badge-off"))
    return main


def _fmt(value: Any, unit: str = "") -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}{unit}"


_UNITS = {"lab_aggressiveness": "×", "permit_delay": "×", "demand_growth": " %/yr",
          "chip_supply_growth": " %/yr", "cost_of_capital": " %/yr"}
_SHORT = {"lab_aggressiveness": "aggressiveness", "permit_delay": "permit delay", "demand_growth": "demand growth",
          "chip_supply_growth": "chip supply growth", "cost_of_capital": "base rate",
          "progress_stall": "progress stall", "vendor_financing": "vendor financing"}


@solara.component
def Status(m, tick: int, counter: int):
    """Month counter, label badges and the settings of the world in view (read back from its config).

    ``counter`` is Mesa's step counter: a new value re-renders the line even when the month is unchanged."""
    months = data.horizon(m)
    dates = data.series_dates(m)
    page = getattr(m, "page_settings", {})
    settings = data.settings_in_effect(m)
    with solara.Row(gap="10px", style="align-items: center; flex-wrap: wrap;", classes=["cm-status"]) as main:
        solara.Text(f"Month {tick}" + (f"/{months}" if months else ""), classes=["cm-month"],
                    style="font-weight: 600; font-size: 16px;")
        solara.Text(dates[-1] if dates else f"starts {m.date}", classes=["cm-date"], style="font-size: 16px;")
        Badges(m.current_labels())
        with solara.Row(gap="8px", style=_SMALL + " flex-wrap: wrap;", classes=["cm-in-effect"]):
            solara.Text(f"{page.get('scenario', '')} · seed {page.get('seed', '')}", classes=["cm-set-scenario"])
            if page.get("problem"):
                solara.Text(page["problem"], classes=["cm-problem"], style="color: #c62828;")
            for c in CONTROLS:
                if c.name in settings:
                    solara.Text(f"{_SHORT[c.name]} {_fmt(settings[c.name], _UNITS.get(c.name, ''))}",
                                classes=[f"cm-set-{c.name}"])
    return main


# --------------------------------------------------------------------------- settings
@solara.component
def SettingsPanel(settings: solara.Reactive, names: Sequence[str], on_scenario: Callable[[str], None],
                  describe: Callable[[str], str], applied: Mapping[str, Any]):
    """Scenario picker, sliders and switches with their values and units.

    Picking a scenario loads it at once with its own values; slider and switch
    changes apply when Reset is pressed (``applied`` is what the shown world uses).
    """
    current = settings.value
    scenario = current.get("scenario", names[0])

    def setter(name: str):
        def set_value(value: Any) -> None:
            settings.value = {**settings.value, name: value}
        return set_value

    with solara.Card("World", margin=0, classes=["cm-settings"]) as main:
        solara.Select("Scenario", values=list(names), value=scenario, on_value=on_scenario)
        try:
            text = describe(scenario)
        except Exception:  # a description is a nicety; never break the page for it
            text = ""
        if text:
            solara.Text(text, style=_SMALL)
        for c in CONTROLS:
            value = current.get(c.name)
            if c.kind == "bool":
                solara.Switch(label=c.label, value=bool(value), on_value=setter(c.name), classes=[f"cm-ctl-{c.name}"])
                continue
            lo, hi = slider_range(c, float(value))
            with solara.Div(classes=[f"cm-ctl-{c.name}"], style="margin-top: 6px;"):
                with solara.Row(justify="space-between", style="font-size: 13px;"):
                    solara.Text(c.label)
                    solara.Text(_fmt(float(value)), classes=[f"cm-val-{c.name}"], style="font-weight: 600;")
                solara.SliderFloat("", value=float(value), min=lo, max=hi, step=c.step, on_value=setter(c.name))
        pending = [c.name for c in CONTROLS
                   if applied.get(c.name) is not None and current.get(c.name) != applied.get(c.name)]
        if pending:
            solara.Text(f"Changed: {', '.join(_SHORT[n] for n in pending)}. Press Reset to rebuild the world.",
                        style="font-size: 12px; color: #c62828;", classes=["cm-pending"])
        else:
            solara.Text("Change values, then press Reset to rebuild the world.", style=_SMALL)
    return main


# --------------------------------------------------------------------------- page
@solara.component
def LivePage(model_class: type, names: Sequence[str], load_config: Callable[[str], Any],
             describe: Callable[[str], str] = lambda name: "", name: str = "computemarket: one world, live"):
    """The whole page, one model per browser session: settings, Mesa's SolaraViz controls, dashboard.

    ``model_class`` is a ``LiveModelMixin`` model; ``load_config(name)`` gives the
    scenario config the controls start from; ``names`` lists the scenarios.
    """
    first = DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0]
    settings = solara.use_reactive(solara.use_memo(lambda: settings_for(first, load_config(first)), []))
    # a new generation (new world, fresh SolaraViz state) each time a scenario is picked
    generation, set_generation = solara.use_state(0)
    seed, set_seed = solara.use_state(DEFAULT_SEED)
    initial = solara.use_memo(lambda: model_class(settings=settings.value, seed=seed), [generation])
    model = solara.use_reactive(initial)

    def pick_scenario(scenario: str) -> None:
        set_seed(getattr(model.value, "page_settings", {}).get("seed", DEFAULT_SEED))
        settings.value = settings_for(scenario, load_config(scenario))
        set_generation(generation + 1)

    params = {"settings": settings,
              "seed": {"type": "InputText", "value": str(seed), "label": "Seed (integer, applied on Reset)"}}
    applied = getattr(model.value, "page_settings", {}).get("settings", {})

    with solara.Column(style="padding: 0; gap: 0;") as main:
        with solara.Sidebar():
            SettingsPanel(settings, names, pick_scenario, describe, applied)
        # SolaraViz brings the app bar, play/step/reset, the intervals and the seed box;
        # the charts are laid out by Dashboard (see docs/viz.md for why not SolaraViz's grid)
        SolaraViz(model, components=[], model_params=params, name=name,
                  play_interval=150).key(f"viz-{generation}")
        Dashboard(model)
    return main
