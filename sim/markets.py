"""Clearing rules of the markets, as plain functions over order arrays.

* :func:`clear_spot` - the monthly spot market for idle compute (uniform price).
* :func:`award_offtake` - labs' offtake requests against clouds' bids.
* :func:`allocate_chips` - the chipmaker's scarce output among orders.

Their cost grows about linearly with the number of orders (no loop over pairs): the spot book is
sorted once and walked once, the offtake award walks each request over the clouds once per piece
(plain Python: a month has a handful of each), and the chip rule is vectorised with numpy. All are
unit-tested on hand-made books (tests/test_markets.py).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(slots=True, init=False)
class SpotResult:
    """A month's spot clearing (not changed once made; ``__init__`` written out, as sim.ledger.Record's,
    so the compiled build makes one natively)."""

    price: float            # uniform clearing price, $B per EGW-month
    sold: list[float]       # quantity sold by each seller (input order), EGW
    bought: list[float]     # quantity bought by each buyer (input order), EGW
    traded: float           # total quantity traded, EGW
    unmet: float            # bid quantity not filled, EGW

    def __init__(self, price: float, sold: list[float], bought: list[float], traded: float, unmet: float) -> None:
        self.price = price
        self.sold = sold
        self.bought = bought
        self.traded = traded
        self.unmet = unmet


def clear_spot(ask_price: Sequence[float], ask_qty: Sequence[float], bid_price: Sequence[float],
               bid_qty: Sequence[float], floor: float, cap: float, tiebreak_asks: Sequence[float] | None = None,
               tiebreak_bids: Sequence[float] | None = None) -> SpotResult:
    """Uniform-price double auction of idle compute.

    Asks are filled cheapest first, bids highest first, while the bid covers the ask. The price is the
    lowest market-clearing one: the larger of the last accepted ask and the first rejected bid (an
    unfilled buyer would outbid it), clipped to [floor, cap]. With no bids the price falls to the floor
    (a glut); with no asks it is the highest bid (scarcity); with no crossing it is the lowest ask.
    Ties in price are broken by ``tiebreak_*`` (lowest first).

    One sort of each side and a single merge walk down the two step curves: O(n log n) in the number
    of orders. (A month's book has tens of orders; at that size a plain walk is several times faster
    than array operations. tests/test_markets.py checks it against a vectorised breakpoint version.)
    """
    ap, aq, bp, bq = list(map(float, ask_price)), list(map(float, ask_qty)), list(map(float, bid_price)), list(map(float, bid_qty))
    na, nb = len(aq), len(bq)
    sold, bought = [0.0] * na, [0.0] * nb
    ta = [0.0] * na if tiebreak_asks is None else list(map(float, tiebreak_asks))
    tb = [0.0] * nb if tiebreak_bids is None else list(map(float, tiebreak_bids))
    # sort (price, tiebreak, input position): orders equal in both keep their input order
    ia = [i for _, _, i in sorted([(ap[i], ta[i], i) for i in range(na) if aq[i] > 1e-12])]
    ib = [i for _, _, i in sorted([(-bp[i], tb[i], i) for i in range(nb) if bq[i] > 1e-12])]
    total_bid = sum([bq[i] for i in ib], 0.0)
    if not ib:
        return SpotResult(floor, sold, bought, 0.0, 0.0)
    if not ia:
        return SpotResult(min(max(max(bp[i] for i in ib), floor), cap), sold, bought, 0.0,
                          total_bid)
    ca, acc = [], 0.0          # cumulative quantities along each curve
    for i in ia:
        acc += aq[i]
        ca.append(acc)
    cb, acc = [], 0.0
    for i in ib:
        acc += bq[i]
        cb.append(acc)
    # walk the segments between breakpoints of the two curves while the bid covers the ask
    # (two-way minima and maxima below are written as conditionals: builtin min/max cost ~5x more)
    x = y = 0
    q_star, last_ask = 0.0, None
    while x < len(ia) and y < len(ib) and bp[ib[y]] >= ap[ia[x]]:
        qa, qb = ca[x], cb[y]
        q_star = qb if qb < qa else qa
        last_ask = ap[ia[x]]
        if qa <= q_star + 1e-12:   # breakpoints within rounding of each other are one
            x += 1
        if qb <= q_star + 1e-12:
            y += 1
    if last_ask is None:
        return SpotResult(min(max(ap[ia[0]], floor), cap), sold, bought, 0.0, total_bid)
    k = bisect_left(cb, q_star + 1e-12)   # first buyer step not fully served
    first_rejected_bid = bp[ib[k]] if k < len(ib) else -math.inf
    price = min(max(max(last_ask, first_rejected_bid), floor), cap)
    # each order fills what of it lies below q_star on its curve: clip(q_star - (cum - own), 0, own)
    for i, c in zip(ia, ca):
        q, filled = aq[i], q_star - (c - aq[i])
        filled = 0.0 if 0.0 > filled else filled
        sold[i] = q if q < filled else filled
    for i, c in zip(ib, cb):
        q, filled = bq[i], q_star - (c - bq[i])
        filled = 0.0 if 0.0 > filled else filled
        bought[i] = q if q < filled else filled
    return SpotResult(price, sold, bought, q_star, max(total_bid - q_star, 0.0))


def award_offtake(req_gw: Sequence[float], bid_price: Sequence[Sequence[float]], bid_delay: Sequence[Sequence[float]],
                  cloud_pd: Sequence[float], cloud_room_gw: Sequence[float], delay_cost_per_month: float = 0.02,
                  reliability_weight: float = 5.0, min_piece_gw: float = 0.05) -> list[tuple[int, int, float]]:
    """Award each request to the clouds with the lowest effective cost, splitting it when the best
    cloud has too little room.

    ``bid_price``/``bid_delay`` are (requests x clouds) matrices (NaN = no bid); the effective cost is
    price x (1 + delay_cost x months of delay) x (1 + reliability_weight x default probability).
    Requests are served largest first; each takes as much as the cheapest cloud with room can hold, then
    the rest from the next cheapest, and so on (labs spread large procurements over several providers:
    OpenAI contracted Microsoft, Oracle, CoreWeave, AWS and Google [cal: OpenAI commitments]). A piece
    smaller than ``min_piece_gw`` is not contracted; a cloud's room shrinks as it wins. Returns the
    awards as (request index, cloud index, GW), in award order; what is not listed went unfilled.

    Plain Python over lists: a month has a handful of requests and clouds, too few for numpy to pay.
    Ties in cost go to the first cloud.
    """
    req, prices, delays = _as_list(req_gw), _as_list(bid_price), _as_list(bid_delay)
    reliability = [1.0 + reliability_weight * pd for pd in _as_list(cloud_pd)]
    room = [float(x) for x in _as_list(cloud_room_gw)]
    awards: list[tuple[int, int, float]] = []
    for r in sorted(range(len(req)), key=lambda i: -req[i]):   # largest first (stable among equals)
        score = [p * (1.0 + delay_cost_per_month * d) * rel for p, d, rel in zip(prices[r], delays[r], reliability)]
        left = float(req[r])
        while left >= min_piece_gw - 1e-12:
            too_small = min(min_piece_gw, left) - 1e-12   # a cloud with less room than this cannot bid
            best, c = math.inf, -1
            for j, sc in enumerate(score):
                if sc < best and not room[j] < too_small:   # a NaN (no bid) is never below
                    best, c = sc, j
            if not math.isfinite(best):   # no cloud with room bids
                break
            gw = min(left, room[c])
            awards.append((r, c, gw))
            room[c] -= gw
            left -= gw
    return awards


def _as_list(a):
    """Plain Python floats from a numpy array; lists pass through."""
    return a.tolist() if isinstance(a, np.ndarray) else a


def allocate_chips(orders_gw: np.ndarray, supply_gw: float, priority: np.ndarray | None = None,
                   policy: str = "pro_rata") -> np.ndarray:
    """Share one month's chip output among open orders.

    ``pro_rata``: every order gets the same fraction when supply is short. ``priority``: orders flagged
    in ``priority`` (strategic partners) are served first, pro rata among themselves, then the rest.
    """
    orders = np.asarray(orders_gw, float)
    total = orders.sum()
    if total <= supply_gw or total <= 0:
        return orders.copy()
    if policy == "priority" and priority is not None and priority.any():
        prio = np.asarray(priority, bool)
        first = allocate_chips(np.where(prio, orders, 0.0), supply_gw)
        rest = allocate_chips(np.where(prio, 0.0, orders), max(supply_gw - first.sum(), 0.0))
        return first + rest
    return orders * (supply_gw / total)
