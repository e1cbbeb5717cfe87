"""AI labs: serve demand with the compute they have, bet on future compute, raise money, train."""

from __future__ import annotations

import math
from collections import deque
from typing import Final

from agents.base import Firm
from sim.config import Lab as LabParams
from sim.economics import default_probability, quality_gain, training_spot_bid


MIN_TRANCHE_SHARE: Final = 0.1   # a lab goes to market when its gap exceeds 10% of its target (deals are lumpy)


class Lab(Firm):
    """An AI lab (OpenAI-, Anthropic-, xAI-like, or a fringe of small labs).

    Each month it serves its share of demand, buys spot compute for what it cannot serve,
    resells or trains on idle compute, forecasts its needs and requests offtake ahead of them
    (its forward bet: ``aggressiveness``), and raises equity when its runway is short.
    """

    kind = "lab"

    def __init__(self, model, uid: str, p: LabParams):
        super().__init__(model, uid, p.name)
        self.p = p
        # parameters read several times a month, typed copies (as agents.cloud.Cloud's; the scenario's
        # ``scale.lab_aggressiveness`` too)
        self.min_runway_months: float = p.min_runway_months
        self.training_share: float = p.training_share
        self.wtp_multiple: float = p.wtp_multiple
        self.training_cash_share: float = p.training_cash_share
        self.aggressiveness: float = p.aggressiveness
        self.aggressiveness_scale: float = model.cfg.scale.lab_aggressiveness
        self.horizon_years: float = p.planning_horizon_months / 12.0
        self.risk_tolerance: float = p.risk_tolerance
        self.research_volatility: float = p.research_volatility
        self.training_efficiency: float = p.training_efficiency
        self.quality = p.initial_quality
        self.weight = 1.0                 # user base; acquisitions add the target's
        # owned capacity (effective GW) and its blocks, (month online, EGW) oldest first: changed only by the
        # own-cluster methods below, which keep the total and the blocks together
        self.own_egw = 0.0
        self.own_blocks: list[tuple[int, float]] = []
        self.demand_egw = 0.0
        self.served_egw = 0.0
        self.idle_egw = 0.0
        self.have_egw = 0.0               # owned + delivered compute this month
        self.surplus_egw = 0.0            # idle compute kept for extra training instead of resold
        self.train_egw = 0.0
        self.unmet_egw = 0.0
        self.train_short_egw = 0.0        # training compute it wants but does not have this month
        self.rented_train_egw = 0.0       # of which rented on the spot market
        self.share = 0.0
        self.demand_hist: deque[float] = deque(maxlen=13)
        self.revenue_hist: deque[float] = deque(maxlen=13)
        self.burn_busd = 0.0              # monthly net cash outflow (smoothed)
        self.operating_busd = 0.0         # what its operations cost this month (compute, staff, power), paid or not
        self.equity_raised_busd = 0.0
        self.valuation_busd = 0.0

    # ---------------------------------------------------------------- own clusters
    def start_own_clusters(self, egw: float, useful_life_months: int) -> None:
        """Its own clusters at the start: ``egw`` in up to four blocks of staggered age, as the clouds' fleets
        (ages spread over the first half of the useful life, at the middles of equal slices, not drawn at
        random)."""
        self.own_egw = egw
        if egw > 0:
            n = max(1, min(4, int(math.ceil(egw))))
            self.own_blocks = sorted((-int((k + 0.5) * (useful_life_months // 2) / n), egw / n) for k in range(n))

    def retire_own_clusters(self, tick: int, useful_life_months: int) -> list[float]:
        """Retire the blocks that reached the end of their useful life by ``tick``; returns their EGW."""
        retired = []
        blocks = self.own_blocks
        while blocks and tick - blocks[0][0] >= useful_life_months:
            _online, egw = blocks.pop(0)
            self.own_egw = self.own_egw - egw if blocks else 0.0
            retired.append(egw)
        return retired

    def take_own_clusters(self, other: "Lab") -> None:
        """Take another lab's clusters with their ages (an acquisition)."""
        self.own_egw += other.own_egw
        self.own_blocks = sorted(self.own_blocks + other.own_blocks)
        other.drop_own_clusters()

    def drop_own_clusters(self) -> float:
        """Give up all its clusters (taken over, or shut down at a default); returns their EGW."""
        egw, self.own_egw, self.own_blocks = self.own_egw, 0.0, []
        return egw

    def pay_operating(self, dst: str, amount: float, kind: str) -> float:
        """Pay an operating bill (compute, staff, power): counted in the month's operating cost, which its
        burn is measured from, whether or not it can pay it."""
        self.operating_busd += amount
        return self.pay(dst, amount, kind)

    def update_burn(self) -> None:
        """Its burn: the month's operating cost less its revenue (never below zero), smoothed (weight 0.3
        on the latest month). What it actually pays, not its take-or-pay floor: a lab uses most of its
        contracted compute and pays for it in full, and rents spot compute on top. (Before session 7 the
        burn counted only the floor, so labs using their compute saw a burn near zero, raised nothing and
        missed their compute bills month after month, rescued each time by a small round.)"""
        net = self.operating_busd - self.revenue_busd
        self.burn_busd = 0.7 * self.burn_busd + 0.3 * (0.0 if net < 0.0 else net)   # max(net, 0.0) without the call

    # ---------------------------------------------------------------- serving
    def contracted_egw(self) -> float:
        """Compute delivered to it this month under its offtake contracts, effective GW."""
        clouds = self.world.clouds_by_id
        return sum([c.delivered_gw * clouds[c.cloud].fleet_efficiency
                    for c in self.world.contracts_of_lab(self.uid) if c.status == "active"], 0.0)

    def plan_serving(self) -> None:
        """Split its compute between inference (up to demand) and training; the rest is idle."""
        have = self.have_egw = self.own_egw + self.contracted_egw()
        demand, share = self.demand_egw, self.training_share
        want = demand / (1.0 - share)
        lacks = want > have
        # (two-way minima and maxima here are conditionals, min(a, b) as `b if b < a else a`: the same value as
        # the builtins, which cost several times more in these per-lab, per-month methods)
        if lacks:
            infer = have * (1.0 - share)
            infer = infer if infer < demand else demand
        else:
            infer = demand
        self.served_egw = infer
        self.unmet_egw = demand - infer
        used = want if want < have else have
        train = used - infer
        # short of compute, it keeps the training share of what it has: the rest of its training is unmet
        self.train_short_egw = share * (want - have) if lacks else 0.0
        idle = have - used
        if self.p.resell_idle:
            self.surplus_egw = 0.0
        else:                                # keep idle compute and train on it (surplus compute)
            self.surplus_egw = idle
            train += idle
            idle = 0.0
        self.train_egw, self.idle_egw = train, idle

    def strategic_price(self, short: float, revenue_per_egw: float, cap: float) -> float:
        """Its strategic willingness to pay per EGW-month when it lacks a share ``short`` of the compute
        it wants: revenue per EGW x ``wtp_multiple``, rising by half the share it lacks (a lab short of
        compute pays up to keep its users and its place in the race), scaled down when its runway is
        below ``min_runway_months`` (prudence); never below revenue per EGW, never above the cap."""
        min_runway = self.min_runway_months
        prudence = self.runway_months() / (1.0 if min_runway < 1.0 else min_runway)
        prudence = 1.0 if 1.0 < prudence else prudence
        premium = (self.wtp_multiple * (1.0 + 0.5 * short) - 1.0) * prudence
        price = revenue_per_egw * (1.0 + (0.0 if premium < 0.0 else premium))
        return cap if cap < price else price

    def spot_bids(self, revenue_per_egw: float, cap: float) -> list[tuple[float, float]]:
        """Two-step demand curve for spot compute: half its unmet demand at its strategic
        willingness to pay (rising with the share of its demand it cannot serve: a lab short of
        compute pays up to keep its users), half at break-even revenue; bounded by its cash."""
        if self.unmet_egw <= 1e-9:
            return []
        demand = self.demand_egw
        hi = self.strategic_price(self.unmet_egw / (1e-9 if demand < 1e-9 else demand), revenue_per_egw, cap)
        lo = hi if hi < revenue_per_egw else revenue_per_egw
        half = 0.5 * self.unmet_egw
        # the premium over revenue must come from cash; the break-even half pays for itself
        cash, premium = self.cash_busd, hi - revenue_per_egw
        afford = (0.0 if cash < 0.0 else cash) / (1e-9 if premium < 1e-9 else premium)
        return [(hi, afford if afford < half else half), (lo, half)]

    def training_bid(self, revenue_per_egw: float, cap: float) -> tuple[float, float]:
        """(price, EGW) it bids on the spot market for the training compute it lacks.

        Labs rent training compute to stay in the capability race, not to serve users (the 2023 rush:
        labs and start-ups rented H100s at >$8/GPU-hour against ~$3 of inference revenue per GPU-hour
        [cal: Rental price path; Lab revenue per GW]). It bids its strategic price for the share of its
        training it lacks (the same rule as for inference it cannot serve), so the bid falls as
        contracted capacity covers its own training. Training earns nothing this month, so it is paid
        from cash: each month at most ``training_cash_share`` of its cash above a reserve of
        ``min_runway_months`` of burn. The rush unwinds as take-or-pay commitments raise the burn and
        as cash runs down; labs without free cash stop renting (the 2024 exits of Inflection, Adept
        and Character from pre-training [cal: Acquisition-like exits]).
        """
        short = self.train_short_egw
        if short <= 1e-9 or self.training_cash_share <= 0:
            return 0.0, 0.0
        price = self.strategic_price(short / (short + self.train_egw), revenue_per_egw, cap)
        free_cash = self.cash_busd - self.min_runway_months * self.burn_busd
        return training_spot_bid(short, price, free_cash, self.training_cash_share)

    # ---------------------------------------------------------------- planning
    def growth_estimate(self) -> float:
        """Its demand growth over the last year (adaptive, clipped), annual fraction."""
        h = self.demand_hist
        if len(h) < 4 or h[0] <= 0:
            return self.world.cfg.market.demand_growth_per_year
        months = len(h) - 1
        g = (h[-1] / h[0]) ** (12.0 / months) - 1.0
        return -0.5 if g < -0.5 else (5.0 if g > 5.0 else g)

    def committed_egw(self, frontier_eff: float) -> float:
        """Compute it owns or has contracted, including contracts not yet delivered."""
        tot, clouds = self.own_egw, self.world.clouds_by_id
        for c in self.world.contracts_of_lab(self.uid):
            st = c.status
            if st == "active":     # delivered on its cloud's fleet, at that fleet's efficiency
                tot += c.gw * clouds[c.cloud].fleet_efficiency
            elif st == "signed":   # to be built: frontier chips
                tot += c.gw * frontier_eff
        return tot

    def offtake_request_gw(self, frontier_eff: float, annual_cost_per_gw: float) -> float:
        """GW of new offtake to request: forecast need at its horizon x aggressiveness, minus what it
        has, bounded by what it dares to commit relative to revenue and cash (risk tolerance)."""
        horizon_years = self.horizon_years
        forecast = self.demand_egw * (1.0 + self.growth_estimate()) ** horizon_years
        target = forecast / (1.0 - self.training_share) * self.aggressiveness * self.aggressiveness_scale
        gap_egw = target - self.committed_egw(frontier_eff)
        if gap_egw <= MIN_TRANCHE_SHARE * target or gap_egw < 0.05:   # procurement comes in tranches
            return 0.0
        # affordability: new annual commitments <= tolerance x (revenue run-rate + cash spread over the horizon)
        annual_rev = 12.0 * self.revenue_busd
        existing = 12.0 * sum([c.gw * c.price for c in self.world.contracts_of_lab(self.uid)
                               if c.status in ("signed", "active")], 0.0)
        room = self.risk_tolerance * (2.0 * annual_rev + self.cash_busd / max(horizon_years, 0.5)) - existing
        if room <= 0:
            return 0.0
        gw = min(gap_egw / frontier_eff, room / max(annual_cost_per_gw, 1e-9))
        return gw if gw >= 0.05 else 0.0

    # ---------------------------------------------------------------- credit and funding
    def annual_obligations(self) -> float:
        return 12.0 * sum([c.gw * c.price * c.top_share for c in self.world.contracts_of_lab(self.uid)
                           if c.status in ("signed", "active")], 0.0)

    def runway_months(self) -> float:
        return self.cash_busd / self.burn_busd if self.burn_busd > 1e-9 else 60.0

    def default_probability(self) -> float:
        """Annual default probability as creditors see it (burden of commitments vs revenue, liquidity)."""
        burden = self.annual_obligations() / max(12.0 * self.revenue_busd, 0.1)
        return default_probability(burden, self.runway_months())

    def revenue_growth(self) -> float:
        h = self.revenue_hist
        if len(h) < 4 or h[0] <= 1e-9:
            return 0.0
        return (h[-1] / h[0]) ** (12.0 / (len(h) - 1)) - 1.0

    def funding_need(self) -> float:
        """Cash it wants to raise now: enough for twice its minimum runway, if the runway is short."""
        if self.burn_busd <= 1e-9 or self.runway_months() >= self.min_runway_months:
            return 0.0
        return 2.0 * self.min_runway_months * self.burn_busd - self.cash_busd

    # ---------------------------------------------------------------- training
    def train(self, stall: float, z: float = 0.0) -> None:
        """Turn training compute into capability (diminishing returns), times research luck
        exp(sigma z - sigma^2/2) with mean one (``z`` a standard normal draw)."""
        sig = self.research_volatility
        luck = math.exp(sig * z - 0.5 * sig * sig)
        self.quality += luck * quality_gain(self.train_egw, self.world.quality_scale, self.training_efficiency, stall)
