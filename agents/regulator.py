"""Regulators and grid operators of one jurisdiction: permits, litigation, interconnection, moratoria."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.config import Regulator as RegParams
from sim.permitting import expected_months_to_power

if TYPE_CHECKING:
    from sim.model import ComputeMarketModel


class Regulator(mesa.Agent):
    """Decides how fast announced gigawatts become real ones in its jurisdiction.

    Each month it reviews permits first-come first-served up to its throughput (incumbents with
    existing sites on a faster track), approves with some probability, lets litigation delay or kill
    approved projects, grants grid interconnection up to its yearly capacity, and may impose a
    moratorium while data centres' share of load is high.
    """

    kind = "regulator"
    __deletable__ = ["world"]   # as a firm's (agents/base.py)

    def __init__(self, model: ComputeMarketModel, uid: str, p: RegParams):
        super().__init__(model)
        self.world = model   # Mesa's ``model``, typed (as for a firm, agents/base.py)
        self.uid = uid
        self.p = p
        self.moratorium_until = -1
        self.pressure = 0.0
        # what its monthly decisions read, typed copies of the scenario's (pydantic) values, computed as the
        # methods below did each time (the same numbers): a read of a pydantic attribute goes through its
        # ``__getattr__`` hook, ~400 instructions, a native one a few (as agents.cloud.Cloud's copies)
        delay = model.cfg.scale.permit_delay
        self.review_base_months: float = p.review_months * delay
        self.incumbent_fast_track: float = p.incumbent_fast_track
        self.interconnection_base_months: float = p.interconnection_months * delay
        self.throughput_gw_per_month: float = p.throughput_gw_per_month
        self.approval_prob: float = p.approval_prob
        self.litigation_prob: float = p.litigation_prob
        self.litigation_kill_prob: float = p.litigation_kill_prob
        self.litigation_delay_months: float = p.litigation_delay_months
        self.grid_gw_per_year: float = p.grid_gw_per_year
        self.grid_gw_per_month: float = p.grid_gw_per_year / 12.0
        self.grid_credit_gw = self.grid_gw_per_month   # connection capacity banked: a month's at the start
        # cached GW awaiting review and awaiting grid connection; None when a project of it moved in or out
        self._queues_gw: tuple[float, float] | None = None

    def review_months(self, incumbent: bool) -> float:
        """Months of permit review a project filed now needs (scaled by ``scale.permit_delay``; an
        incumbent's on the fast track)."""
        return self.review_base_months * (self.incumbent_fast_track if incumbent else 1.0)

    def interconnection_months(self) -> float:
        """Minimum months from an approval to energisation (scaled by ``scale.permit_delay``)."""
        return self.interconnection_base_months

    def in_moratorium(self, tick: int) -> bool:
        return tick < self.moratorium_until

    def queues_gw(self) -> tuple[float, float]:
        """GW of projects in its permitting queue and GW approved and waiting for grid connection (cached until
        a project of it enters or leaves either stage)."""
        q = self._queues_gw
        if q is None or self.world.verify_caches:
            permit = grid = 0.0
            for pr in self.world.projects:
                if pr.regulator == self.uid:
                    if pr.status == "permitting":
                        permit += pr.gw
                    elif pr.status == "interconnection":
                        grid += pr.gw
            fresh = (permit, grid)
            if q is not None and any(abs(f - c) > 1e-9 * max(1.0, f) for f, c in zip(fresh, q)):
                raise AssertionError(f"stale queues of {self.uid}: {q} != {fresh}")
            q = self._queues_gw = fresh
        return q

    def expected_delay_months(self, incumbent: bool) -> float:
        """Months a project filed now should expect before construction can start: permitting, litigation
        and the grid queue (``permitting.expected_months_to_power``)."""
        permit, grid = self.queues_gw()
        return expected_months_to_power(self.review_months(incumbent), permit, self.throughput_gw_per_month,
                                        self.litigation_prob, self.litigation_kill_prob, self.litigation_delay_months,
                                        self.interconnection_base_months, grid, self.grid_credit_gw,
                                        self.grid_gw_per_month)
