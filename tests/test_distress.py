"""Insolvency and M&A on small hand-made worlds."""

import pytest

from sim import distress
from sim.model import ComputeMarketModel
from tests.conftest import project_for_a_contract, tiny_world


def test_default_cascades_through_unpaid_contract_to_leveraged_cloud():
    # A lab with no cash and almost no demand cannot pay its take-or-pay contract; capital markets
    # are closed (sentiment 0 below the lending floor), so nobody rescues it and there is no rival to
    # buy it. The neocloud whose only customer it is carries $30B of debt and no other income: the
    # lost payments leave it unable to pay interest, and it defaults, triggered by the lab.
    cfg = tiny_world(
        market__initial_demand_egw=0.01, market__demand_growth_per_year=0.0,
        financier__sentiment0=0.0, financier__min_sentiment_to_lend=1.0, financier__sentiment_speed=0.0,
        financier__capital_inflow_busd_per_month=0.0,
        labs__lab__min_runway_months=0.0, labs__lab__aggressiveness=0.0,
        clouds__cloud__spec_appetite=0.0, clouds__cloud__initial_cash_busd=0.5,
    )
    m = ComputeMarketModel(config=cfg, rng=1, months=24)
    while m.running:
        m.step()
    defaults = [e for e in m.event_log if e["kind"] == "default"]
    assert [d["party"] for d in defaults][:2] == ["lab", "cloud"]
    assert defaults[0]["counterparty"] == ""          # the first is not triggered by anyone
    assert defaults[1]["counterparty"] == "lab"       # the cloud's default is triggered by the lab's
    assert defaults[0]["tick"] <= defaults[1]["tick"]
    assert m.current_labels()["label_cascade"]
    # lenders bear the loss; the contract is recorded as defaulted
    assert m.stats.lender_losses_busd > 0
    assert all(k.status == "defaulted" for k in m.book.of_kind("contract"))


def test_acquisition_merges_balance_sheets_with_totals_preserved():
    m = ComputeMarketModel(scenario="baseline", rng=3, months=12)
    for _ in range(3):
        m.step()
    target, acq = m.labs_by_id["deepseek"], m.labs_by_id["frontier_a"]
    before_cash = target.cash_busd + acq.cash_busd
    before_debt = target.debt_busd + acq.debt_busd
    before_contracts = len(m.contracts_of_lab("deepseek")) + len(m.contracts_of_lab("frontier_a"))
    before_weight = target.weight + acq.weight
    total_before = m.ledger.total()
    price = 2.0
    distress.merge_lab(m, target, acq, price, debts=[])
    assert acq.cash_busd == pytest.approx(before_cash - price)
    assert target.cash_busd == pytest.approx(0.0)
    assert acq.debt_busd == pytest.approx(before_debt)
    assert len(m.contracts_of_lab("frontier_a")) == before_contracts and not m.contracts_of_lab("deepseek")
    assert acq.weight == pytest.approx(before_weight)
    assert not target.alive and target.acquired_by == "frontier_a"
    assert m.ledger.total() == pytest.approx(total_before)
    assert m.stats.acquisitions[-1]["target"] == "deepseek"


def _defaulting_cloud_world():
    m = ComputeMarketModel(scenario="baseline", rng=5, months=24)
    for _ in range(6):
        m.step()
    seller = max((c for c in m.clouds if c.p.kind != "hyperscaler"), key=lambda c: c.fleet_gw)
    assert seller.fleet_gw > 0
    return m, seller


def test_liquidation_sells_to_richest_rival_that_values_the_capacity():
    m, seller = _defaulting_cloud_world()
    gw, price = seller.fleet_gw, distress.LIQUIDATION_DISCOUNT * seller.book_value_busd
    rivals = [c for c in m.alive_clouds() if c is not seller]
    for c in rivals:
        c.expected_price = 10.0 * m.full_cost_egw          # everyone expects rich margins
    richest = max(rivals, key=lambda c: c.cash_busd)
    before = richest.fleet_gw
    distress.default_firm(m, seller, [])
    assert richest.fleet_gw == pytest.approx(before + gw)
    assert m.stats.liquidated_gw == pytest.approx(gw) and m.stats.stranded_gw == 0.0
    sale = [e for e in m.event_log if e["kind"] == "liquidation"][-1]
    assert sale["counterparty"] == richest.uid and sale["amount_busd"] == pytest.approx(price)


