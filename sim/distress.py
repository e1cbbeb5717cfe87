"""Insolvency and M&A: distress, rescue financing, acquisitions, defaults, cascades, liquidation.

A firm is distressed in a month when it could not pay an obligation (the ledger never lets
cash go negative; the shortfall is recorded as unpaid). It first seeks rescue money; a lab
that finds none is auctioned to acquirers with cash (and, for labs, surplus compute); a firm
nobody rescues or buys defaults (a lab, when a rival will pay, after selling it a licence to its models
and its team: a licence-plus-hire exit). A default makes its unpaid obligations and terminated
contracts losses of its counterparties; a later default of such a counterparty within
``CASCADE_WINDOW`` months is recorded as triggered by it (a cascade). A defaulted cloud's
capacity is sold at a discount to the richest rival that values it above the price (which then
prices lower: a deeper glut), or stranded when prices are expected too low for anyone to want it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, TYPE_CHECKING

from sim.economics import contract_damages, creditor_recoveries, operating_value, residual_to_stakes
from sim.ledger import Loan, bucket
from sim.positions import contract_months_left

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import ComputeMarketModel

CASCADE_WINDOW: Final = 6          # months a counterparty loss can trigger a default
LIQUIDATION_DISCOUNT: Final = 0.35 # price of liquidated capacity / book value (fire sale)
DISTRESS_DISCOUNT: Final = 0.5     # valuation haircut in rescue rounds and distressed sales
PARENT_FUNDING_MONTHS: Final = 3.0 # months of burn a hyperscaler parent advances its hosted lab at a time


@dataclass
class Stats:
    """Running counts of distress outcomes for the run's metrics."""

    defaults: list[dict] = field(default_factory=list)        # {tick, uid, kind, trigger}
    acquisitions: list[dict] = field(default_factory=list)    # {tick, acquirer, target, price}
    liquidated_gw: float = 0.0
    stranded_gw: float = 0.0
    vendor_losses_busd: float = 0.0
    lender_losses_busd: float = 0.0
    counterparty_losses: dict[str, list[tuple[int, str, float]]] = field(default_factory=dict)  # victim -> (tick, culprit, amt)


def _note_loss(m: "ComputeMarketModel", victim: str, culprit: str, amount: float) -> None:
    if amount > 1e-9:
        bucket(m.stats.counterparty_losses, victim).append((m.tick, culprit, amount))


def _trigger_of(m: "ComputeMarketModel", uid: str) -> str:
    """The defaulted counterparty whose losses most recently hit ``uid`` within the window, if any."""
    defaulted = {d["uid"] for d in m.stats.defaults}
    best, best_amt = "", 0.0
    for tick, culprit, amt in m.stats.counterparty_losses.get(uid, []):
        if culprit in defaulted and m.tick - tick <= CASCADE_WINDOW and amt > best_amt:
            best, best_amt = culprit, amt
    return best


def resolve(m: "ComputeMarketModel") -> None:
    """Month-end distress resolution, labs first (their failures flow to clouds), then clouds.

    Any firm whose cash at the month's end covers what it failed to pay during the month pays it late
    (``_settled_late``), whatever its kind; only the rest is distress. Repeats until no new default
    appears, so a cascade can run within the month.
    """
    unpaid = m.monthly["unpaid"]
    for _ in range(10):
        progressed = False
        owed: dict[str, list[tuple[str, float, str]]] = {}
        for payer, payee, amt, kind in unpaid:
            bucket(owed, payer).append((payee, amt, kind))
        unpaid.clear()
        for uid, debts in owed.items():
            firm = m.firms_by_id[uid]
            if not firm.alive:
                for payee, amt, _k in debts:
                    _note_loss(m, payee, uid, amt)
                continue
            total = sum([a for _, a, _ in debts], 0.0)
            if _settled_late(m, firm, debts, total):
                continue
            if firm.kind == "lab":
                progressed |= _resolve_lab(m, firm, debts, total)
            elif firm.kind == "cloud":
                progressed |= _resolve_cloud(m, firm, debts, total)
            else:   # chipmaker / financier short at the month's end: losses absorbed, vendor financing stops via its cash
                for payee, amt, _k in debts:
                    _note_loss(m, payee, uid, amt)
        if not unpaid and not progressed:
            break


