"""Experiment batches end to end, with the real model (short 24-month worlds)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from experiments.batch import chunks, run_batch
from experiments.cli_batch import main
from experiments.design import load_design
from sim.config import load_scenario
from sim.runner import run_world
from tests.conftest import sampled_batch

SHORT = ["meta.months=24"]
FILES = ("runs.parquet", "timeseries.parquet", "events.parquet")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``computemarket batch ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "sim", "batch", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def short_design(runs: int = 20, **kw):
    return load_design("baseline", runs=runs, set_overrides=SHORT, **kw)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory) -> Path:
    """A 20-run baseline batch on 2 local workers, shared by several tests."""
    out = tmp_path_factory.mktemp("batch") / "two"
    result = run_batch(short_design(), out, workers=2, progress=False)
    assert result.n_failed == 0
    return out


def test_cli_writes_every_output_and_reports(tmp_path):
    done = cli("baseline", "--runs", "12", "--workers", "2", "--set", *SHORT, "--name", "smoke", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "results" / "smoke"
    for name in (*FILES, "manifest.json", "report.html"):
        assert (out / name).is_file(), name
    assert not (out / ".parts").exists()
    assert "12 of 12 runs ok" in done.stdout and f"report: {Path('results/smoke/report.html')}" in done.stdout
    assert "run/s" in done.stderr  # the progress bar shows a rate
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True and (manifest["n_runs"], manifest["n_ok"], manifest["n_failed"]) == (12, 12, 0)
    assert manifest["scenario"] == "baseline" and manifest["config"]["meta"]["months"] == 24
    assert set(manifest["labels"]) <= set(manifest["outcomes"]) and manifest["labels"]


def test_runs_table_follows_the_contract(two_workers):
    runs = pq.read_table(two_workers / "runs.parquet").to_pandas()
    assert list(runs.columns[:5]) == ["run_id", "scenario", "point", "replicate", "seed"]
    assert list(runs.columns[-2:]) == ["status", "error"]
    assert runs["run_id"].tolist() == [f"r{i:06d}" for i in range(20)]
    assert (runs["status"] == "ok").all() and (runs["error"] == "").all()
    labels = [c for c in runs.columns if c.startswith("label_")]
    assert labels and all(runs[c].dtype == bool for c in labels)
    series = pq.read_table(two_workers / "timeseries.parquet", columns=["run_id", "tick"]).to_pandas()
    assert set(series["run_id"]) == set(runs["run_id"]) and series["tick"].max() == 23
    events = pq.read_table(two_workers / "events.parquet").to_pandas()
    assert set(events["run_id"]) <= set(runs["run_id"])


def test_worker_count_does_not_change_a_byte(two_workers, tmp_path):
    run_batch(short_design(), tmp_path / "one", workers=1, progress=False)
    run_batch(short_design(), tmp_path / "small-chunks", workers=2, chunk_runs=3, progress=False)
    for name in FILES:
        reference = (two_workers / name).read_bytes()
        assert (tmp_path / "one" / name).read_bytes() == reference, name
        assert (tmp_path / "small-chunks" / name).read_bytes() == reference, name


def test_a_row_is_the_world_of_its_config_and_seed(two_workers):
    """Re-running one row's seed by hand reproduces its outcomes exactly."""
    row = pq.read_table(two_workers / "runs.parquet").to_pylist()[7]
    cfg = load_scenario("baseline", overrides=SHORT)
    outcomes = run_world(cfg, seed=row["seed"]).outcomes
    assert {k: row[k] for k in outcomes} == pytest.approx(outcomes, nan_ok=True)


def renamed_run_world(cfg, seed, months=None):
    """The real model, the market's series filed under a name that varies with the seed: runs whose text
    columns have different dictionaries."""
    result = run_world(cfg, seed=seed, months=months)
    table = result.timeseries_table
    agent = pc.if_else(pc.equal(table["agent"], "market"), pa.scalar(f"market-{seed % 3}"), table["agent"])
    result.timeseries_table = table.set_column(table.column_names.index("agent"), "agent", agent)
    return result


