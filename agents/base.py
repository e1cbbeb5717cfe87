"""What every firm shares: an id, a ledger account, a life (alive, defaulted, acquired)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.positions import outstanding_debt

if TYPE_CHECKING:
    from sim.model import ComputeMarketModel


class Firm(mesa.Agent):
    """A firm with a ledger account. Cash is never stored on the agent: it is the ledger balance."""

    kind = "firm"
    __deletable__ = ["world"]   # the compiled build lets ComputeMarketModel.release delete it (a cycle)
    project_finance = False   # borrows for its builds through construction funds (clouds but hyperscalers)

    def __init__(self, model: ComputeMarketModel, uid: str, name: str = ""):
        super().__init__(model)
        self.world = model   # Mesa's ``model``, typed: the compiled build calls the model's methods directly
        self.uid = uid
        self.name = name or uid
        self._defaulted = False
        self._acquired_by: str | None = None
        self.alive = True                 # neither defaulted nor acquired (kept in step by the two setters)
        self.unpaid_busd = 0.0            # obligations it failed to pay this month
        self.losses_from: dict[str, float] = {}   # defaulted counterparty -> loss this month and recent
        self.revenue_busd = 0.0           # revenue this month
        self._debt: float | None = None   # cached outstanding debt; None when a loan of it changed
        self._ledger = model.ledger
        self._account = model.ledger.open(uid)   # its index in the ledger: cash is read many times a month

    @property
    def defaulted(self) -> bool:
        return self._defaulted

    @defaulted.setter
    def defaulted(self, value: bool) -> None:
        self._defaulted = value
        self.alive = not value and self._acquired_by is None

    @property
    def acquired_by(self) -> str | None:
        return self._acquired_by

    @acquired_by.setter
    def acquired_by(self, value: str | None) -> None:
        self._acquired_by = value
        self.alive = not self._defaulted and value is None

    @property
    def cash_busd(self) -> float:
        return self._ledger.balances[self._account]

    @property
    def debt_busd(self) -> float:
        """Principal outstanding on its loans, $B (cached until one of its loans changes)."""
        d = self._debt
        if d is None or self.world.verify_caches:
            fresh = outstanding_debt(self.world.loans_of(self.uid))
            if d is not None and abs(fresh - d) > 1e-9 * max(1.0, abs(fresh)):
                raise AssertionError(f"stale debt cache of {self.uid}: {d} != {fresh}")
            d = self._debt = fresh
        return d

    def pay(self, dst: str, amount: float, kind: str, ref: str = "") -> float:
        """Pay ``amount`` to ``dst``; what cannot be paid is recorded as unpaid (a distress signal)."""
        paid = self._ledger.pay(self.uid, dst, amount, kind, ref)
        short = amount - paid
        if short > 1e-9:
            self.unpaid_busd += short
            self.world.record_unpaid(self, dst, short, kind)
        return paid
