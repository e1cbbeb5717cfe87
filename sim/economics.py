"""Pure economic functions: costs, prices, credit, valuation, demand.

Each function is small, has no side effects and is unit-tested with hand-made
cases in tests/test_economics.py. Agents and institutions call these; no rule
of pricing or credit lives anywhere else. Money in $B, capacity in GW,
effective compute in EGW (GW x vintage efficiency), time in months.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

HOURS_PER_MONTH: Final = 730.0


# ----------------------------------------------------------------------------- costs
def annuity_factor(rate_annual: float, months: int) -> float:
    """Monthly payment per $1 of principal repaid over ``months`` at ``rate_annual``."""
    r = rate_annual / 12.0
    if r <= 0:
        return 1.0 / months
    return r / (1.0 - (1.0 + r) ** (-months))


def full_cost_per_gw_month(chip_busd_per_gw: float, shell_busd_per_gw: float, other_busd_per_gw: float,
                           rate_annual: float, chip_life_months: int, shell_life_months: int,
                           opex_busd_per_gw_month: float) -> float:
    """Full monthly cost of one GW of new capacity: capital recovery of each part over its life + opex.

    Chips and networking (``chip`` + ``other``) are recovered over the accelerator life,
    the shell and power equipment over the shell life, all at the cost of capital.
    """
    short = (chip_busd_per_gw + other_busd_per_gw) * annuity_factor(rate_annual, chip_life_months)
    long = shell_busd_per_gw * annuity_factor(rate_annual, shell_life_months)
    return short + long + opex_busd_per_gw_month


def refit_pays(expected_price_egw_month: float, efficiency: float, chip_busd_per_gw: float,
               other_busd_per_gw: float, rate_annual: float, chip_life_months: int,
               opex_busd_per_gw_month: float, contract_price_gw_month: float = 0.0,
               contract_months_left: float = 0.0) -> bool:
    """Whether re-equipping a GW of shell whose accelerators reached the end of their life pays: what the
    new chips are expected to earn a month over their life covers the capital cost of the new chips and
    networking over that life plus opex. They earn the contract's price for the months left of an offtake
    contract the capacity serves, and the expected spot price (per EGW-month x the new chips' efficiency)
    for the rest of their life. The shell, its power and its grid connection are sunk and already held, so
    they are not part of the decision."""
    cost = full_cost_per_gw_month(chip_busd_per_gw, 0.0, other_busd_per_gw, rate_annual, chip_life_months,
                                  chip_life_months, opex_busd_per_gw_month)
    m = min(max(contract_months_left, 0.0), float(chip_life_months))
    earns = (contract_price_gw_month * m + expected_price_egw_month * efficiency * (chip_life_months - m)) \
        / chip_life_months
    return earns >= cost


def operating_value(gw: float, efficiency: float, expected_price_egw_month: float, opex_busd_per_gw_month: float,
                    months_left: int, rate_annual: float) -> float:
    """The most a buyer would pay for running capacity, $B: the present value of its expected operating
    margin over its remaining life. Margin per GW-month = expected spot price x efficiency - opex, floored
    at zero (capacity that does not cover its power bill is switched off, not run at a loss)."""
    margin = expected_price_egw_month * efficiency - opex_busd_per_gw_month
    if months_left <= 0 or margin <= 0.0:
        return 0.0
    return gw * margin / annuity_factor(rate_annual, months_left)


def take_or_pay_payment(contracted_gw: float, used_gw: float, price_per_gw_month: float, top_share: float) -> float:
    """Monthly payment under a take-or-pay contract: the lab pays for what it uses,
    but never less than ``top_share`` of the contracted capacity."""
    # min/max written as conditionals: this runs for every delivering contract every month
    used = 0.0 if used_gw < 0.0 else used_gw
    used = contracted_gw if contracted_gw < used else used
    floor = top_share * contracted_gw
    return price_per_gw_month * (floor if floor > used else used)


def capitalised_principal(debt_busd: float, rate_annual: float, months: int) -> float:
    """A construction loan sized to pay its own interest until the build is done (capitalised interest, part
    of a project's budget in project finance): principal P such that ``debt_busd`` is left for the build
    after ``months`` of simple interest on P, P = D + P * rate * months / 12. The interest share is capped
    at half the loan."""
    return debt_busd / (1.0 - min(max(rate_annual, 0.0) * max(months, 0) / 12.0, 0.5))


def project_bill_split(bill_busd: float, debt_share: float, fund_busd: float) -> tuple[float, float]:
    """(from the sponsor's cash, from the project's construction fund) for one bill of a financed project.

    Pro rata funding: the construction fund (the loan's proceeds, held for the project) pays the loan's
    share of the project's budget (``debt_share``) of every bill while it lasts, the sponsor the rest and
    any overrun beyond the budget. A project without a loan has a share of zero, so its sponsor pays
    everything."""
    # min/max written as conditionals (the same values): this runs for every bill of every project every month
    from_fund = bill_busd * debt_share
    if fund_busd < from_fund:
        from_fund = fund_busd if fund_busd > 0.0 else 0.0
    return bill_busd - from_fund, from_fund


def bills_covered(cash_needs: list[float], cash_busd: float) -> list[bool]:
    """Which of a sponsor's construction bills (the cash part of each, $B, in filing order) its cash
    covers this month: a bill needing no cash (its construction fund pays it all) always is; those
    needing cash are, in filing order, while the cash lasts, and the first it does not cover stops the
    rest (a builder finishes its earliest projects first, and a contractor bills only work it does).

    >>> bills_covered([1.0, 0.0, 2.0, 0.5], 1.5)
    [True, True, False, False]
    """
    left = cash_busd if cash_busd > 0.0 else 0.0
    covered, blocked = [], False
    for need in cash_needs:
        if need <= 1e-12:
            covered.append(True)
        elif blocked or left < need - 1e-9:
            blocked = True
            covered.append(False)
        else:
            left -= need
            covered.append(True)
    return covered


def usd_per_gpu_hour(price_busd_per_egw_month: float, gpus_per_gw: float, efficiency: float = 1.0) -> float:
    """Map a spot price per effective-GW-month to $ per GPU-hour of a chip vintage.

    One GW of vintage with efficiency ``e`` is ``e`` EGW; it holds ``gpus_per_gw`` accelerators
    running 730 hours a month. (Start-vintage chips have e = 1.)
    """
    return price_busd_per_egw_month * efficiency * 1e9 / (gpus_per_gw * HOURS_PER_MONTH)


def months_to_online(status: str, build_left: int, months_since_filing: int, before_build_months: float,
                     build_months: int, chip_wait_months: float = 0.0) -> float:
    """Months until a pipeline project is expected online: the build left once under construction (at
    least a month: a finished shell is waiting for chips), and no sooner than ``chip_wait_months`` when
    its chips are still to come (the chipmaker's delivery lag: a refit's month of installation is shorter
    than the wait for its chips); before construction, what is left of the expected permitting and
    grid-connection time (``before_build_months`` from filing, the regulator's current estimate) plus the
    whole build."""
    if status == "construction":
        return float(max(build_left, 1, chip_wait_months))
    return max(before_build_months - months_since_filing, 0.0) + build_months


def vintage_efficiency(tick: int, generation_months: int, gain_per_generation: float) -> float:
    """Effective compute per GW of chips shipped at ``tick`` (start vintage = 1), stepping each generation."""
    return (1.0 + gain_per_generation) ** (tick // generation_months)


# ----------------------------------------------------------------------------- prices
def offtake_quote(full_cost: float, target_margin: float, expected_spot_ratio: float) -> float:
    """Offtake price per GW-month: full cost x (1 + margin), leaning toward the expected spot market.

    ``expected_spot_ratio`` is the cloud's expected spot price over full cost; the quote moves with
    its square root (bounded to [0.7, 2.0]), so scarcity raises and glut lowers term prices, less than spot.
    """
    lean = math.sqrt(min(max(expected_spot_ratio, 0.49), 4.0))
    return full_cost * (1.0 + target_margin) * lean


def chip_price(list_price: float, backlog_gw: float, output_gw_per_month: float, scarcity_markup: float) -> float:
    """Chipmaker price per GW: list price plus a markup rising with the backlog (a year of output = full markup)."""
    if output_gw_per_month <= 0:
        return list_price * (1.0 + scarcity_markup)
    pressure = min(max(backlog_gw / (12.0 * output_gw_per_month), 0.0), 1.0)
    return list_price * (1.0 + scarcity_markup * pressure)


def cloud_spot_ask(floor: float, expected_price: float, idle_fraction: float, cap: float) -> float:
    """A cloud's ask for idle capacity: its expected price, shaded down the more of its fleet sits idle,
    never below operating cost (the floor) nor above the cap."""
    ask = expected_price * (1.0 - 0.6 * min(max(idle_fraction, 0.0), 1.0))
    return min(max(ask, floor), cap)


def training_spot_bid(shortfall_egw: float, price: float, free_cash_busd: float,
                      budget_share: float) -> tuple[float, float]:
    """A lab's bid for rented training compute: (price, quantity), $B per EGW-month and EGW.

    Training compute earns nothing this month, so it is paid from cash, not revenue: each month the
    lab spends at most ``budget_share`` of its free cash (cash above its liquidity reserve) on it. The
    quantity it bids at ``price`` is ``budget_share x free cash / price``, up to its shortfall; a lab
    with no free cash bids for nothing.
    """
    if shortfall_egw <= 0 or price <= 0 or free_cash_busd <= 0 or budget_share <= 0:
        return price, 0.0
    return price, min(shortfall_egw, budget_share * free_cash_busd / price)


# ----------------------------------------------------------------------------- credit
def default_probability(burden: float, runway_months: float) -> float:
    """Annual default probability from a fixed-charge burden and liquidity.

    ``burden`` = annual fixed obligations (debt service, take-or-pay) / annual revenue or cash flow;
    ``runway_months`` = cash / monthly net burn (large when cash-flow positive). A logistic score:
    burden 1 and 12 months of runway -> ~5%/yr; burden 0.3 and 48 months -> ~0.3%/yr.
    """
    runway = min(max(runway_months, 0.0), 60.0)
    z = -2.2 + 2.0 * (min(burden, 10.0) - 1.0) - 0.06 * (runway - 12.0)
    return 1.0 / (1.0 + math.exp(-z))


def debt_spread(leverage: float, offtaker_pd: float | None, guaranteed_share: float,
                base_spread: float, leverage_spread: float, offtaker_spread: float,
                unrated_spread: float, guarantee_relief: float) -> float:
    """Annual credit spread of a project loan.

    Base spread + a leverage term (debt/assets above 0.3) + the credit of the offtaker behind the
    project (``offtaker_pd`` = its annual default probability; ``None`` = built on spec, priced as
    unrated). A chipmaker guarantee of a share of the loan removes ``guarantee_relief`` of the spread
    on that share.
    """
    s = base_spread + leverage_spread * max(leverage - 0.3, 0.0)
    s += unrated_spread if offtaker_pd is None else offtaker_spread * offtaker_pd
    return s * (1.0 - guarantee_relief * min(max(guaranteed_share, 0.0), 1.0))


def creditor_recoveries(pool_busd: float, claims_busd: list[float]) -> tuple[list[float], float]:
    """What each creditor of a defaulted firm recovers from its remaining cash ``pool_busd``, and what is
    left after every claim (for its shareholders).

    A creditor is owed its claim, not a share of the estate: each recovers its claim in full when the pool
    covers all of them, and the same fraction of its claim, pool / total claims, when it does not
    (pari passu). Recovery = claim x min(1, pool / claims); left = pool - what the claims took."""
    total = sum(claims_busd, 0.0)
    pool = max(pool_busd, 0.0)
    if total <= 0.0:
        return [0.0 for _ in claims_busd], pool
    ratio = min(1.0, pool / total)
    recoveries = [c * ratio for c in claims_busd]
    return recoveries, max(pool - total * ratio, 0.0)


def contract_damages(gw: float, price_busd_per_gw_month: float, take_or_pay_share: float, months_left: float,
                     cap_months: float) -> float:
    """A cloud's claim on a defaulting lab for an offtake contract it can no longer perform, $B: the
    take-or-pay floor (what the lab was bound to pay whatever it used) for the months left, at most
    ``cap_months`` of them (the cloud resells the capacity; rejected-lease damages are capped)."""
    months = min(max(months_left, 0.0), max(cap_months, 0.0))
    return gw * price_busd_per_gw_month * take_or_pay_share * months


def residual_to_stakes(residual_busd: float, stake_shares: list[float]) -> tuple[list[float], float]:
    """Split what is left of a defaulted firm after its creditors among its shareholders: each held stake
    its share of it, the firm's other owners (founders, employees: outside the model) the rest.
    Returns (per stake, to the other owners)."""
    residual = max(residual_busd, 0.0)
    per_stake = [residual * s for s in stake_shares]
    return per_stake, max(residual - sum(per_stake), 0.0)


def equity_valuation(annual_revenue: float, growth: float, sentiment: float, multiple: float) -> float:
    """Pre-money valuation of a lab: revenue x multiple, scaled by sentiment and by growth (capped)."""
    g = min(max(growth, -0.5), 3.0)
    return max(annual_revenue, 0.05) * multiple * (0.2 + sentiment) * (1.0 + 0.5 * g)


def dilute_stakes(held_shares: list[float], pre_money_busd: float, paid_busd: float) -> tuple[list[float], float]:
    """(the held shares after a round, the round's share) when ``paid_busd`` is invested at a pre-money
    valuation ``pre_money_busd``. The new investor buys paid / post-money of the firm, post-money = pre-money
    + paid; new shares are issued, so every earlier holder keeps the same number of shares, now
    pre-money / post-money of what it held. Shares that added up to at most 1 still do."""
    post = pre_money_busd + paid_busd
    if post <= 0.0:
        return list(held_shares), 0.0
    keep = pre_money_busd / post
    return [s * keep for s in held_shares], paid_busd / post


def update_sentiment(sentiment: float, revenue_growth: float, price_ratio: float, default_losses_busd: float,
                     speed: float, default_hit: float) -> float:
    """Pro-cyclical market sentiment in [0, 1]: moves toward a signal from revenue growth and
    price/full-cost, and drops with default losses (per $100B lost, ``default_hit``)."""
    signal = 0.5 + 0.25 * math.tanh(revenue_growth) + 0.25 * math.tanh(price_ratio - 1.0)
    s = sentiment + speed * (signal - sentiment) - default_hit * default_losses_busd / 100.0
    return min(max(s, 0.0), 1.0)


# ----------------------------------------------------------------------------- demand and quality
def monthly_rate(annual_growth: float) -> float:
    """Monthly compounding rate equivalent to an annual growth fraction."""
    return (1.0 + annual_growth) ** (1.0 / 12.0) - 1.0


def logistic_step(demand: float, monthly_growth: float, ceiling: float) -> float:
    """One month of S-curve adoption: growth slows as demand approaches the ceiling."""
    return max(demand + monthly_growth * demand * (1.0 - demand / ceiling), 1e-6)


def demand_shares(weights: np.ndarray, quality: np.ndarray, beta: float) -> np.ndarray:
    """Demand shares of labs: user-base weight x quality^beta, normalised."""
    w = weights * np.power(quality, beta)
    total = w.sum()
    return w / total if total > 0 else w


def quality_gain(train_egw: float, quality_scale: float, training_efficiency: float, stall: float) -> float:
    """Monthly gain in capability from training compute, with diminishing (log) returns;
    ``stall`` in [0, 1] removes that share of the returns (a progress stall)."""
    if train_egw <= 0:
        return 0.0
    return training_efficiency * math.log1p(train_egw / quality_scale) * (1.0 - stall)


def hhi(shares: np.ndarray) -> float:
    """Herfindahl-Hirschman index of shares (0-1 scale)."""
    s = np.asarray(shares, dtype=float)
    tot = s.sum()
    return float(np.square(s / tot).sum()) if tot > 0 else 0.0
