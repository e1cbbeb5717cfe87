"""Invariants checked on every month of many random worlds drawn from the schema's ranges."""

import numpy as np
import pytest

from sim.config import load_scenario
from sim.ledger import TRANSITIONS
from sim.model import PIPELINE, ComputeMarketModel

RANGES = {   # dotted path -> (low, high), inside the schema's allowed ranges
    "market.demand_growth_per_year": (0.0, 2.5),
    "scale.lab_aggressiveness": (0.3, 3.0),
    "scale.permit_delay": (0.2, 3.0),
    "chipmaker.supply_growth_per_year": (0.0, 1.5),
    "financier.base_rate": (0.0, 0.12),
    "financier.capital_inflow_busd_per_month": (0.0, 60.0),
    "financier.sentiment0": (0.0, 1.0),
    "market.take_or_pay_share": (0.0, 1.0),
    "clouds.landlord.spec_appetite": (0.0, 3.0),
    "clouds.neocloud.max_leverage": (0.2, 0.95),
    "labs.frontier_a.risk_tolerance": (0.2, 5.0),
}


def random_overrides(rng: np.random.Generator) -> dict:
    ov = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in RANGES.items()}
    ov["chipmaker.vendor_financing"] = bool(rng.random() < 0.5)
    ov["shocks.progress_stall.enabled"] = bool(rng.random() < 0.3)
    ov["shocks.efficiency.enabled"] = bool(rng.random() < 0.3)
    return ov


def check_month(m: ComputeMarketModel, start_total: float) -> None:
    led = m.ledger
    # money: conserved across all accounts, balances derive from the log, agents change only by external flows
    assert abs(led.total()) < 1e-6
    assert np.allclose(led.replay(), led.balances, atol=1e-6)
    assert led.agents_total() - start_total == pytest.approx(led.external_net_inflow(), abs=1e-6)
    for name, bal, ext in zip(led.names, led.balances, led.is_external):
        if not ext:
            assert bal >= -1e-9, f"{name} has negative cash {bal}"
    # a cloud's construction fund holds exactly its projects' unspent loan proceeds; a defaulted one holds none
    held: dict[str, float] = {}
    for rid, rec in m.book.records.items():
        if m.book.kinds[rid] == "project":
            assert rec.fund_busd >= -1e-9, f"{rid} overdrew its construction fund"
            held[rec.cloud] = held.get(rec.cloud, 0.0) + rec.fund_busd
    for c in m.clouds:
        assert c.fund_busd == pytest.approx(held.get(c.uid, 0.0), abs=1e-6), f"{c.uid} construction fund"
        if c.defaulted:
            assert c.fund_busd == pytest.approx(0.0, abs=1e-6)
    # a loan's principal unpaid during a month is paid late (reducing the loan) or claimed at a default by the
    # month's end: no open loan carries arrears into the next month
    for ls in m.loans.values():
        for l in ls:
            if l.status == "active":
                assert l.arrears <= 1e-9, f"{l.id} carries {l.arrears} of unpaid principal"
    # the equity stakes held in a firm are never more than the whole firm (rounds dilute earlier holders)
    shares_held: dict[str, float] = {}
    for s in m.stakes:
        if s.status == "held":
            shares_held[s.firm] = shares_held.get(s.firm, 0.0) + s.share
    for firm, share in shares_held.items():
        assert share <= 1.0 + 1e-9, f"stakes held in {firm} add up to {share}"
    # capacity never negative; pipeline sizes positive
    for c in m.clouds:
        assert c.fleet_gw >= -1e-12
    for p in m.projects:
        assert p.gw > 0
    # a defaulted (or acquired) firm holds no open contracts or loans
    for f in list(m.labs) + list(m.clouds):
        if not f.alive:
            ks = m.contracts_lab.get(f.uid, []) if f.kind == "lab" else m.contracts_cloud.get(f.uid, [])
            assert not [k for k in ks if k.status in ("signed", "active")], f"{f.uid} holds contracts"
            if f.defaulted:
                assert not [l for l in m.loans.get(f.uid, []) if l.status == "active"]
    for ks in m.contracts_cloud.values():
        for k in ks:
            assert m.firms_by_id[k.lab].alive and m.firms_by_id[k.cloud].alive
    # every financed project under construction has all its chips accounted for, once: delivered, in transit
    # or still on order, from the chipmaker and (for an owner of in-house chips) its own programme
    owed: dict[int, float] = {}
    for o in m.chip_orders + m.custom_orders:
        owed[id(o.project)] = owed.get(id(o.project), 0.0) + o.remaining
    for shipments in m.deliveries.values():
        for pr, gw, _price, _supplier in shipments:
            owed[id(pr)] = owed.get(id(pr), 0.0) + gw
    for p in m.projects:
        if p.status == "construction" and p.financed:
            assert p.chips_delivered + owed.get(id(p), 0.0) == pytest.approx(p.gw, abs=1e-9), f"{p.id} chips"
    # operational GW = brought online - retired - liquidated away (plus the initial fleet)
    op = sum(c.fleet_gw for c in m.clouds) + sum(l.own_egw for l in m.labs)
    assert op == pytest.approx(m._initial_op_gw + m.gw_brought_online - m.gw_retired - m.gw_liquidated_away, abs=1e-6)