def _pay_arrear(m, payer: str, debtor: str, payee: str, amt: float, kind: str) -> None:
    """``payer`` pays one of ``debtor``'s arrears (the debtor itself, or an acquirer that assumed it). A
    loan's principal paid late reduces the loans it fell due on (their ``arrears``, shared pro rata as the
    payment was short): it is repaid once, not left in the loan to fall due again at maturity."""
    paid = m.ledger.pay(payer, payee, amt, kind + "_arrears")
    if kind != "principal" or paid <= 0.0:
        return
    loans = [l for l in m.loans_of(debtor) if l.status == "active" and l.lender == payee and l.arrears > 0.0]
    cuts, _left = creditor_recoveries(paid, [l.arrears for l in loans])
    for l, c in zip(loans, cuts):
        l.arrears -= c
        l.principal -= c
        if l.principal <= 1e-9:
            m.book.move(l, "repaid")
        else:
            m.touch(l)


def _settle(m, firm, debts) -> None:
    for payee, amt, kind in debts:
        _pay_arrear(m, firm.uid, firm.uid, payee, amt, kind)


def _settled_late(m, firm, debts, total: float) -> bool:
    """A firm that went short during the month but has the cash at its end (revenue or a funding round
    came in after the bill fell due) pays its arrears now: late, not distressed."""
    if firm.cash_busd < total - 1e-9:
        return False
    _settle(m, firm, debts)
    m.log_event("arrears_paid", firm.uid, "", total, 0.0, "paid late from the month's cash")
    return True


def _resolve_lab(m, lab, debts, total: float) -> bool:
    fin = m.financier
    # 0. a lab owned by a hyperscaler is funded by its parent while the parent can afford it. Inside a
    # group, cash is allocated quarter by quarter (three months of burn), not raised against a plan.
    parent = m._affiliated_cloud(lab)
    if parent is not None and parent.p.kind == "hyperscaler":
        top_up = max(total + PARENT_FUNDING_MONTHS * lab.burn_busd - lab.cash_busd, 0.0)
        if parent.cash_busd > 2.0 * top_up + 1.0:
            m.ledger.pay(parent.uid, lab.uid, top_up + 1e-6, "parent_funding")
            m.log_event("parent_funding", lab.uid, parent.uid, top_up, 0.0, "rescued by its parent")
            _settle(m, lab, debts)
            return False
    # 1. rescue round at a distressed valuation. Outside investors fund a plan, not the next payroll: the
    # round must buy the lab the runway its board plans for (``min_runway_months`` of burn, what a normal
    # round aims to keep). A lab worth too little to raise that is sold or defaults.
    need = total + lab.min_runway_months * lab.burn_busd - lab.cash_busd
    val = fin.valuation(12.0 * lab.revenue_busd, lab.revenue_growth()) * DISTRESS_DISCOUNT
    if fin.will_lend(False) and need <= min(0.4 * val, fin.lending_budget()):
        m._equity(lab, fin.uid, max(need, 0.0) + 1e-6, "rescue_round", valuation=val)
        _settle(m, lab, debts)
        return False
    # 2. distressed sale
    acq, price = _best_acquirer(m, lab, total)
    if acq is not None:
        merge_lab(m, lab, acq, price, debts)
        return True
    # 3. default; a rival that would not take on the lab's obligations may still licence its models and
    # hire its team first, for the same price (the fee goes to the lab's creditors)
    hirer, fee = _best_acquirer(m, lab, total, with_obligations=False)
    if hirer is not None:
        licence_and_hire(m, lab, hirer, fee)
    default_firm(m, lab, debts)
    return True


def _best_acquirer(m, target, arrears: float, with_obligations: bool = True):
    """The bidder that can pay and absorb the target: rival labs with cash and surplus compute, or
    hyperscalers (through the lab they host). Score = cash available beyond the price plus surplus
    compute valued at the spot price for a year.

    The price of a distressed lab is a fire-sale multiple of its revenue (half a year's revenue,
    at least $0.1B): its obligations come with it, and precedents (Inflection, Character.AI,
    Windsurf: $0.65-2.7B) were far below the labs' last private valuations. A buyer of the lab must
    also have the cash for its arrears and six months of its contracts; one that licenses its models
    and hires its team (``with_obligations=False``, :func:`licence_and_hire`) needs only the price."""
    annual_rev = 12.0 * target.revenue_busd
    price = max(0.1, DISTRESS_DISCOUNT * annual_rev)
    need = price
    if with_obligations:
        need += arrears + 6.0 * sum([k.gw * k.price for k in m.contracts_of_lab(target.uid)
                                     if k.status in ("signed", "active")], 0.0)
    best, best_score = None, 0.0
    for lab in m.alive_labs():
        if lab is target:
            continue
        host = m._affiliated_cloud(lab)
        cash = lab.cash_busd + (host.cash_busd if host is not None and host.p.kind == "hyperscaler" else 0.0)
        surplus = lab.idle_egw + lab.surplus_egw + (host.idle_egw + host.hoarded_egw if host is not None else 0.0)
        if cash < need or (surplus < 0.2 * target.demand_egw and host is None):
            continue
        score = cash - need + 12.0 * m.spot_price * surplus
        if score > best_score:
            best, best_score = lab, score
    return best, price


