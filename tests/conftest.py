"""Shared fixtures: small hand-made worlds and the baseline config."""

from __future__ import annotations

import os

import pytest

from sim.config import ScenarioConfig, load_scenario


@pytest.fixture(scope="session")
def baseline():
    return load_scenario("baseline")


def tiny_world(**over) -> ScenarioConfig:
    """One lab, one leveraged neocloud, one regulator: the smallest world with every institution."""
    data = {
        "meta": {"name": "tiny", "months": 24},
        "regulators": {"r": {}},
        "labs": {"lab": {"initial_cash_busd": 1.0, "initial_compute_gw": 1.0, "partner_cloud": "cloud"}},
        "clouds": {"cloud": {"kind": "neocloud", "initial_cash_busd": 1.0, "initial_debt_busd": 30.0,
                             "capacity_gw": 1.0, "jurisdiction": "r"}},
    }
    for path, value in over.items():
        node = data
        parts = path.split("__")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return ScenarioConfig.model_validate(data)


def project_for_a_contract(tiny):
    """The tiny world (land for 10 GW) in month 0, its lab holding a second contract (0.6 GW from month 30)
    for which its cloud has a project in permitting: (model, cloud, lab, contract, project)."""
    from sim.ledger import Project
    from sim.model import ComputeMarketModel
    m = ComputeMarketModel(config=tiny(clouds__cloud__land_bank_gw=10.0), rng=1)
    m._begin_month()
    c, lab = m.clouds[0], m.labs[0]
    k = m._sign(lab, c, 0.6, 3.0, start=30, end=90, announce=False)
    pr = Project(m.book.new_id("P"), "permitting", cloud=c.uid, regulator=c.p.jurisdiction, gw=0.6,
                 contract=k.id, announced=0, build_left=m.cfg.technology.build_months)
    m.book.add("project", pr)
    m._add_project(pr)
    return m, c, lab, k, pr


def sampled_batch(path: str, bounds: str, method: str = "lhs", n: int = 4) -> str:
    """A batch file sampling one parameter range of baseline (for bad-input tests)."""
    return f"""
        [batch]
        scenario = "baseline"
        [sample]
        method = "{method}"
        n = {n}
        [sample.ranges]
        "{path}" = {bounds}
    """


@pytest.fixture
def tiny():
    return tiny_world


def pytest_collection_modifyitems(config, items):
    """Browser tests must run in CI; locally they skip (in their own module) when Chromium is missing."""
    os.environ.setdefault("COMPUTEMARKET_TEST", "1")