def test_liquidation_strands_capacity_nobody_expects_to_run_profitably():
    m, seller = _defaulting_cloud_world()
    gw = seller.fleet_gw
    op_before = sum(c.fleet_gw for c in m.clouds)
    for c in m.alive_clouds():
        c.expected_price = 0.0                              # prices expected below the power bill
    assert distress.fleet_value(m, seller.blocks, 0.0) == 0.0
    distress.default_firm(m, seller, [])
    assert m.stats.stranded_gw == pytest.approx(gw) and m.stats.liquidated_gw == 0.0
    assert sum(c.fleet_gw for c in m.clouds) == pytest.approx(op_before - gw)
    assert m.gw_liquidated_away == pytest.approx(gw)        # the GW identity still holds


def _short_lab_world():
    """Baseline after three months, with the fringe lab's numbers set by hand (no hosting parent)."""
    m = ComputeMarketModel(scenario="baseline", rng=3, months=12)
    for _ in range(3):
        m.step()
    lab = m.labs_by_id["fringe"]
    assert m._affiliated_cloud(lab) is None
    return m, lab


def test_arrears_the_month_end_cash_covers_are_paid_late_not_rescued():
    """A lab short when a bill fell due but holding the cash by the month's end (its revenue or a
    funding round came in later) pays the arrears itself: no rescue round, no new stake, an
    arrears_paid event, and the payee is paid in full."""
    m, lab = _short_lab_world()
    cash, stakes, payee_cash = lab.cash_busd, len(m.stakes), m.clouds[0].cash_busd
    assert cash > 1.0
    m.monthly["unpaid"].append((lab.uid, m.clouds[0].uid, 1.0, "offtake_payment"))
    distress.resolve(m)
    assert lab.alive and len(m.stakes) == stakes
    assert lab.cash_busd == pytest.approx(cash - 1.0)
    assert m.clouds[0].cash_busd == pytest.approx(payee_cash + 1.0)
    kinds = [e["kind"] for e in m.event_log if e["tick"] == m.tick and e["party"] == lab.uid]
    assert "arrears_paid" in kinds and "rescue_round" not in kinds


@pytest.mark.parametrize("payer", ["chipmaker", "financier"])
def test_the_chipmaker_and_the_financier_pay_arrears_late_too(payer):
    """Late payment is one rule for every firm: the chipmaker or the financier short when a bill fell due
    but holding the cash at the month's end pays it, and the payee records no counterparty loss."""
    m, _ = _short_lab_world()
    firm, cloud = m.firms_by_id[payer], m.clouds[0]
    cash, payee_cash = firm.cash_busd, cloud.cash_busd
    assert cash > 1.0
    m.monthly["unpaid"].append((payer, cloud.uid, 1.0, "vendor_equity"))
    distress.resolve(m)
    assert firm.cash_busd == pytest.approx(cash - 1.0)
    assert cloud.cash_busd == pytest.approx(payee_cash + 1.0)
    assert cloud.uid not in m.stats.counterparty_losses
    assert any(e["kind"] == "arrears_paid" and e["party"] == payer for e in m.event_log if e["tick"] == m.tick)


def test_a_rescue_round_buys_the_lab_its_minimum_runway():
    """A lab that cannot pay: the rescue round covers the arrears plus min_runway_months of burn, less
    the cash it has (2 + 12 x 0.5 - 0.4 = 7.6 $B), and the arrears are then paid."""
    m, lab = _short_lab_world()
    m.ledger.pay(lab.uid, "staff", lab.cash_busd - 0.4, "operating_cost")   # 0.4 left
    lab.burn_busd = 0.5
    lab.revenue_busd = 5.0   # worth enough for the round: 0.4 x distressed valuation > 7.6
    assert lab.p.min_runway_months == 12.0
    m.monthly["unpaid"].append((lab.uid, m.clouds[0].uid, 2.0, "offtake_payment"))
    distress.resolve(m)
    rescue = [e for e in m.event_log if e["kind"] == "rescue_round" and e["party"] == lab.uid]
    assert len(rescue) == 1 and rescue[0]["amount_busd"] == pytest.approx(2.0 + 12.0 * 0.5 - 0.4)
    assert lab.cash_busd == pytest.approx(12.0 * 0.5, abs=1e-5)