def _fund_from_parent(m, buyer, amount: float) -> None:
    """A hosted lab short of ``amount`` for a deal is funded by its parent (a group allocates its cash)."""
    host = m._affiliated_cloud(buyer)
    if buyer.cash_busd < amount and host is not None:
        m.ledger.pay(host.uid, buyer.uid, amount, "intra_group_funding")


def _takes_team_and_users(m, buyer, target, price: float, detail: str) -> None:
    """The buyer gains the target's capability (the better quality of the two) and its users (its demand
    weight); the deal is recorded as an acquisition."""
    buyer.weight += target.weight
    buyer.quality = max(buyer.quality, target.quality)
    m.stats.acquisitions.append({"tick": m.tick, "acquirer": buyer.uid, "target": target.uid, "price": price})
    m.log_event("acquisition", buyer.uid, target.uid, price, 0.0, detail)


def merge_lab(m, target, acquirer, price: float, debts) -> None:
    """Acquirer buys the target: pays its owners, assumes its arrears, contracts and loans, takes its
    cash and users. Balance sheets add up: combined cash = both cashes - price (- arrears paid)."""
    _fund_from_parent(m, acquirer, price + sum([a for _, a, _ in debts], 0.0))
    stakes = m.held_stakes_in(target.uid)
    left = price
    for s in stakes:   # stake holders are paid their share of the price
        amt = price * s.share
        left -= m.ledger.pay(acquirer.uid, s.investor, amt, "acquisition_payment", target.uid)
        m.book.move(s, "converted")
    m.ledger.pay(acquirer.uid, "acquirers_owners", max(left, 0.0), "acquisition_payment", target.uid)
    m.ledger.pay(target.uid, acquirer.uid, target.cash_busd, "merger_cash", target.uid)
    for payee, amt, kind in debts:   # arrears assumed and paid (before the target's loans become the acquirer's)
        _pay_arrear(m, acquirer.uid, target.uid, payee, amt, kind)
    for k in m.contracts_lab[target.uid]:
        k.lab = acquirer.uid
        m.contracts_lab[acquirer.uid].append(k)
    m.contracts_lab[target.uid] = []
    for l in m.loans.pop(target.uid, []):
        l.borrower = acquirer.uid
        bucket(m.loans, acquirer.uid).append(l)
        m.touch(l)
    target._debt = None
    acquirer.take_own_clusters(target)
    target.acquired_by = acquirer.uid
    _takes_team_and_users(m, acquirer, target, price, f"{acquirer.uid} acquires distressed {target.uid}")


def licence_and_hire(m, target, hirer, fee: float) -> None:
    """A licence-plus-hire exit: the rival pays the distressed lab ``fee`` for a licence to its models and
    hires its team, but takes on none of its contracts, loans or arrears (Inflection -> Microsoft $650M,
    Character.AI -> Google ~$2.7B, Adept -> Amazon, 2024 [cal: Acquisition-like exits]: deals shaped so
    that the big company gets the people and the models, not the company). The hirer gains the lab's
    capability (quality = the better of the two) and its users (its demand weight); the fee is the lab's
    cash, which its creditors then share when it defaults (``default_firm``). A hosted hirer is funded
    by its parent, as in a purchase. Recorded as an acquisition (event detail "licence-plus-hire")."""
    _fund_from_parent(m, hirer, fee)
    paid = m.ledger.pay(hirer.uid, target.uid, fee, "licence_fee", target.uid)
    _takes_team_and_users(m, hirer, target, paid, f"licence-plus-hire: {hirer.uid} licenses {target.uid}'s "
                          "models and hires its team; its obligations stay behind")
    target.weight = 0.0


