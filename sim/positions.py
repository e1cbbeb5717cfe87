"""A cloud's position: the aggregates of its open records that its decisions read many times a month.

Offtake bids, spec builds, project finance and the treasury all ask the same questions of a cloud:
how much capacity has it sold (:func:`open_contract_gw`), how much is in its pipeline, what does that
pipeline still cost, what is under construction (:func:`compute_position`). Answering them by
scanning the book at every call made the month quadratic in the number of records; each is computed
in one pass over the cloud's own contracts or projects, and the model keeps the result until one of
those records changes (``Book.listener`` and ``ComputeMarketModel.touch``). Contracts and projects
are cached apart: projects change every month (construction, chip deliveries), contracts seldom.
``ComputeMarketModel.verify_caches`` makes every cached read check itself against a fresh
computation (used by the invariant tests).

The chip price is not part of the position: chip-dependent quantities are kept in GW of chips still
to buy, priced at the call, so a reprice never invalidates a position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Iterable

from sim.ledger import Contract, Loan, Project

PIPELINE: Final = ("announced", "permitting", "interconnection", "construction")
OPEN_CONTRACT: Final = ("signed", "active")


@dataclass(slots=True, init=False)
class Position:
    """Aggregates of one cloud's pipeline projects (GW and $B). Never changed once made: a cached position
    is shared (``with_free_pipeline`` makes a new one). A class with a written-out ``__init__``, not a
    NamedTuple: the compiled build (sim/native.py) makes one natively instead of running the tuple's
    generated constructor in the interpreter."""

    pipeline_gw: float          # projects announced .. under construction
    free_pipeline_gw: float     # pipeline not yet tied to a contract (built on spec)
    construction_cost_busd: float   # cost basis of projects under construction (an asset)
    shell_left_busd: float      # shell and fit-out the whole pipeline still has to pay for
    chips_left_gw: float        # chips the whole pipeline still has to buy
    fin_shell_left_busd: float  # the same two, financed projects under construction only
    fin_chips_left_gw: float
    fin_shell_3m_busd: float    # construction instalments of financed projects over the next 3 months

    def __init__(self, pipeline_gw: float = 0.0, free_pipeline_gw: float = 0.0, construction_cost_busd: float = 0.0,
                 shell_left_busd: float = 0.0, chips_left_gw: float = 0.0, fin_shell_left_busd: float = 0.0,
                 fin_chips_left_gw: float = 0.0, fin_shell_3m_busd: float = 0.0) -> None:
        self.pipeline_gw = pipeline_gw
        self.free_pipeline_gw = free_pipeline_gw
        self.construction_cost_busd = construction_cost_busd
        self.shell_left_busd = shell_left_busd
        self.chips_left_gw = chips_left_gw
        self.fin_shell_left_busd = fin_shell_left_busd
        self.fin_chips_left_gw = fin_chips_left_gw
        self.fin_shell_3m_busd = fin_shell_3m_busd

    def values(self) -> tuple[float, float, float, float, float, float, float, float]:
        """The eight aggregates, in field order."""
        return (self.pipeline_gw, self.free_pipeline_gw, self.construction_cost_busd, self.shell_left_busd,
                self.chips_left_gw, self.fin_shell_left_busd, self.fin_chips_left_gw, self.fin_shell_3m_busd)

    def with_free_pipeline(self, free_pipeline_gw: float) -> Position:
        """The same position with its free pipeline replaced."""
        return Position(self.pipeline_gw, free_pipeline_gw, self.construction_cost_busd, self.shell_left_busd,
                        self.chips_left_gw, self.fin_shell_left_busd, self.fin_chips_left_gw, self.fin_shell_3m_busd)

    def capex_left(self, chip_price: float) -> float:
        """What the pipeline still has to pay for at ``chip_price`` ($B per GW)."""
        return self.shell_left_busd + self.chips_left_gw * chip_price

    def financed_capex_left(self, chip_price: float) -> float:
        """What financed projects under construction still have to pay for."""
        return self.fin_shell_left_busd + self.fin_chips_left_gw * chip_price


REFIT_MONTHS: Final = 1
"""Months to re-equip a built shell with new chips and networking (a refit, ``Project.refit``)."""


def remaining_shell_and_chips(pr: Project, shell_per_gw: float, build_months: int,
                              refit_per_gw: float = 0.0) -> tuple[float, float]:
    """(shell and fit-out $B, chips GW) a pipeline project still has to pay for; a refit's "shell" is its
    networking and installation, ``refit_per_gw`` over ``REFIT_MONTHS``.

    An unfinanced project has paid nothing yet; a financed one has paid the shell instalments of the
    months it was built and the chips delivered to it."""
    if pr.refit:
        shell_per_gw, build_months = refit_per_gw, REFIT_MONTHS
    shell = pr.gw * shell_per_gw
    if not pr.financed:
        return shell, pr.gw
    return shell * pr.build_left / build_months, max(pr.gw - pr.chips_delivered, 0.0)


def contract_months_left(k: Contract, t: int) -> int:
    """Months of a signed or active contract still to be delivered after month ``t``'s settlement: an
    active one's until its end, a signed one's whole term (it runs from its first delivered month)."""
    return max(k.end - (t + 1), 0) if k.status == "active" else max(k.end - k.start, 0)


def open_contract_gw(contracts: Iterable[Contract]) -> float:
    """GW sold under signed and active offtake contracts."""
    return sum([k.gw for k in contracts if k.status in OPEN_CONTRACT], 0.0)


def compute_position(projects: Iterable[Project], shell_per_gw: float, build_months: int,
                     refit_per_gw: float = 0.0, start: Position | None = None) -> Position:
    """One pass over a cloud's projects. ``shell_per_gw``: shell + other capex, $B per GW, paid over
    ``build_months``; a refit pays only ``refit_per_gw`` (networking and installation), over ``REFIT_MONTHS``.

    With ``start``, the projects are added to that position: a cached position is extended by a newly
    filed project (last in filing order) with exactly the sums a fresh pass would give."""
    if start is None:
        pipe = free = cost = shell_left = chips_left = f_shell = f_chips = f_shell3 = 0.0
    else:
        pipe, free, cost, shell_left, chips_left, f_shell, f_chips, f_shell3 = start.values()
    per_month = shell_per_gw / build_months
    refit_per_month = refit_per_gw / REFIT_MONTHS
    for pr in projects:   # the hottest loop of the model: remaining_shell_and_chips inlined, no calls
        st = pr.status
        if st not in PIPELINE:
            continue
        gw = pr.gw
        pipe += gw
        if not pr.contract:
            free += gw
        refit = pr.refit
        if pr.financed:   # has paid the shell instalments of the months built and the chips delivered
            months_left = pr.build_left
            if refit:
                s = gw * refit_per_gw * months_left / REFIT_MONTHS
            else:
                s = gw * shell_per_gw * months_left / build_months
            c = gw - pr.chips_delivered
            if c < 0.0:
                c = 0.0
            shell_left += s
            chips_left += c
            if st == "construction":
                cost += pr.capex_busd
                f_shell += s
                f_chips += c
                f_shell3 += gw * (refit_per_month if refit else per_month) * (months_left if months_left < 3 else 3)
        else:             # has paid nothing yet
            shell_left += gw * (refit_per_gw if refit else shell_per_gw)
            chips_left += gw
            if st == "construction":
                cost += pr.capex_busd
    return Position(pipe, free, cost, shell_left, chips_left, f_shell, f_chips, f_shell3)


def free_pipeline_gw(projects: Iterable[Project]) -> float:
    """Pipeline GW not tied to a contract: the ``free_pipeline_gw`` of :func:`compute_position`, summed in
    the same order, so it can be refreshed alone when spec projects are tied to a new contract."""
    free = 0.0
    for pr in projects:
        if pr.status in PIPELINE and not pr.contract:
            free += pr.gw
    return free


def outstanding_debt(loans: Iterable[Loan]) -> float:
    """Principal outstanding on a firm's loans, $B."""
    return sum([l.principal for l in loans], 0.0)


def positions_close(a: Position, b: Position, rel: float = 1e-9) -> bool:
    """Equal up to rounding (a cached position against a fresh one)."""
    return all(abs(x - y) <= rel * max(1.0, abs(x), abs(y)) for x, y in zip(a.values(), b.values()))