def test_a_hosted_lab_is_funded_by_its_parent_a_quarter_at_a_time():
    """A hyperscaler advances its hosted lab three months of burn at a time (internal capital, not a
    round against a plan), while it holds twice that in cash, even when a year's runway would be more
    than it could spare: the lab is not left to default beside a rich parent."""
    m = ComputeMarketModel(scenario="baseline", rng=3, months=12)
    for _ in range(3):
        m.step()
    lab = m.labs_by_id["frontier_c"]
    parent = m._affiliated_cloud(lab)
    assert parent is not None and parent.p.kind == "hyperscaler"
    m.ledger.pay(lab.uid, "staff", lab.cash_busd, "operating_cost")   # no cash left
    lab.burn_busd = parent.cash_busd / 10.0       # a year's burn: 1.2x the parent's cash
    parent_cash = parent.cash_busd
    m.monthly["unpaid"].append((lab.uid, m.clouds[0].uid, 1.0, "offtake_payment"))
    distress.resolve(m)
    funded = [e for e in m.event_log if e["kind"] == "parent_funding" and e["party"] == lab.uid
              and e["tick"] == m.tick]
    assert len(funded) == 1 and funded[0]["amount_busd"] == pytest.approx(1.0 + 3.0 * lab.burn_busd)
    assert lab.alive and lab.cash_busd == pytest.approx(3.0 * lab.burn_busd, abs=1e-5)
    paid_back = 1.0 if parent is m.clouds[0] else 0.0   # the parent may be the unpaid cloud itself
    assert parent.cash_busd == pytest.approx(parent_cash - 1.0 - 3.0 * lab.burn_busd + paid_back, abs=1e-5)


def test_a_lab_nobody_will_buy_with_its_obligations_licenses_its_models_and_team_then_defaults():
    """DeepSeek-like, out of cash, owing 1 $B, with 50 GW under contract (six months of which no rival can
    pay) and capital markets closed: no rescue and no buyer. Frontier C, with its parent's cash, can pay
    the fee (half a year's revenue) for a licence and the team: it takes the lab's users and capability,
    the fee goes to the lab's creditors (its unpaid bill and its cloud's damages for the contract), and the
    lab then defaults with its contracts."""
    m = ComputeMarketModel(scenario="baseline", rng=3, months=24)
    for _ in range(3):
        m.step()
    target, cloud = m.labs_by_id["deepseek"], m.clouds_by_id["neocloud"]
    m._begin_month()
    m._sign(target, cloud, 50.0, 3.0, start=m.tick, end=m.tick + 60, announce=False)
    m.ledger.pay(target.uid, "investors", target.cash_busd, "dividend")
    m.financier.sentiment = 0.0
    assert not m.financier.will_lend(False)
    debts = [(cloud.uid, 1.0, "offtake_payment")]
    assert distress._best_acquirer(m, target, 1.0)[0] is None
    hirer, fee = distress._best_acquirer(m, target, 1.0, with_obligations=False)
    assert hirer is m.labs_by_id["frontier_c"] and fee == pytest.approx(max(0.1, 6.0 * target.revenue_busd))
    weight, quality = hirer.weight + target.weight, max(hirer.quality, target.quality)
    total_before = m.ledger.total()
    n0 = len(m.ledger.log)
    assert distress._resolve_lab(m, target, debts, 1.0) is True
    kinds = [e["kind"] for e in m.event_log if e["tick"] == m.tick and target.uid in (e["party"], e["counterparty"])]
    assert kinds[-2:] == ["acquisition", "default"]
    assert "licence-plus-hire" in [e for e in m.event_log if e["kind"] == "acquisition"][-1]["detail"]
    assert hirer.weight == pytest.approx(weight) and hirer.quality == quality and hirer.alive
    assert target.defaulted and target.acquired_by is None and target.cash_busd == pytest.approx(0.0)
    fee_paid = sum(a for (_t, _i, j, a, kind, _r) in m.ledger.log[n0:] if kind == "licence_fee")
    out = [(m.ledger.names[j], a, kind) for (_t, i, j, a, kind, _r) in m.ledger.log[n0:] if m.ledger.names[i] == target.uid]
    # its creditors' claims (the bill of 1, and 12 months of each contract's take-or-pay floor: 1,440 for the
    # 50 GW one alone) exceed the fee: its clouds take all of it, pro rata, and nothing is left for owners
    clouds_with_contracts = {k.cloud for k in m.book.of_kind("contract") if k.lab == target.uid}
    assert {payee for payee, _a, _k in out} <= clouds_with_contracts and cloud.uid in clouds_with_contracts
    by_kind = {k: sum(a for _p, a, kk in out if kk == k) for k in ("recovery", "contract_damages")}
    assert sum(by_kind.values()) == pytest.approx(fee) and fee_paid == pytest.approx(fee)
    assert 0.0 < by_kind["recovery"] < fee * 1.0 / (1.0 + 50 * 3.0 * 0.8 * 12)   # the bill's pro rata share
    assert m.stats.acquisitions[-1] == {"tick": m.tick, "acquirer": hirer.uid, "target": target.uid, "price": fee_paid}
    assert all(k.status == "defaulted" for k in m.book.of_kind("contract") if k.lab == target.uid and k.gw == 50.0)
    assert m.ledger.total() == pytest.approx(total_before)


