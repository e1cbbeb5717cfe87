"""The chipmaker: sells accelerators under a supply cap and recycles cash into its customers."""

from __future__ import annotations

from agents.base import Firm
from sim.config import Chipmaker as ChipParams
from sim.economics import chip_price


class Chipmaker(Firm):
    """An Nvidia-like supplier.

    Output per month is capped by advanced packaging, which expands with a lag when the backlog
    justifies it. It prices from backlog/capacity, allocates scarce output (pro rata or partners
    first), and practises vendor financing within a risk budget: equity in labs tied to their
    purchase commitments, and guarantees of partner clouds' project loans.
    """

    kind = "chipmaker"

    def __init__(self, model, uid: str, p: ChipParams):
        super().__init__(model, uid, "Chipmaker")
        self.p = p
        self.output_gw = p.supply_gw_per_month            # current capacity, GW of IT load per month
        self.expansions: list[tuple[int, float]] = []      # (tick online, extra GW/month)
        self.revenue_busd = 0.0
        self.cogs_busd = 0.0
        self.delivered_gw = 0.0
        self.cum_revenue_busd = 0.0
        self.cum_gross_profit_busd = 0.0
        self.vendor_losses_busd = 0.0
        self._price = p.price_busd_per_gw

    def backlog_gw(self) -> float:
        return sum([o.remaining for o in self.world.chip_orders], 0.0)

    def reprice(self) -> None:
        """Set this month's price from the backlog (called when the order book changes)."""
        self._price = chip_price(self.p.price_busd_per_gw, self.backlog_gw(), self.output_gw, self.p.scarcity_markup)

    def price(self) -> float:
        """Price per GW quoted this month."""
        return self._price

    def expand(self, tick: int) -> None:
        """Bring due expansions online; order new packaging capacity when the backlog exceeds six months
        of output (at most its growth target per year, arriving after the expansion lag)."""
        due = [e for e in self.expansions if e[0] <= tick]
        for e in due:
            self.output_gw += e[1]
        planned = self.planned_output(tick)
        if planned > self.output_gw:      # capacity already committed before the start comes online
            self.output_gw = planned
        self.expansions = [e for e in self.expansions if e[0] > tick]
        pending = sum([e[1] for e in self.expansions], 0.0)
        if self.backlog_gw() > 6.0 * self.output_gw:
            monthly = (1.0 + self.p.supply_growth_per_year) ** (1.0 / 12.0) - 1.0
            cap_on_pending = self.output_gw * self.p.supply_growth_per_year * self.p.expansion_lag_months / 12.0
            if pending < cap_on_pending:
                self.expansions.append((tick + self.p.expansion_lag_months, self.output_gw * monthly))

    def planned_output(self, tick: int) -> float:
        """Packaging capacity committed before the start (``supply_plan``), linearly interpolated, GW/month."""
        plan = self.p.supply_plan
        if not plan:
            return 0.0
        if tick <= plan[0][0]:
            return plan[0][1] if tick == plan[0][0] else 0.0
        for (t0, v0), (t1, v1) in zip(plan, plan[1:]):
            if t0 <= tick <= t1:
                return v0 + (v1 - v0) * (tick - t0) / (t1 - t0)
        return plan[-1][1]

    def exposure_busd(self) -> float:
        """Vendor-financing exposure: equity stakes held plus guarantees outstanding."""
        m = self.world
        stakes = sum([s.invested for s in m.stakes_of_investor(self.uid)], 0.0)
        guar = sum([l.principal * l.guaranteed_share for l in m.guaranteed_loans(self.uid)], 0.0)
        return stakes + guar

    def vendor_room_busd(self) -> float:
        if not self.p.vendor_financing or not self.alive:
            return 0.0
        return max(min(self.p.risk_budget_busd - self.exposure_busd(), self.cash_busd * 0.5), 0.0)
