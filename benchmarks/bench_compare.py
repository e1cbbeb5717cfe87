"""Benchmark: `computemarket compare` on two 2,000-run batches (target: under 10 s).

Writes two synthetic batches of realistic size (2,000 runs each; 121 monthly
ticks x 18 market variables + 10 agents x 6 agent variables per run, i.e.
about 19 million time-series rows per batch) that share seeds, as batches run
with the default paired seeds do, then times the command end to end in a fresh
interpreter (imports, reading, statistics, HTML report, terminal table):
"cold" without the fan-chart cache (the time series are read from
timeseries.parquet), "warm" with it (as after `computemarket batch`, whose
report.html leaves the cache in results/<name>/.analysis/).

    python benchmarks/bench_compare.py [--runs 2000] [--data DIR] [--repeat 3]

Both wall and CPU seconds (user + system over all threads) are printed: on a
machine shared with other work the wall time mostly measures the contention;
with the files in the page cache the command does no waiting, so on an idle
machine its wall time is at most its CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0


def make_batches(data: Path, runs: int) -> tuple[Path, Path]:
    """The two synthetic batches (reused when already there)."""
    from experiments.analysis.synthetic import write_synthetic_batch

    a, b = data / f"bench_baseline_{runs}", data / f"bench_forward_bet_{runs}"
    if not (a / "manifest.json").exists():
        write_synthetic_batch(a, runs, batch_seed=1)
    if not (b / "manifest.json").exists():
        write_synthetic_batch(b, runs, batch_seed=1, scenario="forward_bet", level=1.1,
                              label_probs={"label_glut": 0.36}, outcome_shifts={"peak_spot_price": 0.2})
    return a, b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "computemarket-bench")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    a, b = make_batches(args.data, args.runs)
    print(f"data: {a} and {b} ready in {time.perf_counter() - t0:.1f} s")
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(a / "timeseries.parquet").metadata.num_rows
    print(f"per batch: {args.runs} runs, {rows:,} time-series rows")

    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for i in range(args.repeat):
        for mode in ("cold", "warm"):
            if mode == "cold":  # drop the fan-chart cache: time series read from timeseries.parquet
                for d in (a, b):
                    shutil.rmtree(d / ".analysis", ignore_errors=True)
            wall, cpu = run_compare(a, b, args.data / "bench_compare.html")
            results[mode].append((wall, cpu))
            print(f"run {i + 1} {mode}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    load = os.getloadavg()[0]
    print(f"load average during the benchmark: {load:.1f} on {os.cpu_count()} cores")
    ok = True
    for mode, rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        verdict = "OK" if wall < TARGET_SECONDS else "TOO SLOW"
        ok &= wall < TARGET_SECONDS or mode == "warm"
        print(f"compare of two {args.runs}-run batches, {mode}: median {wall:.2f} s wall ({cpu:.2f} s CPU), "
              f"target < {TARGET_SECONDS:.0f} s: {verdict}")
    return 0 if ok else 1


def run_compare(a: Path, b: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all threads) of one `compare` in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "experiments.cli_compare", "compare", str(a), str(b),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


if __name__ == "__main__":
    sys.exit(main())