def _resolve_cloud(m, cloud, debts, total: float) -> bool:
    fin = m.financier
    ig = cloud.p.kind == "hyperscaler"
    need = total + 3.0 * cloud.fleet_gw * m.opex_busd_per_gw_month - cloud.cash_busd
    if fin.will_lend(ig) and cloud.leverage() < 0.9 and need <= fin.lending_budget():
        rate = fin.rate_for(cloud.leverage(), None, 0.0) + 0.03
        loan = Loan(m.book.new_id("L"), "active", lender=fin.uid, borrower=cloud.uid, principal=max(need, 0.0) + 1e-6,
                    rate=rate, maturity=m.tick + 36)
        loan.amort = loan.principal / 36
        m.book.add("loan", loan)
        bucket(m.loans, cloud.uid).append(loan)
        m.ledger.pay(fin.uid, cloud.uid, loan.principal, "rescue_loan", loan.id)
        m.log_event("rescue_loan", cloud.uid, fin.uid, loan.principal, 0.0, f"{rate:.1%}")
        _settle(m, cloud, debts)
        return False
    default_firm(m, cloud, debts)
    return True


def fleet_value(m, blocks, expected_price: float) -> float:
    """What capacity is worth to a buyer expecting ``expected_price`` per EGW-month: the operating value
    of each block over its remaining accelerator life, discounted at the cost of capital."""
    life = m.useful_life_months
    return sum([operating_value(b.gw, b.efficiency, expected_price, m.opex_busd_per_gw_month,
                                life - (m.tick - b.online), m.wacc) for b in blocks], 0.0)


