"""The `computemarket` command line: `run` and `scenarios`, and the checks every command makes on its input
and output folder before it runs (one-line errors, exit code 2, nothing written)."""

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main


def cm(capsys, *args):
    """Run the command line in-process; (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err, *fragments):
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: "), err
    for f in fragments:
        assert f in err, err
    return err.strip()


def tree(path: Path):
    return sorted((str(p.relative_to(path)), p.read_bytes() if p.is_file() else None) for p in path.rglob("*"))


# --------------------------------------------------------------------------- run --out


def test_run_refuses_an_existing_folder_and_overwrites_only_an_earlier_run(tmp_path, capsys):
    foreign = tmp_path / "results"
    (foreign / "baseline").mkdir(parents=True)
    (foreign / "baseline" / "runs.parquet").write_bytes(b"precious")
    before, foreign_before = tree(tmp_path), tree(foreign)
    err = one_line_error(*cm(capsys, "run", "baseline", "--months", "3", "--out", foreign),
                         str(foreign), "--out", "already exists", "--overwrite")
    assert "--resume" not in err and "--name" not in err
    # --overwrite replaces only what looks like a run's output
    one_line_error(*cm(capsys, "run", "baseline", "--months", "3", "--out", foreign, "--overwrite"),
                   str(foreign), "--out", "not only the output of `computemarket run`")
    assert tree(tmp_path) == before

    out = tmp_path / "one"
    old_umask = os.umask(0o022)
    try:
        code, stdout, err = cm(capsys, "run", "baseline", "--months", "3", "--seed", "1", "--out", out)
    finally:
        os.umask(old_umask)
    assert code == 0, err
    assert (out.stat().st_mode & 0o777) == 0o755      # like a batch folder, not mkdtemp's 0700
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "events.parquet", "run.parquet",
                                                     "timeseries.parquet"]
    one_line_error(*cm(capsys, "run", "baseline", "--months", "3", "--seed", "2", "--out", out),
                   "already exists", "--overwrite")
    assert pd.read_parquet(out / "run.parquet").seed.tolist() == [1]
    import pyarrow.parquet as pq
    field = pq.read_schema(out / "run.parquet").field("peak_spot_price")   # units as in a batch's runs.parquet
    assert field.metadata[b"unit"] == b"$B per EGW-month"
    code, stdout, err = cm(capsys, "run", "baseline", "--months", "3", "--seed", "2", "--out", out, "--overwrite")
    assert code == 0, err
    assert pd.read_parquet(out / "run.parquet").seed.tolist() == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "results"]   # no temporary folders left behind
    assert tree(foreign) == foreign_before

    empty = tmp_path / "empty"
    empty.mkdir()
    assert cm(capsys, "run", "baseline", "--months", "2", "--out", empty)[0] == 0
    assert (empty / "run.parquet").is_file()

    # a folder with a config.json of something else, or a run's folder with a file of the user's in it, is
    # not only a run's output: --overwrite refuses it instead of deleting what is not the run's
    app = tmp_path / "webapp"
    (app / "src").mkdir(parents=True)
    (app / "config.json").write_text("{}")
    (app / "src" / "main.py").write_text("print(1)")
    (out / "mynotes.txt").write_text("keep")
    before = tree(tmp_path)
    one_line_error(*cm(capsys, "run", "baseline", "--months", "2", "--out", app, "--overwrite"),
                   "not only the output of `computemarket run`", "it also holds src")
    one_line_error(*cm(capsys, "run", "baseline", "--months", "2", "--out", out, "--overwrite"),
                   "not only the output of `computemarket run`", "mynotes.txt")
    assert tree(tmp_path) == before


def test_run_out_may_not_be_the_current_folder_or_a_parent(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for out in (".", ".."):
        one_line_error(*cm(capsys, "run", "baseline", "--months", "2", "--out", out), "current folder")
    assert list(tmp_path.iterdir()) == []


def test_run_out_is_checked_before_simulating(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, out, err = cm(capsys, "run", "baseline", "--months", "3", "--out", afile)
    one_line_error(code, out, err, str(afile), "--out", "exists and is not a directory")
    assert not out                                     # nothing simulated or printed
    one_line_error(*cm(capsys, "run", "baseline", "--months", "3", "--out", afile / "sub"),
                   "--out", "is a file, not a directory")
    assert afile.read_text() == "x" and sorted(tmp_path.iterdir()) == [afile]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", [
    ["run", "baseline", "--months", "3"],
    ["batch", "baseline", "--runs", "2", "--set", "meta.months=3", "--quiet"],
    ["validate", "--runs", "2", "--set", "meta.months=3", "--quiet"],
])
def test_an_output_place_that_takes_no_files_is_one_line_error(command, capsys):
    code, out, err = cm(capsys, *command, "--out", "/proc/nope")
    one_line_error(code, out, err, "/proc/nope: --out: cannot write there: /proc")
    assert not out


def test_an_unwritable_parent_is_found_by_trying_not_by_permission_bits(tmp_path, capsys, monkeypatch):
    import tempfile

    def refuse(*a, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    for command in (["run", "baseline", "--months", "3"],
                    ["batch", "baseline", "--runs", "2", "--set", "meta.months=3", "--quiet"]):
        code, out, err = cm(capsys, *command, "--out", tmp_path / "new" / "dir")
        one_line_error(code, out, err, "--out: cannot write there", "Permission denied")
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------- run: --months, --seed, --set


@pytest.mark.parametrize("months, allowed", [(0, "greater than or equal to 1"), (-3, "greater than or equal to 1"),
                                             (700, "less than or equal to 600"),
                                             (100000, "less than or equal to 600")])
def test_run_months_is_checked_like_meta_months(months, allowed, capsys):
    err = one_line_error(*cm(capsys, "run", "baseline", "--months", months), "--months: meta.months:", allowed)
    via_set = one_line_error(*cm(capsys, "run", "baseline", "--set", f"meta.months={months}"))
    assert err.split("meta.months:")[1] == via_set.split("meta.months:")[1]


def test_run_months_sets_the_horizon_in_the_written_config(tmp_path, capsys):
    import json

    assert cm(capsys, "run", "baseline", "--months", "4", "--out", tmp_path / "r")[0] == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["meta"]["months"] == 4


@pytest.mark.parametrize("seed", [-1, 2**63, 99999999999999999999])
def test_run_seed_is_checked_like_batch_seed(seed, capsys):
    err = one_line_error(*cm(capsys, "run", "baseline", "--months", "2", "--seed", seed),
                         "--seed: must be an integer in [0, 2**63)", f"(got {seed})")
    batch = one_line_error(*cm(capsys, "batch", "baseline", "--runs", "1", "--seed", seed))
    assert err == batch


@pytest.mark.parametrize("override, allowed", [
    ("labs.frontier_a.agressiveness=2", "allowed: name, initial_cash_busd"),
    ("labs.frontier_z.aggressiveness=2", "allowed: frontier_a, frontier_b, frontier_c"),
    ("labs.frontier_a=2", "is a table, not a single parameter"),
])
def test_run_set_gives_the_same_error_as_batch_set(override, allowed, capsys):
    err = one_line_error(*cm(capsys, "run", "baseline", "--set", override), "--set: ", allowed)
    assert err == one_line_error(*cm(capsys, "batch", "baseline", "--runs", "1", "--set", override))


def test_run_set_still_applies(capsys, tmp_path):
    import json

    code, out, err = cm(capsys, "run", "baseline", "--months", "2", "--set", "labs.frontier_a.aggressiveness=2.5",
                        "--out", tmp_path / "r")
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["labs"]["frontier_a"]["aggressiveness"] == 2.5


# --------------------------------------------------------------------------- scenarios


def test_scenarios_scenario_lists_its_agents_by_section(capsys):
    code, out, err = cm(capsys, "scenarios", "baseline")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("baseline: ")
    for section, aid in (("labs", "frontier_a"), ("clouds", "hyper_a"), ("regulators", "us_east")):
        header = next(i for i, line in enumerate(lines) if line.startswith(f"{section} ("))
        assert any(line.split()[0] == aid for line in lines[header + 1:])
    assert any(line.split()[:3] == ["frontier_a", "Frontier", "A"] for line in lines)


def test_scenarios_fields_with_a_scenario_shows_its_values_under_its_ids(capsys):
    from sim.config import load_scenario

    code, out, err = cm(capsys, "scenarios", "baseline", "--fields", "labs.frontier_a")
    assert code == 0, err
    value = load_scenario("baseline").labs["frontier_a"].aggressiveness
    assert f"labs.frontier_a.aggressiveness = {value!r}  (float, default 1.0)" in out
    assert "labs.frontier_b." not in out and "<id>" not in out
    code, out, _ = cm(capsys, "scenarios", "custom_silicon", "--fields", "custom_silicon.supply_gw")
    assert code == 0 and "custom_silicon.supply_gw_per_month = 0.25  (float, default 0.0)   *" in out
    # an unknown id lists the scenario's ids; without a scenario a concrete id says how to ask
    one_line_error(*cm(capsys, "scenarios", "baseline", "--fields", "labs.frontier_z"),
                   "--fields: labs.frontier_z:", "its labs: frontier_a, frontier_b")
    one_line_error(*cm(capsys, "scenarios", "--fields", "labs.frontier_a"),
                   "labs.<id>.<field>", "scenarios baseline --fields labs.frontier_a")


# --------------------------------------------------------------------------- small things


def test_run_prints_contract_starts_as_dates(capsys):
    code, out, err = cm(capsys, "run", "baseline", "--months", "12")
    assert code == 0, err
    signed = [line for line in out.splitlines() if "contract_signed" in line]
    assert signed
    for line in signed:
        start = line.rsplit("start ", 1)[1]
        assert len(start) == 7 and start[4] == "-" and start[:4].isdigit(), line


def test_run_prints_outcomes_with_their_units(capsys):
    code, out, err = cm(capsys, "run", "baseline", "--months", "6")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and len(line.split()) > 1}
    assert lines["peak_spot_price"].endswith(" $B per EGW-month")
    assert lines["peak_usd_gpu_hour"].endswith(" $ per GPU-hour")
    assert lines["gw_operational_end"].endswith(" GW") and lines["n_defaults"].endswith(" count")


def test_unknown_scenario_error_has_no_placeholder(capsys):
    err = one_line_error(*cm(capsys, "run", "nosuch"), "error: nosuch: unknown scenario; available: baseline")
    assert "<root>" not in err
    one_line_error(*cm(capsys, "scenarios", "nosuch"), "error: nosuch: unknown scenario; available: baseline")


def test_viz_errors_are_lower_case_one_line(capsys):
    one_line_error(*cm(capsys, "viz", "--port", "99999"),
                   "error: computemarket viz: --port: must be between 1 and 65535, got 99999")
    one_line_error(*cm(capsys, "viz", "--host", "no.such.host.invalid", "--port", "8000"),
                   "error: computemarket viz: --host: cannot listen on no.such.host.invalid")
