"""The compiled build (``make native``, sim/native.py) computes what the sources compute, bit for bit.

Two copies of the code are made, one compiled with mypyc: the same worlds (six scenarios, three seeds
each) run in a child process from each copy, and every table must be identical; so must the outcome
columns of a small two-worker batch. A compiled module whose source then changes must stop the import
with one line saying what to run. (About two minutes: most of it the C compiler.)
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("mypyc", reason="the compiled build needs mypy (the dev extra installs it)")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("baseline", "overbuild", "progress_stall", "compute_leverage", "history", "forward_bet")

WORLDS = textwrap.dedent("""
    import pickle, sys
    from sim import native
    from sim.config import load_scenario
    from sim.runner import run_world
    out = {"compiled": native.active(), "worlds": {}}
    for name in sys.argv[2].split(","):
        cfg = load_scenario(name)
        for seed in range(3):
            r = run_world(cfg, seed)
            out["worlds"][(name, seed)] = (r.outcomes, r.timeseries, r.events)
    with open(sys.argv[1], "wb") as f:
        pickle.dump(out, f)
""")


def _copy(dest: Path) -> Path:
    """The sources a run needs (no compiled files, caches or results)."""
    skip = shutil.ignore_patterns("*.so", "*.pyd", "_native.json", "__pycache__")
    for pkg in ("sim", "agents", "experiments"):
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=skip)
    return dest


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}


def _run(tree: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=tree, env=_env(tree), capture_output=True, text=True,
                          check=check, timeout=900)


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("native")
    pure, native = _copy(base / "pure"), _copy(base / "native")
    build = _run(native, "sim/native.py", "build", check=False)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    return pure, native


def _worlds(tree: Path, out: Path) -> dict:
    (tree / "worlds.py").write_text(WORLDS)
    _run(tree, "worlds.py", str(out), ",".join(SCENARIOS))
    with open(out, "rb") as f:
        return pickle.load(f)


def test_compiled_worlds_are_identical_to_the_sources(trees, tmp_path):
    pure, native = trees
    a, b = _worlds(pure, tmp_path / "pure.pkl"), _worlds(native, tmp_path / "native.pkl")
    assert a["compiled"] is False and b["compiled"] is True   # each copy ran what it should
    assert a["worlds"].keys() == b["worlds"].keys() and len(a["worlds"]) == 3 * len(SCENARIOS)
    for key, (outcomes, ts, ev) in a["worlds"].items():
        outcomes_b, ts_b, ev_b = b["worlds"][key]
        pd.testing.assert_series_equal(pd.Series(outcomes, dtype=object), pd.Series(outcomes_b, dtype=object),
                                       obj=f"outcomes of {key}")
        pd.testing.assert_frame_equal(ts, ts_b, check_exact=True, obj=f"time series of {key}")
        pd.testing.assert_frame_equal(ev, ev_b, check_exact=True, obj=f"events of {key}")
        assert len(ev) > 10


def test_compiled_batch_gives_the_same_runs(trees, tmp_path):
    pure, native = trees
    runs, builds = {}, {}
    for name, tree in (("pure", pure), ("native", native)):
        out = tmp_path / name
        _run(tree, "-m", "sim", "batch", "baseline", "--runs", "12", "--workers", "2", "--seed", "5",
             "--out", str(out), "--no-report", "--quiet")
        runs[name] = pd.read_parquet(out / "runs.parquet")
        builds[name] = json.loads((out / "manifest.json").read_text())["build"]
    pd.testing.assert_frame_equal(runs["pure"], runs["native"], check_exact=True)
    assert builds == {"pure": "sources", "native": "compiled"}   # the manifest says which build ran


def test_status_tells_which_build_runs(trees):
    pure, native = trees
    assert _run(pure, "sim/native.py", "status").stdout.strip() == "plain Python (sources)"
    assert _run(native, "sim/native.py", "status").stdout.strip() == "compiled (make native)"


def test_a_source_changed_after_compiling_stops_the_import_with_one_line(trees, tmp_path):
    _, native = trees
    stale = _copy(tmp_path / "stale")
    for so in [*native.glob("sim/*.so"), *native.glob("agents/*.so"), native / "sim" / "_native.json"]:
        shutil.copy(so, stale / so.relative_to(native))
    assert _run(stale, "-c", "import sim.model").returncode == 0   # a faithful copy of the build imports
    lab = stale / "agents" / "lab.py"
    lab.write_text(lab.read_text() + "\n# an edit\n")
    r = _run(stale, "-c", "import agents.lab", check=False)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert "agents/lab.py changed since it was compiled" in last and "make native" in last and "make pure" in last
    assert _run(stale, "sim/native.py", "clean").returncode == 0   # clean runs despite the stale build ...
    assert _run(stale, "-c", "import agents.lab").returncode == 0   # ... and the sources run again


FREED = textwrap.dedent("""
    import gc
    from sim.config import load_scenario
    from sim.runner import run_world
    cfg = load_scenario("baseline")
    run_world(cfg, 99, months=24)   # first imports done (they make cycles of their own)
    gc.collect()
    gc.disable()   # freed by reference counting alone: no cycle left for a collection to find
    for seed in range(4):
        run_world(cfg, seed, months=24)
    kinds = {"sim.model.ComputeMarketModel", "sim.ledger.Project", "agents.cloud.Cloud"}
    left = sum(f"{type(o).__module__}.{type(o).__name__}" in kinds for o in gc.get_objects())
    print(left, gc.collect())
""")


def test_finished_worlds_free_their_memory_in_both_builds(trees):
    """A batch worker runs thousands of worlds: none may stay in memory after its tables are built (the
    compiled classes hide Mesa's instance dictionaries from the garbage collector, so run_world breaks
    the cycles, ComputeMarketModel.release; without it every compiled world stayed, ~4 MB each). They are
    freed by reference counting alone, the moment the run is done: a dead world left to the collector made
    it walk all of it (~10 % of a compiled worker's time)."""
    for tree in trees:
        assert _run(tree, "-c", FREED).stdout.split() == ["0", "0"], tree


@pytest.mark.parametrize("state, builds", [(True, False), (False, True), ("stale", True)])
def test_ensure_compiles_only_without_a_current_build(monkeypatch, capsys, state, builds):
    """`make native` (``sim/native.py ensure``) compiles when there is no build or a stale one, not again
    when the build is current."""
    from sim import native

    def check(root=native.ROOT):
        if state == "stale":
            raise native.StaleBuild("a source changed")
        return state

    built = []
    monkeypatch.setattr(native, "check", check)
    monkeypatch.setattr(native, "build", lambda root=native.ROOT, quiet=True: built.append(quiet))
    assert native.main(["ensure"]) == 0
    assert bool(built) == builds
    assert ("built now" if builds else "already current") in capsys.readouterr().out
