"""Clouds: hyperscalers, neoclouds and build-on-spec landlords (one class, different parameters)."""

from __future__ import annotations

from agents.base import Firm
from sim.config import Cloud as CloudParams
from sim.economics import cloud_spot_ask, default_probability, offtake_quote
from sim.ledger import Project
from sim.positions import Position, compute_position, free_pipeline_gw, open_contract_gw, positions_close


class Cloud(Firm):
    """A cloud provider that builds data centres, sells offtake and spot capacity, and borrows.

    It quotes offtake from its full cost and its expected spot price, builds on spec when it
    expects prices above full cost (adaptive expectations: the source of boom-bust cycles),
    finances projects with cash and loans, and defaults when it cannot pay and cannot refinance.
    """

    kind = "cloud"

    def __init__(self, model, uid: str, p: CloudParams):
        super().__init__(model, uid, p.name)
        self.p = p
        # parameters read several times a month, copied into typed attributes: a read of the scenario's
        # (pydantic) objects costs a generic attribute look-up, ~50 times a native one in the compiled build.
        # The scenario does not change during a run.
        self.hosts_lab: str | None = p.hosts_lab
        self.other_business_busd_per_month: float = p.other_business_busd_per_month
        self.max_leverage: float = p.max_leverage
        self.land_bank_gw: float = p.land_bank_gw
        self.expected_price = 0.0          # adaptive expectation of the spot price, $B/EGW-month
        self.blocks: list[Project] = []    # operational Project records
        self.built_for: dict[str, float] = {}   # operational GW by the contract it was built for (contract id)
        self.fleet_gw = 0.0
        self.fleet_egw = 0.0
        self.fleet_efficiency = 1.0
        self.contracted_gw_now = 0.0       # delivered to contracts this month
        self.idle_egw = 0.0
        self.hoarded_egw = 0.0
        self.land_used_gw = 0.0
        self._bv_cache = (-1, 0.0)
        self.oldest_online = 1 << 30
        self._pos: Position | None = None  # cached pipeline position; None when one of its projects changed
        self._committed: float | None = None   # cached GW sold; None when one of its contracts changed
        self.spot_sold_egw = 0.0
        # project loans are paid into a construction fund, not its cash: the lender releases the money only
        # against the project's own bills (``sim.economics.project_bill_split``), so borrowed money cannot
        # pay for anything else. An account of the firm's own (not an external sector) in the ledger. A
        # hyperscaler borrows on its balance sheet instead (investment-grade bonds; its account stays empty).
        self.project_finance = p.kind != "hyperscaler"
        self.fund_account = f"{uid}:construction_fund"
        self._fund_index = model.ledger.open(self.fund_account)

    @property
    def fund_busd(self) -> float:
        """Loan proceeds held in its construction fund for its financed projects, $B."""
        return self._ledger.balances[self._fund_index]

    # ---------------------------------------------------------------- fleet
    def refresh_fleet(self) -> None:
        """Recompute fleet size, efficiency and book value from its operational blocks."""
        gw = egw = 0.0
        oldest = 1 << 30
        built_for: dict[str, float] = {}
        for b in self.blocks:
            gw += b.gw
            egw += b.gw * b.efficiency
            if b.online < oldest:
                oldest = b.online
            if b.contract:
                built_for[b.contract] = built_for.get(b.contract, 0.0) + b.gw
        self.built_for = built_for
        self.fleet_gw, self.fleet_egw = gw, egw
        self.fleet_efficiency = egw / gw if gw > 0 else self.world.frontier_efficiency
        self.oldest_online = oldest

    def add_block(self, block: Project) -> None:
        """A block came online: append it and add its figures to the fleet totals. ``refresh_fleet`` sums
        the blocks in list order, so adding the newest block last gives exactly the same totals without
        walking a fleet of a few hundred blocks every month."""
        self.blocks.append(block)
        if block.contract:
            self.built_for[block.contract] = self.built_for.get(block.contract, 0.0) + block.gw
        gw = self.fleet_gw + block.gw
        egw = self.fleet_egw + block.gw * block.efficiency
        self.fleet_gw, self.fleet_egw = gw, egw
        self.fleet_efficiency = egw / gw if gw > 0 else self.world.frontier_efficiency
        if block.online < self.oldest_online:
            self.oldest_online = block.online

    @property
    def book_value_busd(self) -> float:
        """Depreciated cost of its operational fleet (straight line over the accelerator life), cached per month."""
        t = self.world.tick
        if self._bv_cache[0] != t:
            life = self.world.useful_life_months
            # share of its accelerator life a block has left, never below zero (a list: faster to sum)
            bv = sum([b.capex_busd * (left if (left := 1.0 - (t - b.online) / life) > 0.0 else 0.0)
                      for b in self.blocks], 0.0)
            self._bv_cache = (t, bv)
        return self._bv_cache[1]

    def position(self) -> Position:
        """Aggregates of its pipeline (sim/positions.py), cached until one of its projects changes."""
        pos = self._pos
        if pos is None or self.world.verify_caches:
            fresh = compute_position(self.world.projects_of(self.uid), *self._build_costs())
            if pos is not None and not positions_close(pos, fresh):
                raise AssertionError(f"stale position of {self.uid}: {pos} != {fresh}")
            pos = self._pos = fresh
        return pos

    def pipeline_changed(self) -> None:
        """One of its pipeline projects changed (status, progress, chips, cost): drop the cached position."""
        self._pos = None

    def project_indexed(self, pr: Project) -> None:
        """A project of it joined the pipeline index. It comes last in filing order, so a cached position
        is extended by it with the sums a fresh pass would make (no recomputation)."""
        if self._pos is not None:
            self._pos = compute_position((pr,), *self._build_costs(), start=self._pos)

    def spec_projects_contracted(self) -> None:
        """Some of its pipeline projects were tied to a new contract, or freed from one that ended. That moves only the free part of its
        pipeline (what is built, paid for and owed stays the same), so a cached position keeps its other
        sums and has that one recomputed, instead of a whole fresh pass at the next read."""
        if self._pos is not None:
            self._pos = self._pos.with_free_pipeline(free_pipeline_gw(self.world.projects_of(self.uid)))

    def _build_costs(self) -> tuple[float, int, float]:
        """(shell and fit-out $B per GW, build months, a refit's networking and installation $B per GW):
        what a position is computed with."""
        w = self.world
        return w.build_busd_per_gw, w.build_months, w.refit_busd_per_gw

    def assets_busd(self) -> float:
        """Cash (its own and its construction fund), the depreciated fleet and the cost of projects under
        construction, $B."""
        cash = self.cash_busd
        # two-way minima and maxima in hot methods are conditionals (max(x, 0.0) is `0.0 if x < 0.0 else x`, the
        # same value in every case): the builtins cost several times more
        return (0.0 if cash < 0.0 else cash) + self.fund_busd + self.book_value_busd + self.position().construction_cost_busd

    def leverage(self, assets_busd: float | None = None) -> float:
        """Debt over assets (``assets_busd``, when the caller has them already)."""
        a = self.assets_busd() if assets_busd is None else assets_busd
        d = self.debt_busd
        return d / a if a > 1e-9 else (1.0 if d > 0 else 0.0)

    def default_probability(self) -> float:
        """Annual default probability: debt service + operating cost vs revenue and other cash flow."""
        t = self.world.tick
        # months to maturity, at least one
        service = sum([l.principal * (l.rate + 12.0 / (1 if (months := l.maturity - t) < 1 else months))
                       for l in self.world.loans_of(self.uid)], 0.0)
        inflow = 12.0 * (self.revenue_busd + self.other_business_busd_per_month)
        runway = 60.0 if self.other_business_busd_per_month > 0.5 else self.cash_busd / max(service / 12.0, 0.05)
        return default_probability(service / (0.1 if inflow < 0.1 else inflow), runway)

    # ---------------------------------------------------------------- spot
    def spot_offer(self, floor: float, cap: float) -> tuple[float, float]:
        """(ask, quantity) of its uncontracted idle capacity; a share is held back for its own lab while
        that lab is alive (a defaulted or acquired lab trains nothing on it: before session 9 the share
        was held back for nobody, neither sold nor counted idle)."""
        idle = self.fleet_egw - self.contracted_gw_now * self.fleet_efficiency
        idle = 0.0 if idle < 0.0 else idle
        hosted = self.hosts_lab
        self.hoarded_egw = idle * self.p.hoard_share if hosted and self.world.labs_by_id[hosted].alive else 0.0
        self.idle_egw = idle - self.hoarded_egw
        frac = self.idle_egw / self.fleet_egw if self.fleet_egw > 0 else 0.0
        return cloud_spot_ask(floor, self.expected_price, frac, cap), self.idle_egw

    def update_expectation(self, spot_price: float) -> None:
        """Adaptive expectations: move the expected price toward the latest spot price."""
        lam = self.p.expectation_speed
        self.expected_price += lam * (spot_price - self.expected_price)

    # ---------------------------------------------------------------- offtake and building
    def land_left_gw(self) -> float:
        left = self.land_bank_gw - self.land_used_gw
        return 0.0 if left < 0.0 else left

    def can_take_gw(self) -> float:
        """GW of new commitments it can take: free operational capacity plus land, unless over-levered."""
        if not self.alive:
            return 0.0
        assets = self.assets_busd()   # read twice below, unchanged in between
        if self.leverage(assets) > self.max_leverage:
            return 0.0
        free_now = self.fleet_gw - self.committed_gw()
        land, funded = self.land_left_gw(), self.financeable_gw(assets)
        return (0.0 if free_now < 0.0 else free_now) + (funded if funded < land else land)

    def own_construction_funds(self, cash_busd: float) -> float:
        """What of ``cash_busd`` it can put into a build itself: less three months of operating cost;
        a hyperscaler adds a year of other-business cash flow. Project finance lends the rest."""
        own = cash_busd - 3.0 * self.fleet_gw * self.world.opex_busd_per_gw_month
        if self.p.kind == "hyperscaler":
            own += 12.0 * self.other_business_busd_per_month
        return own

    def funds_for_new_build(self, chip_price: float) -> float:
        """What it can put into a new build itself now (``own_construction_funds``): its cash and
        construction fund less what its financed builds still have to pay for at ``chip_price``."""
        return self.own_construction_funds(self.cash_busd + self.fund_busd
                                           - self.position().financed_capex_left(chip_price))

    def treasury_shortfall_busd(self) -> float:
        """What the next three months of running costs, construction instalments and chip invoices of its
        financed builds need beyond its cash, construction fund and three months of other-business cash
        flow, $B (negative when covered). A hyperscaler's treasury issues bonds for it."""
        chip = self.world.chipmaker
        pos = self.position()
        need = (3.0 * self.fleet_gw * self.world.opex_busd_per_gw_month + pos.fin_shell_3m_busd
                + pos.fin_chips_left_gw * self.world.chip_price_for(self.uid)
                * min(1.0, 3.0 / max(chip.p.delivery_lag_months, 1)))
        return need - self.cash_busd - self.fund_busd - 3.0 * self.other_business_busd_per_month

    def financeable_gw(self, assets_busd: float | None = None) -> float:
        """GW of new projects it could fund: cash, its construction fund, a year of other-business cash flow
        and borrowing room up to its leverage limit, less what its pipeline still has to pay for.
        (``assets_busd``: its assets, when the caller has them already.)"""
        m = self.world
        per_gw = m.capex_per_gw(self.uid)
        assets = self.assets_busd() if assets_busd is None else assets_busd
        room_debt = self.max_leverage * assets - self.debt_busd
        cash = self.cash_busd
        funds = ((0.0 if cash < 0.0 else cash) + self.fund_busd + 12.0 * self.other_business_busd_per_month
                 + (0.0 if room_debt < 0.0 else room_debt))
        committed = self.position().capex_left(m.chip_price_for(self.uid))
        gw = (funds - committed) / per_gw
        return 0.0 if gw < 0.0 else gw

    def committed_gw(self) -> float:
        """GW sold under signed and active offtake contracts (cached until one of its contracts changes)."""
        q = self._committed
        if q is None or self.world.verify_caches:
            fresh = open_contract_gw(self.world.contracts_of_cloud(self.uid))
            if q is not None and abs(fresh - q) > 1e-9 * max(1.0, fresh):
                raise AssertionError(f"stale committed GW of {self.uid}: {q} != {fresh}")
            q = self._committed = fresh
        return q

    def pipeline_gw(self) -> float:
        return self.position().pipeline_gw

    def quote(self, full_cost_gw_month: float, full_cost_egw_month: float) -> float:
        """Offtake price per GW-month."""
        ratio = self.expected_price / full_cost_egw_month if full_cost_egw_month > 0 else 1.0
        return offtake_quote(full_cost_gw_month, self.p.target_margin, ratio)

    def spec_build_gw(self, market_gap_egw: float, full_cost_egw_month: float, frontier_eff: float) -> float:
        """GW to build on spec: when it expects prices above full cost, a share of the market's
        projected shortfall, bounded by its land, project size and leverage. Every cloud sees the same
        public gap, so their combined appetite can overbuild."""
        if not self.alive:
            return 0.0
        assets = self.assets_busd()   # read twice below, unchanged in between
        if self.leverage(assets) > self.max_leverage or market_gap_egw <= 0:
            return 0.0
        margin = self.expected_price / full_cost_egw_month - 1.0 if full_cost_egw_month > 0 else 0.0
        if margin <= 0:
            return 0.0
        gw = self.p.spec_appetite * min(margin, 1.0) * market_gap_egw / frontier_eff
        gw = min(gw, self.p.max_project_gw, self.land_left_gw(), self.financeable_gw(assets))
        return gw if gw >= 0.05 else 0.0
