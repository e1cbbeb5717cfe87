"""A cloud's position on hand-made records (sim/positions.py)."""

import pytest

from sim.ledger import Contract, Project
from sim.positions import compute_position, free_pipeline_gw, open_contract_gw, remaining_shell_and_chips

SHELL = 12.0     # shell + other capex, $B per GW
BUILD = 10       # build months


def test_position_sums_open_contracts_and_pipeline():
    contracts = [Contract("C1", "active", gw=1.0), Contract("C2", "signed", gw=0.5),
                 Contract("C3", "completed", gw=9.0)]                      # ended: not counted
    projects = [
        Project("P1", "permitting", gw=2.0),                                 # spec, unfinanced
        Project("P2", "construction", gw=1.0, contract="C2", financed=True, build_left=4,
                chips_delivered=0.25, capex_busd=40.0),
        Project("P3", "construction", gw=0.5, capex_busd=20.0),              # not yet financed
        Project("P4", "operational", gw=5.0, capex_busd=200.0),              # not pipeline
    ]
    assert open_contract_gw(contracts) == 1.5
    pos = compute_position(projects, SHELL, BUILD)
    assert pos.pipeline_gw == 3.5
    assert pos.free_pipeline_gw == 2.5                        # P1 and P3 have no contract
    assert pos.construction_cost_busd == 60.0
    # P1: 2 x 12 shell + 2 GW chips; P2: 12 x 4/10 = 4.8 shell + 0.75 GW chips; P3: 6 shell + 0.5 GW
    assert pos.shell_left_busd == pytest.approx(24.0 + 4.8 + 6.0)
    assert pos.chips_left_gw == pytest.approx(2.0 + 0.75 + 0.5)
    assert pos.fin_shell_left_busd == pytest.approx(4.8) and pos.fin_chips_left_gw == pytest.approx(0.75)
    assert pos.fin_shell_3m_busd == pytest.approx(1.0 * SHELL / BUILD * 3)
    assert pos.capex_left(30.0) == pytest.approx(34.8 + 3.25 * 30.0)
    assert pos.financed_capex_left(30.0) == pytest.approx(4.8 + 0.75 * 30.0)


def test_remaining_capex_of_a_project():
    pr = Project("P", "construction", gw=2.0, financed=True, build_left=5, chips_delivered=3.0)
    assert remaining_shell_and_chips(pr, SHELL, BUILD) == (12.0, 0.0)   # over-delivered chips: none left
    pr.financed = False
    assert remaining_shell_and_chips(pr, SHELL, BUILD) == (24.0, 2.0)


def test_position_extended_by_a_new_project_equals_a_fresh_pass():
    """A cached position extended by a newly filed project (last in filing order) is exactly the fresh one."""
    projects = [
        Project("P1", "construction", gw=0.7, contract="C1", financed=True, build_left=2, chips_delivered=0.1,
                capex_busd=31.3),
        Project("P2", "permitting", gw=1.3),
        Project("P3", "construction", gw=0.3, financed=True, build_left=7, capex_busd=11.1),
    ]
    new = Project("P4", "announced", gw=0.9, contract="C2")
    extended = compute_position([new], SHELL, BUILD, start=compute_position(projects, SHELL, BUILD))
    assert extended == compute_position(projects + [new], SHELL, BUILD)   # bit for bit, not approximately


def test_free_pipeline_refreshed_alone_equals_a_fresh_pass():
    """Spec projects tied to a contract: the position with only its free pipeline recomputed is the fresh one."""
    projects = [
        Project("P1", "permitting", gw=0.7),
        Project("P2", "construction", gw=1.3, financed=True, build_left=3, capex_busd=17.0),
        Project("P3", "announced", gw=0.1),
        Project("P4", "operational", gw=2.0),                               # not pipeline
    ]
    before = compute_position(projects, SHELL, BUILD)
    projects[0].contract = "C9"
    after = before.with_free_pipeline(free_pipeline_gw(projects))
    assert after == compute_position(projects, SHELL, BUILD)               # bit for bit
    assert after.free_pipeline_gw == 1.3 + 0.1


def test_a_refit_owes_only_its_networking_and_installation_besides_chips():
    """A refit (new chips in a built shell) pays ``refit_per_gw`` over REFIT_MONTHS, not the shell."""
    from sim.positions import REFIT_MONTHS
    pr = Project("R", "construction", gw=2.0, refit=True, build_left=REFIT_MONTHS)
    assert remaining_shell_and_chips(pr, SHELL, BUILD, refit_per_gw=3.0) == (6.0, 2.0)   # unfinanced
    pr.financed, pr.chips_delivered = True, 0.5
    assert remaining_shell_and_chips(pr, SHELL, BUILD, refit_per_gw=3.0) == (6.0, 1.5)
    pos = compute_position([pr], SHELL, BUILD, 3.0)
    assert pos.shell_left_busd == 6.0 and pos.fin_shell_left_busd == 6.0 and pos.chips_left_gw == 1.5
    assert pos.fin_shell_3m_busd == pytest.approx(6.0)   # all of it within the next three months
    pr.build_left = 0
    assert compute_position([pr], SHELL, BUILD, 3.0).shell_left_busd == 0.0
