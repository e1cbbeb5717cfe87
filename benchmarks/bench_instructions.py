"""Instructions a 120-month baseline run executes, counted by valgrind (a developer's tool, not a test).

Wall and CPU times on a shared 2-core machine move by 15-30 % between identical runs, which hides any
change smaller than that. Instruction counts do not depend on what else the machine is doing, so they
compare two versions of the code to about a per cent:

    .venv/bin/python benchmarks/bench_instructions.py                  # this tree, 10 seeds
    .venv/bin/python benchmarks/bench_instructions.py --tree ../other  # another checkout, same venv

It runs ``valgrind --tool=cachegrind --cache-sim=no`` on a child Python that imports the tree, loads the
scenario and runs a warm-up world, then ``--seeds`` worlds, and again on one that runs none; the
difference divided by the number of seeds is the count for one run (start-up, imports and the warm-up
cancel out). Five counts of the same code fell within 733-744 M (+-0.8 %) because:

- the child freezes its start-up heap before the counted worlds, as batch workers do (otherwise a full
  garbage collection over every imported module's objects may or may not fall inside them: +-5 %);
- string hashing is fixed (``PYTHONHASHSEED=0``; with random hashing counts differed by ~1.5 %);
- 10 seeds, not 4, make the start-up's own variation small per run.

Needs valgrind (Debian: ``apt-get install valgrind``); a count takes about a minute. Fewer instructions
are not always less time (memory and branch behaviour matter too), but for the pure-Python code of the
model they track it closely.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import gc
import sys
sys.path.insert(0, sys.argv[1])
from sim.config import load_scenario
from sim.runner import simulate
cfg = load_scenario(sys.argv[3])
simulate(cfg, 1000)   # warm-up: imports, caches
gc.collect()
gc.freeze()           # as batch workers do: a full collection then scans only what the runs allocate
for seed in range(int(sys.argv[2])):
    simulate(cfg, seed)
"""


def count(tree: Path, seeds: int, scenario: str, workdir: Path) -> int:
    """Instructions executed by a child process running ``seeds`` worlds of ``scenario`` (after start-up
    and a warm-up world)."""
    script = workdir / "child.py"
    script.write_text(CHILD)
    out = workdir / f"cachegrind.{seeds}.out"
    proc = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
                           sys.executable, str(script), str(tree), str(seeds), scenario],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"})   # string hashing, and so the count, repeatable
    match = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{proc.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=ROOT, help="checkout whose sim/ and agents/ to run (default: this one)")
    ap.add_argument("--seeds", type=int, default=10, help="worlds counted (default 10)")
    ap.add_argument("--scenario", default="baseline")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("error: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    if args.seeds < 1:
        print("error: --seeds must be at least 1", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from sim.config import ConfigError, load_scenario
    try:
        months = load_scenario(args.scenario).meta.months
    except ConfigError as exc:
        print(f"error: --scenario: {exc}", file=sys.stderr)
        return 2
    tree = args.tree.resolve()
    if not (tree / "sim" / "model.py").is_file():
        print(f"error: --tree {args.tree}: no sim/model.py there (a computemarket checkout is expected)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        base = count(tree, 0, args.scenario, Path(tmp))
        total = count(tree, args.seeds, args.scenario, Path(tmp))
    per_run = (total - base) / args.seeds
    compiled = ", compiled" if list(Path(tree).glob("sim/model*.so")) else ""
    print(f"{args.scenario} {months}-month run: {per_run / 1e6:.1f} M instructions a run "
          f"({args.seeds} seeds; start-up and warm-up {base / 1e6:.0f} M) [{tree}{compiled}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
