"""The `computemarket` command line: one entry point for every subcommand.

``run`` and ``scenarios`` live here; ``batch``, ``compare``, ``sensitivity`` and ``validate``
are registered by experiments/ and ``viz`` by sim/cli_viz.py. Heavy imports happen inside
handlers so ``--help`` is instant. Errors in input exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

# modules that add subcommands: each exposes register(subparsers)
EXTENSIONS = ("experiments.cli_batch", "experiments.cli_compare", "experiments.cli_validate", "sim.cli_viz")


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from sim.config import ConfigError, load_scenario, scenario_names, schema_fields

    if args.fields is not None:   # the parameters, not the scenarios
        rows = [r for r in schema_fields() if r[0].startswith(args.fields)]
        if not rows:
            sections = sorted({r[0].split(".")[0] for r in schema_fields()})
            raise ConfigError("--fields", args.fields, f"no parameter path starts with this; sections: {', '.join(sections)}")
        for path, kind, default, desc in rows:
            print(f"{path}  ({kind}, default {default!r})\n    {desc}")
        return 0
    width = max(len(n) for n in scenario_names())
    for name in scenario_names():
        try:
            desc = load_scenario(name).meta.description
        except ConfigError as exc:
            desc = f"(invalid: {exc})"
        print(f"{name:<{width}}  {desc}")
    return 0


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from sim.config import load_scenario
    from sim.runner import events_frame, simulate, timeseries_frame

    cfg = load_scenario(args.scenario, args.set)
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_writable(out)
    t0 = time.perf_counter()
    model = simulate(cfg, args.seed, args.months)
    elapsed = time.perf_counter() - t0
    outcomes = model.outcomes()
    labels = [k for k in outcomes if k.startswith("label_")]
    print(f"{cfg.meta.name}: seed {args.seed}, {model.tick} months from {cfg.meta.start} ({elapsed:.2f} s)")
    print("labels:   " + "  ".join(f"{k[6:]}={'YES' if outcomes[k] else 'no'}" for k in labels))
    keys = ["peak_usd_gpu_hour", "trough_usd_gpu_hour", "months_glut", "months_scarcity", "mean_utilisation",
            "gw_operational_start", "gw_operational_end", "cumulative_capex_busd", "chipmaker_revenue_busd",
            "chipmaker_margin", "labs_surviving", "largest_lab_share", "n_defaults", "n_cascade_defaults",
            "n_acquisitions", "stranded_gw", "lender_losses_busd", "vendor_finance_losses_busd"]
    if outcomes["in_house_chip_share"] > 0:   # a world with clouds' own accelerators (custom_silicon)
        keys.insert(keys.index("chipmaker_margin") + 1, "in_house_chip_share")
    for k in keys:
        print(f"  {k:<28} {_fmt(outcomes[k])}")
    notable = [e for e in model.event_log if e["kind"] in ("default", "acquisition", "liquidation", "moratorium",
                                                           "progress_stall", "efficiency_shock", "demand_surge")]
    big = sorted((e for e in model.event_log if e["kind"] == "contract_signed"), key=lambda e: -e["amount_busd"])[:3]
    if notable or big:
        print("notable events:")
        for e in sorted(notable + big, key=lambda e: e["tick"])[:25]:
            cp = f" <- {e['counterparty']}" if e["counterparty"] else ""
            print(f"  {e['date']}  {e['kind']:<18} {e['party']}{cp}  ${e['amount_busd']:,.1f}B  {e['gw']:.2f} GW  {e['detail']}")
    if out is not None:
        import json
        import os
        import tempfile

        import pandas as pd

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        timeseries_frame(model, cfg.record.every).to_parquet(tmp / "timeseries.parquet", index=False)
        events_frame(model).to_parquet(tmp / "events.parquet", index=False)
        pd.DataFrame([{"scenario": cfg.meta.name, "seed": args.seed, **outcomes}]).to_parquet(tmp / "run.parquet", index=False)
        (tmp / "config.json").write_text(json.dumps(cfg.model_dump(), indent=1))
        if out.exists():
            import shutil
            shutil.rmtree(out)
        os.replace(tmp, out)
        print(f"wrote {out}/ (run.parquet, timeseries.parquet, events.parquet, config.json)")
    return 0


def _check_writable(path: Path) -> None:
    from sim.config import ConfigError

    parent = path.parent if not path.exists() else path
    while not parent.exists():
        parent = parent.parent
    import os
    if not os.access(parent, os.W_OK):
        raise ConfigError(str(path), "--out", "directory is not writable")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="computemarket",
        description="Agent-based market simulation of the AI compute buildout (labs, clouds, chipmaker, "
                    "capital markets, regulators).")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress of the library")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run one world and print its labels, outcomes and notable events")
    r.add_argument("scenario", help="scenario name (see `computemarket scenarios`) or path to a .toml")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--months", type=int, default=None, help="horizon in months (default: the scenario's)")
    r.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="override a parameter by dotted path, e.g. labs.frontier_a.aggressiveness=2.0 (repeatable)")
    r.add_argument("--out", default=None, metavar="DIR", help="write the run's tables as Parquet to DIR")
    r.set_defaults(func=_cmd_run)

    s = sub.add_parser("scenarios", help="list the scenarios with one line each (or, with --fields, every parameter)")
    s.add_argument("--fields", nargs="?", const="", default=None, metavar="PREFIX",
                   help="list every scenario parameter (dotted path, type, default, unit and source) instead; "
                        "PREFIX keeps the paths that start with it, e.g. --fields clouds")
    s.set_defaults(func=_cmd_scenarios)

    for mod in EXTENSIONS:
        try:
            importlib.import_module(mod).register(sub)
        except ModuleNotFoundError as exc:   # a subcommand whose module is not present in this checkout
            if exc.name != mod:
                raise
    return p


def main(argv: list[str] | None = None) -> int:
    from sim.config import ConfigError

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # output piped into `head` and closed early
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