def test_runs_with_different_texts_do_not_make_the_bytes_depend_on_the_worker_count(tmp_path):
    """The store gives each row group one dictionary a text column from its rows alone."""
    design = short_design(runs=8)
    for name, workers, chunk in (("two", 2, None), ("one", 1, None), ("small-chunks", 2, 3)):
        run_batch(design, tmp_path / name, workers=workers, chunk_runs=chunk, progress=False, run_fn=renamed_run_world)
    reference = (tmp_path / "two" / "timeseries.parquet").read_bytes()
    for name in ("one", "small-chunks"):
        assert (tmp_path / name / "timeseries.parquet").read_bytes() == reference, name
    agents = pq.read_table(tmp_path / "two" / "timeseries.parquet", columns=["run_id", "agent"]).to_pandas()
    assert pa.types.is_string(pq.read_schema(tmp_path / "two" / "timeseries.parquet").field("agent").type)
    assert not isinstance(agents["agent"].dtype, pd.CategoricalDtype)   # text for readers, not categories
    expected = {f"market-{r.seed % 3}" for r in design.runs()}
    assert len(expected) > 1 and {a for a in agents["agent"] if a.startswith("market")} == expected


def flaky_run_world(cfg, seed, months=None, **options):
    """The real model, except that every third seed (by value) raises (``options``: as run_world's, which
    batch workers pass when it stands in for run_world)."""
    if seed % 3 == 0:
        raise RuntimeError(f"injected failure for seed {seed}")
    return run_world(cfg, seed=seed, months=months, **options)


def test_a_failing_run_is_recorded_and_the_batch_goes_on(tmp_path):
    design = short_design(runs=12)
    expected_failed = sum(1 for r in design.runs() if r.seed % 3 == 0)
    assert 0 < expected_failed < 12
    result = run_batch(design, tmp_path / "flaky", workers=2, progress=False, run_fn=flaky_run_world)
    assert (result.n_failed, result.n_ok) == (expected_failed, 12 - expected_failed)
    runs = pq.read_table(tmp_path / "flaky" / "runs.parquet").to_pandas()
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == expected_failed
    assert failed["error"].str.startswith("RuntimeError: injected failure for seed").all()
    assert failed["peak_spot_price"].isna().all()
    assert json.loads((tmp_path / "flaky" / "manifest.json").read_text())["n_failed"] == expected_failed


