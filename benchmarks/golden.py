"""Check that a change to the code leaves seeded worlds bit-for-bit the same (a developer's tool).

Speed work should not change what the model computes. This script runs a fixed set of seeded worlds
(four seeds of six scenarios, every table: outcomes, time series, events), saves them, and later
compares a changed tree against them:

    .venv/bin/python benchmarks/golden.py save  /tmp/golden.pkl     # on the reference code
    .venv/bin/python benchmarks/golden.py check /tmp/golden.pkl     # on the changed code

A difference in one world means the change moved the arithmetic (the model is chaotic: reordering a
floating-point sum changes single runs completely). Such a change is not wrong by itself, but it must
then be checked statistically instead: ``computemarket compare`` on a few hundred paired seeds before
and after, and ``computemarket validate`` (docs/performance.md).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys

import pandas as pd

from sim.config import load_scenario
from sim.runner import run_world

SCENARIOS = ("baseline", "overbuild", "progress_stall", "compute_leverage", "history", "forward_bet")
SEEDS = range(4)


def run_cases() -> dict[tuple[str, int], tuple[dict, pd.DataFrame, pd.DataFrame]]:
    out = {}
    for name in SCENARIOS:
        cfg = load_scenario(name)
        for seed in SEEDS:
            r = run_world(cfg, seed)
            out[(name, seed)] = (r.outcomes, pd.DataFrame(r.timeseries), pd.DataFrame(r.events))
    return out


def first_difference(a, b, path: str = "") -> str | None:
    """Where two saved worlds first differ (rounding below 1e-12 relative is ignored), else None."""
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=0.0, check_dtype=False)
        except AssertionError as e:
            return f"{path}: {str(e).splitlines()[0]}"
        return None
    if isinstance(a, tuple):
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := first_difference(x, y, f"{path}[{i}]"))), None)
    if isinstance(a, dict):
        for k in a:
            if k not in b:
                return f"{path}.{k} missing"
            if d := first_difference(a[k], b[k], f"{path}.{k}"):
                return d
        return None
    if isinstance(a, float) and isinstance(b, float):
        same = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12 * max(1.0, abs(a))
        return None if same else f"{path}: {a!r} != {b!r}"
    return None if a == b else f"{path}: {a!r} != {b!r}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("save", "check"))
    ap.add_argument("file", help="where the reference worlds are saved (a pickle)")
    args = ap.parse_args(argv)
    worlds = run_cases()
    if args.action == "save":
        with open(args.file, "wb") as f:
            pickle.dump(worlds, f)
        print(f"saved {len(worlds)} worlds to {args.file}")
        return 0
    with open(args.file, "rb") as f:
        reference = pickle.load(f)
    diffs = [(k, d) for k in reference if (d := first_difference(reference[k], worlds[k], str(k)))]
    for _, d in diffs:
        print("DIFF", d[:300])
    print("identical" if not diffs else f"{len(diffs)} of {len(reference)} worlds differ")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
