"""Batch designs: parsing, validation, expansion into runs, and the seed rule."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from experiments.design import BATCH_DIR, DEFAULT_SCENARIO_RUNS, load_design, spawned_seed
from sim.config import ConfigError
from tests.conftest import sampled_batch


def batch_file(tmp_path: Path, body: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


SWEEP = """
    [batch]
    scenario = "baseline"
    seed = 11
    replications = 3

    [overrides]
    "meta.months" = 24

    [grid]
    "chipmaker.vendor_financing" = [true, false]

    [sample]
    method = "lhs"
    n = 8

    [sample.ranges]
    "scale.lab_aggressiveness" = [0.5, 2.5]
    "technology.build_months" = [6, 24]
"""


# --------------------------------------------------------------------------- seeds
def test_seed_rule_is_the_spawned_child_of_the_batch_seed():
    children = np.random.SeedSequence(2025).spawn(5)
    expected = [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]
    assert [spawned_seed(2025, k) for k in range(5)] == expected
    assert all(0 <= s < 2**63 for s in expected)


def test_paired_seeds_repeat_across_design_points(tmp_path):
    design = load_design(batch_file(tmp_path, SWEEP))
    runs = list(design.runs())
    by_point: dict[int, list[int]] = {}
    for run in runs:
        by_point.setdefault(run.point, []).append(run.seed)
    assert len(set(map(tuple, by_point.values()))) == 1  # replicate k has the same seed at every point
    assert len(set(by_point[0])) == 3


def test_independent_seeds_differ_for_every_run(tmp_path):
    design = load_design(batch_file(tmp_path, SWEEP.replace("replications = 3",
                                                            'replications = 3\nseeds = "independent"')))
    seeds = [r.seed for r in design.runs()]
    assert len(set(seeds)) == len(seeds) == design.n_runs


def test_batch_seed_changes_every_run_seed():
    a = [r.seed for r in load_design("baseline", runs=5, seed=1).runs()]
    b = [r.seed for r in load_design("baseline", runs=5, seed=2).runs()]
    assert not set(a) & set(b)


# --------------------------------------------------------------------------- expansion
def test_bare_scenario_is_one_point_with_n_seeds():
    design = load_design("baseline", runs=7)
    assert (design.n_points, design.n_runs, design.name, design.parameters) == (1, 7, "baseline", [])
    assert [r.run_id for r in design.runs()][:2] == ["r000000", "r000001"]
    assert load_design("baseline").n_runs == DEFAULT_SCENARIO_RUNS


def test_grid_times_sample_in_point_major_order(tmp_path):
    design = load_design(batch_file(tmp_path, SWEEP))
    assert design.n_points == 2 * 8 and design.n_runs == 2 * 8 * 3
    assert design.parameters == ["chipmaker.vendor_financing", "scale.lab_aggressiveness", "technology.build_months"]
    assert [p["chipmaker.vendor_financing"] for p in design.points] == [True] * 8 + [False] * 8
    # the same sample points are combined with every grid value
    assert [p["scale.lab_aggressiveness"] for p in design.points[:8]] == \
           [p["scale.lab_aggressiveness"] for p in design.points[8:]]
    runs = list(design.runs())
    assert [r.index for r in runs] == list(range(design.n_runs))
    assert all(r.index == r.point * 3 + r.replicate for r in runs)
    assert design.base_config.meta.months == 24


def test_latin_hypercube_covers_every_stratum_once(tmp_path):
    design = load_design(batch_file(tmp_path, SWEEP))
    values = np.array([p["scale.lab_aggressiveness"] for p in design.points[:8]])
    assert ((values >= 0.5) & (values <= 2.5)).all()
    strata = np.floor((values - 0.5) / 2.0 * 8).astype(int)
    assert sorted(strata) == list(range(8))


def test_integer_parameters_get_integer_samples(tmp_path):
    design = load_design(batch_file(tmp_path, SWEEP))
    months = [p["technology.build_months"] for p in design.points]
    assert all(isinstance(m, int) and 6 <= m <= 24 for m in months)


@pytest.mark.parametrize("method,n,extra,points", [
    ("sobol", 16, "", 16),
    ("saltelli", 8, "", 8 * (2 * 2 + 2)),
    ("saltelli", 8, "second_order = false", 8 * (2 + 2)),
    ("morris", 5, "levels = 6", 5 * (2 + 1)),
])
def test_samplers_give_the_documented_number_of_points(tmp_path, method, n, extra, points):
    body = f"""
        [batch]
        scenario = "baseline"
        [sample]
        method = "{method}"
        n = {n}
        {extra}
        [sample.ranges]
        "scale.lab_aggressiveness" = [0.5, 2.5]
        "financier.base_rate" = [0.02, 0.08]
    """
    design = load_design(batch_file(tmp_path, body))
    assert design.n_points == points
    rates = [p["financier.base_rate"] for p in design.points]
    assert min(rates) >= 0.02 and max(rates) <= 0.08


def test_design_is_deterministic(tmp_path):
    path = batch_file(tmp_path, SWEEP)
    a, b = load_design(path), load_design(path)
    assert a.points == b.points and a.fingerprint() == b.fingerprint()
    assert load_design(path, seed=12).fingerprint() != a.fingerprint()


def test_nested_tables_are_dotted_paths(tmp_path):
    body = """
        [batch]
        scenario = "baseline"
        [overrides]
        meta.months = 30
        [grid]
        scale.permit_delay = [1.0, 2.0]
    """
    design = load_design(batch_file(tmp_path, body))
    assert design.base_config.meta.months == 30
    assert design.parameters == ["scale.permit_delay"]


def test_command_line_options_override_the_file(tmp_path):
    design = load_design(batch_file(tmp_path, SWEEP), runs=2, seed=5, name="other", record_every=3,
                         set_overrides=["financier.base_rate=0.06"])
    assert (design.replications, design.batch_seed, design.name) == (2, 5, "other")
    assert design.base_config.record.every == 3 and design.base_config.financier.base_rate == 0.06


def test_shipped_batch_files_are_valid():
    assert load_design(BATCH_DIR / "baseline.toml").n_runs >= 200
    sweep = load_design(BATCH_DIR / "sweep_example.toml")
    assert sweep.grid and sweep.sample["method"] == "lhs"
    assert load_design("sensitivity").sample["method"] == "saltelli"  # by batch name
    grid = load_design(BATCH_DIR / "custom_silicon_grid.toml")   # per-cloud shares are sweepable paths
    assert grid.n_runs == 400 and "clouds.hyper_c.in_house_chip_share" in grid.grid


# --------------------------------------------------------------------------- errors
def error_of(tmp_path: Path, body: str, **kw) -> str:
    path = batch_file(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_design(path, **kw)
    text = str(err.value)
    assert "\n" not in text
    return text.replace(str(path), "FILE")


def test_unknown_parameter_path(tmp_path):
    text = error_of(tmp_path, """
        [batch]
        scenario = "baseline"
        [grid]
        "labs.nobody.aggressiveness" = [1.0, 2.0]
    """)
    assert text.startswith("FILE: grid.labs.nobody.aggressiveness: unknown parameter path")


@pytest.mark.parametrize("path, bounds, expected, exact", [
    ("scale.lab_agressiveness", "[0.5, 2.0]", "FILE: sample.ranges.scale.lab_agressiveness: unknown parameter path",
     False),
    ("scale.permit_delay", "[2.0, 2.0]", "FILE: sample.ranges.scale.permit_delay: empty range [2.0, 2.0]; need low < high",
     True),
    ("financier.base_rate", "[-0.5, 0.05]", "FILE: sample.ranges.financier.base_rate: -0.5 not allowed", False),
])
def test_bad_sample_range(tmp_path, path, bounds, expected, exact):
    """An unknown path, an empty range, a bound outside the scenario schema: one line naming the field."""
    text = error_of(tmp_path, sampled_batch(path, bounds))
    assert text == expected if exact else text.startswith(expected)


def test_range_over_a_switch_points_to_the_grid(tmp_path):
    text = error_of(tmp_path, sampled_batch("chipmaker.vendor_financing", "[0, 1]"))
    assert "a range needs a numeric parameter" in text and "[grid]" in text


def test_empty_grid(tmp_path):
    text = error_of(tmp_path, """
        [batch]
        scenario = "baseline"
        [grid]
        "scale.permit_delay" = []
    """)
    assert text == "FILE: grid.scale.permit_delay: must be a non-empty list of values, e.g. [0.5, 1.0, 2.0]"


def test_negative_replications(tmp_path):
    text = error_of(tmp_path, """
        [batch]
        scenario = "baseline"
        replications = -3
    """)
    assert text == "FILE: batch.replications: must be a positive integer (got -3)"


def test_negative_run_count_on_the_command_line():
    with pytest.raises(ConfigError, match=r"^command line: --runs: must be a positive integer \(got -5\)$"):
        load_design("baseline", runs=-5)


def test_unknown_override_from_set():
    with pytest.raises(ConfigError, match=r"^--set: market\.nope: unknown parameter path"):
        load_design("baseline", runs=2, set_overrides=["market.nope=1"])


def test_unknown_scenario_and_table(tmp_path):
    assert error_of(tmp_path, '[batch]\nscenario = "atlantis"\n').startswith("FILE: batch.scenario: ")
    assert error_of(tmp_path, '[batch]\nscenario = "baseline"\n[grids]\n').startswith(
        "FILE: grids: unknown table; allowed: batch, overrides, grid, sample")


def test_sobol_needs_a_power_of_two(tmp_path):
    text = error_of(tmp_path, sampled_batch("scale.permit_delay", "[0.5, 2.0]", method="sobol", n=10))
    assert text == "FILE: sample.n: Sobol points need a power of two, e.g. 64 or 128 (got 10)"


def test_saltelli_needs_a_power_of_two(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")     # refused before SALib is asked (it would only warn)
        text = error_of(tmp_path, sampled_batch("scale.permit_delay", "[0.5, 2.0]", method="saltelli", n=12))
    assert text == "FILE: sample.n: a Saltelli design needs a power of two, e.g. 64 or 128 (got 12)"


def test_a_parameter_cannot_be_fixed_and_varied(tmp_path):
    text = error_of(tmp_path, """
        [batch]
        scenario = "baseline"
        [overrides]
        "scale.permit_delay" = 1.5
        [grid]
        "scale.permit_delay" = [1.0, 2.0]
    """)
    assert "is both fixed (override) and varied" in text
