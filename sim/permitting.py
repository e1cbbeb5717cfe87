"""Permitting and grid interconnection: the project life cycle before construction.

announced -> permitting (review queue, approval, litigation) -> interconnection (grid queue)
-> construction (needs financing and chips; handled by the model) -> operational -> retired.

:func:`process_jurisdiction` is the regulator's month over its projects; it returns the
events it produced so it can be tested on a hand-made queue without a model.
"""

from __future__ import annotations

from typing import Callable, Final, TYPE_CHECKING

import numpy as np

from sim.ledger import Book, Project

if TYPE_CHECKING:
    from agents.regulator import Regulator


def process_jurisdiction(reg: Regulator, projects: list[Project], book: Book, tick: int, rng: np.random.Generator,
                         incumbent: Callable[[str], bool], dc_load_gw: float) -> list[tuple[str, Project | None, str]]:
    """Advance one regulator's projects by a month.

    * Moratorium: while data centres' load share exceeds the threshold, each month there is a
      chance of a moratorium during which no permit is granted.
    * Review: projects whose review time has elapsed are decided first-come first-served up to the
      monthly throughput; approved ones may be litigated (delayed, sometimes killed).
    * Interconnection: approved projects get grid capacity FIFO, the yearly grid capacity accruing
      monthly (banked up to a year), once the minimum interconnection time has passed.
    Returns events as (kind, project, detail), the project None for a moratorium.
    """
    p = reg.p
    events: list[tuple[str, Project | None, str]] = []
    reg.pressure = dc_load_gw / p.base_load_gw
    if (not reg.in_moratorium(tick) and reg.pressure > p.moratorium_load_share and p.moratorium_months > 0
            and rng.random() < p.moratorium_prob):
        reg.moratorium_until = tick + p.moratorium_months
        events.append(("moratorium", None, f"{reg.uid} for {p.moratorium_months} months at load share {reg.pressure:.2f}"))

    # announced projects join the queue; those whose review time has elapsed are due for a decision
    due: list[Project] = []
    for pr in projects:
        if pr.status == "announced":
            book.move(pr, "permitting")
            pr.stage_due = tick + int(round(reg.review_months(incumbent(pr.cloud))))
        if pr.status == "permitting" and pr.stage_due <= tick:
            due.append(pr)

    if not reg.in_moratorium(tick):
        budget = reg.throughput_gw_per_month
        for pr in due:   # list order = filing order (FIFO)
            if budget <= 0:
                break
            budget -= pr.gw
            if rng.random() >= reg.approval_prob:
                book.move(pr, "killed")
                events.append(("permit_denied", pr, reg.uid))
                continue
            if not pr.litigated and rng.random() < reg.litigation_prob:
                pr.litigated = True
                if rng.random() < reg.litigation_kill_prob:
                    book.move(pr, "killed")
                    events.append(("litigation_killed", pr, reg.uid))
                    continue
                pr.stage_due = tick + int(round(rng.exponential(reg.litigation_delay_months)))
                events.append(("litigation_delay", pr, reg.uid))
                continue
            book.move(pr, "interconnection")
            pr.stage_due = tick + int(round(reg.interconnection_base_months))
            events.append(("permit_approved", pr, reg.uid))

    # grid capacity accrues monthly (banked up to a year) and is granted first-come first-served
    reg.grid_credit_gw = min(reg.grid_credit_gw + reg.grid_gw_per_month, max(reg.grid_gw_per_year, 0.0))
    for pr in projects:
        if pr.status != "interconnection" or pr.stage_due > tick:
            continue
        if reg.grid_credit_gw < pr.gw:
            break
        reg.grid_credit_gw -= pr.gw
        book.move(pr, "construction")
        events.append(("interconnection_granted", pr, reg.uid))
    return events


MAX_QUOTE_MONTHS: Final = 120.0   # a date further out than ten years is no date (a jurisdiction without grid capacity)


def expected_months_to_power(review_months: float, permit_queue_gw: float, throughput_gw_per_month: float,
                             litigation_prob: float, litigation_kill_prob: float, litigation_delay_months: float,
                             interconnection_months: float, grid_queue_gw: float, grid_credit_gw: float,
                             grid_gw_per_month: float) -> float:
    """Months a project filed today should expect before it can start construction, the part of a
    delivery date that the regulator and the grid decide. Two bottlenecks, whichever binds:

    * its own path: the review, the wait behind the GW already in the review queue, the expected
      litigation delay (chance of a suit that does not kill it x the mean delay) and the minimum
      interconnection time;
    * the grid: it is connected only after every GW ahead of it, those awaiting connection and those
      in review that will join first, less the connection capacity already banked, at this
      jurisdiction's connection rate.

    Both are expectations from today's queues, as a developer reads a grid operator's queue report;
    the realised path is random (litigation, moratoria) and the queues move."""
    own = (review_months + permit_queue_gw / throughput_gw_per_month
           + litigation_prob * (1.0 - litigation_kill_prob) * litigation_delay_months + interconnection_months)
    if grid_gw_per_month <= 0.0:
        return MAX_QUOTE_MONTHS
    grid = max(grid_queue_gw + permit_queue_gw - grid_credit_gw, 0.0) / grid_gw_per_month
    return min(max(own, grid), MAX_QUOTE_MONTHS)
