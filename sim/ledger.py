"""The ledger (every payment) and the book (every contract-like record).

Money only moves through :meth:`Ledger.pay`: a transfer from one account to
another with tick, kind and reference. Agents do not hold a cash field; their
cash is their ledger balance. External sectors (consumers, construction, power,
the foundry, investors, ...) are accounts too, so the sum over *all* accounts is
zero at every moment, and the sum over agents changes only by recorded flows
with external sectors. A payer never goes below zero: what it cannot pay is
returned as unpaid and becomes someone's loss (that is how defaults cascade).

The book holds typed records with explicit, checked status transitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Final, Hashable, Iterable, TypeVar

EXTERNAL_SECTORS: Final = (
    "consumers",        # buyers of AI services (lab revenue)
    "construction",     # builders of shells, power and networking
    "power",            # electricity and site operations
    "foundry",          # the chipmaker's suppliers (cost of goods)
    "investors",        # equity and credit capital entering or leaving the market
    "other_business",   # hyperscalers' non-AI businesses
    "staff",            # salaries and other operating costs
    "acquirers_owners", # shareholders paid in acquisitions
)

EPS: Final = 1e-9


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def bucket(groups: dict[K, list[V]], key: K) -> list[V]:
    """``groups[key]``, a new empty list there first if there is none: ``dict.setdefault(key, [])``
    without building a list on every call (and, compiled, without a KeyError raised and cleared)."""
    items = groups.get(key)
    if items is None:
        items = groups[key] = []
    return items


class Ledger:
    """Double-entry cash ledger over named accounts, in US$ billions."""

    __slots__ = ("index", "names", "balances", "is_external", "log", "tick")

    def __init__(self, agent_ids: Iterable[str] = ()):  # noqa: D107
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.balances: list[float] = []
        self.is_external: list[bool] = []
        self.log: list[tuple[int, int, int, float, str, str]] = []
        self.tick = 0
        for s in EXTERNAL_SECTORS:
            self.open(s, external=True)
        for a in agent_ids:
            self.open(a)

    def open(self, name: str, external: bool = False) -> int:
        """Open an account (idempotent) and return its index."""
        if name in self.index:
            return self.index[name]
        self.index[name] = len(self.names)
        self.names.append(name)
        self.balances.append(0.0)
        self.is_external.append(external)
        return self.index[name]

    def balance(self, name: str) -> float:
        return self.balances[self.index[name]]

    def pay(self, src: str, dst: str, amount: float, kind: str, ref: str = "") -> float:
        """Move up to ``amount`` from ``src`` to ``dst``; return what was paid.

        External sectors pay in full (they are the rest of the economy); an
        agent pays at most its balance, and the caller handles the unpaid rest.
        """
        if amount <= EPS:
            return 0.0
        index, balances = self.index, self.balances
        i, j = index[src], index[dst]
        if not self.is_external[i]:
            avail = balances[i]
            if avail < amount:
                amount = avail if avail > 0.0 else 0.0
                if amount <= EPS:
                    return 0.0
        balances[i] -= amount
        balances[j] += amount
        self.log.append((self.tick, i, j, amount, kind, ref))
        return amount

    # ------------------------------------------------------------------ checks
    def total(self) -> float:
        """Sum over every account (always ~0: money is conserved)."""
        return sum(self.balances, 0.0)

    def agents_total(self) -> float:
        return sum([b for b, ext in zip(self.balances, self.is_external) if not ext], 0.0)

    def external_net_inflow(self, upto_tick: int | None = None) -> float:
        """Net money that entered the agents from external sectors, per the log."""
        ext = self.is_external
        net = 0.0
        for t, i, j, amt, _k, _r in self.log:
            if upto_tick is not None and t > upto_tick:
                continue
            if ext[i] and not ext[j]:
                net += amt
            elif ext[j] and not ext[i]:
                net -= amt
        return net

    def replay(self) -> list[float]:
        """Balances recomputed from the log alone (must equal ``balances``)."""
        bal = [0.0] * len(self.names)
        for _t, i, j, amt, _k, _r in self.log:
            bal[i] -= amt
            bal[j] += amt
        return bal


# ----------------------------------------------------------------------------- records
TRANSITIONS: Final[dict[str, dict[str, set[str]]]] = {
    "contract": {
        "signed": {"active", "terminated", "defaulted", "transferred"},
        "active": {"completed", "terminated", "defaulted", "transferred"},
    },
    "loan": {"active": {"repaid", "defaulted", "transferred"}},
    "stake": {"held": {"written_off", "transferred", "converted"}},
    "project": {
        "announced": {"permitting", "withdrawn"},
        "permitting": {"interconnection", "withdrawn", "killed"},
        "interconnection": {"construction", "withdrawn"},
        "construction": {"operational", "withdrawn"},
        "operational": {"retired", "liquidated"},
    },
}


class IllegalTransition(Exception):
    """A record was moved to a status its life cycle does not allow."""


@dataclass(slots=True, init=False)
class Record:
    """What every record has. The records write out their ``__init__`` (``init=False``; each calls this
    one first, as ``Record.__init__``: ``slots=True`` makes a new class, which a bare ``super()`` misses):
    the compiled build (sim/native.py) would run the dataclass's generated one in the interpreter,
    ~12,000 instructions a record, against a few hundred compiled."""

    id: str
    status: str
    history: list[tuple[int, str]] = field(repr=False)   # (tick, status) of every move

    def __init__(self, id: str, status: str) -> None:
        self.history = []
        self.id = id
        self.status = status


@dataclass(slots=True, init=False)
class Contract(Record):
    """An offtake contract: the cloud delivers ``gw`` from ``start``; the lab pays take-or-pay."""

    lab: str
    cloud: str
    gw: float
    price: float   # $B per GW-month
    top_share: float   # take-or-pay share
    start: int   # promised delivery tick
    end: int   # last tick + 1
    signed: int
    delivered_gw: float   # capacity actually delivered this month

    def __init__(self, id: str, status: str, lab: str = "", cloud: str = "", gw: float = 0.0,
                 price: float = 0.0, top_share: float = 0.8, start: int = 0, end: int = 0, signed: int = 0,
                 delivered_gw: float = 0.0) -> None:
        Record.__init__(self, id, status)
        self.lab = lab
        self.cloud = cloud
        self.gw = gw
        self.price = price
        self.top_share = top_share
        self.start = start
        self.end = end
        self.signed = signed
        self.delivered_gw = delivered_gw


@dataclass(slots=True, init=False)
class Loan(Record):
    """A loan from the financier (or a bought-in position) to a firm."""

    lender: str
    borrower: str
    principal: float   # outstanding, $B
    rate: float   # annual
    maturity: int   # tick of final repayment
    amort: float   # principal repaid per month
    amort_from: int   # first tick principal is due (construction loans: interest only while building)
    arrears: float   # principal that fell due this month unpaid (part of ``principal``): paid late or claimed at a default
    project: str
    guarantor: str
    guaranteed_share: float

    def __init__(self, id: str, status: str, lender: str = "", borrower: str = "", principal: float = 0.0,
                 rate: float = 0.0, maturity: int = 0, amort: float = 0.0, amort_from: int = 0,
                 arrears: float = 0.0, project: str = "", guarantor: str = "", guaranteed_share: float = 0.0) -> None:
        Record.__init__(self, id, status)
        self.lender = lender
        self.borrower = borrower
        self.principal = principal
        self.rate = rate
        self.maturity = maturity
        self.amort = amort
        self.amort_from = amort_from
        self.arrears = arrears
        self.project = project
        self.guarantor = guarantor
        self.guaranteed_share = guaranteed_share


@dataclass(slots=True, init=False)
class Stake(Record):
    """An equity stake of an investor in a lab (vendor financing or a round)."""

    investor: str
    firm: str
    invested: float
    share: float

    def __init__(self, id: str, status: str, investor: str = "", firm: str = "", invested: float = 0.0,
                 share: float = 0.0) -> None:
        Record.__init__(self, id, status)
        self.investor = investor
        self.firm = firm
        self.invested = invested
        self.share = share


@dataclass(slots=True, init=False)
class Project(Record):
    """A data-centre project moving through permitting, construction and operation."""

    cloud: str
    regulator: str
    gw: float
    contract: str   # offtake contract behind it ("" = on spec)
    announced: int
    stage_due: int   # tick the current stage can end
    chips_ordered: float
    chips_delivered: float
    build_left: int
    capex_busd: float   # book value (cost), depreciated when operational
    efficiency: float   # effective compute per GW of its chip vintage
    online: int
    litigated: bool
    financed: bool
    fund_busd: float   # its loan's proceeds not yet spent, held in its cloud's construction fund
    debt_share: float   # share of each of its bills its construction fund pays (loan / budget)
    refit: bool   # new chips and networking in a shell already built (no shell to pay or permit)

    def __init__(self, id: str, status: str, cloud: str = "", regulator: str = "", gw: float = 0.0,
                 contract: str = "", announced: int = 0, stage_due: int = 0, chips_ordered: float = 0.0,
                 chips_delivered: float = 0.0, build_left: int = 0, capex_busd: float = 0.0,
                 efficiency: float = 1.0, online: int = -1, litigated: bool = False, financed: bool = False,
                 fund_busd: float = 0.0, debt_share: float = 0.0, refit: bool = False) -> None:
        Record.__init__(self, id, status)
        self.cloud = cloud
        self.regulator = regulator
        self.gw = gw
        self.contract = contract
        self.announced = announced
        self.stage_due = stage_due
        self.chips_ordered = chips_ordered
        self.chips_delivered = chips_delivered
        self.build_left = build_left
        self.capex_busd = capex_busd
        self.efficiency = efficiency
        self.online = online
        self.litigated = litigated
        self.financed = financed
        self.fund_busd = fund_busd
        self.debt_share = debt_share
        self.refit = refit


class Book:
    """All records by id, with legal status transitions enforced and logged."""

    __slots__ = ("records", "kinds", "tick", "_n", "listener")

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.kinds: dict[str, str] = {}
        self.tick = 0
        self._n = 0
        self.listener: Callable[[Record], None] | None = None   # told of every added record and status move

    def new_id(self, prefix: str) -> str:
        self._n += 1
        return prefix + str(self._n).zfill(6)   # as f"{prefix}{n:06d}" (n > 0), a tenth of the compiled cost

    def add(self, kind: str, rec: Record) -> Record:
        rec.history.append((self.tick, rec.status))
        self.records[rec.id] = rec
        self.kinds[rec.id] = kind
        if self.listener is not None:
            self.listener(rec)
        return rec

    def move(self, rec: Record, status: str) -> None:
        """Change a record's status; raise IllegalTransition if not allowed."""
        kind = self.kinds[rec.id]
        if status not in TRANSITIONS[kind].get(rec.status, ()):
            raise IllegalTransition(f"{kind} {rec.id}: {rec.status} -> {status} not allowed")
        rec.status = status
        rec.history.append((self.tick, status))
        if self.listener is not None:
            self.listener(rec)

    def contract(self, rid: str) -> Contract | None:
        """The contract with id ``rid`` (None if there is no such record, or it is not a contract)."""
        rec = self.records.get(rid)
        return rec if isinstance(rec, Contract) else None

    def project(self, rid: str) -> Project | None:
        """The project with id ``rid`` (None if there is no such record, or it is not a project)."""
        rec = self.records.get(rid)
        return rec if isinstance(rec, Project) else None

    def of_kind(self, kind: str) -> list[Record]:
        return [r for i, r in self.records.items() if self.kinds[i] == kind]
