"""The live page without a browser: chart functions on hand-made data, controls, and the
Solara page rendered in-process (``solara.render``) and clicked like a user would.

The same page in a real Chromium is tested in tests/browser/.
"""

from __future__ import annotations

import argparse
import math
import socket

import numpy as np
import pytest

from sim.viz import charts
from sim.viz.controls import (CONTROLS, control_defaults, overrides_from_controls, parse_seed, settings_for,
                              slider_range)
from sim.viz.plot import PlotlyChart, figure_json

DATES3 = ["2025-01", "2025-02", "2025-03"]


def _series(**cols):
    return {k: list(v) for k, v in cols.items()}


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


# --------------------------------------------------------------------------- time-series charts
def test_month_axis_crosses_year_end():
    assert charts.month_axis("2025-11", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert charts.month_axis("2025-01", 0) == []


def test_prices_figure_one_point_per_month_with_gaps_for_missing_values():
    s = _series(spot_price=[1.0, float("nan"), 3.0], offtake_price=[2.0, 2.1])   # full_cost missing entirely
    fig = charts.prices_figure(s, DATES3)
    assert fig.layout.meta["chart"] == "prices" and fig.layout.height == charts.CHART_HEIGHT
    spot = _trace(fig, "spot ($B/eGW-month)")
    assert list(spot.x) == DATES3 and list(spot.y) == [1.0, None, 3.0]
    assert list(_trace(fig, "offtake ($B/GW-month)").y) == [None, 2.0, 2.1]     # aligned on the latest months
    assert list(_trace(fig, "full cost of new capacity").y) == [None, None, None]
    assert fig.layout.annotations[0].visible is False


def test_empty_world_shows_a_hint_instead_of_points():
    fig = charts.prices_figure({}, [])
    assert all(len(t.x) == 0 for t in fig.data)
    assert fig.layout.annotations[0].visible is True


def test_pipeline_is_stacked_operational_at_the_bottom():
    s = _series(gw_announced=[5, 6, 7], gw_permitting=[4, 4, 4], gw_interconnection=[3, 3, 3],
                gw_construction=[2, 2, 2], gw_operational=[10, 11, 12])
    fig = charts.pipeline_figure(s, DATES3)
    assert [t.name for t in fig.data] == ["operational", "construction", "interconnection", "permitting", "announced"]
    assert {t.stackgroup for t in fig.data} == {"pipeline"}
    assert list(fig.data[0].y) == [10, 11, 12] and list(fig.data[-1].y) == [5, 6, 7]


def test_utilisation_in_percent_and_unmet_demand_on_its_own_axis():
    fig = charts.utilisation_figure(_series(utilisation=[0.5, 0.75, 1.0], unmet_demand_egw=[0.0, 1.5, 3.0]), DATES3)
    assert list(fig.data[0].y) == [50.0, 75.0, 100.0]
    assert fig.data[1].yaxis == "y2" and list(fig.data[1].y) == [0.0, 1.5, 3.0]


def test_chipmaker_revenue_margin_and_backlog():
    s = _series(chipmaker_revenue_busd=[10, 12, 15], chipmaker_margin=[0.7, float("nan"), 0.75],
                chip_backlog_gw=[3, 4, 5])
    fig = charts.chipmaker_figure(s, DATES3)
    assert list(_trace(fig, "revenue ($B/month)").y) == [10, 12, 15]
    assert list(_trace(fig, "gross margin (%)").y) == [70.0, None, 75.0]
    backlog = _trace(fig, "backlog (GW)")
    assert backlog.yaxis == "y3" and list(backlog.y) == [3, 4, 5]
    assert len(fig.data) == 3   # no in-house chips in this world: no trace for them


def test_chipmaker_chart_shows_clouds_own_chips_when_there_are_some():
    s = _series(chipmaker_revenue_busd=[10, 12, 15], chipmaker_margin=[0.7, 0.7, 0.7], chip_backlog_gw=[3, 4, 5],
                in_house_chip_gw=[0.0, 0.25, 0.3])
    own = _trace(charts.chipmaker_figure(s, DATES3), "clouds' own chips (GW/month)")
    assert own.yaxis == "y3" and list(own.y) == [0.0, 0.25, 0.3]


# --------------------------------------------------------------------------- balance sheets and network
def test_balance_sheet_groups_labs_then_clouds_then_chipmaker():
    firms = [{"id": "chipmaker", "kind": "chipmaker", "cash_busd": 60, "debt_busd": 0},
             {"id": "neo", "kind": "neocloud", "cash_busd": 1, "debt_busd": 30},
             {"id": "lab_b", "kind": "lab", "cash_busd": 5, "debt_busd": 0},
             {"id": "lab_a", "kind": "lab", "cash_busd": 7, "debt_busd": 2}]
    fig = charts.balance_sheet_figure(firms)
    cash, debt = fig.data
    assert list(cash.x) == ["lab_a", "lab_b", "neo", "chipmaker"]
    assert list(cash.y) == [7, 5, 1, 60] and list(debt.y) == [2, 0, 30, 0]


LINKS = [
    {"source": "lab_a", "target": "hyper", "kind": "offtake", "busd": 100.0, "gw": 2.0},
    {"source": "lab_a", "target": "hyper", "kind": "offtake", "busd": 20.0, "gw": 0.5},
    {"source": "financier", "target": "neo", "kind": "loan", "busd": 30.0, "gw": 0.0},
    {"source": "chipmaker", "target": "neo", "kind": "guarantee", "busd": 15.0, "gw": 0.0},
    {"source": "chipmaker", "target": "lab_a", "kind": "equity", "busd": 10.0, "gw": 0.0},
]
NODES = [{"id": "lab_a", "kind": "lab"}, {"id": "hyper", "kind": "cloud"}, {"id": "neo", "kind": "cloud"},
         {"id": "chipmaker", "kind": "chipmaker"}, {"id": "financier", "kind": "financier"}]


def test_links_between_the_same_firms_are_summed():
    edges = charts.aggregate_links(LINKS)
    offtake = next(e for e in edges if e["kind"] == "offtake")
    assert (offtake["busd"], offtake["gw"], offtake["count"]) == (120.0, 2.5, 2)
    assert len(edges) == 4


def test_edge_width_grows_with_weight():
    widths = [charts.edge_width(w, 100.0) for w in (0.0, 1.0, 10.0, 40.0, 100.0)]
    assert widths == sorted(widths) and widths[0] == charts.EDGE_WIDTHS[0] and widths[-1] == charts.EDGE_WIDTHS[-1]


def test_network_sizes_nodes_by_money_or_gw_with_a_fixed_set_of_traces():
    by_money = charts.network_figure(NODES, LINKS, size_by="busd")
    empty = charts.network_figure(NODES, [])
    assert len(by_money.data) == len(empty.data)          # live updates restyle in place
    nodes = {t.name: t for t in by_money.data if t.mode == "markers+text"}
    sizes = dict(zip(nodes["clouds"].text, nodes["clouds"].marker.size))
    assert sizes["hyper"] > sizes["neo"]                  # 120 $B of contracts vs 45 $B of loans + guarantee
    by_gw = charts.network_figure(NODES, LINKS, size_by="gw")
    gw_sizes = dict(zip(*[[t for t in by_gw.data if t.name == "labs"][0][k] for k in ("text", "marker.size")]))
    assert gw_sizes["lab_a"] == pytest.approx(40.0)       # the only node with GW: the largest size
    shown = {t.legendgroup for t in by_money.data if t.mode == "lines" and t.showlegend}
    assert shown == {"offtake", "loan", "guarantee", "equity"}
    with pytest.raises(ValueError, match="size_by"):
        charts.network_figure(NODES, LINKS, size_by="people")


def test_ring_layout_is_stable_and_grouped_by_kind():
    a = charts.ring_layout(NODES)
    b = charts.ring_layout(list(reversed(NODES)))
    assert a == b
    assert all(math.isclose(x * x + y * y, 1.0) for x, y in a.values())


# --------------------------------------------------------------------------- events and labels
def _ev(tick, kind, amount=0.0, gw=0.0, party="p", cp=""):
    return {"tick": tick, "date": f"2025-{tick + 1:02d}", "kind": kind, "party": party, "counterparty": cp,
            "amount_busd": amount, "gw": gw, "detail": ""}


def test_event_feed_keeps_failures_and_big_deals_newest_first():
    events = [_ev(0, "contract_signed", 30.0, 0.3), _ev(1, "contract_signed", 150.0, 2.0, "lab", "cloud"),
              _ev(2, "permit_approved", 0.0, 1.0), _ev(3, "default", 12.0, party="neo"),
              _ev(4, "moratorium"), _ev(5, "acquisition", 500.0), _ev(6, "loan", 5.0)]
    rows = charts.event_feed(events)
    assert [r["kind"] for r in rows] == ["acquisition", "moratorium", "default", "contract signed"]
    assert [r["category"] for r in rows] == ["takeover", "regulation", "failure", "deal"]
    assert rows[-1]["text"] == "lab ↔ cloud 150.0 $B 2.00 GW"
    assert len(charts.event_feed(events, limit=2)) == 2


def test_label_badges_in_a_fixed_order_red_when_on():
    badges = charts.label_badges({"label_scarcity": True, "label_glut": False, "label_cascade": False,
                                  "label_consolidation": True})
    assert [b.text for b in badges] == ["glut", "scarcity", "default cascade", "consolidation"]
    assert [b.active for b in badges] == [False, True, False, True]
    assert badges[1].color == "error" and badges[0].color.startswith("grey")
    assert [b.text for b in charts.label_badges({"glut": True})] == ["glut"]


# --------------------------------------------------------------------------- controls
class FakeConfig:
    def __init__(self, **values):
        self.values = {"scale.lab_aggressiveness": 1.0, "scale.permit_delay": 1.0,
                       "market.demand_growth_per_year": 0.8, "chipmaker.supply_growth_per_year": 0.5,
                       "financier.base_rate": 0.043, "shocks.progress_stall.enabled": False,
                       "chipmaker.vendor_financing": True, **values}

    def get_path(self, path):
        return self.values[path]


def test_controls_show_scenario_values_in_display_units():
    shown = control_defaults(FakeConfig())
    assert shown == {"lab_aggressiveness": 1.0, "permit_delay": 1.0, "demand_growth": 80.0,
                     "chip_supply_growth": 50.0, "cost_of_capital": 4.3, "progress_stall": False,
                     "vendor_financing": True}
    assert settings_for("baseline", FakeConfig())["scenario"] == "baseline"
    assert all(c.label.endswith(")") for c in CONTROLS)     # every control names its unit or meaning


def test_only_moved_controls_become_overrides_in_scenario_units():
    cfg = FakeConfig()
    assert overrides_from_controls(cfg, control_defaults(cfg)) == {}
    moved = {**control_defaults(cfg), "cost_of_capital": 6.5, "demand_growth": 150.0, "progress_stall": True,
             "scenario": "baseline"}
    assert overrides_from_controls(cfg, moved) == {"financier.base_rate": 0.065,
                                                   "market.demand_growth_per_year": 1.5,
                                                   "shocks.progress_stall.enabled": True}
    assert overrides_from_controls(cfg, {"cost_of_capital": None}) == {}
    with pytest.raises(ValueError, match="unknown control 'wages'"):
        overrides_from_controls(cfg, {"wages": 3})


def test_slider_range_widens_to_fit_a_scenario_value():
    c = next(c for c in CONTROLS if c.name == "cost_of_capital")
    assert slider_range(c, 4.3) == (c.lo, c.hi)
    assert slider_range(c, 40.0) == (c.lo, 40.0)


def test_seed_must_be_a_non_negative_whole_number():
    assert parse_seed(" 7 ") == 7 and parse_seed(3) == 3
    for bad in ("abc", "1.5", -1, 2**63):
        with pytest.raises(ValueError, match="seed: expected a whole number"):
            parse_seed(bad)


# --------------------------------------------------------------------------- the Plotly widget
def test_figure_json_is_plain_json_with_gaps_for_nan():
    spec = {"data": [{"type": "scatter", "x": np.array([1, 2]), "y": (1.0, float("nan"))}], "layout": {"height": 5}}
    out = figure_json(spec)
    assert out == {"data": [{"type": "scatter", "x": [1, 2], "y": [1.0, None]}], "layout": {"height": 5}}
    assert figure_json(charts.prices_figure(_series(spot_price=[1.0]), ["2025-01"]))["layout"]["meta"] == {"chart": "prices"}
    w = PlotlyChart(figure=out)
    assert w.figure["layout"]["height"] == 5 and "Plotly.react" in w._esm


# --------------------------------------------------------------------------- the command line
def test_viz_subcommand_defaults_to_loopback():
    from sim import cli_viz

    parser = argparse.ArgumentParser()
    cli_viz.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["viz"])
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    cmd = cli_viz.server_command("127.0.0.1", 9999)
    assert str(cli_viz.APP) in cmd and cmd[cmd.index("--port") + 1] == "9999" and "--no-open" in cmd
    assert cli_viz.APP.name == "app.py" and cli_viz.APP.exists()
    assert cli_viz.server_env({})["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_viz_refuses_a_busy_or_impossible_port():
    from sim import cli_viz
    from sim.config import ConfigError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        with pytest.raises(ConfigError, match="--port: cannot listen"):
            cli_viz._check_port("127.0.0.1", busy)
    with pytest.raises(ConfigError, match="between 1 and 65535"):
        cli_viz._check_port("127.0.0.1", 70000)


# --------------------------------------------------------------------------- the page, in-process
@pytest.fixture(scope="module")
def app():
    import sim.app

    return sim.app


def _render(app, page=None):
    import solara

    box, rc = solara.render(solara.AppLayout(children=[page or app.Page()]), handle_error=False)
    return rc


def _text(rc, cls):
    import ipyvuetify as v

    return "".join(rc.find(v.Html, class_=cls).widget.children)


def _click(rc, label, times=1):
    import ipyvuetify as v

    button = rc.find(v.Btn, children=[label]).widget
    for _ in range(times):
        button.click()


def _points(rc):
    return {w.figure["layout"]["meta"]["chart"]: len(w.figure["data"][0].get("x", []))
            for w in rc.find(PlotlyChart).widgets}


def test_live_model_applies_only_changed_settings(app):
    m = app.LiveModel(settings={"scenario": "baseline", "cost_of_capital": 6.0, "permit_delay": 1.0}, seed="5")
    assert m.cfg.financier.base_rate == pytest.approx(0.06)
    assert m.page_settings["overrides"] == {"financier.base_rate": 0.06}
    assert m.page_settings["seed"] == 5 and m.page_settings["problem"] == ""


def test_a_bad_seed_is_reported_on_the_page_not_fatal(app):
    import ipyvuetify as v

    rc = _render(app)
    seed_box = rc.find(v.TextField).widget          # the only text box: Mesa's seed input
    assert seed_box.label.startswith("Seed")
    seed_box.v_model = "x1"
    seed_box.fire_event("keyup.enter", None)
    _click(rc, "Reset")
    assert "seed: expected a whole number" in _text(rc, "cm-problem") and "used 42" in _text(rc, "cm-problem")
    _click(rc, "Step")
    assert _text(rc, "cm-month") == "Month 1/120"


def test_five_steps_add_five_points_to_every_time_series(app):
    rc = _render(app)
    assert _text(rc, "cm-month") == "Month 0/120"
    before = _points(rc)
    _click(rc, "Step", 5)
    after = _points(rc)
    assert _text(rc, "cm-month") == "Month 5/120" and _text(rc, "cm-date") == "2025-05"
    for chart in charts.TIMESERIES_CHARTS:
        assert after[chart] == before[chart] + 5 == 5
    assert {"balance", "network"} <= set(after)


def test_slider_change_and_reset_rebuild_the_world_with_the_new_value(app):
    import ipyvuetify as v

    rc = _render(app)
    _click(rc, "Step", 2)
    slider = rc.find(v.Html, class_="cm-ctl-cost_of_capital").find(v.Slider).widget
    slider.v_model = 7.5
    assert "Press Reset" in _text(rc, "cm-pending")
    assert _text(rc, "cm-set-cost_of_capital") == "base rate 4.3 %/yr"      # not applied before Reset
    _click(rc, "Reset")
    assert _text(rc, "cm-month") == "Month 0/120"
    assert _text(rc, "cm-set-cost_of_capital") == "base rate 7.5 %/yr"
    assert not rc.find(v.Html, class_="cm-pending").widgets


def test_each_page_has_its_own_model(app):
    first, second = _render(app), _render(app)
    _click(first, "Step", 3)
    assert _text(first, "cm-month") == "Month 3/120"
    assert _text(second, "cm-month") == "Month 0/120"


def test_picking_a_scenario_loads_it_with_its_own_slider_values(app, tmp_path):
    import re

    import ipyvuetify as v

    from sim.config import load_scenario, scenario_path
    from sim.viz.components import LivePage

    cheap = tmp_path / "cheap_money.toml"
    text = scenario_path("baseline").read_text()
    cheap.write_text(re.sub(r"(?m)^base_rate\s*=.*$", "base_rate = 0.01", text, count=1))
    assert load_scenario(cheap).financier.base_rate == pytest.approx(0.01)
    rc = _render(app, LivePage(app.LiveModel, ["baseline", str(cheap)], load_scenario))
    _click(rc, "Step", 2)
    rc.find(v.Select, label="Scenario").widget.v_model = str(cheap)
    assert _text(rc, "cm-month") == "Month 0/120"
    assert _text(rc, "cm-set-cost_of_capital") == "base rate 1 %/yr"
    assert _text(rc, "cm-val-cost_of_capital") == "1"
    _click(rc, "Step")
    assert _text(rc, "cm-month") == "Month 1/120"


def test_the_charts_show_the_worlds_own_numbers_and_watching_changes_nothing(app):
    from sim.model import ComputeMarketModel

    rc = _render(app)
    _click(rc, "Step", 6)
    prices = next(w.figure for w in rc.find(PlotlyChart).widgets if w.figure["layout"]["meta"]["chart"] == "prices")
    plain = ComputeMarketModel(scenario="baseline", rng=42)     # the page's default world, not watched
    for _ in range(6):
        plain.step()
    assert prices["data"][0]["y"] == pytest.approx(plain.series["spot_price"])
    assert prices["data"][0]["x"] == charts.month_axis(plain.cfg.meta.start, 6)


def test_every_figure_passes_plotlys_validation():
    import plotly.graph_objects as go

    s = _series(spot_price=[1.0], offtake_price=[1.0], full_cost=[1.0], spot_price_usd_gpu_hour=[2.0],
                gw_announced=[1.0], utilisation=[0.9], unmet_demand_egw=[0.0], chipmaker_revenue_busd=[1.0],
                chipmaker_margin=[0.7], chip_backlog_gw=[1.0])
    specs = [charts.prices_figure.spec(s, ["2025-01"]), charts.pipeline_figure.spec(s, ["2025-01"]),
             charts.utilisation_figure.spec(s, ["2025-01"]), charts.chipmaker_figure.spec(s, ["2025-01"]),
             charts.balance_sheet_figure.spec([{"id": "a", "kind": "lab", "cash_busd": 1, "debt_busd": 0}]),
             charts.network_figure.spec(NODES, LINKS)]
    for spec in specs:
        go.Figure(spec)                                   # validating: raises on a misspelt property
        go.Figure(charts.for_page(spec, 300))
        assert charts.title_of(spec) and charts.legend_items(spec)
