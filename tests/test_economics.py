"""Pure economics: answers worked out by hand."""

import math

import numpy as np
import pytest

from sim import economics as E
from sim.economics import annuity_factor, operating_value


def test_take_or_pay_when_lab_uses_40_percent():
    # 1 GW contracted at $1.2B per GW-month, take-or-pay 80%: the lab uses 0.4 GW
    # and pays for max(0.4, 0.8 x 1) = 0.8 GW -> $0.96B.
    assert E.take_or_pay_payment(1.0, 0.4, 1.2, 0.8) == pytest.approx(0.96)
    # using more than the floor pays for use
    assert E.take_or_pay_payment(1.0, 0.9, 1.2, 0.8) == pytest.approx(1.08)
    # use is capped at the contracted capacity
    assert E.take_or_pay_payment(1.0, 1.5, 1.2, 0.8) == pytest.approx(1.2)


def test_annuity_factor_matches_closed_form():
    # 12% a year over 12 months: r = 1%, payment = 0.01 / (1 - 1.01^-12) = 0.0888488
    assert E.annuity_factor(0.12, 12) == pytest.approx(0.0888488, rel=1e-6)
    assert E.annuity_factor(0.0, 10) == pytest.approx(0.1)


def test_full_cost_adds_capital_recovery_and_opex():
    fc = E.full_cost_per_gw_month(20, 12, 18, 0.0, 60, 240, 0.06)
    # zero rate: (20 + 18) / 60 + 12 / 240 + 0.06
    assert fc == pytest.approx(38 / 60 + 12 / 240 + 0.06)


def test_debt_spread_falls_with_better_offtaker_and_with_guarantee():
    kw = dict(base_spread=0.018, leverage_spread=0.06, offtaker_spread=0.05, unrated_spread=0.05, guarantee_relief=0.7)
    weak = E.debt_spread(0.5, 0.20, 0.0, **kw)
    strong = E.debt_spread(0.5, 0.01, 0.0, **kw)
    spec = E.debt_spread(0.5, None, 0.0, **kw)
    guaranteed = E.debt_spread(0.5, 0.20, 0.5, **kw)
    assert strong < weak < spec + 1e-12
    assert guaranteed == pytest.approx(weak * (1 - 0.7 * 0.5))
    # worked: 0.018 + 0.06 * 0.2 + 0.05 * 0.2 = 0.040
    assert weak == pytest.approx(0.040)


def test_usd_per_gpu_hour_mapping():
    # $1.124B per EGW-month, 770k GPUs per GW, 730 h: 1.124e9 / (770e3 * 730) = $2.00 per GPU-hour
    assert E.usd_per_gpu_hour(1.1242, 770_000) == pytest.approx(2.0, rel=1e-3)
    # an older vintage at half the efficiency earns half per GPU-hour at the same EGW price
    assert E.usd_per_gpu_hour(1.1242, 770_000, 0.5) == pytest.approx(1.0, rel=1e-3)


def test_vintage_efficiency_steps_per_generation():
    assert E.vintage_efficiency(0, 24, 0.96) == 1.0
    assert E.vintage_efficiency(23, 24, 0.96) == 1.0
    assert E.vintage_efficiency(24, 24, 0.96) == pytest.approx(1.96)
    assert E.vintage_efficiency(48, 24, 0.96) == pytest.approx(1.96 ** 2)


def test_chip_price_markup_with_backlog():
    assert E.chip_price(20, 0, 1, 0.5) == 20
    assert E.chip_price(20, 6, 1, 0.5) == pytest.approx(25)   # half a year of backlog -> half the markup
    assert E.chip_price(20, 100, 1, 0.5) == pytest.approx(30)


def test_default_probability_monotone():
    assert E.default_probability(2.0, 6) > E.default_probability(1.0, 12) > E.default_probability(0.3, 48)
    assert 0.03 < E.default_probability(1.0, 12) < 0.15


def test_sentiment_is_procyclical_and_bounded():
    up = E.update_sentiment(0.5, 1.0, 1.5, 0.0, 0.2, 0.15)
    down = E.update_sentiment(0.5, -0.5, 0.5, 50.0, 0.2, 0.15)
    assert up > 0.5 > down >= 0.0


