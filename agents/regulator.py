"""Regulators and grid operators of one jurisdiction: permits, litigation, interconnection, moratoria."""

from __future__ import annotations

import mesa

from sim.config import Regulator as RegParams


class Regulator(mesa.Agent):
    """Decides how fast announced gigawatts become real ones in its jurisdiction.

    Each month it reviews permits first-come first-served up to its throughput (incumbents with
    existing sites on a faster track), approves with some probability, lets litigation delay or kill
    approved projects, grants grid interconnection up to its yearly capacity, and may impose a
    moratorium while data centres' share of load is high.
    """

    kind = "regulator"

    def __init__(self, model: mesa.Model, uid: str, p: RegParams):
        super().__init__(model)
        self.uid = uid
        self.p = p
        self.moratorium_until = -1
        self.pressure = 0.0
        self.grid_credit_gw = p.grid_gw_per_year / 12.0
        self._queue_gw: float | None = None   # cached GW awaiting review; None when a project of it changed

    def review_months(self, incumbent: bool) -> float:
        base = self.p.review_months * self.model.cfg.scale.permit_delay
        return base * (self.p.incumbent_fast_track if incumbent else 1.0)

    def interconnection_months(self) -> float:
        return self.p.interconnection_months * self.model.cfg.scale.permit_delay

    def in_moratorium(self, tick: int) -> bool:
        return tick < self.moratorium_until

    def queue_gw(self) -> float:
        """GW of projects in its permitting queue (cached until one of its projects changes)."""
        q = self._queue_gw
        if q is None or self.model.verify_caches:
            fresh = sum(pr.gw for pr in self.model.projects_in(self.uid, "permitting"))
            if q is not None and abs(fresh - q) > 1e-9 * max(1.0, fresh):
                raise AssertionError(f"stale permitting queue of {self.uid}: {q} != {fresh}")
            q = self._queue_gw = fresh
        return q

    def expected_delay_months(self, incumbent: bool) -> float:
        """Months a new project should expect from filing to energisation, before construction."""
        wait = self.queue_gw() / self.p.throughput_gw_per_month
        return self.review_months(incumbent) + wait + self.interconnection_months()