def test_acquirer_takes_the_targets_own_clusters_with_their_ages():
    m = ComputeMarketModel(scenario="baseline", rng=3, months=12)
    m.step()
    target, acq = m.labs_by_id["meta"], m.labs_by_id["xai"]
    blocks = sorted(acq.own_blocks + target.own_blocks)
    egw = acq.own_egw + target.own_egw
    distress.merge_lab(m, target, acq, 1.0, debts=[])
    assert acq.own_blocks == blocks and acq.own_egw == pytest.approx(egw)
    assert target.own_egw == 0.0 and not target.own_blocks


def test_a_defaulting_labs_own_clusters_are_stranded_not_retired_later():
    m = ComputeMarketModel(scenario="baseline", rng=3, months=60)
    m.step()
    meta = m.labs_by_id["meta"]
    egw, away, stranded = meta.own_egw, m.gw_liquidated_away, m.stats.stranded_gw
    distress.default_firm(m, meta, [])
    assert meta.own_egw == 0.0 and not meta.own_blocks
    assert m.gw_liquidated_away == pytest.approx(away + egw) and m.stats.stranded_gw == pytest.approx(stranded + egw)
    while m.running:
        m.step()
    assert not [e for e in m.event_log if e["kind"] == "retired" and e["party"] == "meta"]


def _bare_lab_default(cash: float, damages_months: float = 0.0):
    """The fringe lab (no loans, no hosting parent) holding ``cash`` defaults owing 1 to one cloud and 3 to
    another: returns what each creditor recovered and what went to its shareholders. Its clouds' claims
    for its contracts are ``damages_months`` of their take-or-pay floor (none by default)."""
    m, lab = _short_lab_world()
    m.cfg.market.contract_damages_months = damages_months
    assert not [l for l in m.loans_of(lab.uid) if l.status == "active"]
    m.ledger.pay(lab.uid, "staff", lab.cash_busd, "operating_cost")
    m.ledger.pay("investors", lab.uid, cash, "equity_round")
    a, b = m.clouds[0].uid, m.clouds[1].uid
    n0, total = len(m.ledger.log), m.ledger.total()
    distress.default_firm(m, lab, [(a, 1.0, "offtake_payment"), (b, 3.0, "offtake_payment")])
    names = m.ledger.names
    got: dict[str, float] = {}
    for _t, i, j, amt, kind, _r in m.ledger.log[n0:]:
        if names[i] == lab.uid:
            got[kind if kind == "residual_to_shareholders" else names[j]] = got.get(
                kind if kind == "residual_to_shareholders" else names[j], 0.0) + amt
    assert lab.cash_busd == pytest.approx(0.0) and m.ledger.total() == pytest.approx(total)
    return got.get(a, 0.0), got.get(b, 0.0), got.get("residual_to_shareholders", 0.0)


def test_a_defaulted_firms_creditors_recover_at_most_their_claims():
    """With 5 in cash against claims of 1 and 3, each creditor is paid its claim in full and the 1 left
    goes to the shareholders (before, the whole pool was shared pro rata: 1.25 and 3.75 on claims of
    1 and 3); with 2 in cash the pool is short and is shared pro rata: 0.5 and 1.5."""
    assert _bare_lab_default(5.0) == pytest.approx((1.0, 3.0, 1.0))
    assert _bare_lab_default(2.0) == pytest.approx((0.5, 1.5, 0.0))


