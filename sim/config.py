"""Scenario schema: every parameter of a world, with its unit, default and rationale.

A scenario is a TOML file in ``experiments/scenarios/`` (or any path). It is
validated here with pydantic (unknown fields are errors), so a typo never
silently falls back to a default. Every field's description states its unit and
the source or reasoning behind its default (../shared/CALIBRATION.md rows are cited as
"[cal: <row>]").

Overrides use dotted paths (``labs.frontier_a.aggressiveness=2.0``); values are
parsed as TOML literals. Errors surface as :class:`ConfigError` whose text is a
single line: ``<file>: <field.path>: <what is wrong / what is allowed>``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "experiments" / "scenarios"


class ConfigError(ValueError):
    """A scenario, batch file or override is invalid. ``str()`` is one line."""

    def __init__(self, source: str, path: str, message: str):
        self.source, self.path, self.message = str(source), path, message
        super().__init__(f"{source}: {path}: {message}" if path else f"{source}: {message}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


def F(default: Any, description: str, **kw: Any) -> Any:
    """Shorthand for a documented field."""
    return Field(default, description=description, **kw)


# --------------------------------------------------------------------------- sections
class Meta(_Section):
    name: str = F("unnamed", "Scenario name (defaults to the file stem).")
    description: str = F("", "One line shown by `computemarket scenarios`.")
    extends: str | None = F(None, "Name of a scenario this one starts from; its own tables override the base's, "
                                  "key by key (so a variant lists only what differs).")
    start: str = F("2025-01", "First simulated month, YYYY-MM.", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    months: int = F(120, "Horizon in months (one tick = one month).", ge=1, le=600)


class Record(_Section):
    every: int = F(1, "Time-series recording period in months (1 = every month).", ge=1, le=120)


class Scale(_Section):
    """Global multipliers, convenient for sweeps and sliders."""

    lab_aggressiveness: float = F(1.0, "Multiplier on every lab's aggressiveness (dimensionless).", ge=0, le=10)
    permit_delay: float = F(1.0, "Multiplier on every regulator's review and interconnection time.", ge=0, le=10)


class Market(_Section):
    initial_demand_egw: float = F(
        12.0, "AI compute demand at the start, effective GW (GW x vintage efficiency, 2025 chips = 1). "
        "[cal: Lab revenue per GW; Hyperscaler capex] ~10-15 GW of AI load in service at end-2024.", gt=0)
    demand_growth_per_year: float = F(
        1.0, "Growth of compute demand, fraction per year (1.0 = doubles yearly): token demand grows "
        "~5-50x/yr while compute per token falls [cal: Token demand; Price per token].", gt=-1, le=20)
    demand_volatility: float = F(
        0.35, "Standard deviation of the annual demand growth rate across persistent demand regimes (AR(1) with "
        "monthly persistence 0.95): adoption can run ahead of or behind trend for a year or more. Rationale: "
        "token demand grew 5-50x a year depending on the source and period [cal: Token demand].", ge=0, le=5)
    saturation_egw: float = F(
        400.0, "Adoption ceiling of the S-curve, effective GW (rises with capability, see quality_demand_elasticity). "
        "Rationale: OpenAI's 250 GW goal by 2033 for one firm [cal: OpenAI commitments].", gt=0)
    quality_demand_elasticity: float = F(
        0.5, "Elasticity of the adoption ceiling to frontier capability (dimensionless).", ge=0, le=5)
    revenue_per_egw_month_busd: float = F(
        1.4, "Lab revenue per effective GW-month of inference served, $B: ~$10B ARR per GW of total compute "
        "[cal: Lab revenue per GW], earned on the ~60% not used for training (0.83 / 0.6).", gt=0)
    revenue_decline_per_year: float = F(
        0.29, "Fall per year of revenue per effective GW: lab revenue stays ~proportional to physical GW "
        "[cal: Lab revenue per GW] while compute per watt rises ~40%/yr [cal: Chip generations], so revenue per "
        "effective GW falls ~1 - 1/1.4 per year.", ge=0, lt=1)
    quality_revenue_elasticity: float = F(
        1.0, "Elasticity of revenue per EGW to frontier capability: better models earn more per token "
        "(frontier price per token roughly flat while capability rises [cal: Price per token]).", ge=0, le=5)
    price_elasticity: float = F(
        0.6, "Price elasticity of end-user demand when compute is dear: the demand labs face is scaled by "
        "(full cost / last month's spot price)^elasticity while the spot price is above full cost "
        "(scarcity passes through to token prices and rations use).", ge=0, le=5)
    share_sensitivity: float = F(
        3.0, "Exponent of quality in demand shares: share_i ~ quality_i^beta (dimensionless).", ge=0, le=20)
    spot_cap_busd_per_egw_month: float = F(
        4.5, "Scarcity cap of the spot price, $B per EGW-month (~$8/GPU-hour, the 2023 peak) [cal: Rental price path].", gt=0)
    gpus_per_gw: float = F(
        770_000, "Accelerators per GW of IT load, for the $/GPU-hour mapping [cal: Power per accelerator] (1.3 kW each).", gt=0)
    contract_term_months: int = F(
        60, "Term of offtake contracts, months [cal: OpenAI commitments] (4.5 GW over 5 yrs; AWS 7 yrs).", ge=1, le=240)
    take_or_pay_share: float = F(
        0.8, "Share of contracted capacity a lab pays for even when unused (take-or-pay).", ge=0, le=1)
    late_delivery_grace_months: int = F(
        6, "Months of delay after the promised delivery before a lab may terminate for non-delivery.", ge=0, le=60)
    late_delivery_penalty_months: float = F(
        3.0, "Penalty a cloud pays on termination for non-delivery, in months of contract value.", ge=0, le=60)
    contract_damages_months: float = F(
        12.0, "A defaulting lab's open offtake contracts are unsecured claims of their clouds, alongside its loans and "
        "unpaid bills: the take-or-pay floor of at most this many of their remaining months. Rationale: the cloud "
        "resells the capacity (mitigation), and damages for rejected leases are capped in US bankruptcy at the greater "
        "of one year or 15% of the remaining term (11 U.S.C. 502(b)(6)); 12 months, not fitted. 0 = no claim.",
        ge=0, le=240)


class Technology(_Section):
    generation_months: int = F(24, "Months between chip generations [cal: Chip generations].", ge=1, le=120)
    efficiency_gain_per_generation: float = F(
        0.96, "Gain in compute per watt per generation (0.96 = x1.96, i.e. ~40%/yr) [cal: Chip generations].", ge=0, le=10)
    useful_life_months: int = F(
        60, "Economic life of accelerators, months [cal: Server useful life] (5-6 yrs, shortened for AI).", ge=6, le=240)
    shell_capex_busd_per_gw: float = F(
        12.0, "Shell + power + cooling capex, $B per GW [cal: Shell + power share] ($11.7M/MW US average).", gt=0)
    other_capex_busd_per_gw: float = F(
        18.0, "Networking, storage, installation and other non-chipmaker capex, $B per GW "
        "[cal: All-in cost] so that all-in ~$50B/GW with the chip price.", ge=0)
    opex_busd_per_gw_month: float = F(
        0.06, "Operating cost per GW-month (power at PUE 1.2 and ~$60/MWh plus staff), $B [cal: PUE].", ge=0)
    build_months: int = F(
        15, "Construction time of a campus once permitted and financed, months [cal: Build time] (12-24).", ge=1, le=60)
    shell_life_months: int = F(
        240, "Economic life of the shell and power equipment, months (20 yrs).", ge=12, le=600)
    refit_shells: bool = F(
        True, "When a cloud's accelerators reach the end of their useful life, it may re-equip the shell (new chips "
        "and networking, other_capex_busd_per_gw, online when the chips arrive, no permit or grid queue: the site, power and "
        "grid connection are held) instead of retiring the site, when what the new chips are expected to earn (the "
        "price of the contract the capacity serves for its months left, the expected spot price after) covers the "
        "new chips' and networking's capital cost and opex (economics.refit_pays). Operators refresh servers in shells built for 15-20 years, which is also what "
        "the full cost's shell_life_months assumes. False = the site retires with its chips (sessions 1-8).")


class Chipmaker(_Section):
    initial_cash_busd: float = F(60.0, "Cash at start, $B (Nvidia ~$60B in early 2025).", ge=0)
    supply_gw_per_month: float = F(
        0.9, "Accelerator output at start, GW of IT load per month (CoWoS-bound) [cal: Chip supply cap].", gt=0)
    supply_growth_per_year: float = F(
        0.5, "Target growth of packaging capacity per year when the backlog justifies it [cal: Chip supply cap].", ge=0, le=10)
    supply_plan: list[tuple[int, float]] = F(
        [], "Packaging capacity already committed at the start: [month, GW per month] points, interpolated; "
        "output never falls below it (e.g. the announced CoWoS ramp [cal: Chip supply cap]). Empty = none.")
    expansion_lag_months: int = F(12, "Months for new packaging capacity to come online.", ge=0, le=60)
    price_busd_per_gw: float = F(
        20.0, "List price of accelerators + systems per GW at balanced supply, $B [cal: Accelerator price] "
        "(~770k GPUs x ~$26k).", gt=0)
    unit_cost_busd_per_gw: float = F(
        5.6, "Cost of goods per GW, $B: 72% gross margin at list [cal: Chip supplier] (70-76%).", gt=0)
    scarcity_markup: float = F(
        0.5, "Maximum price premium when the backlog exceeds a year of output (fraction of list).", ge=0, le=5)
    delivery_lag_months: int = F(3, "Months from allocation to delivery.", ge=0, le=24)
    allocation: Literal["pro_rata", "priority"] = F(
        "pro_rata", "Allocation of scarce output: pro rata to orders, or strategic partners first.")
    partners: list[str] = F([], "Cloud ids treated as strategic partners (priority allocation, guarantees).")
    vendor_financing: bool = F(True, "Whether the chipmaker invests in labs and guarantees cloud loans.")
    equity_rebate_share: float = F(
        0.15, "Share of a lab-backed chip purchase the chipmaker invests back into the lab as equity "
        "[cal: Vendor financing] (up to $100B into OpenAI against ~10 GW, ~$500B of systems).", ge=0, le=1)
    guarantee_share: float = F(0.5, "Share of a partner cloud's project loan the chipmaker guarantees.", ge=0, le=1)
    risk_budget_busd: float = F(
        40.0, "Cap on vendor-financing exposure (equity stakes + guarantees outstanding), $B.", ge=0)
    rd_busd_per_month: float = F(1.2, "Operating expenses (R&D, SG&A), $B per month.", ge=0)


class CustomSilicon(_Section):
    """In-house accelerators (TPU-, Trainium-like): the optional second supplier of ../shared/DESIGN.md 3.1.

    Some clouds design their own chips and have them made by a foundry. Their programmes book foundry and
    packaging capacity years ahead on their own plan, so the output grows on a schedule, not with a
    backlog, and it goes only to its owners (clouds with ``in_house_chip_share`` > 0), at cost (no
    merchant margin). An owner makes that share of the chips of each of its builds in-house (its software
    stack runs there; the rest of its customers want the merchant chips) and buys the rest from the
    chipmaker. In-house chips are taken to match the merchant generation of the same date in compute per
    watt. With no owner (the default) there is no second supplier: every chip comes from the chipmaker."""

    supply_gw_per_month: float = F(
        0.0, "Foundry output booked by the owners at the start, GW of IT load per month. Rationale: Nvidia has ~60% "
        "of CoWoS [cal: Chip supply cap], so the other ~40% is ~2/3 of Nvidia's output; custom chips are part of "
        "it (AMD's merchant GPUs are the rest).", ge=0)
    supply_growth_per_year: float = F(
        0.5, "Growth of that output per year, on the owners' plan: CoWoS ~x1.4-2 a year 2024-26 [cal: Chip supply cap].",
        ge=0, le=10)
    unit_cost_busd_per_gw: float = F(
        10.0, "What an owner pays per GW of in-house accelerators and systems, $B: foundry, HBM, packaging and the "
        "design partner's margin, no merchant margin. An assumption: about half the merchant list price "
        "(~$13k a chip against H100-class ~$25-30k [cal: Accelerator price]), ~1.8x the chipmaker's own unit cost.",
        gt=0)
    delivery_lag_months: int = F(3, "Months from allocation to delivery.", ge=0, le=24)


class Financier(_Section):
    initial_capital_busd: float = F(300.0, "Capital the credit and equity markets can deploy at start, $B.", ge=0)
    capital_inflow_busd_per_month: float = F(
        25.0, "New capital allocated to AI infrastructure per month at neutral sentiment, $B.", ge=0)
    base_rate: float = F(0.043, "Risk-free rate, annual [cal: Rates] (4-4.5%).", ge=0, le=0.5)
    base_spread: float = F(0.018, "Spread of an investment-grade borrower, annual [cal: Rates] (T+165-225bp).", ge=0, le=0.5)
    leverage_spread: float = F(0.06, "Extra spread per unit of debt/assets above 0.3, annual.", ge=0, le=1)
    offtaker_spread: float = F(
        0.05, "Extra spread per unit of the offtaker's default probability (annualised), annual.", ge=0, le=10)
    unrated_spread: float = F(0.05, "Extra spread for a project with no offtake contract behind it, annual [cal: Rates].", ge=0, le=1)
    equity_premium: float = F(
        0.04, "Equity risk premium over debt in the cost of capital used for full cost, annual.", ge=0, le=0.5)
    guarantee_relief: float = F(0.7, "Share of the credit spread removed by a chipmaker guarantee.", ge=0, le=1)
    loan_term_months: int = F(60, "Maturity of project loans, months (interest only while the project is built, then even amortisation).", ge=6, le=360)
    max_ltv: float = F(0.7, "Maximum loan-to-cost of a project.", ge=0, le=1)
    sentiment0: float = F(0.7, "Initial sentiment in [0, 1].", ge=0, le=1)
    sentiment_speed: float = F(0.15, "Monthly speed at which sentiment moves toward its signal.", ge=0, le=1)
    default_sentiment_hit: float = F(0.15, "Sentiment drop per default, per $100B of losses scaled.", ge=0, le=1)
    min_sentiment_to_lend: float = F(0.25, "Below this sentiment new credit is rationed to investment grade only.", ge=0, le=1)
    revenue_multiple: float = F(25.0, "Equity valuation / annualised revenue at sentiment 1 (labs).", gt=0)
    round_dilution: float = F(0.15, "Share of a lab sold in a typical funding round.", gt=0, le=1)


class Regulator(_Section):
    review_months: float = F(9.0, "Mean months of permit review [cal: Local opposition; Build time].", ge=0, le=120)
    throughput_gw_per_month: float = F(3.0, "GW of applications reviewed per month.", gt=0)
    approval_prob: float = F(0.85, "Probability a reviewed permit is approved.", ge=0, le=1)
    litigation_prob: float = F(0.15, "Probability an approved project is litigated [cal: Local opposition].", ge=0, le=1)
    litigation_delay_months: float = F(12.0, "Mean delay from litigation, months.", ge=0, le=120)
    litigation_kill_prob: float = F(0.25, "Probability litigation kills the project.", ge=0, le=1)
    grid_gw_per_year: float = F(15.0, "Grid interconnection capacity for new data-centre load, GW per year [cal: Grid interconnection].", ge=0)
    interconnection_months: float = F(18.0, "Minimum months from interconnection request to energisation [cal: Grid interconnection].", ge=0, le=240)
    base_load_gw: float = F(450.0, "Jurisdiction's average electric load, GW (US ~450 GW).", gt=0)
    moratorium_load_share: float = F(0.12, "Data-centre share of load above which a moratorium may be imposed.", ge=0, le=1)
    moratorium_prob: float = F(0.05, "Monthly probability of a moratorium while above the threshold.", ge=0, le=1)
    moratorium_months: int = F(12, "Length of a moratorium, months.", ge=0, le=240)
    incumbent_fast_track: float = F(0.5, "Share of review time an incumbent (existing sites) needs.", ge=0, le=1)


class Lab(_Section):
    name: str = F("", "Display name.")
    initial_cash_busd: float = F(10.0, "Cash at start, $B.", ge=0)
    initial_quality: float = F(1.0, "Capability index at start (frontier 2025 = 1).", gt=0)
    initial_compute_gw: float = F(0.0, "Compute under contract at start, GW (with partner_cloud).", ge=0)
    own_capacity_gw: float = F(0.0, "Owned data-centre capacity at start, GW.", ge=0)
    partner_cloud: str | None = F(None, "Cloud id holding the lab's initial contract (must exist).")
    aggressiveness: float = F(1.0, "Forward bet: commitments / forecast need (1 = commit to forecast).", ge=0, le=10)
    planning_horizon_months: int = F(24, "How far ahead the lab plans its compute, months.", ge=1, le=120)
    training_share: float = F(0.4, "Share of compute spent on training.", ge=0, lt=1)
    resell_idle: bool = F(True, "Whether idle contracted compute is resold on the spot market.")
    vertical_integration: float = F(
        0.0, "How strongly it builds on its owner's data centres: in offtake awards the bids of the cloud that hosts it "
        "(hosts_lab) are discounted by 0.3 x this (0-1), and a contract with that cloud is signed at the discounted "
        "price (an internal transfer price). Stands in for building its own capacity, which labs do not do in the "
        "model (docs/model.md, known limitations).", ge=0, le=1)
    risk_tolerance: float = F(1.0, "Scales how far commitments may exceed revenue (dimensionless).", ge=0, le=10)
    wtp_multiple: float = F(1.3, "Spot bid / revenue per EGW: strategic value of compute beyond current revenue "
                            "(rises by half the share of demand it cannot serve).", ge=0, le=20)
    min_runway_months: float = F(12.0, "Raise money when cash covers fewer months of burn than this.", ge=0, le=120)
    training_cash_share: float = F(
        0.08, "Share of its free cash (cash above min_runway_months of burn) it may spend a month renting the "
        "training compute it lacks on the spot market, at its strategic price (wtp_multiple), 1/month. 0 = it "
        "never rents training compute (trains only on what it owns or contracts). 0.08 = 1/12: a round raised "
        "for training is spent within about a year [cal: Other labs; Acquisition-like exits]; not fitted "
        "(0.05 and 0.1 measured in docs/validation.md).", ge=0, le=1)
    other_costs_busd_per_month: float = F(0.15, "Staff and other non-compute costs, $B per month.", ge=0)
    research_volatility: float = F(
        0.5, "Log-normal sigma of monthly research luck multiplying quality gains (dimensionless).", ge=0, le=3)
    training_efficiency: float = F(0.012, "Quality gain per log-unit of training compute per month (dimensionless).", ge=0, le=1)


class Cloud(_Section):
    name: str = F("", "Display name.")
    kind: Literal["hyperscaler", "neocloud", "landlord"] = F("neocloud", "Business model.")
    initial_cash_busd: float = F(10.0, "Cash at start, $B.", ge=0)
    initial_debt_busd: float = F(0.0, "Corporate debt at start, $B.", ge=0)
    capacity_gw: float = F(1.0, "Operational AI capacity at start, GW.", ge=0)
    land_bank_gw: float = F(10.0, "Sites the cloud can file permits for, GW.", ge=0)
    jurisdiction: str = F("us", "Regulator id where its sites are (must exist).")
    other_business_busd_per_month: float = F(
        0.0, "Free cash flow of other businesses, $B per month (hyperscalers large, neoclouds none) [cal: Hyperscaler capex].", ge=0)
    target_margin: float = F(0.15, "Margin over full cost in offtake quotes.", ge=0, le=5)
    spec_appetite: float = F(0.3, "Share of its expected spare demand it builds on spec (no contract).", ge=0, le=5)
    expectation_speed: float = F(0.3, "Adaptive-expectations weight on the latest spot price (0-1).", ge=0, le=1)
    max_leverage: float = F(0.6, "Maximum debt / assets it accepts.", ge=0, le=1)
    max_project_gw: float = F(2.0, "Largest single project, GW.", gt=0)
    initial_pipeline_gw: float = F(
        0.0, "GW already permitted, financed and under construction at the start (random progress): a project "
             "loan for what is left to pay and the sponsor's equity for the rest, raised from investors where "
             "initial_cash_busd net of three months' opex falls short.", ge=0)
    hosts_lab: str | None = F(None, "Lab id the cloud owns and hosts (must exist).")
    hoard_share: float = F(0.0, "Share of idle capacity held back from spot for its own lab.", ge=0, le=1)
    in_house_chip_share: float = F(
        0.0, "Share of the chips of its builds it makes in-house (its own accelerators from the programme of "
        "`custom_silicon`), 0-1; the rest comes from the chipmaker. Google-like ~0.6-0.7 TPU, Amazon-like ~0.3-0.5 "
        "Trainium: an assumption from press accounts of fleet mixes, not a calibrated figure.", ge=0, le=1)


class ProgressStall(_Section):
    enabled: bool = F(False, "Turn the shock on.")
    month: int = F(24, "Month (tick) it starts.", ge=0)
    severity: float = F(0.8, "Fraction of training returns lost (1 = progress stops).", ge=0, le=1)
    demand_hit: float = F(0.35, "Fall in the adoption ceiling when progress stalls (fraction).", ge=0, le=1)


class EfficiencyShock(_Section):
    enabled: bool = F(False, "Turn the shock on.")
    month: int = F(12, "Month (tick) it happens.", ge=0)
    compute_per_token_factor: float = F(0.4, "Compute needed per token is multiplied by this (DeepSeek-like).", gt=0, le=1)
    rebound_elasticity: float = F(0.3, "Jevons rebound: extra demand per unit of efficiency gain.", ge=0, le=2)


class DemandSurge(_Section):
    enabled: bool = F(False, "Turn the shock on.")
    month: int = F(12, "Month it happens.", ge=0)
    factor: float = F(1.5, "Demand multiplier.", gt=0, le=20)


class Shocks(_Section):
    progress_stall: ProgressStall = ProgressStall()
    efficiency: EfficiencyShock = EfficiencyShock()
    demand_surge: DemandSurge = DemandSurge()


class Labels(_Section):
    """Thresholds of the per-run labels (sim/metrics.py)."""

    min_months: int = F(6, "A glut or scarcity must last at least this many consecutive months.", ge=1)
    glut_utilisation: float = F(0.8, "Glut: utilisation of operational capacity below this...", ge=0, le=1)
    glut_price_ratio: float = F(0.9, "...and spot price below this share of the full cost of new capacity.", ge=0)
    scarcity_unmet_share: float = F(0.05, "Scarcity: unmet demand above this share of demand...", ge=0, le=1)
    scarcity_price_ratio: float = F(1.5, "...and spot price above this multiple of full cost.", ge=0)
    cascade_min_defaults: int = F(2, "Default cascade: at least this many defaults, one triggered by another.", ge=2)
    consolidation_hhi_rise: float = F(0.05, "Consolidation: an acquisition and lab HHI up by more than this.", ge=0, le=1)


class ScenarioConfig(_Section):
    """A complete world: agents, institutions, shocks, horizon and label thresholds."""

    meta: Meta = Meta()
    record: Record = Record()
    scale: Scale = Scale()
    market: Market = Market()
    technology: Technology = Technology()
    chipmaker: Chipmaker = Chipmaker()
    custom_silicon: CustomSilicon = CustomSilicon()
    financier: Financier = Financier()
    regulators: dict[str, Regulator] = Field(default_factory=lambda: {"us": Regulator()})
    labs: dict[str, Lab] = Field(default_factory=dict)
    clouds: dict[str, Cloud] = Field(default_factory=dict)
    shocks: Shocks = Shocks()
    labels: Labels = Labels()

    @model_validator(mode="after")
    def _references(self) -> "ScenarioConfig":
        """Every reference to another agent must name one that exists."""
        ids_ok = re.compile(r"^[a-z][a-z0-9_]*$")
        if not self.labs:
            raise _RefError("labs", "at least one lab is required")
        if not self.clouds:
            raise _RefError("clouds", "at least one cloud is required")
        if not self.regulators:
            raise _RefError("regulators", "at least one regulator is required")
        for group in ("labs", "clouds", "regulators"):
            for key in getattr(self, group):
                if not ids_ok.match(key):
                    raise _RefError(f"{group}.{key}", "agent ids must be lower-case letters, digits and _")
        for lid, lab in self.labs.items():
            if lab.partner_cloud is not None and lab.partner_cloud not in self.clouds:
                raise _RefError(f"labs.{lid}.partner_cloud",
                                f"unknown cloud {lab.partner_cloud!r}; allowed: {sorted(self.clouds)}")
            if lab.initial_compute_gw > 0 and lab.partner_cloud is None:
                raise _RefError(f"labs.{lid}.partner_cloud", "required when initial_compute_gw > 0")
        for cid, cloud in self.clouds.items():
            if cloud.jurisdiction not in self.regulators:
                raise _RefError(f"clouds.{cid}.jurisdiction",
                                f"unknown regulator {cloud.jurisdiction!r}; allowed: {sorted(self.regulators)}")
            if cloud.hosts_lab is not None and cloud.hosts_lab not in self.labs:
                raise _RefError(f"clouds.{cid}.hosts_lab",
                                f"unknown lab {cloud.hosts_lab!r}; allowed: {sorted(self.labs)}")
        plan = self.chipmaker.supply_plan
        for i in range(1, len(plan)):
            if plan[i][0] <= plan[i - 1][0]:
                raise _RefError(f"chipmaker.supply_plan.{i}", "months must increase")
        for i, p in enumerate(self.chipmaker.partners):
            if p not in self.clouds:
                raise _RefError(f"chipmaker.partners.{i}", f"unknown cloud {p!r}; allowed: {sorted(self.clouds)}")
        owners = [cid for cid, c in self.clouds.items() if c.in_house_chip_share > 0]
        if owners and self.custom_silicon.supply_gw_per_month <= 0:
            raise _RefError("custom_silicon.supply_gw_per_month",
                            f"must be > 0 when a cloud makes chips in-house ({', '.join(owners)})")
        contracted: dict[str, float] = {}
        for lid, lab in self.labs.items():
            if lab.partner_cloud:
                contracted[lab.partner_cloud] = contracted.get(lab.partner_cloud, 0.0) + lab.initial_compute_gw
        for cid, gw in contracted.items():
            if gw > self.clouds[cid].capacity_gw + 1e-9:
                raise _RefError(f"clouds.{cid}.capacity_gw",
                                f"must cover the labs' initial contracts ({gw:g} GW), got {self.clouds[cid].capacity_gw:g}")
        return self

    # ------------------------------------------------------------------ helpers
    def get_path(self, path: str) -> Any:
        """Value at a dotted path; ConfigError if the path does not exist."""
        node: Any = self
        for part in path.split("."):
            if isinstance(node, BaseModel) and part in type(node).model_fields:
                node = getattr(node, part)
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise ConfigError("--set", path, f"unknown parameter path (no {part!r} here)")
        return node

    def with_overrides(self, overrides: Mapping[str, Any] | Sequence[str], source: str = "--set") -> "ScenarioConfig":
        """A new validated config with dotted-path overrides applied."""
        data = self.model_dump()
        for path, value in _normalise_overrides(overrides, source).items():
            _set_path(data, path, value, source)
        return _validate(data, source)


class _RefError(ValueError):
    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(message)


# --------------------------------------------------------------------------- loading
def _validate(data: dict, source: str) -> ScenarioConfig:
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx_exc = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_exc, _RefError):
            raise ConfigError(source, ctx_exc.path, ctx_exc.message) from None
        path = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            parent = ".".join(str(p) for p in err["loc"][:-1])
            allowed = _allowed_fields(parent)
            msg = "unknown field" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
        elif "input" in err and err["type"] != "missing":
            msg = f"{msg} (got {err['input']!r})"
        raise ConfigError(source, path, msg) from None


def _allowed_fields(parent: str) -> list[str]:
    node: Any = ScenarioConfig
    for part in [p for p in parent.split(".") if p]:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part)
            if field is None:
                return []
            ann = field.annotation
            if getattr(ann, "__origin__", None) is dict:
                node = ("dict", ann.__args__[1])
            else:
                node = ann
        elif isinstance(node, tuple):
            node = node[1]
        else:
            return []
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _normalise_overrides(overrides: Mapping[str, Any] | Sequence[str] | None, source: str) -> dict[str, Any]:
    if not overrides:
        return {}
    if isinstance(overrides, Mapping):
        return dict(overrides)
    out: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(source, item, "expected path=value, e.g. labs.frontier_a.aggressiveness=2.0")
        path, _, value = item.partition("=")
        out[path.strip()] = _parse_value(value.strip())
    return out


def _set_path(data: dict, path: str, value: Any, source: str) -> None:
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(source, path, f"unknown parameter path (no {part!r} under {'.'.join(parts[:i]) or 'the root'})")
        node = node[part]
    last = parts[-1]
    if not isinstance(node, dict) or last not in node:
        raise ConfigError(source, path, "unknown parameter path")
    node[last] = value


def scenario_path(name_or_path: str | Path) -> Path:
    """Resolve a scenario name (``baseline``) or a path to its TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise ConfigError(str(p), "", "no such file")
        return p
    candidate = SCENARIO_DIR / f"{name_or_path}.toml"
    if not candidate.exists():
        raise ConfigError(str(name_or_path), "", f"unknown scenario; available: {', '.join(scenario_names())}")
    return candidate


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _resolve_extends(data: dict, source: str, seen: tuple[str, ...]) -> dict:
    """Merge a scenario over the scenario it ``extends`` (recursively), keeping its own ``extends``."""
    parent = (data.get("meta") or {}).get("extends")
    if not parent:
        return data
    if not isinstance(parent, str):
        raise ConfigError(source, "meta.extends", f"must be a scenario name (got {parent!r})")
    if parent in seen:
        raise ConfigError(source, "meta.extends", f"circular: {' -> '.join(seen + (parent,))}")
    try:
        base_path = scenario_path(parent)
    except ConfigError:
        raise ConfigError(source, "meta.extends", f"unknown scenario {parent!r}; available: {', '.join(scenario_names())}") from None
    base = _resolve_extends(tomllib.loads(base_path.read_text()), str(base_path), seen + (parent,))
    base.setdefault("meta", {}).pop("description", None)
    return _deep_merge(base, data)


