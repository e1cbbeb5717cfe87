"""Scenario validation and the one-line errors users see."""

import subprocess
import sys
from pathlib import Path

import pytest

from sim.config import ConfigError, load_scenario, scenario_names

GOOD = Path(__file__).resolve().parent.parent / "experiments" / "scenarios" / "baseline.toml"


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("edit, field, allowed", [
    (("[labs.frontier_a]", "[labs.frontier_a]\nagressiveness = 2.0"), "labs.frontier_a.agressiveness", "unknown field"),
    (("aggressiveness = 1.8", 'aggressiveness = "high"'), "labs.frontier_a.aggressiveness", "valid number"),
    (("capacity_gw = 3.0", "capacity_gw = -3.0"), "clouds.hyper_a.capacity_gw", "greater than or equal to 0"),
    (('partner_cloud = "hyper_b"', 'partner_cloud = "hyper_z"'), "labs.frontier_b.partner_cloud", "unknown cloud"),
])
def test_bad_scenario_one_line_error_and_nothing_written(tmp_path, edit, field, allowed):
    text = GOOD.read_text().replace(edit[0], edit[1], 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    out = tmp_path / "out"
    r = run_cli("run", str(bad), "--months", "3", "--out", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(bad) in lines[0] and field in lines[0] and allowed in lines[0]
    assert not out.exists()
    assert not r.stdout


def test_override_by_dotted_path(baseline):
    cfg = load_scenario("baseline", ["labs.frontier_a.aggressiveness=2.5", "chipmaker.vendor_financing=false"])
    assert cfg.labs["frontier_a"].aggressiveness == 2.5
    assert cfg.chipmaker.vendor_financing is False
    with pytest.raises(ConfigError, match="unknown parameter path"):
        load_scenario("baseline", ["labs.frontier_a.boldness=1"])
    with pytest.raises(ConfigError, match="unknown scenario"):
        load_scenario("no_such_world")


def test_every_scenario_validates():
    for name in scenario_names():
        assert load_scenario(name).meta.description, name


def test_run_writes_parquet(tmp_path):
    import pandas as pd
    out = tmp_path / "one"
    r = run_cli("run", "baseline", "--seed", "2", "--months", "12", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "labels:" in r.stdout
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(ts.columns) == {"tick", "date", "variable", "agent", "value"}
    assert ts.tick.max() == 11
    ev = pd.read_parquet(out / "events.parquet")
    assert (ev.kind == "contract_signed").any()
    assert len(pd.read_parquet(out / "run.parquet")) == 1


def test_scenario_extends_baseline(tmp_path):
    base = load_scenario("baseline")
    f = tmp_path / "variant.toml"
    f.write_text('[meta]\nextends = "baseline"\n[labs.frontier_a]\naggressiveness = 3.0\n')
    cfg = load_scenario(f)
    assert cfg.labs["frontier_a"].aggressiveness == 3.0
    assert cfg.labs["frontier_b"] == base.labs["frontier_b"]
    assert cfg.meta.name == "variant" and cfg.meta.months == base.meta.months
    f.write_text('[meta]\nextends = "nowhere"\n')
    with pytest.raises(ConfigError, match="meta.extends: unknown scenario"):
        load_scenario(f)


def test_every_parameter_is_listed_with_a_description():
    from sim.config import schema_fields
    rows = schema_fields()
    paths = [r[0] for r in rows]
    assert len(paths) == len(set(paths)) > 100
    assert "clouds.<id>.in_house_chip_share" in paths and "market.demand_growth_per_year" in paths
    undocumented = [p for p, _kind, _default, desc in rows if not desc.strip()]
    assert not undocumented, undocumented


def test_scenarios_fields_prints_parameters_and_refuses_an_unknown_prefix():
    r = run_cli("scenarios", "--fields", "custom_silicon")
    assert r.returncode == 0, r.stderr
    assert "custom_silicon.supply_gw_per_month  (float, default 0.0)" in r.stdout
    assert "labs." not in r.stdout
    r = run_cli("scenarios", "baseline", "--fields", "clouds.hyper_a.capacity_gw")
    assert r.returncode == 0 and r.stdout.startswith("clouds.hyper_a.capacity_gw = ")
    r = run_cli("scenarios", "--fields", "nope")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "sections: chipmaker" in r.stderr