def test_a_defaulting_labs_clouds_claim_damages_for_its_contracts_beside_its_other_creditors():
    """The fringe lab's open contracts become claims of their clouds for 12 months of their take-or-pay
    floor (``contract_damages``), ranking with its unpaid bills: with 5 in cash against bills of 1 and 3
    plus those damages, the pool is short and every claim is paid the same fraction; nothing is left for
    shareholders. The stakes in it are written off, and what a cloud recovered is off its noted loss."""
    m, lab = _short_lab_world()
    floor = {}
    for k in m.contracts_lab[lab.uid]:
        # months still to deliver after this month's (already billed): an active contract's to its end, a
        # signed one's whole term
        left = k.end - (m.tick + 1) if k.status == "active" else k.end - k.start
        floor[k.cloud] = floor.get(k.cloud, 0.0) + k.gw * k.price * k.top_share * min(left, 12.0)
    damages = sum(floor.values())
    assert damages > 4.0   # enough to make the pool short
    a_rec, b_rec, residual = _bare_lab_default(5.0, damages_months=12.0)
    ratio = 5.0 / (4.0 + damages)
    a, b = m.clouds[0].uid, m.clouds[1].uid
    assert a_rec == pytest.approx(ratio * (1.0 + floor.get(a, 0.0)))
    assert b_rec == pytest.approx(ratio * (3.0 + floor.get(b, 0.0)))
    assert residual == 0.0


def test_what_is_left_after_the_creditors_goes_to_the_stakes_held_by_share():
    """A lab with 5 in cash owing bills of 1 and 3 (no contract damages) leaves 1 for its shareholders: a
    stake of 25 % gets 0.25 of it, and its loss is what it invested less that; the other owners (outside
    the model) get the rest."""
    m, lab = _short_lab_world()
    m.cfg.market.contract_damages_months = 0.0
    for s in [s for s in m.stakes if s.firm == lab.uid and s.status == "held"]:
        m.book.move(s, "written_off")
    m._equity(lab, m.financier.uid, 2.0, "equity_round", valuation=6.0)   # 2 / (6 + 2): 25 %
    (stake,) = [s for s in m.stakes if s.firm == lab.uid and s.status == "held"]
    assert stake.share == pytest.approx(0.25)
    m.ledger.pay(lab.uid, "staff", lab.cash_busd, "operating_cost")
    m.ledger.pay("investors", lab.uid, 5.0, "equity_round")
    fin0 = m.financier.cash_busd
    distress.default_firm(m, lab, [(m.clouds[0].uid, 1.0, "offtake_payment"), (m.clouds[1].uid, 3.0, "offtake_payment")])
    assert m.financier.cash_busd == pytest.approx(fin0 + 0.25)
    assert stake.status == "written_off"
    assert (m.tick, lab.uid, pytest.approx(2.0 - 0.25)) in m.stats.counterparty_losses[m.financier.uid]


def _one_loan_cloud(principal: float = 10.0, amort: float = 1.0):
    """The tiny world's neocloud after a month, its loans replaced by one hand-made loan of ``principal``
    from the financier, interest-free (so only principal falls due), amortising ``amort`` a month from now
    and maturing when the last instalment is due; the cloud's cash is emptied."""
    from sim.ledger import Loan
    from tests.conftest import tiny_world
    m = ComputeMarketModel(config=tiny_world(), rng=1, months=24)
    m.step()
    cloud = m.clouds_by_id["cloud"]
    loan = Loan(m.book.new_id("L"), "active", lender="financier", borrower=cloud.uid, principal=principal, rate=0.0,
                maturity=m.tick + round(principal / amort) - 1, amort=amort, amort_from=m.tick)
    m.book.add("loan", loan)
    m.loans[cloud.uid] = [loan]
    cloud._debt = None
    m.ledger.pay(cloud.uid, "staff", cloud.cash_busd, "operating_cost")
    m.monthly["unpaid"].clear()
    return m, cloud, loan


def _principal_paid(m, cloud) -> float:
    names = m.ledger.names
    return sum(a for (_t, i, j, a, kind, _r) in m.ledger.log
               if names[i] == cloud.uid and names[j] == "financier" and kind in ("principal", "principal_arrears"))


