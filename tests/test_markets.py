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
    assert r.sold == pytest.approx([2.0, 1.0, 0.0])
    assert r.bought == pytest.approx([3.0, 0.0])
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


def clear_spot_breakpoints(ask_price, ask_qty, bid_price, bid_qty, floor, cap, ta, tb):
    """Reference: the same auction computed over all breakpoints of the two step curves at once."""
    ask_price, ask_qty, bid_price, bid_qty = (np.asarray(x, float) for x in (ask_price, ask_qty, bid_price, bid_qty))
    ta, tb = np.asarray(ta, float), np.asarray(tb, float)
    sold, bought = np.zeros(len(ask_qty)), np.zeros(len(bid_qty))
    a_ok, b_ok = ask_qty > 1e-12, bid_qty > 1e-12
    if not b_ok.any():
        return floor, sold, bought, 0.0
    if not a_ok.any():
        return min(max(float(bid_price[b_ok].max()), floor), cap), sold, bought, 0.0
    ia, ib = np.flatnonzero(a_ok), np.flatnonzero(b_ok)
    ia = ia[np.lexsort((ta[ia], ask_price[ia]))]
    ib = ib[np.lexsort((tb[ib], -bid_price[ib]))]
    pa, qa, pb, qb = ask_price[ia], ask_qty[ia], bid_price[ib], bid_qty[ib]
    ca, cb = np.cumsum(qa), np.cumsum(qb)
    top = min(ca[-1], cb[-1])
    qs = np.unique(np.concatenate(([0.0], ca, cb)))
    qs = np.append(qs[qs < top], top)
    mids = 0.5 * (qs[:-1] + qs[1:])
    seg_a = np.minimum(np.searchsorted(ca, mids), len(ca) - 1)
    seg_b = np.minimum(np.searchsorted(cb, mids), len(cb) - 1)
    trades = pb[seg_b] >= pa[seg_a]
    if not trades.any():
        return min(max(float(pa[0]), floor), cap), sold, bought, 0.0
    k = int(np.flatnonzero(trades)[-1])
    q_star = float(qs[k + 1])
    nb = int(np.searchsorted(cb, q_star + 1e-12))
    first_rejected = float(pb[nb]) if nb < len(pb) else -np.inf
    price = min(max(max(float(pa[seg_a[k]]), first_rejected), floor), cap)
    sold[ia] = np.clip(q_star - (ca - qa), 0.0, qa)
    bought[ib] = np.clip(q_star - (cb - qb), 0.0, qb)
    return price, sold, bought, q_star


def test_spot_breakpoints_equal_up_to_rounding_are_one():
    # 0.3 + 0.6 + 3.0 = 3.9 on the ask side, 1.5 + 1.6 + 0.2 + 0.2 + 0.4 = 3.9000000000000004 on the bid
    # side: the curves break together at 3.9, where the next ask (1.5) is above the next bid (1.0).
    # A 4e-16 "segment" must not let the 1.5 ask set the price.
    r = clear_spot([0.5, 1.0, 1.0, 1.5], [0.3, 0.6, 3.0, 1.0], [2.5, 2.5, 2.0, 1.5, 1.5, 1.0],
                   [0.2, 0.4, 1.5, 0.2, 1.6, 1.5], floor=0.1, cap=5.0, tiebreak_asks=[0, 1, 2, 3],
                   tiebreak_bids=[0, 1, 2, 3, 4, 5])
    assert r.traded == pytest.approx(3.9)
    assert r.price == 1.0
    assert r.sold[3] == 0.0


@pytest.mark.parametrize("seed", range(300))
def test_spot_walk_agrees_with_breakpoint_reference(seed):
    rng = np.random.default_rng(seed)
    na, nb = rng.integers(0, 12, size=2)
    # coarse prices make ties common; quarter quantities (exact in binary, so the breakpoint reference
    # has no rounding slivers) with some zeros
    ap, bp = rng.integers(1, 6, na) / 2.0, rng.integers(1, 6, nb) / 2.0
    aq, bq = rng.integers(0, 12, na) / 4.0, rng.integers(0, 12, nb) / 4.0
    ta, tb = rng.random(na), rng.random(nb)
    r = clear_spot(ap, aq, bp, bq, 0.6, 2.2, tiebreak_asks=ta, tiebreak_bids=tb)
    price, sold, bought, traded = clear_spot_breakpoints(ap, aq, bp, bq, 0.6, 2.2, ta, tb)
    assert r.price == pytest.approx(price)
    assert r.traded == pytest.approx(traded)
    assert r.sold == pytest.approx(sold)
    assert r.bought == pytest.approx(bought)
    assert sum(r.sold) == pytest.approx(r.traded) and sum(r.bought) == pytest.approx(r.traded)


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
