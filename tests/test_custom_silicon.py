"""The optional second supplier: clouds' in-house accelerators (sim/config.py CustomSilicon)."""

import subprocess
import sys
from pathlib import Path

import pytest

from sim.config import ConfigError, load_scenario
from sim.economics import full_cost_per_gw_month
from sim.model import ComputeMarketModel
from tests.test_invariants import run_checked

SCENARIOS = Path(__file__).resolve().parent.parent / "experiments" / "scenarios"


def _world(overrides=None, seed=0, months=60, scenario="custom_silicon"):
    cfg = load_scenario(scenario)
    if overrides:
        cfg = cfg.with_overrides(overrides)
    return ComputeMarketModel(config=cfg, rng=seed, months=months)


def _paid(m, kind, dst):
    j = m.ledger.index[dst]
    return sum(amt for _t, _i, jj, amt, k, _r in m.ledger.log if k == kind and jj == j)


def test_a_build_of_an_owner_orders_its_share_in_house_at_cost_and_the_rest_from_the_chipmaker():
    m = _world(months=1)   # as built: the start's projects under construction have ordered their chips
    cs, price = m.cfg.custom_silicon, m.chipmaker.price()
    in_transit = [d for ds in m.deliveries.values() for d in ds]   # shipped before the start, arriving in months 0-2

    def ordered(pr, orders, supplier):   # GW still on order + GW in transit, from one supplier
        return (sum(o.remaining for o in orders if o.project is pr)
                + sum(gw for p, gw, _price, s in in_transit if p is pr and s == supplier))

    pr = next(p for p in m.projects if p.cloud == "hyper_c" and p.status == "construction")
    assert ordered(pr, m.custom_orders, "foundry") == pytest.approx(0.6 * pr.gw)
    assert ordered(pr, m.chip_orders, "chipmaker") == pytest.approx(0.4 * pr.gw)
    assert {o.price for o in m.custom_orders if o.project is pr} == {cs.unit_cost_busd_per_gw}
    # a cloud without a programme buys every chip from the chipmaker
    other = next(p for p in m.projects if p.cloud == "hyper_a" and p.status == "construction")
    assert ordered(other, m.custom_orders, "foundry") == 0.0
    assert ordered(other, m.chip_orders, "chipmaker") == pytest.approx(other.gw)
    # what its chips cost it: 0.6 x 10 + 0.4 x the chipmaker's price
    assert m.chip_price_for("hyper_c") == pytest.approx(0.6 * 10.0 + 0.4 * price)
    assert m.chip_price_for("hyper_a") == price
    tech = m.cfg.technology
    assert m.capex_per_gw("hyper_c") == pytest.approx(tech.shell_capex_busd_per_gw + tech.other_capex_busd_per_gw
                                                      + 0.6 * 10.0 + 0.4 * price)


def test_owners_quote_and_build_on_their_own_lower_full_cost():
    m = _world(months=1)
    tech, wacc = m.cfg.technology, m.wacc
    own_gw, own_egw = m.full_costs_of(m.clouds_by_id["hyper_c"])
    expected = full_cost_per_gw_month(m.chip_price_for("hyper_c"), tech.shell_capex_busd_per_gw,
                                      tech.other_capex_busd_per_gw, wacc, tech.useful_life_months,
                                      tech.shell_life_months, tech.opex_busd_per_gw_month)
    assert own_gw == pytest.approx(expected)
    assert own_egw == pytest.approx(expected / m.frontier_efficiency)
    assert own_gw < m.full_cost_gw
    assert m.full_costs_of(m.clouds_by_id["hyper_a"]) == (m.full_cost_gw, m.full_cost_egw)
    c = m.clouds_by_id["hyper_c"]
    assert c.quote(own_gw, own_egw) < c.quote(m.full_cost_gw, m.full_cost_egw)


def test_in_house_chips_are_paid_to_the_foundry_at_cost_and_the_chipmaker_sells_only_the_rest():
    m = _world(seed=3, months=48)
    while m.running:
        m.step()
    cost = m.cfg.custom_silicon.unit_cost_busd_per_gw
    assert m.cum_custom_gw > 1.0 and m.cum_merchant_gw > 1.0
    # every in-house GW delivered was paid for at unit cost (owners are hyperscalers with cash: nothing unpaid)
    assert _paid(m, "chip_purchase", "foundry") == pytest.approx(m.cum_custom_gw * cost, rel=1e-9)
    assert _paid(m, "chip_purchase", "chipmaker") == pytest.approx(m.chipmaker.cum_revenue_busd, rel=1e-9)
    assert sum(m.series["in_house_chip_gw"]) == pytest.approx(m.cum_custom_gw, rel=1e-9)
    share = m.outcomes()["in_house_chip_share"]
    assert share == pytest.approx(m.cum_custom_gw / (m.cum_custom_gw + m.cum_merchant_gw))
    # only owners get them
    owners = {"hyper_c", "hyper_b"}
    assert {o.cloud for o in m.custom_orders} <= owners
    j = m.ledger.index["foundry"]
    payers = {m.ledger.names[i] for _t, i, jj, _a, k, _r in m.ledger.log if k == "chip_purchase" and jj == j}
    assert payers <= owners | {f"{o}:construction_fund" for o in owners}


