"""The documented lists of outcomes and time-series variables match what a run produces, so the docs cannot drift.

docs/interfaces.md's outcome table is generated from ``sim.metrics.OUTCOME_DOCS``; after changing an outcome, rewrite
it with ``python tests/test_docs.py`` (from the repository root, with the package importable).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INTERFACES = ROOT / "docs" / "interfaces.md"
OUTCOME_START = ("<!-- outcome-table: generated from sim.metrics.OUTCOME_DOCS by python tests/test_docs.py; "
                 "do not edit by hand -->")
OUTCOME_END = "<!-- /outcome-table -->"


def outcome_table() -> str:
    """The markdown table of every outcome: name, unit, definition (in the order of sim.metrics.OUTCOMES)."""
    from sim.metrics import OUTCOME_DOCS

    rows = ["| outcome | unit | definition |", "|---|---|---|"]
    rows += [f"| `{name}` | {unit} | {text} |" for name, (unit, text) in OUTCOME_DOCS.items()]
    return "\n".join(rows)


def _block(text: str, start: str, end: str) -> str:
    assert text.count(start) == 1 and text.count(end) == 1, f"docs/interfaces.md: markers {start!r} / {end!r}"
    return text[text.index(start) + len(start):text.index(end)].strip("\n")


def _table_rows(block: str) -> list[list[str]]:
    """Cells of a markdown table's body rows (header and separator dropped)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block.splitlines() if line.strip()]
    return rows[2:]


def _name(cell: str) -> str:
    m = re.fullmatch(r"`([a-z0-9_]+)`", cell)
    assert m, f"not a `name` cell: {cell!r}"
    return m.group(1)


def write_outcome_table(path: Path = INTERFACES) -> bool:
    """Rewrite the generated block of docs/interfaces.md; True if it changed."""
    text = path.read_text()
    old = _block(text, OUTCOME_START, OUTCOME_END)
    new = text.replace(f"{OUTCOME_START}\n{old}\n" if old else f"{OUTCOME_START}\n",
                       f"{OUTCOME_START}\n{outcome_table()}\n", 1)
    if new != text:
        path.write_text(new)
    return new != text


@pytest.fixture(scope="module")
def world():
    """A short baseline world: the model (its series) and the run's outcomes and long time series."""
    from sim.config import load_scenario
    from sim.runner import simulate, timeseries_table

    model = simulate(load_scenario("baseline"), seed=5, months=6)
    return model, model.outcomes(), timeseries_table(model, 1).to_pandas()


def test_outcome_docs_cover_every_outcome_of_a_run(world):
    from sim.metrics import LABELS, OUTCOME_DOCS, OUTCOMES

    _, outcomes, _ = world
    assert list(OUTCOME_DOCS) == OUTCOMES
    assert set(outcomes) == set(OUTCOME_DOCS), (set(outcomes) ^ set(OUTCOME_DOCS))
    for name, (unit, text) in OUTCOME_DOCS.items():
        assert unit.strip() and text.strip() and "|" not in unit + text, name
        assert (unit == "bool") == (name in LABELS), name


def test_interfaces_outcome_table_is_generated_from_outcome_docs():
    from sim.metrics import OUTCOME_DOCS

    block = _block(INTERFACES.read_text(), OUTCOME_START, OUTCOME_END)
    rows = {_name(r[0]): r[1] for r in _table_rows(block)}
    assert rows == {k: unit for k, (unit, _) in OUTCOME_DOCS.items()}, "units differ: run python tests/test_docs.py"
    assert block == outcome_table(), "docs/interfaces.md outcome table is stale: run python tests/test_docs.py"


def test_interfaces_lists_every_market_variable(world):
    model, _, ts = world
    block = _block(INTERFACES.read_text(), "<!-- market-variables -->", "<!-- /market-variables -->")
    rows = _table_rows(block)
    documented = [_name(r[0]) for r in rows]
    assert len(documented) == len(set(documented))
    assert all(r[1] for r in rows), "every market variable needs a unit"
    assert set(documented) == set(model.series), set(documented) ^ set(model.series)
    assert set(documented) == set(ts.loc[ts["agent"] == "market", "variable"])


def test_interfaces_lists_every_agent_variable(world):
    model, _, ts = world
    kind = {lab.uid: "labs" for lab in model.labs} | {c.uid: "clouds" for c in model.clouds}
    kind[model.chipmaker.uid] = "chipmaker"
    recorded: dict[str, set[str]] = {}
    for agent, var in model.agent_series:
        recorded.setdefault(var, set()).add(kind[agent])
    block = _block(INTERFACES.read_text(), "<!-- agent-variables -->", "<!-- /agent-variables -->")
    documented = {_name(r[0]): {w.strip() for w in r[1].split(",")} for r in _table_rows(block)}
    assert documented == recorded
    agents = ts[ts["agent"] != "market"]
    assert set(zip(agents["agent"], agents["variable"])) == set(model.agent_series)


def test_comparing_sensitivity_example_is_the_shipped_file():
    """docs/comparing.md section 5 shows experiments/batches/sensitivity.toml as shipped (comments aside)."""
    import tomllib

    doc = (ROOT / "docs" / "comparing.md").read_text()
    section = doc[doc.index("## 5."):]
    first_toml = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    shipped = (ROOT / "experiments" / "batches" / "sensitivity.toml").read_text()
    assert tomllib.loads(first_toml) == tomllib.loads(shipped)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(f"{INTERFACES}: {'rewritten' if write_outcome_table() else 'already up to date'}")
