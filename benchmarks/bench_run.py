"""Benchmark one world: median wall time of a 120-month baseline run (interpreter start and config
loading excluded), and months per second as the number of labs and clouds grows (1x, 4x, 16x).

    .venv/bin/python benchmarks/bench_run.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim.config import load_scenario
from sim.runner import simulate


def scaled(cfg, k: int):
    """The baseline with every lab and cloud cloned k times (ids suffixed), partners kept within a clone."""
    if k == 1:
        return cfg
    data = cfg.model_dump()
    labs, clouds = {}, {}
    for i in range(k):
        sfx = "" if i == 0 else f"_{i}"
        for lid, lab in data["labs"].items():
            lab = dict(lab)
            if lab["partner_cloud"]:
                lab["partner_cloud"] += sfx
            labs[lid + sfx] = lab
        for cid, cl in data["clouds"].items():
            cl = dict(cl)
            if cl["hosts_lab"]:
                cl["hosts_lab"] += sfx
            clouds[cid + sfx] = cl
    data["labs"], data["clouds"] = labs, clouds
    data["market"]["initial_demand_egw"] *= k
    data["market"]["saturation_egw"] *= k
    data["chipmaker"]["supply_gw_per_month"] *= k
    for r in data["regulators"].values():
        r["throughput_gw_per_month"] *= k
        r["grid_gw_per_year"] *= k
    return type(cfg).model_validate(data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    base = load_scenario("baseline")
    simulate(base, 0)   # warm-up (imports, caches)
    times = []
    for s in range(args.repeats):
        t = time.perf_counter()
        simulate(base, s)
        times.append(time.perf_counter() - t)
    print(f"baseline 120-month run: median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.repeats} seeds")
    for k in (1, 4, 16):
        cfg = scaled(base, k)
        months = 60
        t = time.perf_counter()
        reps = 3 if k < 16 else 1
        for s in range(reps):
            simulate(cfg, s, months)
        dt = (time.perf_counter() - t) / reps
        n = len(cfg.labs) + len(cfg.clouds)
        print(f"{k:>2}x agents ({n:>3} labs+clouds): {months / dt:8.1f} months/s, {dt / months * 1000:7.2f} ms/month, "
              f"{dt / months / n * 1e6:6.0f} us per agent-month")


if __name__ == "__main__":
    main()
