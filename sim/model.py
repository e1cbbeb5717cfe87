"""ComputeMarketModel: one simulated world of the AI compute buildout, one month per step.

The order of a month (../shared/DESIGN.md 3.4) is :meth:`ComputeMarketModel.step`: read it first.
Decisions live in the agents (agents/), the clearing and pricing rules in pure functions
(sim/economics.py, sim/markets.py), permitting in sim/permitting.py and insolvency and M&A
in sim/distress.py. Every payment goes through the ledger (sim/ledger.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from statistics import fmean
from typing import Any, Final, Mapping, Sequence

import mesa
import numpy as np
from mypy_extensions import mypyc_attr

from agents.base import Firm
from agents.chipmaker import Chipmaker
from agents.cloud import Cloud
from agents.financier import Financier
from agents.lab import Lab
from agents.regulator import Regulator
from sim import distress
from sim.config import ScenarioConfig, load_scenario
from sim.economics import (bills_covered, capitalised_principal, demand_shares, dilute_stakes, full_cost_per_gw_month,
                           hhi, logistic_step, monthly_rate, months_to_online, project_bill_split, refit_pays,
                           take_or_pay_payment, usd_per_gpu_hour, vintage_efficiency)
from sim.ledger import Book, Contract, Ledger, Loan, Project, Record, Stake, bucket
from sim.metrics import event_dict
from sim.markets import SpotResult, allocate_chips, award_offtake, clear_spot
from sim.permitting import process_jurisdiction
from sim.positions import OPEN_CONTRACT, PIPELINE, REFIT_MONTHS, contract_months_left

QUEUED: Final = ("permitting", "interconnection")   # the stages whose GW the regulators' queues count

AGENT_VARIABLES: Final = ("cash_busd", "debt_busd", "revenue_busd", "capacity_gw", "quality", "share")
MESA_REPORTERS: Final = ("spot_price", "utilisation", "unmet_demand_egw", "gw_operational", "sentiment")
DEMAND_PERSISTENCE: Final = 0.95   # monthly persistence of demand-growth shocks
LAB_RESALE_DISCOUNT: Final = 0.7   # labs offer idle compute at this share of last month's spot price
USER_PRICE_SPEED: Final = 0.2   # monthly weight of the spot price in end-user prices (~5-month memory)
SPOT_EXCHANGE: Final = "spot_exchange"   # clearing account of the spot market; nets to zero every month
FREE_NOW_MIN_GW: Final = 0.5   # free capacity a cloud offers for immediate delivery only above this; slivers go to spot
MIN_TRANCHE_GW: Final = 0.01   # smallest block of delivered chips a finished shell brings online ahead of the rest

EventRow = tuple[int, str, str, str, str, float, float, str]
"""One event: its fields in the order of sim.metrics.EVENT_COLUMNS."""


@dataclass(slots=True, init=False)
class ChipOrder:
    """An order in the chip book (``__init__`` written out, as sim.ledger.Record's: compiled, natively)."""

    project: Project
    cloud: str
    remaining: float      # GW not yet allocated
    price: float          # $B per GW, fixed at order

    def __init__(self, project: Project, cloud: str, remaining: float, price: float) -> None:
        self.project = project
        self.cloud = cloud
        self.remaining = remaining
        self.price = price


def latest_value(model: ComputeMarketModel, key: str) -> float:
    """A Mesa reporter: the latest value of the model's series ``key`` (NaN before the first month). A
    module-level function behind ``functools.partial``, not a lambda: Mesa's DataCollector calls a
    callable that is not a lambda or a partial without arguments to validate it, and the compiled
    build's lambdas are not Python lambdas."""
    values = model.series.get(key)
    return values[-1] if values else float("nan")


@mypyc_attr(allow_interpreted_subclasses=True)   # the compiled build (sim/native.py) lets users subclass it
class ComputeMarketModel(mesa.Model):
    """Labs, clouds, a chipmaker, capital markets and regulators negotiating every month.

    Parameters: ``scenario`` (name or path of a scenario TOML) or ``config`` (a ScenarioConfig),
    ``overrides`` (dotted path -> value, or "path=value" strings), ``rng`` (seed), ``months`` (the
    horizon; default the scenario's) and ``mesa_data``: whether Mesa's DataCollector (``datacollector``,
    the headline variables of ``MESA_REPORTERS``, read by ``mesa.batch_run`` and Mesa tooling) collects
    every month. ``sim.runner`` turns it off: the model keeps every series itself (``series``,
    ``agent_series``), and the collector's copy cost ~5 % of a run.
    """

    verify_caches = False   # check every cached aggregate against a fresh computation (tests)

    def __init__(self, scenario: str = "baseline", config: ScenarioConfig | None = None,
                 overrides: Mapping[str, Any] | Sequence[str] | None = None, rng: int | None = None,
                 months: int | None = None, mesa_data: bool = True, **params: Any):
        super().__init__(rng=rng)
        cfg = config if config is not None else load_scenario(scenario)
        extra = dict(params)
        if overrides:
            cfg = cfg.with_overrides(overrides)
        if extra:   # mesa.batch_run passes parameters as keyword arguments: dotted paths with "__" for "."
            cfg = cfg.with_overrides({k.replace("__", "."): v for k, v in extra.items()})
        self.cfg = cfg
        self.horizon = months if months is not None else cfg.meta.months
        tech = cfg.technology   # read many times a month; the scenario does not change during a run
        self.build_busd_per_gw: float = tech.shell_capex_busd_per_gw + tech.other_capex_busd_per_gw   # shell, fit-out
        self.refit_busd_per_gw: float = tech.other_capex_busd_per_gw   # a refit: networking and installation
        self.build_months: int = tech.build_months
        self.opex_busd_per_gw_month: float = tech.opex_busd_per_gw_month   # power and operations
        self.useful_life_months: int = tech.useful_life_months   # an accelerator's life
        self.tick = 0
        y, m = [int(x) for x in cfg.meta.start.split("-")]
        self._start_ym = y * 12 + (m - 1)
        self.ledger = Ledger([SPOT_EXCHANGE])
        self.book = Book()
        self.event_rows: list[EventRow] = []   # the event log, one tuple of EVENT_COLUMNS an event, in order
        self._event_dicts: list[dict[str, Any]] = []   # event_log: the rows as dicts, made when first read
        self._event_tick = -1   # the month of the last event, and its date: a month's events share one
        self._event_day = ""
        self.series: dict[str, list[float]] = {}
        self.agent_series: dict[tuple[str, str], list[float]] = {}
        self.stats = distress.Stats()
        self._init_agents()
        self._projects_ended = self._contracts_ended = False   # set by the listener; cleared by the pruning
        self.book.listener = self._on_record
        self._init_state()
        self.running = self.horizon > 0
        self.mesa_data = mesa_data
        # for mesa.batch_run and Mesa tooling: a few headline market variables each month
        self.datacollector = mesa.DataCollector(model_reporters={k: partial(latest_value, key=k) for k in MESA_REPORTERS})

    # ================================================================== the month
    def step(self) -> None:
        """One month, in the order of ../shared/DESIGN.md 3.4."""
        t = self.tick
        self.ledger.tick = self.book.tick = t
        self._begin_month()
        self.phase_demand()                 # 1. demand grows; scenario shocks
        self.phase_serving()                # 2. labs serve; spot market clears the rest; revenue
        self.phase_settlement()             # 3. contract payments, debt service, opex, depreciation
        self.phase_offtake()                # 4. offtake requests, bids, awards
        self.phase_investment()             # 5. speculative builds; permit filings
        self.phase_permitting()             # 6. regulators: permits, litigation, grid, moratoria
        self.phase_financing()              # 7. project debt, guarantees, equity rounds, vendor equity
        self.phase_chips_and_construction() # 8. chip orders, allocation, deliveries; construction
        self.phase_distress()               # 9. defaults, cascades, acquisitions, liquidations
        self.phase_training_and_record()    # 10. training and quality; data collection
        if self.mesa_data:
            self.datacollector.collect(self)
        self.tick += 1
        if self.tick >= self.horizon:
            self.running = False

    # ================================================================== set-up
    def _init_agents(self) -> None:
        cfg = self.cfg
        self.labs: list[Lab] = [Lab(self, uid, p) for uid, p in cfg.labs.items()]
        self.clouds: list[Cloud] = [Cloud(self, uid, p) for uid, p in cfg.clouds.items()]
        self.chipmaker = Chipmaker(self, "chipmaker", cfg.chipmaker)
        self.financier = Financier(self, "financier", cfg.financier)
        self.regulators: dict[str, Regulator] = {uid: Regulator(self, uid, p) for uid, p in cfg.regulators.items()}
        self.labs_by_id = {a.uid: a for a in self.labs}
        self.clouds_by_id = {a.uid: a for a in self.clouds}
        self.firms_by_id: dict[str, Firm] = {**self.labs_by_id, **self.clouds_by_id,
                                            "chipmaker": self.chipmaker, "financier": self.financier}

    def _init_state(self) -> None:
        cfg = self.cfg
        self.frontier_efficiency = 1.0
        self.quality_scale = max(cfg.market.initial_demand_egw / max(len(self.labs), 1), 0.1)
        self.demand_egw = cfg.market.initial_demand_egw
        self.ceiling_egw = cfg.market.saturation_egw
        self.stall = 0.0
        self.price_rationing = 1.0
        self.demand_shock = 0.0
        self.revenue_per_egw = cfg.market.revenue_per_egw_month_busd
        self.contracts_lab: dict[str, list[Contract]] = {l.uid: [] for l in self.labs}
        self.contracts_cloud: dict[str, list[Contract]] = {c.uid: [] for c in self.clouds}
        self.loans: dict[str, list[Loan]] = {}
        self.stakes: list[Stake] = []
        self._held_stakes: dict[str, list[Stake]] | None = None   # investor -> held stakes (stakes_of_investor)
        self.projects: list[Project] = []
        self._projects_by_cloud: dict[str, list[Project]] = {}
        self.chip_orders: list[ChipOrder] = []
        # the optional second supplier (DESIGN 3.1): clouds' in-house accelerators, at cost, from their own programme
        self._in_house: dict[str, float] = {c.uid: c.p.in_house_chip_share for c in self.clouds
                                            if c.p.in_house_chip_share > 0.0}
        self.custom_orders: list[ChipOrder] = []
        self.custom_output_gw = 0.0        # in-house accelerators made this month, GW of IT load
        self.custom_delivered_gw = 0.0     # ... and delivered this month
        self.cum_custom_gw = 0.0           # in-house accelerators delivered since the start, GW
        self.cum_merchant_gw = 0.0         # the chipmaker's, GW
        # chips allocated and in transit, by the month they arrive: (project, GW, price, supplier's account) in
        # allocation order
        self.deliveries: dict[int, list[tuple[Project, float, float, str]]] = {}
        self.gw_brought_online = 0.0
        self.gw_retired = 0.0
        self.gw_liquidated_away = 0.0
        self.cum_capex = 0.0
        self.announced_gw_total = 0.0
        self.monthly: dict[str, Any] = {}
        self._update_costs()
        self.spot_price = self.full_cost_egw
        self.user_price = self.full_cost_egw
        for c in self.clouds:
            c.expected_price = self.full_cost_egw
        self.offtake_price = self.full_cost_gw * 1.15

        fund = self.ledger.pay
        fund("investors", "financier", cfg.financier.initial_capital_busd, "initial_capital")
        fund("investors", "chipmaker", cfg.chipmaker.initial_cash_busd, "initial_capital")
        life = self.useful_life_months
        for c in self.clouds:
            chip0 = self._blended_chip_price(c.uid, cfg.chipmaker.price_busd_per_gw)   # its chips' cost at the start
            all_in = self.build_busd_per_gw + chip0
            fund("investors", c.uid, c.p.initial_cash_busd, "initial_capital")
            if c.p.capacity_gw > 0:   # installed fleet in a few blocks of staggered age
                n_blocks = max(1, min(4, int(np.ceil(c.p.capacity_gw / 1.0))))
                for k in range(n_blocks):
                    age = int(self.rng.integers(0, life // 2))
                    gw = c.p.capacity_gw / n_blocks
                    pr = Project(self.book.new_id("P"), "operational", cloud=c.uid, regulator=c.p.jurisdiction,
                                 gw=gw, announced=-age - 24, online=-age, efficiency=1.0,
                                 capex_busd=gw * all_in * 0.8)   # cost basis; book value depreciates with age
                    self.book.add("project", pr)
                    self._add_project(pr)
                    c.blocks.append(pr)
                    c.land_used_gw += gw
            if c.p.initial_debt_busd > 0:
                loan = Loan(self.book.new_id("L"), "active", lender="financier", borrower=c.uid,
                            principal=c.p.initial_debt_busd,
                            rate=cfg.financier.base_rate + cfg.financier.base_spread + (0.0 if c.p.kind == "hyperscaler" else 0.05),
                            maturity=self.horizon + 120)
                loan.amort = 0.0   # corporate bonds: interest only, rolled over beyond the horizon
                self.book.add("loan", loan)
                bucket(self.loans, c.uid).append(loan)
            c.refresh_fleet()
            left = c.p.initial_pipeline_gw
            sponsor_equity = 0.0   # the cloud's own share of what its projects under construction still cost
            while left > 1e-9:   # projects already under construction, financed, at random progress
                gw = min(left, c.p.max_project_gw)
                left -= gw
                pr = Project(self.book.new_id("P"), "construction", cloud=c.uid, regulator=c.p.jurisdiction, gw=gw,
                             announced=-24, build_left=int(self.rng.integers(1, self.build_months + 1)),
                             financed=True, capex_busd=gw * all_in)
                self.book.add("project", pr)
                self._add_project(pr)
                c.land_used_gw += gw
                done = 1.0 - pr.build_left / self.build_months
                pr.chips_delivered = 0.0
                self._order_chips(pr, c.uid, cfg.chipmaker.price_busd_per_gw)
                # its financing was arranged before the start: a project loan for what is left to pay
                to_pay = gw * (chip0 + (1.0 - done) * self.build_busd_per_gw)
                debt = to_pay * (cfg.financier.max_ltv if c.p.kind != "hyperscaler" else 0.5)
                self._lend(c, debt, cfg.financier.base_rate + cfg.financier.base_spread
                           + (0.0 if c.p.kind == "hyperscaler" else cfg.financier.unrated_spread), pr, 0.0, cost=to_pay)
                sponsor_equity += to_pay - debt
            # ... and the sponsor's equity for the rest: what the cloud's own funds (as construction finance
            # counts them, ``Cloud.own_construction_funds``) cannot cover was raised from investors before the start. A
            # build is not started without its equity; without this, a thinly capitalised builder starts
            # with construction it can never pay for and defaults on schedule, whatever the market does.
            own = c.own_construction_funds(c.p.initial_cash_busd)
            if sponsor_equity > max(own, 0.0) + 1e-9:
                fund("investors", c.uid, sponsor_equity - max(own, 0.0), "initial_project_equity")
        # chips in transit at the start: in each of the delivery lag's months before it, the chipmaker shipped its
        # output to the orders of the projects already under construction, by the month's own allocation rule;
        # those shipments arrive (and are paid for) in months 0 .. lag-1
        for arrives in range(cfg.chipmaker.delivery_lag_months):
            self._allocate_chips(arrives)
        if self._in_house:   # ... and so had the owners' in-house programme
            for arrives in range(cfg.custom_silicon.delivery_lag_months):
                self._allocate_in_house_chips(arrives - cfg.custom_silicon.delivery_lag_months)
        for lab in self.labs:
            fund("investors", lab.uid, lab.p.initial_cash_busd, "initial_capital")
            lab.start_own_clusters(lab.p.own_capacity_gw, life)
            if lab.p.initial_compute_gw > 0 and lab.p.partner_cloud is not None:   # (the schema requires both)
                cl = self.clouds_by_id[lab.p.partner_cloud]
                term = cfg.market.contract_term_months
                remaining = int(self.rng.integers(max(term // 3, 1), term + 1))
                self._sign(lab, cl, lab.p.initial_compute_gw, self.full_cost_gw * (1 + cl.p.target_margin),
                           start=0, end=remaining, announce=False)
        shares = self._shares()
        for lab, s in zip(self.labs, shares):
            lab.share = s
            lab.demand_egw = self.demand_egw * s
            lab.revenue_busd = min(lab.demand_egw, lab.own_egw + lab.p.initial_compute_gw) * self.revenue_per_egw
            lab.burn_busd = lab.p.other_costs_busd_per_month
        self.initial_hhi = hhi(shares)
        self._initial_op_gw = sum([c.fleet_gw for c in self.clouds], 0.0) + sum([l.own_egw for l in self.labs], 0.0)
        self.log_event("start", "market", "", 0.0, self.demand_egw, f"demand {self.demand_egw:.1f} EGW")

    def _add_project(self, pr: Project) -> None:
        """Index a project in the pipeline (operational capacity lives in its cloud's ``blocks``); the
        aggregates derived from the index take it in here, not when the book records it."""
        if pr.status not in PIPELINE:
            return
        self.projects.append(pr)
        bucket(self._projects_by_cloud, pr.cloud).append(pr)
        c = self.clouds_by_id.get(pr.cloud)
        if c is not None:
            c.project_indexed(pr)
        if pr.status in QUEUED:
            r = self.regulators.get(pr.regulator)
            if r is not None:
                r._queues_gw = None

    def capex_per_gw(self, cloud_uid: str) -> float:
        """All-in cost of one GW of new capacity for ``cloud_uid`` at what its chips cost it this month
        (``chip_price_for``), $B."""
        return self.build_busd_per_gw + self.chip_price_for(cloud_uid)

    def merchant_share(self, cloud_uid: str) -> float:
        """Share of the chips of a cloud's builds it buys from the chipmaker (1 but for owners of in-house chips)."""
        return 1.0 - self._in_house.get(cloud_uid, 0.0)

    def _blended_chip_price(self, cloud_uid: str, merchant_busd_per_gw: float) -> float:
        """What a GW of accelerators for a cloud's build costs it when the chipmaker charges
        ``merchant_busd_per_gw``: that price, or for an owner of in-house chips the blend of their unit cost
        (its in-house share) and that price (the rest), $B per GW."""
        s = self._in_house.get(cloud_uid, 0.0)
        if s <= 0.0:
            return merchant_busd_per_gw
        return s * self.cfg.custom_silicon.unit_cost_busd_per_gw + (1.0 - s) * merchant_busd_per_gw

    def chip_price_for(self, cloud_uid: str) -> float:
        """What a GW of accelerators for a new build of ``cloud_uid`` costs it this month, $B."""
        return self._blended_chip_price(cloud_uid, self.chipmaker.price())

    def full_costs_of(self, c: Cloud) -> tuple[float, float]:
        """Full monthly cost of a GW and of an effective GW of new capacity for cloud ``c``, $B: the market's
        (at the chipmaker's price), or an owner's own at what its chips cost it (it quotes and builds on it)."""
        own = self._own_full_cost_gw.get(c.uid)
        if own is None:
            return self.full_cost_gw, self.full_cost_egw
        return own, own / self.frontier_efficiency

    # ================================================================== lookups
    def _on_record(self, rec: Record) -> None:
        """Book listener: a record was added or changed status, so cached aggregates of its parties may be
        stale. Only those the change can move are dropped. A new project is not yet in the pipeline
        index the positions are computed from (``_add_project`` takes it in). A cloud's
        position sees only whether a project is in the pipeline and whether it is under construction
        (``_position_stage``), so a move through permitting leaves it alone; a regulator's queues see
        only projects in permitting and awaiting grid connection; a cloud's sold GW sees only whether a contract is open (signed ->
        active leaves it alone)."""
        if isinstance(rec, Project):
            if len(rec.history) < 2:   # just added
                return
            prev, new = rec.history[-2][1], rec.status   # the book logs every status: where it moved from
            if self._position_stage(rec, prev) != self._position_stage(rec, new):
                c = self.clouds_by_id.get(rec.cloud)
                if c is not None:
                    c.pipeline_changed()
                if new not in PIPELINE:   # online or ended: leaves the pipeline index
                    self._projects_ended = True
            if prev in QUEUED or new in QUEUED:
                r = self.regulators.get(rec.regulator)
                if r is not None:
                    r._queues_gw = None
        elif isinstance(rec, Contract):
            if rec.status not in OPEN_CONTRACT or len(rec.history) < 2:   # ended, or just added
                c = self.clouds_by_id.get(rec.cloud)
                if c is not None:
                    c._committed = None
            if rec.status not in OPEN_CONTRACT:
                self._contracts_ended = True
        elif isinstance(rec, Loan):
            f = self.firms_by_id.get(rec.borrower)
            if f is not None:
                f._debt = None
        elif isinstance(rec, Stake):
            held = self._held_stakes
            if rec.status != "held":        # converted, written off or transferred: rebuilt at the next read
                self._held_stakes = None
            elif held is not None and len(rec.history) < 2:   # just taken: last in the order of taking
                bucket(held, rec.investor).append(rec)

    @staticmethod
    def _position_stage(pr: Project, status: str) -> int:
        """What a cloud's position sees of a project with this status: 0 out of the pipeline, 1 in it,
        2 under construction with a cost or financing (the construction sums of an unfinanced project not
        yet costed are zero, so entering construction without them changes nothing)."""
        if status == "construction" and (pr.financed or pr.capex_busd != 0.0):
            return 2
        return 1 if status in PIPELINE else 0

    def touch(self, rec: Record) -> None:
        """A record's amounts, progress or parties changed (not its status): refresh what is derived from it.
        (Permitting queues depend only on statuses, so they are left alone.)"""
        if isinstance(rec, Project):
            c = self.clouds_by_id.get(rec.cloud)
            if c is not None:
                c.pipeline_changed()
        elif isinstance(rec, Contract):
            c = self.clouds_by_id.get(rec.cloud)
            if c is not None:
                c._committed = None
        else:
            self._on_record(rec)

    def contracts_of_lab(self, uid: str) -> list[Contract]:
        return self.contracts_lab.get(uid, [])

    def contracts_of_cloud(self, uid: str) -> list[Contract]:
        return self.contracts_cloud.get(uid, [])

    def loans_of(self, uid: str) -> list[Loan]:
        return self.loans.get(uid, [])

    def projects_of(self, uid: str) -> list[Project]:
        """A cloud's pipeline projects in filing order (may hold some that ended this month: filter by status)."""
        return self._projects_by_cloud.get(uid, [])

    def reindex_projects(self) -> None:
        """Drop projects that left the pipeline (online, withdrawn, killed) from the index and the per-cloud
        lists (filing order kept)."""
        self._projects_ended = False
        self.projects = [p for p in self.projects if p.status in PIPELINE]
        self._projects_by_cloud = {uid: [p for p in ps if p.status in PIPELINE]   # filing order kept
                                   for uid, ps in self._projects_by_cloud.items()}

    def stakes_of_investor(self, uid: str) -> list[Stake]:
        """An investor's held stakes in the order they were taken. Vendor financing reads them several times
        a month over hundreds of stakes, so they are indexed by investor; the book's listener
        (``_on_record``) appends a new stake and drops the index when a stake ends, until the next read."""
        held = self._held_stakes
        if held is None or self.verify_caches:
            fresh: dict[str, list[Stake]] = {}
            for s in self.stakes:
                if s.status == "held":
                    bucket(fresh, s.investor).append(s)
            if held is not None and (held.keys() != fresh.keys()
                                     or any(list(map(id, held[k])) != list(map(id, v)) for k, v in fresh.items())):
                raise AssertionError(f"stale index of held stakes: {held} != {fresh}")
            held = self._held_stakes = fresh
        return list(held.get(uid, ()))

    def held_stakes_in(self, firm_uid: str) -> list[Stake]:
        """The stakes held in a firm, in the order they were taken (its current shareholders)."""
        return [s for s in self.stakes if s.firm == firm_uid and s.status == "held"]

    def guaranteed_loans(self, uid: str) -> list[Loan]:
        return [l for ls in self.loans.values() for l in ls if l.guarantor == uid and l.status == "active"]

    @property
    def date(self) -> str:
        ym = self._start_ym + self.tick   # (as f"{y:04d}-{m:02d}" for a year >= 0: format() costs 20 times more compiled)
        return str(ym // 12).zfill(4) + "-" + str(ym % 12 + 1).zfill(2)

    def alive_labs(self) -> list[Lab]:
        return [l for l in self.labs if l.alive]

    def alive_clouds(self) -> list[Cloud]:
        return [c for c in self.clouds if c.alive]

    # ================================================================== events and unpaid obligations
    def log_event(self, kind: str, party: str, counterparty: str = "", amount_busd: float = 0.0, gw: float = 0.0,
                  detail: str = "") -> None:
        t = self.tick
        if self._event_tick != t:
            self._event_tick, self._event_day = t, self.date
        self.event_rows.append((t, self._event_day, kind, party, counterparty, float(amount_busd), float(gw), detail))

    @property
    def event_log(self) -> list[dict[str, Any]]:
        """The event log, one dict an event (keys EVENT_COLUMNS), in order. Made from ``event_rows`` when read
        (new events since the last read only): a run keeps tuples, ~10 times cheaper to make than dicts."""
        rows, made = self.event_rows, self._event_dicts
        for i in range(len(made), len(rows)):
            made.append(event_dict(rows[i]))
        return made

    def record_unpaid(self, payer: Firm, payee: str, amount: float, kind: str) -> None:
        """An obligation went unpaid: the payee bears the shortfall as a loss from the payer."""
        self.monthly["unpaid"].append((payer.uid, payee, amount, kind))

    # ================================================================== 1. demand
    def _begin_month(self) -> None:
        self.monthly = {"unpaid": [], "new_contracts": [], "capex": 0.0, "chip_revenue": 0.0, "chip_cogs": 0.0,
                        "defaults": [], "spot_traded": 0.0, "unmet": 0.0, "losses": 0.0, "capex_by_cloud": {}}
        for lab in self.labs:
            lab.operating_busd = 0.0
        for f in self.firms_by_id.values():
            f.unpaid_busd = 0.0
            f.revenue_busd = 0.0 if f.kind != "lab" else f.revenue_busd
        self.financier.losses_month_busd = 0.0
        self.chipmaker.reprice()
        self.frontier_efficiency = vintage_efficiency(self.tick, self.cfg.technology.generation_months,
                                                      self.cfg.technology.efficiency_gain_per_generation)
        self._update_costs()

    def _update_costs(self) -> None:
        cfg = self.cfg
        self.wacc = cfg.financier.base_rate + cfg.financier.base_spread + cfg.financier.equity_premium
        self.full_cost_gw = self._full_cost_gw_at(self.chipmaker.price())
        self.full_cost_egw = self.full_cost_gw / self.frontier_efficiency
        self._own_full_cost_gw = {uid: self._full_cost_gw_at(self.chip_price_for(uid)) for uid in self._in_house}

    def _full_cost_gw_at(self, chip_busd_per_gw: float) -> float:
        """Full monthly cost of a GW of new capacity whose accelerators cost ``chip_busd_per_gw``, $B."""
        tech = self.cfg.technology
        return full_cost_per_gw_month(chip_busd_per_gw, tech.shell_capex_busd_per_gw, tech.other_capex_busd_per_gw,
                                      self.wacc, self.useful_life_months, tech.shell_life_months,
                                      self.opex_busd_per_gw_month)

    def phase_demand(self) -> None:
        """Demand follows an S-curve whose ceiling rises with the capability frontier; shocks apply."""
        cfg, sh, t = self.cfg, self.cfg.shocks, self.tick
        if sh.efficiency.enabled and t == sh.efficiency.month:
            f = sh.efficiency.compute_per_token_factor
            mult = f * (1.0 / f) ** sh.efficiency.rebound_elasticity
            self.demand_egw *= mult
            self.log_event("efficiency_shock", "market", "", 0.0, self.demand_egw, f"compute per token x{f:g}")
        if sh.demand_surge.enabled and t == sh.demand_surge.month:
            self.demand_egw *= sh.demand_surge.factor
            self.log_event("demand_surge", "market", "", 0.0, self.demand_egw, f"demand x{sh.demand_surge.factor:g}")
        if sh.progress_stall.enabled and t == sh.progress_stall.month:
            self.stall = sh.progress_stall.severity
            self.log_event("progress_stall", "market", "", 0.0, 0.0, f"training returns -{self.stall:.0%}")
        stall_hit = sh.progress_stall.demand_hit if (sh.progress_stall.enabled and t >= sh.progress_stall.month) else 0.0
        labs = self.alive_labs()
        frontier_q = max((l.quality for l in labs), default=1.0)
        self.ceiling_egw = (cfg.market.saturation_egw * frontier_q ** cfg.market.quality_demand_elasticity
                            * (1.0 - stall_hit))
        # persistent demand regimes: the growth rate wanders around its trend (AR(1))
        sd = cfg.market.demand_volatility / 12.0 * (1.0 - DEMAND_PERSISTENCE ** 2) ** 0.5
        self.demand_shock = DEMAND_PERSISTENCE * self.demand_shock + sd * float(self.rng.standard_normal())
        if t > 0:
            g = monthly_rate(cfg.market.demand_growth_per_year) + self.demand_shock
            # a stalled frontier stops widening adoption: growth slows with the stall
            self.demand_egw = logistic_step(self.demand_egw, g * (1.0 - 0.7 * self.stall), self.ceiling_egw)
        self.revenue_per_egw = (cfg.market.revenue_per_egw_month_busd
                                * (1.0 - cfg.market.revenue_decline_per_year) ** (t / 12.0)
                                * frontier_q ** cfg.market.quality_revenue_elasticity)
        # scarcity pricing rations use: above full cost, demand falls with the price end users see, which
        # follows the spot price with a lag (token prices are reset every few months, not every month)
        self.user_price += USER_PRICE_SPEED * (self.spot_price - self.user_price)
        self.price_rationing = min(1.0, self.full_cost_egw / self.user_price) ** cfg.market.price_elasticity \
            if self.user_price > 0 else 1.0
        effective = self.demand_egw * self.price_rationing
        shares = self._shares()
        for lab, s in zip(labs, shares):
            lab.share = float(s)
            lab.demand_egw = effective * float(s)
            lab.demand_hist.append(lab.demand_egw)

    def _shares(self) -> np.ndarray:
        labs = self.alive_labs()
        if not labs:
            return np.zeros(0)
        w = np.array([l.weight for l in labs])
        q = np.array([l.quality for l in labs])
        return demand_shares(w, q, self.cfg.market.share_sensitivity)

    # ================================================================== 2. serving and the spot market
    def _deliver_contracts(self) -> None:
        """Each cloud delivers its operational capacity to its contracts. Capacity built for a contract
        (a project tied to it, ``Cloud.built_for``) serves that contract first once it has started:
        offtake capacity is site-specific, the campus built for a lab is that lab's. The rest of the
        fleet serves contracts in signing order.

        A signed contract starts once its start date has come and at least half of it can be delivered,
        and runs its full term from that month (its end moves with a late start: offtake terms run from
        commencement; before session 9 a contract awarded for delivery at once, after the month's serving,
        or started late lost those months); one still waiting ``late_delivery_grace_months`` after its start is terminated, the cloud paying
        the late-delivery penalty. (Before session 6 the whole fleet served contracts in signing order,
        so capacity built for a new contract went to older ones whose own sites had failed or were late,
        and the new contract was terminated instead.)"""
        t, grace = self.tick, self.cfg.market.late_delivery_grace_months
        for c in self.clouds:
            alive = c.alive
            left = c.fleet_gw if alive else 0.0
            ks = self.contracts_cloud[c.uid]
            own = [0.0] * len(ks)   # GW of each contract's own capacity, built for it
            built_for = c.built_for
            if built_for and alive:
                for i, k in enumerate(ks):
                    if t >= k.start and k.status in OPEN_CONTRACT and (g := built_for.get(k.id)):
                        mine = own[i] = g if g < k.gw else k.gw
                        left -= mine
            for k, mine in zip(ks, own):
                status = k.status
                if status == "signed" and t < k.start:   # not due yet (the grace period is never negative)
                    continue
                if status == "signed":
                    if mine + left >= 0.5 * k.gw:   # the term runs from the first month delivered
                        k.end += t - k.start
                        self.book.move(k, "active")
                        status = "active"
                    elif t >= k.start + grace:
                        self._terminate_late(c, k)
                        left += mine
                        continue
                if status == "active":
                    rest = k.gw - mine
                    extra = left if left < rest else rest   # min(rest, left), without the call
                    k.delivered_gw = mine + extra
                    left -= extra
            c.contracted_gw_now = c.fleet_gw - left if alive else 0.0
        self._prune_contracts()

    def _terminate_late(self, c: Cloud, k: Contract) -> None:
        """A contract the cloud failed to deliver within the grace period ends; the cloud pays the penalty."""
        mk = self.cfg.market
        penalty = mk.late_delivery_penalty_months * k.price * k.gw
        paid = c.pay(k.lab, penalty, "late_delivery_penalty", k.id)
        self.book.move(k, "terminated")
        self.log_event("contract_terminated", k.lab, c.uid, paid, k.gw, "late delivery")

    def phase_serving(self) -> None:
        """Labs serve demand with owned and contracted compute; the spot market clears the rest."""
        self._deliver_contracts()
        labs, clouds = self.alive_labs(), self.alive_clouds()   # nobody enters or leaves before distress
        for lab in labs:
            lab.plan_serving()
        floor = self.opex_busd_per_gw_month / max(self.frontier_efficiency, 1.0)
        cap = self.cfg.market.spot_cap_busd_per_egw_month
        sellers, ask_p, ask_q = self._spot_asks(labs, clouds, floor, cap)
        buyers, bid_p, bid_q, for_training = self._spot_bids(labs, cap)
        res = clear_spot(ask_p, ask_q, bid_p, bid_q, floor, cap, tiebreak_asks=self.rng.random(len(ask_p)).tolist(),
                         tiebreak_bids=self.rng.random(len(bid_p)).tolist())
        self.spot_price = res.price
        bought, sold_by = self._book_spot_trades(res, labs, sellers, buyers, for_training)
        # utilisation: capacity serving inference or planned training; capacity left unsold on the spot
        # market, and labs' surplus compute spent on extra training, count as idle
        idle = (sum([c.idle_egw for c in clouds], 0.0) + sum([l.idle_egw + l.surplus_egw for l in labs], 0.0)
                - res.traded)
        revenue_per_egw = self.revenue_per_egw
        for lab in labs:   # users pay for what was served, spot-served inference included ...
            lab.idle_egw -= sold_by.get(lab.uid, 0.0)
            rev = lab.served_egw * revenue_per_egw
            self.ledger.pay("consumers", lab.uid, rev, "ai_revenue")
            lab.revenue_busd = rev
            lab.revenue_hist.append(rev)
        self._settle_spot(res, labs, bought, sold_by)   # ... before the month's spot bill is due
        for c in clouds:   # capacity a hyperscaler holds back trains its own lab (alive: Cloud.spot_offer)
            if c.hoarded_egw > 0 and c.hosts_lab is not None:   # (only a hosting cloud hoards)
                lab = self.labs_by_id[c.hosts_lab]
                lab.train_egw += c.hoarded_egw
                lab.pay_operating(c.uid, c.hoarded_egw * self.opex_busd_per_gw_month / c.fleet_efficiency, "hosted_compute")
        op_egw = sum([c.fleet_egw for c in clouds], 0.0) + sum([l.own_egw for l in labs], 0.0)
        m = self.monthly
        m["operational_egw"] = op_egw
        m["utilisation"] = 1.0 - max(idle, 0.0) / op_egw if op_egw > 0 else 0.0
        m["unmet"] = sum([l.unmet_egw for l in labs], 0.0)
        m["served"] = sum([l.served_egw for l in labs], 0.0)
        m["spot_traded"] = res.traded

    def _spot_asks(self, labs: list[Lab], clouds: list[Cloud], floor: float,
                   cap: float) -> tuple[list[Any], list[float], list[float]]:
        """The sell side of the spot book: clouds' uncontracted idle capacity at their asks, then labs'
        idle compute, which resellers offer below the going rate."""
        opex = self.opex_busd_per_gw_month
        sellers, ask_p, ask_q = [], [], []
        for c in clouds:
            a, q = c.spot_offer(opex / c.fleet_efficiency, cap)
            sellers.append(c); ask_p.append(a); ask_q.append(q)
        resale_ask = max(floor, LAB_RESALE_DISCOUNT * self.spot_price)   # resellers undercut the going rate
        for lab in labs:
            if lab.idle_egw > 0:
                sellers.append(lab); ask_p.append(resale_ask); ask_q.append(lab.idle_egw)
        return sellers, ask_p, ask_q

    def _spot_bids(self, labs: list[Lab], cap: float) -> tuple[list[Lab], list[float], list[float], list[bool]]:
        """The buy side of the spot book: each lab's bids for inference it cannot serve, then its bid for
        the training compute it lacks (flagged, as training is paid from cash and earns nothing now)."""
        rev = self.revenue_per_egw
        buyers, bid_p, bid_q, for_training = [], [], [], []
        for lab in labs:
            for p, q in lab.spot_bids(rev, cap):
                buyers.append(lab); bid_p.append(p); bid_q.append(q); for_training.append(False)
            p, q = lab.training_bid(rev, cap)   # training compute it lacks, paid from cash
            if q > 0:
                buyers.append(lab); bid_p.append(p); bid_q.append(q); for_training.append(True)
        return buyers, bid_p, bid_q, for_training

    def _book_spot_trades(self, res: SpotResult, labs: list[Lab], sellers: list[Any], buyers: list[Lab],
                          for_training: list[bool]) -> tuple[dict[str, float], dict[str, float]]:
        """Give buyers what they bought (inference served, or compute rented for training).
        Returns the EGW each lab bought and the EGW each seller sold (:meth:`_settle_spot` bills them)."""
        bought: dict[str, float] = {}      # all spot compute bought, by lab
        trained: dict[str, float] = {}     # of which rented for training
        for lab, q, tr in zip(buyers, res.bought, for_training):
            if q > 0:
                bought[lab.uid] = bought.get(lab.uid, 0.0) + q
                if tr:
                    trained[lab.uid] = trained.get(lab.uid, 0.0) + q
        sold_by: dict[str, float] = {}
        for s, q in zip(sellers, res.sold):
            if q > 0:
                sold_by[s.uid] = sold_by.get(s.uid, 0.0) + q
        for lab in labs:
            q_train = trained.get(lab.uid, 0.0)
            q = bought.get(lab.uid, 0.0) - q_train
            lab.train_egw += q_train
            lab.train_short_egw -= q_train
            lab.rented_train_egw = q_train
            if q > 0:
                lab.served_egw += q
                lab.unmet_egw -= q
        return bought, sold_by

    def _settle_spot(self, res: SpotResult, labs: list[Lab], bought: dict[str, float],
                     sold_by: dict[str, float]) -> None:
        """Settle the month's spot trades through the exchange, at month end like any compute bill: buyers
        pay in, sellers are paid out pro rata to what came in. Called after the month's AI revenue is in,
        so inference bought on the spot pays for itself as ``Lab.spot_bids`` prices it (a lab is not
        distressed by paying for compute before its users pay for what it served)."""
        price = res.price
        if res.traded > 0:
            paid_in = sum([lab.pay_operating(SPOT_EXCHANGE, price * q, "spot_compute") for lab in labs
                           if (q := bought.get(lab.uid, 0.0)) > 0], 0.0)
            for uid, sq in sold_by.items():
                self.ledger.pay(SPOT_EXCHANGE, uid, paid_in * sq / res.traded, "spot_compute")
        for c in self.clouds:
            c.spot_sold_egw = sold_by.get(c.uid, 0.0)
            c.revenue_busd += price * c.spot_sold_egw

    # ================================================================== 3. settlement
    def phase_settlement(self) -> None:
        """Take-or-pay contract payments, debt service, operating costs, other business, depreciation."""
        t = self.tick
        clouds_by_id = self.clouds_by_id
        for lab in self.alive_labs():
            for cloud_uid, due in self._offtake_dues(lab).items():   # one payment per cloud per month
                paid = lab.pay_operating(cloud_uid, due, "offtake_payment")
                clouds_by_id[cloud_uid].revenue_busd += paid
            lab.pay_operating("staff", lab.p.other_costs_busd_per_month, "operating_cost")
            lab.pay_operating("power", lab.own_egw * self.opex_busd_per_gw_month, "power")
        for c in self.clouds:
            if not c.alive:
                continue
            if c.other_business_busd_per_month > 0:
                self.ledger.pay("other_business", c.uid, c.other_business_busd_per_month, "other_business_cash_flow")
            c.pay("power", c.fleet_gw * self.opex_busd_per_gw_month, "power")
        self.chipmaker.pay("staff", self.cfg.chipmaker.rd_busd_per_month, "operating_cost")
        for uid, loans in list(self.loans.items()):
            firm = self.firms_by_id[uid]
            if not firm.alive:
                continue
            for lender, ls in self._active_loans_by_lender(loans).items():   # one interest and one principal payment each
                self._service_loans(firm, lender, ls)
            self.loans[uid] = [l for l in loans if l.status == "active"]
            firm._debt = None
        last = t + 1   # contracts whose last month this is
        for c in self.clouds:
            for k in self.contracts_cloud[c.uid]:
                if k.status == "active" and last >= k.end:
                    self.book.move(k, "completed")
        self._prune_contracts()
        self._retire_blocks()

    def _offtake_dues(self, lab: Lab) -> dict[str, float]:
        """What a lab owes each cloud this month under take-or-pay: its contracts delivered this month,
        each used in the share of its compute it did not leave idle, summed per cloud in signing order."""
        have = lab.have_egw
        used_share = 1.0 - (lab.idle_egw / have if have > 0 else 0.0)
        dues: dict[str, float] = {}
        for k in self.contracts_lab[lab.uid]:
            if k.status != "active":
                continue
            gw = k.delivered_gw
            if gw <= 0:
                continue
            due = take_or_pay_payment(gw, gw * used_share, k.price, k.top_share)
            dues[k.cloud] = dues.get(k.cloud, 0.0) + due
        return dues

    def _service_loans(self, firm: Firm, lender: str, loans: list[Loan]) -> None:
        """Interest on a firm's active loans from one lender, then the principal due (the amortisation,
        or all of it at maturity); a partial principal payment is shared pro rata over the loans. What is
        unpaid stays in each loan's principal and is marked as its ``arrears``: paid late at the month's
        end (``distress._pay_arrear`` then reduces the loan), or part of the lender's claim at a default."""
        t = self.tick
        interest = sum([l.principal * l.rate for l in loans], 0.0) / 12.0
        dues = [l.principal if t >= l.maturity            # all of it at maturity
                else 0.0 if t < l.amort_from              # interest only while it is built
                else (l.principal if l.principal < l.amort else l.amort)   # min(amort, principal), without the call
                for l in loans]
        principal = sum(dues, 0.0)
        from_fund = (self._capitalised_interest(firm, lender, loans)
                     if interest > 0.0 and firm.project_finance and isinstance(firm, Cloud) else 0.0)
        paid_i = firm.pay(lender, interest - from_fund, "interest") + from_fund
        if paid_i < interest - 1e-9 or principal <= 0:
            return
        share = firm.pay(lender, principal, "principal") / principal
        for l, d in zip(loans, dues):
            paid = d * share
            l.principal -= paid
            l.arrears = d - paid
            if l.principal <= 1e-9:
                self.book.move(l, "repaid")

    def _capitalised_interest(self, firm: Cloud, lender: str, loans: list[Loan]) -> float:
        """Pay this month's interest on a cloud's project loans still in construction out of their projects'
        construction funds (the interest the loans were sized to carry, ``capitalised_principal``), as far
        as the funds go. Returns what the funds paid; the borrower pays the rest."""
        t, total = self.tick, 0.0
        book = self.book
        for l in loans:
            if not l.project or t >= l.amort_from:
                continue
            pr = book.project(l.project)
            if pr is None or pr.fund_busd <= 1e-12:
                continue
            take = min(l.principal * l.rate / 12.0, pr.fund_busd)
            pr.fund_busd -= take
            total += take
        if total > 0.0:
            total = self.ledger.pay(firm.fund_account, lender, total, "interest")
        return total

    @staticmethod
    def _active_loans_by_lender(loans: list[Loan]) -> dict[str, list[Loan]]:
        """A firm's active loans grouped by lender, each group in the order the loans were made."""
        by_lender: dict[str, list[Loan]] = {}
        for l in loans:
            if l.status == "active":
                bucket(by_lender, l.lender).append(l)
        return by_lender

    def _retire_blocks(self) -> None:
        t, life = self.tick, self.useful_life_months
        for c in self.clouds:
            if t - c.oldest_online < life:
                continue
            keep = []
            for b in c.blocks:
                if t - b.online >= life:
                    self.book.move(b, "retired")
                    self.gw_retired += b.gw
                    self.log_event("retired", c.uid, "", b.capex_busd, b.gw, b.id)
                    if not self._refit(c, b):
                        c.land_used_gw = max(c.land_used_gw - b.gw, 0.0)   # the site can be re-used
                else:
                    keep.append(b)
            if len(keep) != len(c.blocks):
                c.blocks = keep
                c.refresh_fleet()
        if self._projects_ended:
            self.reindex_projects()
        for lab in self.labs:   # labs' own clusters wear out too (they do not build: docs/model.md)
            for egw in lab.retire_own_clusters(t, life):
                self.gw_retired += egw
                self.log_event("retired", lab.uid, "", 0.0, egw, "own capacity")

    def _refit(self, c: Cloud, b: Project) -> bool:
        """A block's accelerators reached the end of their life: the cloud re-equips its shell (a refit
        project: new chips and networking, installed in ``REFIT_MONTHS`` once financed and delivered; no
        permit or grid queue, the site and its connection are held) when the new chips pay
        (``economics.refit_pays``): the price of the open contract the block serves for its months left,
        the expected spot price after. Returns whether it does; if not, the site is given up."""
        tech = self.cfg.technology
        if not tech.refit_shells or not c.alive or self.tick - b.announced >= tech.shell_life_months:
            return False   # (a shell at the end of its own life, dated from its site's filing, is given up)
        k = self.book.contract(b.contract) if b.contract else None
        if k is not None and k.status not in OPEN_CONTRACT:
            k = None
        left = contract_months_left(k, self.tick) if k is not None else 0   # (retirement comes in settlement)
        if not refit_pays(c.expected_price, self.frontier_efficiency, self.chip_price_for(c.uid),
                          self.refit_busd_per_gw, self.wacc, self.useful_life_months,
                          self.opex_busd_per_gw_month, k.price if k is not None else 0.0, left):
            return False
        pr = Project(self.book.new_id("P"), "construction", cloud=c.uid, regulator=b.regulator, gw=b.gw,
                     contract=k.id if k is not None else "", announced=b.announced, stage_due=self.tick,
                     build_left=REFIT_MONTHS, refit=True)   # the site's filing date: the shell's age
        self.book.add("project", pr)
        self._add_project(pr)
        self.log_event("refit", c.uid, pr.contract, 0.0, pr.gw, f"{pr.id} re-equips {b.id}")
        return True

    def _prune_contracts(self) -> None:
        """Drop ended contracts from the per-lab and per-cloud lists of open ones, and free the pipeline
        projects tied to them (``_free_projects_of``)."""
        if not self._contracts_ended:
            return
        self._contracts_ended = False
        open_ = OPEN_CONTRACT
        for d in (self.contracts_cloud, self.contracts_lab):
            for uid, ks in d.items():
                for k in ks:   # a plain loop: any() over a generator cost more, run over every list twice a month
                    if k.status not in open_:
                        if d is self.contracts_cloud:
                            self._free_projects_of(uid, {k.id for k in ks if k.status not in open_})
                        d[uid] = [k for k in ks if k.status in open_]
                        break

    def _free_projects_of(self, cloud_uid: str, ended: set[str]) -> None:
        """A cloud's projects still in the pipeline for contracts that ended (terminated, defaulted, or
        completed) are its to sell again: they become spec capacity, offered to new contracts
        (``_provide_capacity``, ``_delivery_dates``) and financed without that offtaker. (Before session 9
        they stayed tied to the dead contract, counted neither as sold nor as free, and new contracts
        announced fresh projects beside them.)"""
        freed = False
        for pr in self.projects_of(cloud_uid):
            if pr.contract in ended and pr.status in PIPELINE:
                pr.contract = ""
                freed = True
        if freed:
            self.clouds_by_id[cloud_uid].spec_projects_contracted()   # only its free pipeline moves

    # ================================================================== 4. offtake
    def phase_offtake(self) -> None:
        """Labs request offtake for their forecast gap; clouds bid; labs award on cost and reliability."""
        labs = self.alive_labs()
        clouds = self.alive_clouds()
        if not labs or not clouds:
            return
        fe = self.frontier_efficiency
        annual_cost_gw = 12.0 * self.offtake_price
        reqs = [(lab, gw) for lab in labs if (gw := lab.offtake_request_gw(fe, annual_cost_gw)) > 0]
        if not reqs:
            return
        # clouds with room bid (one without could win nothing), the same bids to every lab, in up to three
        # tranches with their own delivery dates: the capacity it has free today for delivery at once (when
        # more than FREE_NOW_MIN_GW); its spec pipeline (sold first to what the fleet cannot serve,
        # ``_provide_capacity``) for when all of it is due; the rest, new builds on its land, after a new
        # project's permitting, grid connection and build. Plain lists for a handful of clouds.
        bidders: list[tuple[Cloud, float, float, float, float]] = []   # (cloud, room, delay, price, pd)
        for c in clouds:
            total = c.can_take_gw()
            if total <= 0.0:
                continue
            price, pd = c.quote(*self.full_costs_of(c)), c.default_probability()
            for gw, delay in self._offtake_tranches(c, total):
                bidders.append((c, gw, delay, price, pd))
        clouds = [b[0] for b in bidders]
        room, delays = [b[1] for b in bidders], [b[2] for b in bidders]
        prices, pds = [b[3] for b in bidders], [b[4] for b in bidders]
        tranches: dict[str, list[int]] = {}   # cloud -> its bids' indices
        for j, c in enumerate(clouds):
            bucket(tranches, c.uid).append(j)
        bid_price = []
        for lab, _ in reqs:   # vertically integrated share goes to the affiliated cloud
            row = list(prices)
            host = self._affiliated_cloud(lab)
            if host is not None and lab.p.vertical_integration > 0:
                for j in tranches.get(host.uid, ()):
                    row[j] *= 1.0 - 0.3 * lab.p.vertical_integration
            bid_price.append(row)
        awards = award_offtake([gw for _, gw in reqs], bid_price, [delays] * len(reqs), pds, room)
        term = self.cfg.market.contract_term_months
        filled = [0.0] * len(reqs)
        sold_gw = sold_value = 0.0
        for i, w, gw in awards:
            start = self.tick + int(delays[w])
            self._sign(reqs[i][0], clouds[w], gw, bid_price[i][w], start=start, end=start + term)
            filled[i] += gw
            sold_gw += gw
            sold_value += gw * prices[w]
        if sold_gw > 0.0:
            # the market's offtake price: the GW-weighted mean of the month's awards at the clouds' quotes.
            # An affiliate's discount is an internal transfer price, not the market's (before session 9 the
            # month's last award was taken, discount included, and labs sized the next requests on it).
            self.offtake_price = sold_value / sold_gw
        for (lab, gw), got in zip(reqs, filled):
            if gw - got > 1e-9:
                self.log_event("offtake_unfilled", lab.uid, "", 0.0, gw - got, "no cloud could take it")

    def _affiliated_cloud(self, lab: Lab) -> Cloud | None:
        for c in self.clouds:
            if c.hosts_lab == lab.uid and c.alive:
                return c
        return None

    def _offtake_tranches(self, c: Cloud, total: float) -> list[tuple[float, float]]:
        """(GW, months to delivery) of a cloud's offtake bid with room ``total``: what it has free today
        at once (when more than FREE_NOW_MIN_GW), then its spec pipeline when all of it is due, then new
        builds when a new project would be (``_delivery_dates``)."""
        tranches = []
        free = c.fleet_gw - c.committed_gw()
        now = min(free, total) if free > FREE_NOW_MIN_GW else 0.0
        if now > 0.0:
            tranches.append((now, 0.0))
        rest = total - now
        if rest > 1e-9:
            pipeline_due, new_build = self._delivery_dates(c)
            spec = min(c.position().free_pipeline_gw, rest) if pipeline_due < new_build else 0.0
            if spec > 1e-9:
                tranches.append((spec, pipeline_due))
            if rest - spec > 1e-9:
                tranches.append((rest - spec, new_build))
        return tranches

    def _delivery_dates(self, c: Cloud) -> tuple[float, float]:
        """(months until all of a cloud's projects not yet sold, built on spec or refits, are due online;
        months until a new project would be), the start dates it promises for capacity it does not have
        free today: its spec pipeline goes to such contracts first (``_provide_capacity``), then new
        projects after the regulator's expected permitting and grid time and the build. A project under
        construction whose chips are still to come is due no sooner than the chipmaker's delivery lag
        (``economics.months_to_online``). The spec tranche's date is the latest of its projects', at
        most a new project's: the whole tranche can start then. (Before session 9 a cloud bid all its
        room at the date of its soonest spec project, and, once refits made one-month spec projects
        common, sold new builds for delivery within the month: one contract in seven of those was
        terminated as late, the cloud paying the penalty.)"""
        reg = self.regulators[c.p.jurisdiction]
        build = self.build_months
        lag = self.chipmaker.p.delivery_lag_months
        before_build = reg.expected_delay_months(incumbent=c.fleet_gw > 0)
        new_build = before_build + build
        if c.position().free_pipeline_gw <= 0.0:
            return new_build, new_build
        latest, t = 0.0, self.tick
        for pr in self.projects_of(c.uid):
            if not pr.contract and pr.status in PIPELINE:
                due = months_to_online(pr.status, pr.build_left, t - pr.announced, before_build, build,
                                       lag if pr.chips_delivered < pr.gw - 1e-6 else 0)
                if due > latest:
                    latest = due
        return (latest if latest < new_build else new_build), new_build

    def _sign(self, lab: Lab, cloud: Cloud, gw: float, price: float, start: int, end: int, announce: bool = True) -> Contract:
        k = Contract(self.book.new_id("C"), "signed", lab=lab.uid, cloud=cloud.uid, gw=gw, price=price,
                     top_share=self.cfg.market.take_or_pay_share, start=start, end=end, signed=self.tick)
        self.book.add("contract", k)
        self.contracts_lab[lab.uid].append(k)
        self.contracts_cloud[cloud.uid].append(k)
        self.log_event("contract_signed", lab.uid, cloud.uid, gw * price * (end - start), gw,
                       "%s %.2f GW at %.2f/GW-month, start %d" % (k.id, gw, price, start))   # (not str.format: 3x cheaper)
        if announce:
            self.monthly["new_contracts"].append(k)
            self._provide_capacity(cloud, k, gw - max(cloud.fleet_gw - cloud.committed_gw() + gw, 0.0))
        return k

    def _provide_capacity(self, cloud: Cloud, k: Contract, need: float) -> None:
        """Capacity for ``need`` GW of a contract the fleet cannot serve: first the cloud's projects not yet
        sold (built on spec), then new projects on the land it has left."""
        tied = False
        for pr in self.projects_of(cloud.uid):
            if need <= 1e-9:
                break
            if pr.status in PIPELINE and not pr.contract:
                pr.contract = k.id
                tied = True
                need -= pr.gw
        if tied:
            cloud.spec_projects_contracted()   # its position changes in the free pipeline only
        while need > 0.05 and cloud.land_left_gw() > 0.05:
            size = min(need, cloud.p.max_project_gw, cloud.land_left_gw())
            self._announce(cloud, size, contract=k.id)
            need -= size

    # ================================================================== 5. investment
    def _announce(self, cloud: Cloud, gw: float, contract: str = "") -> Project:
        pr = Project(self.book.new_id("P"), "announced", cloud=cloud.uid, regulator=cloud.p.jurisdiction, gw=gw,
                     contract=contract, announced=self.tick, build_left=self.build_months)
        self.book.add("project", pr)
        self._add_project(pr)
        cloud.land_used_gw += gw
        self.announced_gw_total += gw
        self.log_event("project_announced", cloud.uid, contract, 0.0, gw, "contracted" if contract else "on spec")
        return pr

    def phase_investment(self) -> None:
        """Speculative builds: clouds extrapolate demand growth and compare expected prices with full cost."""
        labs = self.alive_labs()
        if not labs:
            return
        g = fmean([l.growth_estimate() for l in labs])
        horizon = (self.build_months + 12) / 12.0
        projected = self.demand_egw * (1.0 + g) ** horizon
        fe = self.frontier_efficiency
        supply = sum([c.fleet_egw for c in self.alive_clouds()], 0.0) + sum([l.own_egw for l in labs], 0.0)
        supply += sum([c.pipeline_gw() for c in self.clouds], 0.0) * fe
        gap = projected - supply
        for c in self.alive_clouds():
            gw = c.spec_build_gw(gap, self.full_costs_of(c)[1], fe)
            if gw > 0:
                self._announce(c, gw)
                gap -= gw * fe * 0.5   # each sees part of its own move, not the others'

    # ================================================================== 6. permitting
    def phase_permitting(self) -> None:
        dc_load = {r: 0.0 for r in self.regulators}   # data-centre load: operational and being built
        # each regulator's load summed block by block in fleet order, kept in a local while consecutive
        # blocks share a regulator (as a cloud's do): the same additions without a dict update per block
        here: str | None = None
        load = 0.0
        for c in self.clouds:
            for b in c.blocks:
                r = b.regulator
                if r != here:
                    if here is not None:
                        dc_load[here] = load
                    here, load = r, dc_load[r]
                load += b.gw
        if here is not None:
            dc_load[here] = load
        # projects before construction per regulator, filing order (those under construction are past
        # the regulator: they only add to the load)
        queues: dict[str, list[Project]] = {r: [] for r in self.regulators}
        for p in self.projects:
            st = p.status
            if st == "construction":
                dc_load[p.regulator] += p.gw
            elif st in PIPELINE:
                queues[p.regulator].append(p)
        for uid, reg in self.regulators.items():
            events = process_jurisdiction(reg, queues[uid], self.book, self.tick, self.rng,
                                          lambda cid: self.clouds_by_id[cid].fleet_gw > 0, dc_load[uid])
            for kind, pr, detail in events:
                if pr is None:
                    self.log_event(kind, uid, "", 0.0, 0.0, detail)
                else:
                    self.log_event(kind, pr.cloud, uid, 0.0, pr.gw, pr.id)
                    if pr.status == "killed":
                        self._project_ended(pr)

    def _release_fund(self, pr: Project, c: Cloud) -> None:
        """What is left of a project's loan in the construction fund when it is finished or abandoned goes
        to its cloud's cash (a completed project's leftover after its budget; an abandoned one's, which
        its defaulting sponsor's creditors then share)."""
        if pr.fund_busd > 1e-12:
            self.ledger.pay(c.fund_account, c.uid, pr.fund_busd, "construction_fund_release", pr.id)
        pr.fund_busd = 0.0

    def _project_ended(self, pr: Project) -> None:
        """A project withdrawn or killed frees its land. A cloud whose project for an open contract was
        killed (a permit denied, a suit lost) replaces it, as a developer whose site falls through finds
        another: with a project built on spec or a new filing (``_provide_capacity``). It has promised the
        capacity, and the lab may terminate the contract if it comes too late."""
        c = self.clouds_by_id[pr.cloud]
        c.land_used_gw = max(c.land_used_gw - pr.gw, 0.0)
        self._release_fund(pr, c)
        self.chip_orders = [o for o in self.chip_orders if o.project is not pr]
        if self.custom_orders:
            self.custom_orders = [o for o in self.custom_orders if o.project is not pr]
        if pr.status == "killed" and pr.contract and c.alive:
            k = self.book.contract(pr.contract)
            if k is not None and k.status in OPEN_CONTRACT:
                self._provide_capacity(c, k, pr.gw)

    # ================================================================== 7. financing
    def phase_financing(self) -> None:
        """Project finance for construction, vendor equity for new commitments, lab funding rounds."""
        fin, chip, t = self.financier, self.chipmaker, self.tick
        budget = fin.lending_budget()
        for pr in self.projects:
            if pr.status != "construction" or pr.financed:
                continue
            c = self.clouds_by_id[pr.cloud]
            chip_cost = self.chip_price_for(c.uid)
            capex = pr.gw * (chip_cost + self.refit_busd_per_gw if pr.refit   # a refit: chips and networking
                             else self.build_busd_per_gw + chip_cost)   # (capex_per_gw, its chip price known)
            own = c.funds_for_new_build(chip_cost)
            debt_needed = max(capex - max(own, 0.0), 0.0)
            if debt_needed <= 1e-9:
                pr.financed = True
                self.touch(pr)
            else:
                debt = min(debt_needed, self.cfg.financier.max_ltv * capex if c.p.kind != "hyperscaler" else debt_needed)
                ig = c.p.kind == "hyperscaler"
                if debt < debt_needed - 1e-9 or debt > budget or not fin.will_lend(ig) \
                        or c.leverage() > c.max_leverage:
                    if t - pr.stage_due > 12:   # no money for a year: the project is shelved
                        self.book.move(pr, "withdrawn")
                        self._project_ended(pr)
                        self.log_event("project_withdrawn", c.uid, "", 0.0, pr.gw, "no financing")
                    continue
                offtaker_pd = None
                if pr.contract:
                    k = self.book.contract(pr.contract)
                    if k is not None and k.status in ("signed", "active"):
                        offtaker_pd = self.labs_by_id[k.lab].default_probability()
                g_share = 0.0
                merchant = self.merchant_share(c.uid)   # the chipmaker co-signs to sell its own chips
                if merchant > 0.0 and (c.uid in chip.p.partners or c.p.kind != "hyperscaler") \
                        and chip.vendor_room_busd() >= debt * chip.p.guarantee_share * merchant:
                    g_share = chip.p.guarantee_share * merchant
                rate = fin.rate_for(c.leverage(), offtaker_pd, g_share)
                loan = self._lend(c, debt, rate, pr, g_share, cost=capex)
                budget -= loan.principal
                pr.financed = True
                self.log_event("loan", c.uid, fin.uid, loan.principal, pr.gw,
                               f"{rate:.1%}" + (f", {g_share:.0%} guaranteed by chipmaker" if g_share else ""))
            pr.capex_busd = capex
            self.touch(pr)
            self._order_chips(pr, c.uid, chip.price())
            self.log_event("construction_start", c.uid, pr.contract, capex, pr.gw, pr.id)

        budget = self._treasury(budget)

        # vendor financing: equity in labs tied to their new purchase commitments
        for k in self.monthly["new_contracts"]:
            room = chip.vendor_room_busd()
            amt = min(chip.p.equity_rebate_share * (k.gw * self.merchant_share(k.cloud)) * chip.price(), room)
            lab = self.labs_by_id[k.lab]
            if amt > 0.05 and lab.alive:
                self._equity(lab, chip.uid, amt, "vendor_equity")

        # funding rounds for labs short of runway
        for lab in self.alive_labs():
            need = lab.funding_need()
            if need <= 0:
                continue
            val = fin.valuation(12.0 * lab.revenue_busd, lab.revenue_growth())
            amt = min(need, self.cfg.financier.round_dilution * val, max(budget, 0.0))
            if amt > 0.05 and fin.will_lend(False):
                self._equity(lab, fin.uid, amt, "equity_round", valuation=val)
                budget -= amt

    def _treasury(self, budget: float) -> float:
        """Hyperscalers keep enough cash for the next three months of construction, chip invoices and
        operations; when capex outruns their cash flow they issue investment-grade bonds for the
        shortfall, or for what the capital market will lend this month when that is less (before session
        7 they issued nothing then, and a hyperscaler at 20 % leverage could default on its construction
        bills). Returns the lending budget left."""
        fin = self.financier
        for c in self.alive_clouds():
            if c.p.kind != "hyperscaler" or not fin.will_lend(True):
                continue
            short = c.treasury_shortfall_busd()
            if short > 0.5 and budget > 0.5 and c.leverage() < c.max_leverage:
                rate = fin.rate_for(c.leverage(), 0.0, 0.0)
                loan = self._lend(c, min(short, budget), rate, None, 0.0)
                budget -= loan.principal
                self.log_event("loan", c.uid, fin.uid, loan.principal, 0.0, f"{rate:.1%} corporate bond for capex")
        return budget

    def _lend(self, c: Cloud, debt: float, rate: float, pr: Project | None, g_share: float, cost: float = 0.0) -> Loan:
        """A loan from the financier, drawn at once; amortises evenly to its maturity. A project loan is a
        construction loan first: interest only until the build is due to finish, then it amortises over
        the rest of its term out of the capacity's revenue (standard project finance: a project repays
        from its cash flow, not from its sponsor's before it earns).

        A neocloud's or landlord's project loan is project finance. It lends ``debt`` toward the project's
        budget ``cost`` plus its own interest until the build is due (capitalised interest,
        ``capitalised_principal``). Its proceeds go to the cloud's construction fund, held for that
        project: the fund pays the loan's share of each of its bills (``_pay_project_bills``) and the
        loan's interest while it is built (``_service_loans``). A hyperscaler borrows on its balance sheet
        (investment-grade bonds): the proceeds are corporate cash, and its own share comes from its other
        businesses' cash flow over the build."""
        fin, term = self.financier, self.cfg.financier.loan_term_months
        grace = min(pr.build_left, term - 1) if pr is not None else 0
        loan = Loan(self.book.new_id("L"), "active", lender=fin.uid, borrower=c.uid, principal=debt, rate=rate,
                    maturity=self.tick + term, project=pr.id if pr is not None else "",
                    guarantor=self.chipmaker.uid if g_share > 0 else "", guaranteed_share=g_share,
                    amort_from=self.tick + grace)
        self.book.add("loan", loan)
        bucket(self.loans, c.uid).append(loan)
        into_fund = pr is not None and c.project_finance
        ask = capitalised_principal(debt, rate, grace) if into_fund else debt
        loan.principal = self.ledger.pay(fin.uid, c.fund_account if into_fund else c.uid, ask, "loan_drawdown", loan.id)
        if into_fund and pr is not None:
            pr.fund_busd += loan.principal
            pr.debt_share = loan.principal * (debt / ask) / cost if cost > 0 else 0.0   # what was lent, if less
        loan.amort = loan.principal / (term - grace)   # what was drawn, if the lender had less than asked
        self.touch(loan)
        return loan

    def _equity(self, lab: Lab, investor: str, amount: float, kind: str, valuation: float | None = None) -> None:
        if valuation is None:
            valuation = self.financier.valuation(12.0 * lab.revenue_busd, lab.revenue_growth())
        paid = self.ledger.pay(investor, lab.uid, amount, kind)
        if paid <= 0:
            return
        held = self.held_stakes_in(lab.uid)   # diluted by the new shares
        diluted, share = dilute_stakes([s.share for s in held], valuation, paid)
        for s, d in zip(held, diluted):
            s.share = d
        st = Stake(self.book.new_id("S"), "held", investor=investor, firm=lab.uid, invested=paid, share=share)
        self.book.add("stake", st)
        self.stakes.append(st)
        lab.equity_raised_busd += paid
        lab.valuation_busd = valuation + paid
        self.log_event(kind, lab.uid, investor, paid, 0.0, f"post-money {valuation + paid:.0f}")

    # ================================================================== 8. chips and construction
    def phase_chips_and_construction(self) -> None:
        chip, t = self.chipmaker, self.tick
        chip.expand(t)
        self._allocate_chips(t + chip.p.delivery_lag_months)
        if self._in_house:
            self._allocate_in_house_chips(t)
        chip.reprice()
        due = self.deliveries.pop(t, [])   # the lag is never negative: nothing is due before this month
        chip.revenue_busd = chip.cogs_busd = chip.delivered_gw = 0.0
        self.custom_delivered_gw = 0.0
        bills: dict[tuple[str, str], list[tuple[Project, float, float]]] = {}
        capex_by_cloud = self.monthly["capex_by_cloud"]   # chips + construction paid this month, per cloud
        for pr, gw, price, supplier in due:
            if pr.status == "construction":
                bucket(bills, (pr.cloud, supplier)).append((pr, gw, price))
        for (cloud_uid, supplier), items in bills.items():   # one invoice per cloud and supplier per month
            paid = self._pay_project_bills(self.clouds_by_id[cloud_uid], [(pr, gw * price) for pr, gw, price in items],
                                           supplier, "chip_purchase")
            gw_total = sum([gw for _, gw, _ in items], 0.0)
            for pr, gw, _ in items:
                pr.chips_delivered += gw
            self.clouds_by_id[cloud_uid].pipeline_changed()   # once for all its projects that got chips
            if supplier == chip.uid:
                chip.revenue_busd += paid
                chip.delivered_gw += gw_total
                chip.cogs_busd += gw_total * chip.p.unit_cost_busd_per_gw
                self.cum_merchant_gw += gw_total
            else:   # in-house chips: paid to the foundry at cost
                self.custom_delivered_gw += gw_total
                self.cum_custom_gw += gw_total
            self.cum_capex += paid
            capex_by_cloud[cloud_uid] = capex_by_cloud.get(cloud_uid, 0.0) + paid
        chip.pay("foundry", chip.cogs_busd, "cost_of_goods")
        chip.cum_revenue_busd += chip.revenue_busd
        chip.cum_gross_profit_busd += chip.revenue_busd - chip.cogs_busd
        in_construction: list[Project] = []
        building: dict[str, list[Project]] = {}
        for pr in self.projects:
            if pr.status == "construction":
                in_construction.append(pr)
                if pr.financed and pr.build_left > 0:
                    bucket(building, pr.cloud).append(pr)
        for cloud_uid, prs in building.items():   # one payment per cloud; projects advance in filing order
            spends = []
            for pr in prs:
                per_gw, months = self._fitout(pr)
                spends.append((pr, pr.gw * per_gw / months))
            paid = self._pay_project_bills(self.clouds_by_id[cloud_uid], spends, "construction", "construction",
                                           advance=True)
            self.cum_capex += paid
            capex_by_cloud[cloud_uid] = capex_by_cloud.get(cloud_uid, 0.0) + paid
            self.clouds_by_id[cloud_uid].pipeline_changed()   # once for all its projects that advanced
        self._bring_online(in_construction)

    def _fitout(self, pr: Project) -> tuple[float, int]:
        """($B per GW, months) of a project's construction bills: the shell and fit-out over the build, or,
        for a refit, the networking and installation over ``REFIT_MONTHS`` (its shell stands). The same
        split as a cloud's position (``Cloud._build_costs``, ``positions.compute_position``)."""
        if pr.refit:
            return self.refit_busd_per_gw, REFIT_MONTHS
        return self.build_busd_per_gw, self.build_months

    def _pay_project_bills(self, c: Cloud, bills: list[tuple[Project, float]], payee: str, kind: str,
                           advance: bool = False) -> float:
        """Pay one month's bills of a cloud's projects to ``payee``, ``(project, $B)`` in filing order: each
        split between the cloud's cash and the project's construction fund (``project_bill_split``), one
        payment from each. Returns what was paid.

        Chips are delivered whether or not they are paid for (the shortfall is unpaid, a distress signal).
        With ``advance`` (construction) a project advances a month only when its bill is paid, and only the
        bills of projects that advance are paid (``bills_covered``: those the fund pays in full always do,
        those needing cash in filing order while the cash lasts): a contractor bills work done. A project
        that does not advance draws nothing from its fund and owes nothing. (Before session 9 the cloud's
        cash went to the whole month's bills, and what it lacked was recorded as unpaid and paid later as
        arrears, though the blocked projects had not advanced and were billed in full again.)"""
        splits = [project_bill_split(amount, pr.debt_share, pr.fund_busd) for pr, amount in bills]
        if advance:
            covered = bills_covered([cash for cash, _ in splits], c.cash_busd)
            bills = [b for b, ok in zip(bills, covered) if ok]
            splits = [s for s, ok in zip(splits, covered) if ok]
        paid_cash = c.pay(payee, sum([cash for cash, _ in splits], 0.0), kind)
        from_fund = 0.0
        for (pr, _amount), (_cash, fund) in zip(bills, splits):
            if advance:
                pr.build_left -= 1
            pr.fund_busd -= fund
            from_fund += fund
        if from_fund > 0.0:
            from_fund = self.ledger.pay(c.fund_account, payee, from_fund, kind)
        return paid_cash + from_fund

    def _order_chips(self, pr: Project, cloud_uid: str, merchant_price: float) -> None:
        """Order a project's accelerators: an owner's in-house share from its own programme at unit cost, the
        rest from the chipmaker at ``merchant_price`` ($B per GW, fixed at order)."""
        s = self._in_house.get(cloud_uid, 0.0)
        if s <= 0.0:
            self.chip_orders.append(ChipOrder(pr, cloud_uid, pr.gw, merchant_price))
            return
        self.custom_orders.append(ChipOrder(pr, cloud_uid, s * pr.gw, self.cfg.custom_silicon.unit_cost_busd_per_gw))
        if s < 1.0:
            self.chip_orders.append(ChipOrder(pr, cloud_uid, (1.0 - s) * pr.gw, merchant_price))

    def _allocate_chips(self, arrives: int) -> None:
        """Ship one month's chip output, to arrive in month ``arrives``. The chipmaker shares its output among
        customers (pro rata or partners first); each cloud directs its share to its oldest orders first, so
        projects complete one after another."""
        chip = self.chipmaker
        self.chip_orders = self._ship(self.chip_orders, chip.output_gw, chip.p.partners, chip.p.allocation,
                                      arrives, chip.uid)

    def _allocate_in_house_chips(self, t: int) -> None:
        """Ship month ``t``'s in-house accelerators (``t`` < 0: before the start, in transit at it): the owners'
        programme makes what it booked (growing on its plan) and shares it pro rata among their orders, to
        arrive after its delivery lag; the foundry is paid at cost on delivery."""
        cs = self.cfg.custom_silicon
        self.custom_output_gw = cs.supply_gw_per_month * (1.0 + cs.supply_growth_per_year) ** (t / 12.0)
        self.custom_orders = self._ship(self.custom_orders, self.custom_output_gw, (), "pro_rata",
                                        t + cs.delivery_lag_months, "foundry")

    def _ship(self, orders: list[ChipOrder], output_gw: float, partners: Any, policy: str, arrives: int,
              supplier: str) -> list[ChipOrder]:
        """Allocate ``output_gw`` of a supplier's output among open orders (``allocate_chips``: pro rata, or
        ``partners`` first), each cloud's share to its oldest orders first, to arrive in month ``arrives``
        and be paid to ``supplier``. Returns the orders still open (the fulfilled and the dead dropped)."""
        orders = [o for o in orders if o.remaining > 1e-9 and o.project.status == "construction"]
        if not orders:
            return orders
        by_cloud: dict[str, list[ChipOrder]] = {}
        for o in orders:
            bucket(by_cloud, o.cloud).append(o)
        cids = list(by_cloud)
        req = np.array([sum([o.remaining for o in by_cloud[c]], 0.0) for c in cids])
        prio = np.array([c in partners for c in cids])
        alloc = allocate_chips(req, output_gw, prio, policy)
        arriving = bucket(self.deliveries, arrives)
        for cid, a in zip(cids, alloc.tolist()):
            for o in by_cloud[cid]:
                if a <= 1e-12:
                    break
                take = min(a, o.remaining)
                o.remaining -= take
                a -= take
                arriving.append((o.project, take, o.price, supplier))
        return orders

    def _bring_online(self, in_construction: list[Project]) -> None:
        """Built shells go online, in filing order: a project with all its chips as a whole, one with part of
        them as a tranche. Each new block is added to its cloud's fleet totals (``Cloud.add_block``)."""
        for pr in in_construction:
            if pr.build_left > 0:
                continue
            c = self.clouds_by_id[pr.cloud]
            if pr.chips_delivered >= pr.gw - 1e-6:
                self.book.move(pr, "operational")
                self._release_fund(pr, c)
                pr.online = self.tick
                pr.efficiency = self.frontier_efficiency
                c.add_block(pr)
                self.gw_brought_online += pr.gw
                self.log_event("online", c.uid, pr.contract, pr.capex_busd, pr.gw, pr.id)
            elif pr.chips_delivered >= MIN_TRANCHE_GW:
                self._tranche_online(pr, c)

    def _tranche_online(self, pr: Project, c: Cloud) -> Project:
        """A built shell whose chips are only partly delivered brings the delivered chips online now,
        as an operational block split off the project (with its share of the project's cost); the
        project keeps waiting for the rest. Data halls are energised rack by rack as servers arrive:
        installed accelerators do not wait for the last delivery of the campus."""
        gw = pr.chips_delivered
        share = gw / pr.gw
        part = Project(self.book.new_id("P"), "operational", cloud=pr.cloud, regulator=pr.regulator, gw=gw,
                       contract=pr.contract, announced=pr.announced, chips_ordered=gw, chips_delivered=gw,
                       capex_busd=pr.capex_busd * share, efficiency=self.frontier_efficiency, online=self.tick,
                       financed=True)
        self.book.add("project", part)
        pr.gw -= gw
        pr.capex_busd -= part.capex_busd
        pr.chips_delivered = 0.0
        self.touch(pr)
        c.add_block(part)
        self.gw_brought_online += gw
        self.log_event("online", c.uid, pr.contract, part.capex_busd, gw, f"{part.id} (tranche of {pr.id})")
        return part

    # ================================================================== 9. distress
    def phase_distress(self) -> None:
        distress.resolve(self)

    # ================================================================== 10. training and data
    def phase_training_and_record(self) -> None:
        labs = self.alive_labs()
        luck = self.rng.standard_normal(len(labs))
        for lab, z in zip(labs, luck):
            lab.train(self.stall, float(z))
        for c in self.alive_clouds():
            c.update_expectation(self.spot_price)
        fin = self.financier
        rev_g = self._revenue_weighted_growth(labs) if labs else -1.0
        fin.update(rev_g, self.spot_price / self.full_cost_egw)
        self.ledger.pay("investors", fin.uid, self.cfg.financier.capital_inflow_busd_per_month * fin.sentiment,
                        "capital_inflow")
        for lab in labs:
            lab.update_burn()
        self._record()

    @staticmethod
    def _revenue_weighted_growth(labs: list[Lab]) -> float:
        """Labs' revenue growth weighted by revenue (what investors see of the market's growth)."""
        weights = [max(l.revenue_busd, 1e-6) for l in labs]
        return sum([l.revenue_growth() * w for l, w in zip(labs, weights)], 0.0) / sum(weights)

    def _record(self) -> None:
        s, m = self.series, self.monthly
        labs = self.alive_labs()
        announced = permitting = interconnection = construction = 0.0   # GW per pipeline stage, filing order
        for p in self.projects:
            st = p.status
            if st == "construction":
                construction += p.gw
            elif st == "permitting":
                permitting += p.gw
            elif st == "interconnection":
                interconnection += p.gw
            elif st == "announced":
                announced += p.gw
        op_gw = sum([c.fleet_gw for c in self.alive_clouds()], 0.0) + sum([l.own_egw for l in labs], 0.0)
        chip = self.chipmaker
        rows = {
            "spot_price": self.spot_price,
            "spot_price_usd_gpu_hour": usd_per_gpu_hour(self.spot_price, self.cfg.market.gpus_per_gw),
            "offtake_price": self.offtake_price,
            "full_cost": self.full_cost_egw,
            "utilisation": m["utilisation"],
            "demand_egw": self.demand_egw * self.price_rationing,
            "potential_demand_egw": self.demand_egw,
            "served_egw": m["served"],
            "unmet_demand_egw": m["unmet"],
            "operational_egw": m["operational_egw"],
            "gw_announced": announced,
            "gw_permitting": permitting,
            "gw_interconnection": interconnection,
            "gw_construction": construction,
            "gw_operational": op_gw,
            "chip_backlog_gw": chip.backlog_gw(),
            "chip_output_gw": chip.output_gw,
            "chipmaker_revenue_busd": chip.revenue_busd,
            "chipmaker_margin": (chip.revenue_busd - chip.cogs_busd) / chip.revenue_busd if chip.revenue_busd > 0 else float("nan"),
            "chip_price": chip.price(),
            "in_house_chip_gw": self.custom_delivered_gw,
            "sentiment": self.financier.sentiment,
            "lab_hhi": hhi(np.array([l.share for l in labs])) if labs else float("nan"),   # none: undefined
            "total_debt_busd": sum([l.principal for ls in self.loans.values() for l in ls], 0.0),
            "frontier_quality": max((l.quality for l in labs), default=0.0),
        }
        if not s:
            for k in rows:
                s[k] = []
            self._market_lists = [s[k] for k in rows]   # in the order of ``rows``
        for values, v in zip(self._market_lists, rows.values()):
            values.append(float(v))
        a, nan = self.agent_series, float("nan")
        if not a:
            for f in [*self.labs, *self.clouds]:
                for var in AGENT_VARIABLES:
                    a[(f.uid, var)] = []
            for c in self.clouds:
                a[(c.uid, "capex_busd")] = []
                a[(c.uid, "construction_fund_busd")] = []
            a[("chipmaker", "cash_busd")], a[("chipmaker", "revenue_busd")] = [], []
            # each firm's series in the order of AGENT_VARIABLES (cash, debt, revenue, capacity, quality, share),
            # then each cloud's capex and construction fund (lists appended to: compiled, a bound method's call
            # would be a generic one)
            self._lab_lists = [[a[(f.uid, var)] for var in AGENT_VARIABLES] for f in self.labs]
            self._cloud_lists = [[a[(f.uid, var)] for var in AGENT_VARIABLES] for f in self.clouds]
            self._cloud_capex_lists = [[a[(f.uid, "capex_busd")], a[(f.uid, "construction_fund_busd")]]
                                       for f in self.clouds]
        for f, (cash, debt, rev, cap, qual, share) in zip(self.labs, self._lab_lists):
            alive = f.alive
            cash.append(float(f.cash_busd))
            debt.append(float(f.debt_busd))
            rev.append(float(f.revenue_busd))
            cap.append(float(f.have_egw) if alive else 0.0)
            qual.append(float(f.quality))
            share.append(float(f.share) if alive else 0.0)
        for g, (cash, debt, rev, cap, qual, share) in zip(self.clouds, self._cloud_lists):
            cash.append(float(g.cash_busd))
            debt.append(float(g.debt_busd))
            rev.append(float(g.revenue_busd))
            cap.append(float(g.fleet_gw))
            qual.append(nan)
            share.append(nan if g.alive else 0.0)
        capex = m["capex_by_cloud"]
        for c, (capex_paid, fund) in zip(self.clouds, self._cloud_capex_lists):   # capex paid (chips + construction), measured: validate's buyer-capex checks use it
            capex_paid.append(float(capex.get(c.uid, 0.0)))
            fund.append(float(c.fund_busd))
        a[("chipmaker", "cash_busd")].append(float(chip.cash_busd))
        a[("chipmaker", "revenue_busd")].append(float(chip.revenue_busd))

    # ================================================================== views for the page and the runner
    def current_labels(self) -> dict[str, bool]:
        from sim.metrics import compute_labels
        return compute_labels(self.series, self.event_log, self.cfg.labels, self.initial_hhi)

    def release(self) -> None:
        """Break a finished world's reference cycles (its agents point back at it, its record book calls it
        back) so that its memory is freed at once, by reference counting; the model is unusable afterwards.
        The compiled build (sim/native.py) needs it: its classes do not show the garbage collector the
        attributes Mesa keeps in their instance dictionaries, so a cycle through them is never collected
        (~4 MB a baseline run), and a cycle through their own attributes only by a full collection, which
        then has to walk the whole dead world (a batch worker spent ~10 % of its time so). ``run_world``
        calls it once the run's tables are built; harmless, and a little memory sooner, with the sources."""
        self.book.listener = None
        firms: list[Firm] = [*self.labs, *self.clouds, self.chipmaker, self.financier]
        for firm in firms:
            del firm.world
        for reg in self.regulators.values():
            del reg.world
        for obj in [*self.agents, self]:
            obj.__dict__.clear()

    def outcomes(self) -> dict[str, Any]:
        from sim.metrics import compute_outcomes
        return compute_outcomes(self)

    def links(self) -> list[dict]:
        """Active ties between firms: offtake (GW), loans and guarantees ($B), equity stakes ($B)."""
        out: list[dict] = []
        for ks in self.contracts_cloud.values():
            for k in ks:
                out.append({"source": k.lab, "target": k.cloud, "kind": "offtake", "busd": k.gw * k.price * 12, "gw": k.gw})
        for ls in self.loans.values():
            for l in ls:
                out.append({"source": l.lender, "target": l.borrower, "kind": "loan", "busd": l.principal, "gw": 0.0})
                if l.guarantor:
                    out.append({"source": l.guarantor, "target": l.borrower, "kind": "guarantee",
                                "busd": l.principal * l.guaranteed_share, "gw": 0.0})
        for st in self.stakes:
            if st.status == "held":
                out.append({"source": st.investor, "target": st.firm, "kind": "equity", "busd": st.invested, "gw": 0.0})
        return out
