"""What every firm shares: an id, a ledger account, a life (alive, defaulted, acquired)."""

from __future__ import annotations

import mesa


class Firm(mesa.Agent):
    """A firm with a ledger account. Cash is never stored on the agent: it is the ledger balance."""

    kind = "firm"

    def __init__(self, model: mesa.Model, uid: str, name: str = ""):
        super().__init__(model)
        self.uid = uid
        self.name = name or uid
        self.defaulted = False
        self.acquired_by: str | None = None
        self.unpaid_busd = 0.0            # obligations it failed to pay this month
        self.losses_from: dict[str, float] = {}   # defaulted counterparty -> loss this month and recent
        self.revenue_busd = 0.0           # revenue this month
        model.ledger.open(uid)

    @property
    def alive(self) -> bool:
        return not self.defaulted and self.acquired_by is None

    @property
    def cash_busd(self) -> float:
        return self.model.ledger.balance(self.uid)

    @property
    def debt_busd(self) -> float:
        return sum(l.principal for l in self.model.loans_of(self.uid))

    def pay(self, dst: str, amount: float, kind: str, ref: str = "") -> float:
        """Pay ``amount`` to ``dst``; what cannot be paid is recorded as unpaid (a distress signal)."""
        paid = self.model.ledger.pay(self.uid, dst, amount, kind, ref)
        short = amount - paid
        if short > 1e-9:
            self.unpaid_busd += short
            self.model.record_unpaid(self, dst, short, kind)
        return paid