def test_principal_paid_late_reduces_the_loan_and_is_never_due_twice():
    """A loan of 10 amortising 1 a month. The cloud has no cash when the first instalment falls due: the 1
    is unpaid (a 'principal' arrear), the loan still owes 10. Cash comes in before the month's end and the
    arrear is paid late: the loan then owes 9, as if paid on time. Serviced to maturity, the cloud pays
    exactly 10 of principal in all (before, the late 1 never reduced the loan and fell due again at
    maturity: 11 paid on a loan of 10)."""
    m, cloud, loan = _one_loan_cloud()
    m._service_loans(cloud, "financier", [loan])
    assert m.monthly["unpaid"] == [(cloud.uid, "financier", pytest.approx(1.0), "principal")]
    assert loan.principal == pytest.approx(10.0) and cloud.debt_busd == pytest.approx(10.0)
    m.ledger.pay("investors", cloud.uid, 50.0, "equity_round")
    distress.resolve(m)
    assert loan.principal == pytest.approx(9.0) and cloud.debt_busd == pytest.approx(9.0)
    assert _principal_paid(m, cloud) == pytest.approx(1.0)
    while loan.status == "active":
        m.tick += 1
        m._service_loans(cloud, "financier", [loan])
    assert m.tick == loan.maturity and loan.principal == pytest.approx(0.0, abs=1e-9)
    assert _principal_paid(m, cloud) == pytest.approx(10.0)


def test_a_default_counts_unpaid_principal_once():
    """The same cloud defaults on its first instalment with 4 in cash, also owing 2 to its builders: the
    claims are the loan's 10 (the unpaid instalment is part of it) and the 2, so the lender recovers
    4 x 10 / 12 and the builders 4 x 2 / 12 (before, the instalment was counted a second time as an arrear:
    the lender got 4 x 11 / 13 and the builders 4 x 2 / 13), and the lender's loss is 10 less its recovery."""
    m, cloud, loan = _one_loan_cloud()
    m._service_loans(cloud, "financier", [loan])
    debts = [(payee, a, kind) for (_payer, payee, a, kind) in m.monthly["unpaid"]] + [("construction", 2.0, "construction")]
    assert debts[0] == ("financier", pytest.approx(1.0), "principal")
    for c in m.clouds:
        c.expected_price = 0.0   # nobody buys the fleet: the pool is the 4 in cash
    m.ledger.pay("investors", cloud.uid, 4.0, "equity_round")
    n0, losses = len(m.ledger.log), m.stats.lender_losses_busd
    distress.default_firm(m, cloud, debts)
    names = m.ledger.names
    rec = {}
    for (_t, i, j, a, kind, _r) in m.ledger.log[n0:]:
        if kind == "recovery" and names[i] == cloud.uid:
            rec[names[j]] = rec.get(names[j], 0.0) + a
    assert rec["financier"] == pytest.approx(4.0 * 10.0 / 12.0)
    assert rec["construction"] == pytest.approx(4.0 * 2.0 / 12.0)
    assert m.stats.lender_losses_busd - losses == pytest.approx(10.0 - 4.0 * 10.0 / 12.0)
    assert loan.status == "defaulted"


def test_equity_rounds_dilute_earlier_stakes_and_a_sale_pays_holders_by_their_diluted_shares():
    """Three rounds into one lab at hand-set valuations: each dilutes the stakes already held in it, the
    shares held never add up past 1, and in a sale each holder is paid the price x its diluted share (the
    founders and other owners the rest)."""
    m, lab = _short_lab_world()
    before = {s.id for s in m.stakes}
    held0 = sum(s.share for s in m.stakes if s.firm == lab.uid and s.status == "held")
    m._equity(lab, "financier", 10.0, "equity_round", valuation=30.0)    # buys 10/40 = 25 %
    m._equity(lab, "chipmaker", 20.0, "vendor_equity", valuation=60.0)   # 25 %; the first -> 25 % x 60/80
    m._equity(lab, "financier", 20.0, "rescue_round", valuation=20.0)    # 50 %; the others halve
    new = [s for s in m.stakes if s.id not in before]
    assert [s.share for s in new] == pytest.approx([0.25 * 0.75 * 0.5, 0.25 * 0.5, 0.5])
    held = [s for s in m.stakes if s.firm == lab.uid and s.status == "held"]
    assert sum(s.share for s in held) == pytest.approx(held0 * 0.75 * 0.75 * 0.5 + 0.25 * 0.75 * 0.5 + 0.25 * 0.5 + 0.5)
    assert sum(s.share for s in held) <= 1.0
    acq = m.labs_by_id["frontier_a"]
    n0 = len(m.ledger.log)
    distress.merge_lab(m, lab, acq, 8.0, debts=[])
    names = m.ledger.names
    paid = {}
    for (_t, _i, j, a, kind, ref) in m.ledger.log[n0:]:
        if kind == "acquisition_payment":
            paid[names[j]] = paid.get(names[j], 0.0) + a
    assert paid["chipmaker"] == pytest.approx(8.0 * sum(s.share for s in held if s.investor == "chipmaker"))
    assert sum(paid.values()) == pytest.approx(8.0)
    assert paid["acquirers_owners"] == pytest.approx(8.0 * (1.0 - sum(s.share for s in held)))