def test_demand_logistic_and_shares():
    assert E.logistic_step(10, 0.1, 1e9) == pytest.approx(11.0, rel=1e-6)
    assert E.logistic_step(100, 0.1, 100) == pytest.approx(100)
    s = E.demand_shares(np.array([1.0, 1.0]), np.array([2.0, 1.0]), 1.0)
    assert s == pytest.approx([2 / 3, 1 / 3])
    assert E.hhi(np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_quality_gain_diminishing_and_stalled():
    g1 = E.quality_gain(1.0, 1.0, 0.01, 0.0)
    g2 = E.quality_gain(2.0, 1.0, 0.01, 0.0)
    assert g1 == pytest.approx(0.01 * math.log(2))
    assert g2 < 2 * g1
    assert E.quality_gain(1.0, 1.0, 0.01, 1.0) == 0.0


def test_operating_value_of_capacity():
    # 2 GW of a 1.5x vintage, expected 1.0 $B per EGW-month, opex 0.2 $B per GW-month:
    # margin 1.5 - 0.2 = 1.3 per GW-month; 12 months undiscounted = 2 x 1.3 x 12 = 31.2
    assert operating_value(2.0, 1.5, 1.0, 0.2, 12, 0.0) == pytest.approx(31.2)
    # discounting lowers it: at 12%/yr the 12-month annuity is worth 11.26 months
    assert operating_value(2.0, 1.5, 1.0, 0.2, 12, 0.12) == pytest.approx(2.6 / annuity_factor(0.12, 12))
    assert operating_value(2.0, 1.5, 1.0, 0.2, 12, 0.12) < 31.2
    # below its power bill, or at the end of its life, capacity is worth nothing (not negative)
    assert operating_value(2.0, 1.0, 0.1, 0.2, 12, 0.1) == 0.0
    assert operating_value(2.0, 1.5, 1.0, 0.2, 0, 0.1) == 0.0


def test_training_spot_bid_is_bounded_by_budget_and_shortfall():
    # free cash $20B, 10% a month -> a $2B budget; at $5B per EGW-month it buys 0.4 EGW of a 1 EGW shortfall
    assert E.training_spot_bid(1.0, 5.0, 20.0, 0.1) == pytest.approx((5.0, 0.4))
    # a $50B budget would buy 10 EGW at $5B, but the lab lacks only 1 EGW
    assert E.training_spot_bid(1.0, 5.0, 500.0, 0.1) == pytest.approx((5.0, 1.0))
    # the same budget buys twice as much at half the price: constant spending, not constant quantity
    assert E.training_spot_bid(1.0, 2.5, 20.0, 0.1) == pytest.approx((2.5, 0.8))


def test_training_spot_bid_is_empty_without_free_cash_or_need():
    assert E.training_spot_bid(1.0, 5.0, -3.0, 0.1)[1] == 0.0    # cash below its reserve
    assert E.training_spot_bid(1.0, 5.0, 0.0, 0.1)[1] == 0.0
    assert E.training_spot_bid(0.0, 5.0, 20.0, 0.1)[1] == 0.0    # no training shortfall
    assert E.training_spot_bid(1.0, 5.0, 20.0, 0.0)[1] == 0.0    # the lab never rents training compute


def test_months_to_online_by_pipeline_stage():
    """Under construction: the build left (at least a month); before: the rest of the expected
    pre-construction time, never negative, plus the whole build."""
    assert E.months_to_online("construction", 4, 20, 9.0, 15) == 4.0
    assert E.months_to_online("construction", 0, 20, 9.0, 15) == 1.0
    assert E.months_to_online("permitting", 15, 3, 9.0, 15) == 21.0
    assert E.months_to_online("interconnection", 15, 12, 9.0, 15) == 15.0


def test_capitalised_principal_carries_its_own_interest_during_the_build():
    """10 for the build at 12 % for 5 months: P = 10 + P x 0.05, so P = 10 / 0.95; no build, no
    interest; the interest share is capped at half the loan."""
    assert E.capitalised_principal(10.0, 0.12, 5) == pytest.approx(10.0 / 0.95)
    p = E.capitalised_principal(10.0, 0.12, 5)
    assert p - p * 0.12 * 5 / 12 == pytest.approx(10.0)
    assert E.capitalised_principal(10.0, 0.12, 0) == 10.0
    assert E.capitalised_principal(10.0, 0.5, 24) == pytest.approx(20.0)


def test_project_bill_split_pays_the_loans_share_from_the_fund_while_it_lasts():
    """A bill of 2 on a 60 %-debt project: 1.2 from the fund, 0.8 from the sponsor; with 0.5 left in the
    fund, 0.5 and 1.5; without a loan the sponsor pays it all."""
    assert E.project_bill_split(2.0, 0.6, 10.0) == pytest.approx((0.8, 1.2))
    assert E.project_bill_split(2.0, 0.6, 0.5) == pytest.approx((1.5, 0.5))
    assert E.project_bill_split(2.0, 0.0, 10.0) == (2.0, 0.0)
    cash, fund = E.project_bill_split(3.7, 0.45, 1.0)
    assert cash + fund == pytest.approx(3.7)


def test_bills_covered_in_filing_order_until_the_first_the_cash_does_not_cover():
    # 1.0 is covered (0.5 left); 0.0 needs no cash (its fund pays it all); 2.0 is not, which stops 0.5
    assert E.bills_covered([1.0, 0.0, 2.0, 0.5], 1.5) == [True, True, False, False]
    # a fund-paid bill after the first uncovered one still goes ahead
    assert E.bills_covered([2.0, 0.0], 1.0) == [False, True]
    assert E.bills_covered([0.4, 0.6], 1.0) == [True, True]      # exactly enough
    assert E.bills_covered([0.5], -3.0) == [False]               # overdrawn: nothing needing cash
    assert E.bills_covered([], 5.0) == []


def test_creditor_recoveries_are_capped_at_each_claim_and_pro_rata_only_when_short():
    """A pool of 100 against claims of 10 and 30 pays both in full and leaves 60 (a creditor is owed its
    claim, not a share of the estate); a pool of 20 is short and is shared pro rata: 5 and 15, nothing left."""
    rec, left = E.creditor_recoveries(100.0, [10.0, 30.0])
    assert rec == pytest.approx([10.0, 30.0]) and left == pytest.approx(60.0)
    rec, left = E.creditor_recoveries(20.0, [10.0, 30.0])
    assert rec == pytest.approx([5.0, 15.0]) and left == pytest.approx(0.0)
    assert E.creditor_recoveries(5.0, []) == ([], 5.0)
    assert E.creditor_recoveries(0.0, [1.0, 2.0]) == ([0.0, 0.0], 0.0)
    rec, left = E.creditor_recoveries(40.0, [10.0, 30.0])   # exactly enough
    assert rec == pytest.approx([10.0, 30.0]) and left == pytest.approx(0.0)


def test_a_new_round_dilutes_the_stakes_already_held():
    """Stakes of 20 % and 10 %; a round of 50 at a pre-money valuation of 200 (post-money 250) buys 20 % and
    leaves the earlier holders 200/250 of their shares: 16 % and 8 %. Shares never add up past 1."""
    held, new = E.dilute_stakes([0.2, 0.1], 200.0, 50.0)
    assert held == pytest.approx([0.16, 0.08]) and new == pytest.approx(0.2)
    assert E.dilute_stakes([], 200.0, 50.0) == ([], pytest.approx(0.2))
    shares = []
    for pre, paid in [(10.0, 5.0), (3.0, 30.0), (100.0, 1.0), (1.0, 1.0)]:
        shares, new = E.dilute_stakes(shares, pre, paid)
        shares.append(new)
        assert sum(shares) <= 1.0 + 1e-12


def test_contract_damages_are_the_take_or_pay_floor_of_at_most_the_capped_months():
    # 2 GW at 1.5 $B/GW-month, 80 % take-or-pay: 2.4 a month; 30 months left, capped at 12: 28.8
    assert E.contract_damages(2.0, 1.5, 0.8, 30, 12.0) == pytest.approx(28.8)
    assert E.contract_damages(2.0, 1.5, 0.8, 5, 12.0) == pytest.approx(12.0)    # fewer months left than the cap
    assert E.contract_damages(2.0, 1.5, 0.8, 30, 0.0) == 0.0                    # no claim
    assert E.contract_damages(2.0, 1.5, 0.8, -3, 12.0) == 0.0


def test_residual_to_stakes_by_share_and_the_rest_to_other_owners():
    per, others = E.residual_to_stakes(10.0, [0.25, 0.1])
    assert per == pytest.approx([2.5, 1.0]) and others == pytest.approx(6.5)
    assert E.residual_to_stakes(-1.0, [0.5]) == ([0.0], 0.0)


def test_a_refit_pays_when_the_expected_price_covers_new_chips_networking_and_opex():
    """Chips 20 + networking 5 $B/GW over 60 months at 10 %: 25 x annuity + opex 0.06 per GW-month; the
    shell is sunk. At an efficiency of 2 the expected price per EGW-month must cover half of that."""
    cost = 25.0 * annuity_factor(0.10, 60) + 0.06
    assert E.refit_pays(cost / 2.0 + 1e-9, 2.0, 20.0, 5.0, 0.10, 60, 0.06)
    assert not E.refit_pays(cost / 2.0 - 1e-6, 2.0, 20.0, 5.0, 0.10, 60, 0.06)
    # the shell does not enter: the same decision whatever a new campus would cost
    assert cost < E.full_cost_per_gw_month(20.0, 10.0, 5.0, 0.10, 60, 240, 0.06)
    # a contract at 1.2 per GW-month with 30 months left, the spot worth nothing after: earns 0.6 a month
    assert E.refit_pays(0.0, 2.0, 20.0, 5.0, 0.10, 60, 0.06, 1.2, 30) is (0.6 >= cost)
    assert E.refit_pays(0.0, 2.0, 20.0, 5.0, 0.10, 60, 0.06, 2 * cost, 30)          # exactly covers it
    assert not E.refit_pays(0.0, 2.0, 20.0, 5.0, 0.10, 60, 0.06, 2 * cost, 1)       # a month left: no


def test_a_project_waiting_for_chips_is_due_no_sooner_than_their_delivery():
    assert E.months_to_online("construction", 1, 0, 9.0, 15, chip_wait_months=3) == 3.0
    assert E.months_to_online("construction", 6, 0, 9.0, 15, chip_wait_months=3) == 6.0
    assert E.months_to_online("construction", 0, 0, 9.0, 15) == 1.0
