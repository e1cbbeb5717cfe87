"""Benchmarks of experiment batches (a script, not a test).

    .venv/bin/python benchmarks/bench_batch.py                 # everything, issue-sized (tens of minutes)
    .venv/bin/python benchmarks/bench_batch.py --quick         # the same at a tenth of the runs
    .venv/bin/python benchmarks/bench_batch.py --only speedup mesa --json bench.json

Measures, each batch in a fresh process running ``computemarket batch`` (or
``mesa.batch_run``), with wall time and peak memory of the whole process tree
(main process, fork server and workers; proportional set size, so pages shared
between workers count once) and the CPU seconds of that tree (sampled; less
sensitive than wall time to other work on the machine):

- main:    a 2,000-run ``baseline`` batch on 2 local workers (target <= 60 s)
- speedup: a 500-run batch (``--speedup-runs``) on 1 and on 2 workers, three pairs back to back
           (``--speedup-pairs``), the median ratio (target >= 1.7x); a batch has
           ~1-1.5 s of fixed cost (imports, fork server, final merge), so small
           batches show less
- memory:  peak memory of a 5,000-run vs a 500-run batch (target within 1.2x)
- mesa:    ``mesa.batch_run`` on the same model, seeds, horizon and number of
           processes, collecting the model's DataCollector every month, versus
           our batch (which records a superset: every market and agent series,
           events and outcomes, written to Parquet)
- overhead: CPU milliseconds per run outside the model's months (outcomes, the
           run's tables, part files, Parquet), from 1-worker batches that run
           in one process; CPU time, so other work on the machine moves it little;
           also the marginal cost a run, from two batch sizes, without what a batch
           pays once (imports, the store, the report)

Targets are printed next to the numbers; the script does not fail on a miss.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

MESA_SCRIPT = textwrap.dedent("""
    import sys
    import mesa
    from experiments.design import load_design
    from sim.model import ComputeMarketModel

    if __name__ == "__main__":
        runs, workers = int(sys.argv[1]), int(sys.argv[2])
        design = load_design("baseline", runs=runs)          # the same seeds as our batch
        results = mesa.batch_run(ComputeMarketModel, parameters={"scenario": "baseline"},
                                 rng=design.seed_list(), max_steps=design.base_config.meta.months,
                                 number_processes=workers, data_collection_period=1, display_progress=False)
        print(len(results))
""")


OVERHEAD_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import sim.runner
    from experiments.batch import run_batch
    from experiments.design import load_design

    model_cpu = 0.0
    simulate = sim.runner.simulate

    def timed_simulate(*args, **kwargs):
        global model_cpu
        started = time.process_time()
        try:
            return simulate(*args, **kwargs)
        finally:
            model_cpu += time.process_time() - started

    if __name__ == "__main__":
        runs, out = int(sys.argv[1]), sys.argv[2]
        sim.runner.simulate = timed_simulate  # workers=1 runs in this process
        design = load_design("baseline", runs=runs)
        started = time.process_time()
        run_batch(design, out, workers=1, overwrite=True, progress=False)
        total = time.process_time() - started
        print(json.dumps({"runs": runs, "cpu_s": round(total, 2), "model_cpu_s": round(model_cpu, 2),
                          "overhead_ms_per_run": round((total - model_cpu) / runs * 1000, 1),
                          "model_ms_per_run": round(model_cpu / runs * 1000, 1)}))
""")


def measure(cmd: list[str], cwd: Path) -> dict:
    """Run ``cmd``; wall seconds and peak memory (MB) of its process tree, sampled every 0.5 s."""
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine skews every number
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"tree_pss_mb": 0.0, "main_rss_mb": 0.0}
    cpu_by_pid: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                pss = 0
                for p in procs:
                    try:
                        pss += p.memory_full_info().pss
                        times = p.cpu_times()
                        cpu_by_pid[p.pid] = times.user + times.system
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        pass
                peak["tree_pss_mb"] = max(peak["tree_pss_mb"], pss / 2**20)
                peak["main_rss_mb"] = max(peak["main_rss_mb"], root.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                break
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(sum(cpu_by_pid.values()), 1),
            "tree_pss_mb": round(peak["tree_pss_mb"], 1),
            "main_rss_mb": round(peak["main_rss_mb"], 1), "load_before": load_before,
            "load_after": round(os.getloadavg()[0], 2), "stdout": out.strip().splitlines()[-1:]}


