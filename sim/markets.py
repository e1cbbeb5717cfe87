"""Clearing rules of the markets, as plain functions over order arrays.

* :func:`clear_spot` - the monthly spot market for idle compute (uniform price).
* :func:`award_offtake` - labs' offtake requests against clouds' bids.
* :func:`allocate_chips` - the chipmaker's scarce output among orders.

All are vectorised with numpy so cost grows about linearly with the number of
orders; all are unit-tested on hand-made books (tests/test_markets.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SpotResult:
    price: float            # uniform clearing price, $B per EGW-month
    sold: np.ndarray        # quantity sold by each seller (input order), EGW
    bought: np.ndarray      # quantity bought by each buyer (input order), EGW
    traded: float           # total quantity traded, EGW
    unmet: float            # bid quantity not filled, EGW


def clear_spot(ask_price: np.ndarray, ask_qty: np.ndarray, bid_price: np.ndarray, bid_qty: np.ndarray,
               floor: float, cap: float, tiebreak_asks: np.ndarray | None = None,
               tiebreak_bids: np.ndarray | None = None) -> SpotResult:
    """Uniform-price double auction of idle compute.

    Asks are filled cheapest first, bids highest first, while the bid covers the ask. The price is the
    lowest market-clearing one: the larger of the last accepted ask and the first rejected bid (an
    unfilled buyer would outbid it), clipped to [floor, cap]. With no bids the price falls to the floor
    (a glut); with no asks it is the highest bid (scarcity); with no crossing it is the lowest ask.
    """
    ask_price = np.asarray(ask_price, float)
    ask_qty = np.asarray(ask_qty, float)
    bid_price = np.asarray(bid_price, float)
    bid_qty = np.asarray(bid_qty, float)
    sold = np.zeros(len(ask_qty))
    bought = np.zeros(len(bid_qty))
    a_ok = ask_qty > 1e-12
    b_ok = bid_qty > 1e-12
    total_bid = float(bid_qty[b_ok].sum())
    if not b_ok.any():
        return SpotResult(floor, sold, bought, 0.0, 0.0)
    if not a_ok.any():
        return SpotResult(min(max(float(bid_price[b_ok].max()), floor), cap), sold, bought, 0.0, total_bid)

    ta = np.zeros(len(ask_qty)) if tiebreak_asks is None else np.asarray(tiebreak_asks, float)
    tb = np.zeros(len(bid_qty)) if tiebreak_bids is None else np.asarray(tiebreak_bids, float)
    ia = np.flatnonzero(a_ok)
    ib = np.flatnonzero(b_ok)
    ia = ia[np.lexsort((ta[ia], ask_price[ia]))]
    ib = ib[np.lexsort((tb[ib], -bid_price[ib]))]
    pa, qa = ask_price[ia], ask_qty[ia]
    pb, qb = bid_price[ib], bid_qty[ib]
    ca, cb = np.cumsum(qa), np.cumsum(qb)

    # Breakpoints of the two step curves; a segment (lo, hi] trades if its bid covers its ask.
    top = min(ca[-1], cb[-1])
    qs = np.unique(np.concatenate(([0.0], ca, cb)))
    qs = np.append(qs[qs < top], top)
    mids = 0.5 * (qs[:-1] + qs[1:])
    seg_a = np.minimum(np.searchsorted(ca, mids), len(ca) - 1)
    seg_b = np.minimum(np.searchsorted(cb, mids), len(cb) - 1)
    trades = pb[seg_b] >= pa[seg_a]
    if not trades.any():
        return SpotResult(min(max(float(pa[0]), floor), cap), sold, bought, 0.0, total_bid)
    k = int(np.flatnonzero(trades)[-1])   # segments are monotone: the last trading one
    q_star = float(qs[k + 1])
    last_ask = float(pa[seg_a[k]])
    nb = int(np.searchsorted(cb, q_star + 1e-12))  # first buyer step not fully served
    first_rejected_bid = float(pb[nb]) if nb < len(pb) else -np.inf
    price = min(max(max(last_ask, first_rejected_bid), floor), cap)

    sold[ia] = np.clip(q_star - (ca - qa), 0.0, qa)
    bought[ib] = np.clip(q_star - (cb - qb), 0.0, qb)
    return SpotResult(price, sold, bought, q_star, max(total_bid - q_star, 0.0))


def award_offtake(req_gw: np.ndarray, bid_price: np.ndarray, bid_delay: np.ndarray, cloud_pd: np.ndarray,
                  cloud_room_gw: np.ndarray, delay_cost_per_month: float = 0.02,
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
    """
    n_req, n_cl = bid_price.shape
    score = bid_price * (1.0 + delay_cost_per_month * bid_delay) * (1.0 + reliability_weight * cloud_pd)[None, :]
    room = np.asarray(cloud_room_gw, float).copy()
    awards: list[tuple[int, int, float]] = []
    for r in np.argsort(-req_gw, kind="stable"):
        left = float(req_gw[r])
        while left >= min_piece_gw - 1e-12:
            s = np.where(np.isnan(score[r]) | (room < min(min_piece_gw, left) - 1e-12), np.inf, score[r])
            c = int(np.argmin(s))
            if not np.isfinite(s[c]):
                break
            gw = min(left, float(room[c]))
            awards.append((int(r), c, gw))
            room[c] -= gw
            left -= gw
    return awards


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
