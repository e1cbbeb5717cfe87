"""Benchmark one world: median wall time of a 120-month baseline run (interpreter start and config
loading excluded; the months and freeing the world, not its output tables), where a month's time goes (the ten phases of ``ComputeMarketModel.step``), and
months per second as the number of labs and clouds grows (1x, 4x, 16x).

    .venv/bin/python benchmarks/bench_run.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim import native
from sim.config import load_scenario
from sim.model import ComputeMarketModel
from sim.runner import simulate

PHASES = ("_begin_month", "phase_demand", "phase_serving", "phase_settlement", "phase_offtake", "phase_investment",
          "phase_permitting", "phase_financing", "phase_chips_and_construction", "phase_distress",
          "phase_training_and_record")


def phase_times(cfg, seeds: range) -> dict[str, float]:
    """Mean ms per run spent in each phase of the month (a subclass times each phase around the model's
    own; a subclass, not timers patched onto an instance, which the compiled build would not call)."""
    spent = dict.fromkeys(PHASES, 0.0)

    def timed(name):
        def phase(self):
            t = time.perf_counter()
            getattr(super(Timed, self), name)()
            spent[name] += time.perf_counter() - t
        return phase

    Timed = type("Timed", (ComputeMarketModel,), {name: timed(name) for name in PHASES})
    for seed in seeds:
        m = Timed(config=cfg, rng=seed)
        while m.running:
            m.step()
    return {k: v / len(seeds) * 1000 for k, v in spent.items()}


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
    simulate(base, 0).release()   # warm-up (imports, caches)
    times, cpu = [], []
    for s in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        simulate(base, s).release()   # a run's whole cost: its months and freeing its world
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    build = "compiled, make native" if native.active() else "plain Python; make native compiles it"
    print(f"baseline 120-month run: median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.repeats} seeds [{build}]; "
          f"CPU median {statistics.median(cpu) * 1000:.0f} ms")
    phases = phase_times(base, range(args.repeats))
    total = sum(phases.values())
    print("where a run's time goes (ms per run, share):")
    for name, ms in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"  {name:30s} {ms:6.1f} ms {ms / total:6.1%}")
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
