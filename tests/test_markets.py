"""Clearing rules on hand-made order books."""

import numpy as np
import pytest

from sim.markets import allocate_chips, award_offtake, clear_spot


def test_spot_clears_at_lowest_market_clearing_price():
    # asks: 2 @ 0.5, 2 @ 1.0, 2 @ 2.0 ; bids: 3 @ 1.5, 2 @ 0.8
    # 3 units trade at asks 0.5, 1.0 to the 1.5 bidder; the 0.8 bid cannot cover the 1.0 ask.
    # price = max(last accepted ask 1.0, first rejected bid 0.8) = 1.0
    r = clear_spot([0.5, 1.0, 2.0], [2, 2, 2], [1.5, 0.8], [3, 2], floor=0.1, cap=5.0)
    assert r.traded == pytest.approx(3.0)
    assert r.price == pytest.approx(1.0)
    assert r.sold.tolist() == pytest.approx([2.0, 1.0, 0.0])
    assert r.bought.tolist() == pytest.approx([3.0, 0.0])
    assert r.unmet == pytest.approx(2.0)


def test_spot_scarcity_price_set_by_first_rejected_bid():
    # 1 unit on offer at 0.5; bids 1 @ 3.0, 1 @ 2.0: the 2.0 bidder is rationed out -> price 2.0
    r = clear_spot([0.5], [1.0], [3.0, 2.0], [1.0, 1.0], floor=0.1, cap=5.0)
    assert r.price == pytest.approx(2.0)
    assert r.unmet == pytest.approx(1.0)


def test_spot_glut_falls_to_marginal_ask_and_floor():
    r = clear_spot([0.05, 0.3], [10.0, 10.0], [1.0], [2.0], floor=0.1, cap=5.0)
    assert r.price == pytest.approx(0.1)         # marginal ask 0.05 clipped to the floor
    r = clear_spot([0.3], [10.0], [], [], floor=0.1, cap=5.0)
    assert r.price == 0.1 and r.traded == 0.0


def test_spot_cap_and_no_supply():
    r = clear_spot([], [], [9.0], [1.0], floor=0.1, cap=4.5)
    assert r.price == 4.5 and r.unmet == 1.0


def test_offtake_award_cost_and_reliability():
    # one request of 1 GW, two clouds: A cheaper but risky, B dearer but safe
    price = np.array([[1.0, 1.1]])
    delay = np.zeros((1, 2))
    w = award_offtake(np.array([1.0]), price, delay, np.array([0.10, 0.0]), np.array([5.0, 5.0]))
    assert w == [(0, 1, 1.0)]     # 1.0 * 1.5 > 1.1 * 1.0
    w = award_offtake(np.array([1.0]), price, delay, np.array([0.0, 0.0]), np.array([5.0, 5.0]))
    assert w == [(0, 0, 1.0)]


def test_offtake_award_splits_a_request_the_best_cloud_cannot_hold():
    # 2 GW; the cheaper cloud 0 has room for 1: it takes 1, the dearer cloud 1 the other 1
    w = award_offtake(np.array([2.0]), np.array([[1.0, 1.2]]), np.zeros((1, 2)), np.zeros(2), np.array([1.0, 5.0]))
    assert w == [(0, 0, 1.0), (0, 1, 1.0)]
    # largest request first: 3 GW takes cloud 0's 2 GW and 1 of cloud 1's 1.5; the 1 GW request gets
    # the last 0.5; a remainder below the minimum piece (0.04 < 0.05) is not contracted
    w = award_offtake(np.array([1.0, 3.0]), np.array([[1.0, 1.2], [1.0, 1.2]]), np.zeros((2, 2)), np.zeros(2),
                      np.array([2.0, 1.5]))
    assert w == [(1, 0, 2.0), (1, 1, 1.0), (0, 1, 0.5)]
    w = award_offtake(np.array([1.04]), np.array([[1.0, np.nan]]), np.zeros((1, 2)), np.zeros(2), np.array([1.0, 5.0]))
    assert w == [(0, 0, 1.0)]


def test_chip_allocation_pro_rata_and_priority():
    assert allocate_chips(np.array([2.0, 2.0]), 5.0).tolist() == [2.0, 2.0]
    assert allocate_chips(np.array([3.0, 1.0]), 2.0).tolist() == pytest.approx([1.5, 0.5])
    got = allocate_chips(np.array([3.0, 1.0]), 2.0, np.array([False, True]), "priority")
    assert got.tolist() == pytest.approx([1.0, 1.0])