def test_damages_count_only_the_months_still_to_deliver():
    """An active contract ending after month t + 3, at a default in month t (after its month-t delivery was
    billed), has 2 months left: its cloud claims 2 months of its floor, not 3; a signed contract not yet
    started claims its whole term, up to the cap."""
    from sim.ledger import Contract
    t = 10
    active = Contract("C1", "active", lab="l", cloud="c", gw=1.0, price=2.0, top_share=0.5, start=4, end=t + 3)
    signed = Contract("C2", "signed", lab="l", cloud="c", gw=1.0, price=2.0, top_share=0.5, start=t + 5, end=t + 65)
    from sim.positions import contract_months_left
    assert contract_months_left(active, t) == 2 and contract_months_left(signed, t) == 60


def test_a_labs_default_frees_the_projects_built_for_its_contracts(tiny):
    """A cloud's project still being permitted for a contract of a lab that defaults is the cloud's to sell
    again (spec capacity), as for a contract terminated or completed."""
    m, c, lab, k, pr = project_for_a_contract(tiny)
    distress.default_firm(m, lab, [])
    assert k.status == "defaulted" and pr.contract == ""
    assert c.position().free_pipeline_gw == pytest.approx(0.6) and not m.contracts_cloud[c.uid]


def test_a_defaulting_clouds_pipeline_is_withdrawn_with_the_contract_it_was_for(tiny):
    """A cloud that defaults abandons its pipeline: each project is withdrawn, its land freed, and its record
    still names the contract it was for (it is not first freed to spec capacity)."""
    m, c, lab, k, pr = project_for_a_contract(tiny)
    land_before = c.land_used_gw
    distress.default_firm(m, c, [])
    assert k.status == "defaulted" and pr.status == "withdrawn" and pr.contract == k.id
    assert pr not in m.projects_of(c.uid) and c.land_used_gw == pytest.approx(max(land_before - 0.6, 0.0))
    assert not m.contracts_cloud[c.uid] and k not in m.contracts_lab[lab.uid]


def test_each_contract_loss_is_net_of_its_own_damages(tiny):
    """A defaulting lab with two contracts at one cloud: the cloud's noted loss on each is the rest of that
    contract less the damages recovered for it (before session 12 the cloud's recoveries were pooled and set
    against its contracts in order, the same total split differently)."""
    from sim.economics import contract_damages
    from sim.positions import contract_months_left

    m, c, lab, _k, _pr = project_for_a_contract(tiny)
    m.cfg.market.contract_damages_months = 12.0
    ks = [k for k in m.contracts_lab[lab.uid] if k.cloud == c.uid and k.status in ("signed", "active")]
    assert len(ks) == 2 and not [l for l in m.loans_of(lab.uid) if l.status == "active"]
    lost = [k.gw * k.price * k.top_share * contract_months_left(k, m.tick) for k in ks]
    claims = [contract_damages(k.gw, k.price, k.top_share, contract_months_left(k, m.tick), 12.0) for k in ks]
    assert all(0.0 < cl < lo for cl, lo in zip(claims, lost))
    m.ledger.pay(lab.uid, "staff", lab.cash_busd, "operating_cost")
    m.ledger.pay("investors", lab.uid, 0.5 * sum(claims), "equity_round")   # half of the claims: paid pro rata
    distress.default_firm(m, lab, [])
    noted = [amt for _t, culprit, amt in m.stats.counterparty_losses[c.uid] if culprit == lab.uid]
    assert noted == pytest.approx([lo - 0.5 * cl for lo, cl in zip(lost, claims)])