def test_the_programme_ships_no_more_than_it_makes():
    """With a tiny programme the owners' in-house orders queue: each month's deliveries are at most the
    output allocated (growing on plan) `delivery_lag_months` earlier."""
    m = _world({"custom_silicon.supply_gw_per_month": 0.01}, seed=1, months=36)
    cs = m.cfg.custom_silicon
    while m.running:
        m.step()
    lag = cs.delivery_lag_months

    def made(t):   # output of month t (before the start for t < 0: in transit at it)
        return cs.supply_gw_per_month * (1 + cs.supply_growth_per_year) ** (t / 12)

    got = m.series["in_house_chip_gw"]
    for t in range(36):
        assert got[t] <= made(t - lag) + 1e-9
    assert got[-1] == pytest.approx(made(35 - lag))   # short of output, the programme ships all it makes
    assert sum(o.remaining for o in m.custom_orders) > 1.0   # the rest still on order


def test_in_house_orders_do_not_raise_the_chipmakers_price():
    """Every cloud makes all its chips in-house from a programme far too small for them: a long in-house
    queue builds up, but the chipmaker has no orders, so its price stays at list (no scarcity markup)
    and it sells nothing."""
    over = {f"clouds.{c}.in_house_chip_share": 1.0 for c in load_scenario("baseline").clouds}
    m = _world({**over, "custom_silicon.supply_gw_per_month": 0.02}, seed=0, months=12)
    while m.running:
        m.step()
        assert not m.chip_orders and m.chipmaker.backlog_gw() == 0.0
        assert m.chipmaker.price() == m.cfg.chipmaker.price_busd_per_gw
    assert sum(o.remaining for o in m.custom_orders) > 12 * m.custom_output_gw
    assert m.chipmaker.cum_revenue_busd == 0.0 and m.cum_merchant_gw == 0.0


def test_without_owners_nothing_is_made_in_house():
    m = _world(seed=2, months=24, scenario="baseline")
    while m.running:
        m.step()
    assert not m.custom_orders and m.cum_custom_gw == 0.0
    assert _paid(m, "chip_purchase", "foundry") == 0.0
    assert m.outcomes()["in_house_chip_share"] == 0.0
    assert set(m.series["in_house_chip_gw"]) == {0.0}


@pytest.mark.parametrize("seed", [0, 1])
def test_invariants_with_in_house_chips(seed):
    """Every month: money conserved, funds consistent, capacity identity, legal transitions; also when the
    programme is short of output and a fully in-house owner (share 1) takes nothing from the chipmaker."""
    over = {"clouds.hyper_c.in_house_chip_share": 1.0, "custom_silicon.supply_gw_per_month": 0.05}
    m = run_checked(_world(over if seed else None, seed=seed, months=72))
    if seed:
        assert not [o for o in m.chip_orders if o.cloud == "hyper_c"]


@pytest.mark.parametrize("over, field, allowed", [
    ({"clouds.hyper_c.in_house_chip_share": 1.5}, "clouds.hyper_c.in_house_chip_share", "less than or equal to 1"),
    ({"custom_silicon.supply_gw_per_month": 0.0}, "custom_silicon.supply_gw_per_month", "must be > 0"),
    ({"custom_silicon.supply_gw_per_month": -1.0}, "custom_silicon.supply_gw_per_month", "greater than or equal to 0"),
])
def test_bad_programme_is_a_one_line_error(over, field, allowed):
    with pytest.raises(ConfigError) as e:
        load_scenario("custom_silicon").with_overrides(over)
    msg = str(e.value)
    assert "\n" not in msg and field in msg and allowed in msg


def test_bad_programme_in_a_file_from_the_command_line(tmp_path):
    text = (SCENARIOS / "custom_silicon.toml").read_text().replace("in_house_chip_share = 0.4", "in_house_chip_share = 4")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    r = subprocess.run([sys.executable, "-m", "sim", "run", str(bad), "--months", "3"], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "clouds.hyper_b.in_house_chip_share" in lines[0], r.stderr