def default_firm(m, firm, debts) -> None:
    """Default: contracts and loans default, a cloud's capacity is liquidated (sold at a discount or
    stranded), and the firm's cash goes to its creditors (loans, the month's unpaid bills and, for a lab,
    its clouds' contract damages), each at most its claim; guarantees are called for the shortfall; what
    is left goes to the shareholders, the stakes held by share, and the stakes are written off less that.
    (Before session 9 the creditors shared all the cash whatever their claims, a lab's clouds had no claim
    for its contracts, and the stakes got nothing of a residual, which went to owners outside the model.)"""
    trigger = _trigger_of(m, firm.uid)
    firm.defaulted = True
    # a loan's principal unpaid this month is still in the loan (its ``arrears``): the lender's claim is the
    # loan, so it is counted there, once, and not again as an unpaid bill
    debts = [d for d in debts if d[2] != "principal"]
    # contracts: the counterparty loses the rest of the contract (noted once the claims are settled); a
    # defaulting lab's clouds claim damages for theirs (``contract_damages``: the take-or-pay floor of at
    # most ``contract_damages_months``); a defaulting cloud's labs stop paying and claim nothing (their
    # loss is the cost of replacing the compute, which the model does not price)
    mk = m.cfg.market
    ks = m.contracts_lab.get(firm.uid, []) if firm.kind == "lab" else m.contracts_cloud.get(firm.uid, [])
    lost_contracts: list[tuple[str, float, str]] = []   # (counterparty, rest of the contract, contract)
    damages: list[tuple[str, float, str]] = []      # (cloud, claim, contract)
    for k in list(ks):
        if k.status in ("signed", "active"):
            other = k.cloud if firm.kind == "lab" else k.lab
            left = contract_months_left(k, m.tick)   # (distress comes after settlement)
            lost_contracts.append((other, k.gw * k.price * k.top_share * left, k.id))
            if firm.kind == "lab":
                claim = contract_damages(k.gw, k.price, k.top_share, left, mk.contract_damages_months)
                if claim > 1e-9:
                    damages.append((k.cloud, claim, k.id))
            m.book.move(k, "defaulted")
    if firm.kind == "cloud":
        # its pipeline is abandoned: withdrawn before its contracts leave the open lists, so its projects keep
        # the contract they were for on their record and the pruning finds none of them to free (before
        # session 12 it first freed them to spec, then they were withdrawn)
        for pr in m.projects:
            if pr.cloud == firm.uid and pr.status in ("announced", "permitting", "interconnection", "construction"):
                m.book.move(pr, "withdrawn")
                m._project_ended(pr)
    m._prune_contracts()   # off the open lists; projects built for them are the clouds' to sell again
    # capacity: a fire sale to the rival with most cash among those who think it worth the price, else stranded
    proceeds = 0.0
    if firm.kind == "cloud":
        gw = firm.fleet_gw
        if gw > 0:
            price = LIQUIDATION_DISCOUNT * firm.book_value_busd
            buyers = sorted((c for c in m.alive_clouds()
                             if c.cash_busd >= price and fleet_value(m, firm.blocks, c.expected_price) >= price),
                            key=lambda c: (-c.cash_busd, c.uid))
            if buyers and price > 0:
                buyer = buyers[0]
                proceeds = m.ledger.pay(buyer.uid, firm.uid, price, "liquidation_sale", firm.uid)
                for b in firm.blocks:
                    b.cloud = buyer.uid
                    b.capex_busd *= LIQUIDATION_DISCOUNT
                    buyer.blocks.append(b)
                buyer.land_used_gw += gw
                buyer.refresh_fleet()
                buyer._bv_cache = (-1, 0.0)
                m.stats.liquidated_gw += gw
                m.log_event("liquidation", firm.uid, buyer.uid, proceeds, gw, "capacity sold at a discount")
            else:
                for b in firm.blocks:
                    m.book.move(b, "liquidated")
                m.gw_liquidated_away += gw
                m.stats.stranded_gw += gw
                m.log_event("liquidation", firm.uid, "", 0.0, gw, "capacity stranded: no buyer")
            firm.blocks = []
            firm.refresh_fleet()
            m.reindex_projects()
    elif firm.own_egw > 0:   # a lab's own clusters are shut down with it (no fire sale of lab sites is modelled)
        gw = firm.drop_own_clusters()
        m.gw_liquidated_away += gw
        m.stats.stranded_gw += gw
        m.log_event("liquidation", firm.uid, "", 0.0, gw, "own clusters stranded")
    # loans, the month's unpaid bills and contract damages: remaining cash to creditors, each at most its
    # claim (pro rata when short, ``creditor_recoveries``); guarantees called; the rest is lost
    loans = [l for l in m.loans.pop(firm.uid, []) if l.status == "active"]
    firm._debt = None
    outstanding = sum([l.principal for l in loans], 0.0)
    arrears = sum([a for _, a, _ in debts], 0.0)
    recoveries, _left = creditor_recoveries(firm.cash_busd, [l.principal for l in loans] + [a for _, a, _ in debts]
                                            + [c for _, c, _ in damages])
    for l, owed in zip(loans, recoveries):
        rec = m.ledger.pay(firm.uid, l.lender, owed, "recovery", l.id)
        short = max(l.principal - rec, 0.0)
        if l.guarantor and l.guaranteed_share > 0:
            g = m.firms_by_id[l.guarantor].pay(l.lender, short * l.guaranteed_share, "guarantee_call", l.id)
            m.stats.vendor_losses_busd += g
            m.chipmaker.vendor_losses_busd += g
            short -= g
        m.stats.lender_losses_busd += short
        m.financier.losses_busd += short
        m.financier.losses_month_busd += short
        _note_loss(m, l.lender, firm.uid, short)
        m.book.move(l, "defaulted")
    for (payee, amt, _kind), owed in zip(debts, recoveries[len(loans):]):
        _note_loss(m, payee, firm.uid, amt - m.ledger.pay(firm.uid, payee, owed, "recovery"))
    recovered: dict[str, float] = {}   # contract -> damages paid for it
    for (cloud, _claim, kid), owed in zip(damages, recoveries[len(loans) + len(debts):]):
        recovered[kid] = m.ledger.pay(firm.uid, cloud, owed, "contract_damages", kid)
    for other, lost, kid in lost_contracts:   # the rest of each contract, less what its own claim recovered
        back = recovered.get(kid, 0.0)   # (at most its claim, at most the rest of the contract: contract_damages)
        _note_loss(m, other, firm.uid, lost - (back if back < lost else lost))
    # shareholders: what is left after the claims, by share to the stakes held (the chipmaker's vendor equity,
    # investors' rounds), the rest to the firm's other owners outside the model; each stake loses the rest
    stakes = m.held_stakes_in(firm.uid)
    to_stakes, _others = residual_to_stakes(firm.cash_busd, [s.share for s in stakes])
    for s, amt in zip(stakes, to_stakes):
        loss = s.invested - m.ledger.pay(firm.uid, s.investor, amt, "residual_to_shareholders", s.id)
        m.book.move(s, "written_off")
        if s.investor == m.chipmaker.uid:
            m.stats.vendor_losses_busd += max(loss, 0.0)
            m.chipmaker.vendor_losses_busd += max(loss, 0.0)
        _note_loss(m, s.investor, firm.uid, loss)
    if firm.cash_busd > 1e-9:
        m.ledger.pay(firm.uid, "investors", firm.cash_busd, "residual_to_shareholders")
    m.stats.defaults.append({"tick": m.tick, "uid": firm.uid, "kind": firm.kind, "trigger": trigger})
    m.log_event("default", firm.uid, trigger, outstanding + arrears + sum([c for _, c, _ in damages], 0.0), firm.fleet_gw if firm.kind == "cloud" else 0.0,
                f"triggered by {trigger}" if trigger else "")