def our_batch(runs: int, workers: int, tmp: Path, label: str, months: int | None) -> dict:
    """``computemarket batch baseline --runs N --workers W`` in a fresh process."""
    cmd = [PYTHON, "-m", "experiments.cli_batch", "baseline", "--runs", str(runs), "--workers", str(workers),
           "--out", str(tmp / label), "--overwrite", "--no-report", "--quiet"]
    if months:
        cmd += ["--set", f"meta.months={months}"]
    result = measure(cmd, ROOT)
    result["runs_per_s"] = round(runs / result["wall_s"], 1)
    result["timeseries_mb"] = round((tmp / label / "timeseries.parquet").stat().st_size / 2**20, 1)
    return result


def mesa_batch(runs: int, workers: int, tmp: Path) -> dict:
    """``mesa.batch_run`` on the same model and seeds in a fresh process."""
    script = tmp / "mesa_batch.py"
    script.write_text(MESA_SCRIPT)
    result = measure([PYTHON, str(script), str(runs), str(workers)], ROOT)
    result["runs_per_s"] = round(runs / result["wall_s"], 1)
    return result


def overhead(runs: int, tmp: Path) -> dict:
    """CPU per run outside the model's months, from 1-worker batches in fresh processes: ``runs`` and three
    times as many, so that what a batch pays once (the first run's imports, the store, the report) cancels
    out of the marginal figure."""
    script = tmp / "overhead.py"
    script.write_text(OVERHEAD_SCRIPT)

    def one(n: int) -> dict:
        out = subprocess.run([PYTHON, str(script), str(n), str(tmp / "overhead")], cwd=ROOT, capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if out.returncode != 0:
            raise RuntimeError(f"overhead script failed ({out.returncode}):\n{out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    small, large = one(runs), one(3 * runs)
    extra = large["runs"] - small["runs"]
    marginal = (large["cpu_s"] - small["cpu_s"] - (large["model_cpu_s"] - small["model_cpu_s"])) / extra * 1000
    return {**large, "fixed_cpu_s": round(large["cpu_s"] - large["model_cpu_s"] - marginal * large["runs"] / 1000, 2),
            "marginal_overhead_ms_per_run": round(marginal, 1)}


def show(title: str, rows: dict[str, dict], verdict: str) -> None:
    print(f"\n== {title}")
    for label, r in rows.items():
        print(f"   {label:<28} wall {r['wall_s']:>7.1f} s   cpu {r['cpu_s']:>7.1f} s   "
              f"{r.get('runs_per_s', 0):>6.1f} runs/s   "
              f"peak tree PSS {r['tree_pss_mb']:>7.0f} MB   main RSS {r['main_rss_mb']:>6.0f} MB   "
              f"load {r['load_before']:.1f}->{r['load_after']:.1f}")
    print(f"   -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=("main", "speedup", "memory", "mesa", "overhead"),
                        default=["main", "speedup", "memory", "mesa", "overhead"])
    parser.add_argument("--overhead-runs", type=int, default=100, help="runs in the overhead measure")
    parser.add_argument("--quick", action="store_true", help="a tenth of the runs (a smoke test of the script)")
    parser.add_argument("--months", type=int, help="override the horizon (default: the scenario's)")
    parser.add_argument("--mesa-runs", type=int, default=500, help="runs in the mesa.batch_run comparison")
    parser.add_argument("--speedup-pairs", type=int, default=3,
                        help="1-worker/2-worker pairs in the comparison; the median ratio is reported (default 3)")
    parser.add_argument("--speedup-runs", type=int, default=500,
                        help="runs in the 1 vs 2 worker comparison (default 500; the batch's fixed ~1-1.5 s weighs "
                             "less in larger ones)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    from sim import native
    build = "compiled (make native)" if native.check() else "plain Python (make native compiles the model)"
    report: dict[str, dict] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "build": build}}
    print(f"build: {build}")

    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmpdir:
        tmp = Path(tmpdir)
        if "main" in args.only:
            runs = 2000 // scale
            r = our_batch(runs, 2, tmp, "main", args.months)
            report["main"] = r
            show(f"{runs}-run baseline batch, 2 local workers", {"computemarket batch": r},
                 f"{r['wall_s']:.1f} s (target <= 60 s for 2,000 runs)")
        if "speedup" in args.only:
            runs = max(args.speedup_runs // scale, 20)
            # pairs run back to back, 1 worker then 2, so each ratio compares batches a minute apart (the
            # machine's speed drifts by tens of per cent over minutes); the median ratio is the figure
            ratios, same = [], True
            for i in range(args.speedup_pairs):
                one = our_batch(runs, 1, tmp, "w1", args.months)
                two = our_batch(runs, 2, tmp, "w2", args.months)
                same &= (tmp / "w1" / "runs.parquet").read_bytes() == (tmp / "w2" / "runs.parquet").read_bytes()
                ratios.append(one["wall_s"] / two["wall_s"])
                show(f"{runs} runs, 1 vs 2 workers (pair {i + 1} of {args.speedup_pairs})",
                     {"1 worker": one, "2 workers": two}, f"speed-up {ratios[-1]:.2f}x")
            speedup = statistics.median(ratios)
            report["speedup"] = {"one": one, "two": two, "ratios": [round(r, 2) for r in ratios],
                                 "speedup": round(speedup, 2), "identical_runs": same}
            print(f"   -> median speed-up {speedup:.2f}x over {len(ratios)} pairs "
                  f"({', '.join(f'{r:.2f}' for r in ratios)}; target >= 1.7x); runs.parquet identical: {same}")
        if "memory" in args.only:
            small_n, large_n = 500 // scale, 5000 // scale
            small = our_batch(small_n, 2, tmp, "small", args.months)
            large = our_batch(large_n, 2, tmp, "large", args.months)
            ratio = large["tree_pss_mb"] / small["tree_pss_mb"]
            report["memory"] = {"small": small, "large": large, "ratio": round(ratio, 3)}
            show(f"peak memory, {large_n} vs {small_n} runs (2 workers)",
                 {f"{small_n} runs": small, f"{large_n} runs": large},
                 f"peak tree memory ratio {ratio:.2f} (target <= 1.2)")
        if "mesa" in args.only:
            runs = max(args.mesa_runs // scale, 20)
            if args.months:
                print("note: the mesa comparison always uses the scenario's horizon")
            ours = our_batch(runs, 2, tmp, "vs_mesa", None)
            theirs = mesa_batch(runs, 2, tmp)
            report["mesa"] = {"ours": ours, "mesa_batch_run": theirs,
                              "wall_ratio_mesa_over_ours": round(theirs["wall_s"] / ours["wall_s"], 2),
                              "memory_ratio_mesa_over_ours": round(theirs["tree_pss_mb"] / ours["tree_pss_mb"], 2)}
            show(f"{runs} runs, same seeds, 2 processes", {"computemarket batch": ours, "mesa.batch_run": theirs},
                 f"mesa.batch_run / ours: wall {report['mesa']['wall_ratio_mesa_over_ours']:.2f}x, "
                 f"peak memory {report['mesa']['memory_ratio_mesa_over_ours']:.2f}x")
        if "overhead" in args.only:
            r = overhead(max(args.overhead_runs // scale, 10), tmp)
            report["overhead"] = r
            print(f"\n== CPU per run outside the model ({r['runs']} runs, 1 worker, in one process)")
            print(f"   overhead {r['overhead_ms_per_run']:.1f} ms per run (model {r['model_ms_per_run']:.1f} ms per run; "
                  f"total {r['cpu_s']:.1f} s CPU); marginal {r['marginal_overhead_ms_per_run']:.1f} ms a run beyond "
                  f"{r['fixed_cpu_s']:.1f} s paid once a batch")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
