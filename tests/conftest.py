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