def run_checked(m: ComputeMarketModel) -> ComputeMarketModel:
    """Run a world to its horizon, checking every invariant every month (caches verified too)."""
    m.verify_caches = True
    start_total = m.ledger.agents_total() - m.ledger.external_net_inflow()
    while m.running:
        m.step()
        check_month(m, start_total)
    check_histories(m)
    return m


def check_histories(m: ComputeMarketModel) -> None:
    """Every recorded status change was a legal transition."""
    for rid, rec in m.book.records.items():
        table = TRANSITIONS[m.book.kinds[rid]]
        for (_, a), (_, b) in zip(rec.history, rec.history[1:]):
            assert b in table.get(a, set()), f"{rid}: {a} -> {b}"


@pytest.mark.parametrize("world", range(12))
def test_invariants_every_month_random_worlds(world):
    rng = np.random.default_rng(1000 + world)
    cfg = load_scenario("baseline").with_overrides(random_overrides(rng))
    m = ComputeMarketModel(config=cfg, rng=world, months=72)
    m.verify_caches = True   # every cached position, debt and queue is checked against a fresh computation
    start_total = m.ledger.agents_total() - m.ledger.external_net_inflow()
    check_month(m, start_total)
    while m.running:
        m.step()
        check_month(m, start_total)
    check_histories(m)


def test_invariants_in_distress_heavy_worlds():
    """Worlds built to fail (no capital, high leverage) still keep every invariant."""
    for seed in range(4):
        cfg = load_scenario("baseline").with_overrides({
            "financier.capital_inflow_busd_per_month": 0.0, "financier.initial_capital_busd": 20.0,
            "financier.sentiment0": 0.1, "scale.lab_aggressiveness": 3.0, "market.demand_growth_per_year": 0.1})
        m = run_checked(ComputeMarketModel(config=cfg, rng=seed, months=60))
        assert any(e["kind"] == "default" for e in m.event_log)


def test_stale_cache_is_detected():
    """The cache check is real: a position left stale after a change is caught on the next read."""
    m = ComputeMarketModel(config=load_scenario("baseline"), rng=3, months=12)
    m.verify_caches = True
    for _ in range(6):
        m.step()
    pr = next(p for p in m.projects if p.status in PIPELINE)
    c = m.clouds_by_id[pr.cloud]
    c.position()
    pr.gw += 1.0   # a change the model is not told of
    with pytest.raises(AssertionError, match="stale position"):
        c.position()
    pr.gw -= 1.0
    k = next(k for k in m.contracts_of_cloud(c.uid) if k.status in ("signed", "active"))
    c.committed_gw()
    k.gw += 1.0
    with pytest.raises(AssertionError, match="stale committed GW"):
        c.committed_gw()


@pytest.mark.parametrize("scenario,seed", [("history", 0), ("baseline", 1)])
def test_invariants_with_training_rentals(scenario, seed):
    """Labs renting training compute on the spot market (paid from cash) keep every invariant."""
    cfg = load_scenario(scenario)
    cfg = cfg.with_overrides({f"labs.{lab}.training_cash_share": 0.2 for lab in cfg.labs})
    m = ComputeMarketModel(config=cfg, rng=seed, months=48)
    m.verify_caches = True
    start_total = m.ledger.agents_total() - m.ledger.external_net_inflow()
    rented = 0.0
    while m.running:
        m.step()
        check_month(m, start_total)
        rented += sum(l.rented_train_egw for l in m.labs)
    check_histories(m)
    assert rented > 0