def schema_fields(model: type[BaseModel] = None, prefix: str = "") -> list[tuple[str, str, Any, str]]:
    """Every parameter of the schema as ``(dotted path, type, default, description)``, in schema order.
    Tables keyed by agent id (labs, clouds, regulators) appear once, with ``<id>`` in the path."""
    model = ScenarioConfig if model is None else model
    out: list[tuple[str, str, Any, str]] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += schema_fields(ann, path + ".")
        elif getattr(ann, "__origin__", None) is dict and isinstance(ann.__args__[1], type) \
                and issubclass(ann.__args__[1], BaseModel):
            out += schema_fields(ann.__args__[1], path + ".<id>.")
        else:
            kind = str(ann).replace("typing.", "") if getattr(ann, "__origin__", None) is Literal \
                else getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
            out.append((path, kind, field.default, field.description or ""))
    return out


def scenario_names() -> list[str]:
    """Names of the scenarios shipped in experiments/scenarios/."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name_or_path: str | Path = "baseline",
                  overrides: Mapping[str, Any] | Sequence[str] | None = None) -> ScenarioConfig:
    """Load, validate and (optionally) override a scenario."""
    path = scenario_path(name_or_path)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"not valid TOML: {exc}") from None
    data = _resolve_extends(data, source, seen=(path.stem,))
    data.setdefault("meta", {})["name"] = path.stem
    cfg = _validate(data, source)
    if overrides:
        cfg = cfg.with_overrides(overrides)
    return cfg


def describe_scenario(name: str) -> str:
    """The scenario's one-line description."""
    return load_scenario(name).meta.description