def test_cli_exits_non_zero_with_the_failure_count(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sim.runner.run_world", flaky_run_world)
    code = main(["baseline", "--runs", "6", "--workers", "1", "--set", *SHORT, "--out", str(tmp_path / "b"),
                 "--no-report", "--quiet"])
    err = capsys.readouterr().err
    n_failed = sum(1 for r in short_design(runs=6).runs() if r.seed % 3 == 0)
    assert code == 1
    assert f"error: {n_failed} of 6 runs failed" in err
    assert (tmp_path / "b" / "runs.parquet").is_file()


def test_chunks_split_at_gaps():
    design = short_design(runs=10)
    skip = {3, 4, 8}
    got = [[r.index for r in c] for c in chunks(design.runs(skip=skip), 7, workers=1, fixed=3)]
    assert got == [[0, 1, 2], [5, 6, 7], [9]]


def test_chunks_shrink_towards_the_end():
    sizes = [len(c) for c in chunks(short_design(runs=200).runs(), 200, workers=2)]
    assert sum(sizes) == 200 and max(sizes) == sizes[0] and sizes[-1] == 1
    assert sizes == sorted(sizes, reverse=True)


def test_duckdb_reads_two_batches_together(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(textwrap.dedent("""
        [batch]
        scenario = "baseline"
        replications = 3
        [overrides]
        "meta.months" = 24
        [grid]
        "chipmaker.vendor_financing" = [true, false]
    """))
    run_batch(short_design(runs=5), tmp_path / "plain", workers=2, progress=False)
    run_batch(load_design(sweep), tmp_path / "sweep", workers=2, progress=False)
    files = [str(tmp_path / "plain" / "runs.parquet"), str(tmp_path / "sweep" / "runs.parquet")]
    con = duckdb.connect()
    rows = con.execute("""
        SELECT regexp_extract(filename, '([^/]+)/runs[.]parquet$', 1) AS batch,
               "param.chipmaker.vendor_financing" AS vf,
               count(*) AS n, sum(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS ok
        FROM read_parquet(?, union_by_name = true, filename = true)
        GROUP BY ALL ORDER BY batch, vf
    """, [files]).fetchall()
    assert rows == [("plain", None, 5, 5), ("sweep", False, 3, 3), ("sweep", True, 3, 3)]
    # a label frequency over both batches, joined to the time series of one of them
    n_glut, n_runs = con.execute(
        "SELECT sum(label_glut::INT), count(*) FROM read_parquet(?, union_by_name = true)", [files]).fetchone()
    assert n_runs == 11 and 0 <= n_glut <= 11
    months = con.execute(f"""
        SELECT count(DISTINCT tick) FROM read_parquet('{tmp_path / "sweep" / "timeseries.parquet"}') t
        JOIN read_parquet('{files[1]}') r USING (run_id) WHERE r.replicate = 0
    """).fetchone()[0]
    assert months == 24


# --------------------------------------------------------------------------- bad input
BAD_GRID = """
    [batch]
    scenario = "baseline"
    [grid]
    "labs.nobody.aggressiveness" = [1.0, 2.0]
"""
EMPTY_RANGE = sampled_batch("scale.permit_delay", "[3.0, 1.0]")


@pytest.mark.parametrize("case", ["unknown path", "empty range", "negative runs", "unwritable out",
                                  "existing out"])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, case):
    (tmp_path / "bad_grid.toml").write_text(textwrap.dedent(BAD_GRID))
    (tmp_path / "empty_range.toml").write_text(textwrap.dedent(EMPTY_RANGE))
    (tmp_path / "a_file").write_text("")
    existing = tmp_path / "results" / "baseline"
    if case == "existing out":
        existing.mkdir(parents=True)
        (existing / "manifest.json").write_text("{}")
    args, expected = {
        "unknown path": (["bad_grid.toml"],
                         "error: bad_grid.toml: grid.labs.nobody.aggressiveness: unknown parameter path"),
        "empty range": (["empty_range.toml"],
                        "error: empty_range.toml: sample.ranges.scale.permit_delay: empty range [3.0, 1.0]; "
                        "need low < high"),
        "negative runs": (["baseline", "--runs", "-5"],
                          "error: command line: --runs: must be a positive integer (got -5)"),
        "unwritable out": (["baseline", "--runs", "2", "--out", "a_file/batch"],
                           "error: a_file/batch: --out: cannot create it: a_file is a file, not a directory"),
        "existing out": (["baseline", "--runs", "2"],
                         "error: results/baseline: --out: already exists; pass --resume to complete it, "
                         "--overwrite to replace it, or choose another --out or --name"),
    }[case]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = cli(*args, "--quiet", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # exactly one line
    assert done.stderr.startswith(expected), done.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written


def test_the_fork_server_starts_before_the_batch_needs_it():
    """The batch command starts the workers' fork server first, so its imports overlap the command's own."""
    from multiprocessing import forkserver

    from experiments.backends.local import WORKER_MODULES, safe_start_method, start_fork_server

    assert start_fork_server(1, WORKER_MODULES) is False   # one worker runs in this process
    if safe_start_method() != "forkserver":
        pytest.skip("workers are not forked from a server on this platform")
    assert start_fork_server(2, WORKER_MODULES) is True
    assert forkserver._forkserver._forkserver_pid is not None   # running (a second call reuses it)
    assert start_fork_server(2, WORKER_MODULES) is True
