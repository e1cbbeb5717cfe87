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


AGENT_SECTIONS = ("labs", "clouds", "regulators")
"""The scenario tables keyed by agent id; ``schema_fields`` lists their fields as ``<section>.<id>.<field>``."""


def _schema_path(path: str) -> str:
    """The path as ``schema_fields`` lists it: an agent table's id as ``<id>`` (labs.frontier_a.x ->
    labs.<id>.x); other paths unchanged."""
    parts = path.split(".")
    return ".".join([parts[0], "<id>", *parts[2:]]) if parts[0] in AGENT_SECTIONS and len(parts) > 2 else path


def _scenario_fields(cfg) -> list[tuple[str, str, object, str, object]]:
    """Every parameter of one scenario, agent tables expanded to its own ids, in schema order:
    ``(path, type, default, description, the scenario's value)``."""
    from sim.config import schema_fields

    rows, out = schema_fields(), []
    done: set[str] = set()
    for path, *_ in rows:
        if ".<id>." not in path:
            out.append(path)
            continue
        section = path.split(".<id>.")[0]
        if section in done:
            continue
        done.add(section)
        fields = [r[0].split(".<id>.", 1)[1] for r in rows if r[0].startswith(f"{section}.<id>.")]
        out += [f"{section}.{aid}.{f}" for aid in cfg.get_path(section) for f in fields]
    meta = {r[0]: r[1:] for r in rows}
    return [(p, *meta[_schema_path(p)], cfg.get_path(p)) for p in out]


def _agents_text(cfg) -> list[str]:
    """The scenario's agents by section: id and display name (regulators: review and grid figures)."""
    lines = []
    for section in AGENT_SECTIONS:
        agents = cfg.get_path(section)
        lines.append(f"{section} ({len(agents)}):")
        width = max(len(a) for a in agents)
        for aid, agent in agents.items():
            if section == "labs":
                more = agent.name + (f"  (partner cloud {agent.partner_cloud})" if agent.partner_cloud else "")
            elif section == "clouds":
                more = agent.name + f"  (jurisdiction {agent.jurisdiction}" \
                    + (f", hosts {agent.hosts_lab})" if agent.hosts_lab else ")")
            else:
                more = f"review {agent.review_months:g} months, grid {agent.grid_gw_per_year:g} GW/yr"
            lines.append(f"  {aid:<{width}}  {more}")
    return lines


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from sim.config import ConfigError, load_scenario, scenario_names, schema_fields

    cfg = load_scenario(args.scenario) if args.scenario else None
    if args.fields is not None:   # the parameters, not the scenarios
        prefix = args.fields
        if cfg is None:
            rows = [(*r, None) for r in schema_fields() if r[0].startswith(prefix)]
        else:   # this scenario's own ids; the generic <id> form matches too
            rows = [r for r in _scenario_fields(cfg) if r[0].startswith(prefix) or _schema_path(r[0]).startswith(prefix)]
        if not rows:
            sections = sorted({r[0].split(".")[0] for r in schema_fields()})
            section = prefix.split(".")[0]
            if cfg is None and section in AGENT_SECTIONS and "." in prefix:
                raise ConfigError("--fields", prefix, f"no parameter path starts with this: agent fields are listed "
                                  f"as {section}.<id>.<field>; name a scenario to use its ids, e.g. "
                                  f"computemarket scenarios baseline --fields {prefix}")
            if cfg is not None and section in AGENT_SECTIONS:
                raise ConfigError("--fields", prefix, f"no parameter path of scenario {cfg.meta.name!r} starts with "
                                  f"this; its {section}: {', '.join(cfg.get_path(section))}")
            raise ConfigError("--fields", prefix, f"no parameter path starts with this; sections: {', '.join(sections)}")
        for path, kind, default, desc, value in rows:
            if cfg is None:
                print(f"{path}  ({kind}, default {default!r})\n    {desc}")
            else:
                mark = "" if value == default else "   *"
                print(f"{path} = {value!r}  ({kind}, default {default!r}){mark}\n    {desc}")
        if cfg is not None:
            print(f"(* = differs from the default; values of scenario {cfg.meta.name!r})")
        return 0
    if cfg is not None:
        print(f"{cfg.meta.name}: {cfg.meta.description}")
        print(f"  {cfg.meta.months} months from {cfg.meta.start}"
              + (f"; extends {cfg.meta.extends}" if cfg.meta.extends else ""))
        for line in _agents_text(cfg):
            print(line)
        print(f"its parameter values: computemarket scenarios {args.scenario} --fields [PREFIX]")
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


RUN_FILES = ("run.parquet", "timeseries.parquet", "events.parquet", "config.json")
"""What `run --out DIR` writes; a folder holding run.parquet and nothing but these is an earlier run's."""


def _check_run_out(out: Path, overwrite: bool) -> None:
    """Refuse, before simulating, an --out folder `run` may not replace or cannot create."""
    from experiments.cli_common import check_out_dir
    from sim.config import ConfigError

    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        raise ConfigError(str(out), "--out", "is the current folder or one of its parents; choose a new folder")
    check_out_dir(out, overwrite=overwrite, beside=True, can_resume=False)
    if overwrite and out.is_dir() and any(out.iterdir()):
        names = sorted(p.name for p in out.iterdir())
        others = [n for n in names if n not in RUN_FILES]
        if others or "run.parquet" not in names:
            what = f"it also holds {', '.join(others[:3])}" + (", ..." if len(others) > 3 else "") if others \
                else "it has no run.parquet"
            raise ConfigError(str(out), "--out", f"is not only the output of `computemarket run` ({what}); "
                              "refusing to replace it: choose another --out")


def _write_run_row(path: Path, row: dict) -> None:
    """run.parquet: the run's one row, each outcome column carrying its unit and definition as field
    metadata, as in a batch's runs.parquet (sim.metrics.with_field_metadata)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.metrics import with_field_metadata

    pq.write_table(with_field_metadata(pa.Table.from_pandas(pd.DataFrame([row]), preserve_index=False)), path)


def _write_run(out: Path, write) -> None:
    """Write a run's files into a fresh folder beside ``out`` (mode 0755), then put it in place.

    An earlier run's folder at ``out`` (checked by _check_run_out) is moved aside and removed only
    once the new one is in place; nothing else is ever deleted.
    """
    import os
    import shutil
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        write(tmp)
        old = None
        if out.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def _dated_detail(model, event: dict) -> str:
    """An event's detail with a contract's start month (a tick, "start 158") as its date ("start 2038-03")."""
    import re

    import numpy as np

    from sim.runner import model_dates

    if event["kind"] != "contract_signed":
        return event["detail"]
    return re.sub(r"\bstart (\d+)\b", lambda m: f"start {model_dates(model, np.array([int(m.group(1))]))[0]}",
                  event["detail"])


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from experiments.design import apply_set_overrides, check_seed
    from sim.config import load_scenario
    from sim.metrics import outcome_unit
    from sim.runner import events_frame, simulate, timeseries_frame

    check_seed("command line", "--seed", args.seed)
    cfg = apply_set_overrides(load_scenario(args.scenario), args.set)
    if args.months is not None:   # the schema's bounds of meta.months, with the same error as --set meta.months=
        cfg = cfg.with_overrides({"meta.months": args.months}, source="--months")
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_run_out(out, args.overwrite)
    t0 = time.perf_counter()
    model = simulate(cfg, args.seed)
    elapsed = time.perf_counter() - t0
    outcomes = model.outcomes()
    labels = [k for k in outcomes if k.startswith("label_")]
    print(f"{cfg.meta.name}: seed {args.seed}, {model.tick} months from {cfg.meta.start} ({elapsed:.2f} s)")
    print("labels:   " + "  ".join(f"{k[6:]}={'YES' if outcomes[k] else 'no'}" for k in labels))
    keys = ["peak_spot_price", "peak_usd_gpu_hour", "trough_usd_gpu_hour", "months_glut", "months_scarcity",
            "mean_utilisation", "gw_operational_start", "gw_operational_end", "cumulative_capex_busd",
            "chipmaker_revenue_busd", "chipmaker_margin", "labs_surviving", "largest_lab_share", "n_defaults",
            "n_cascade_defaults", "n_acquisitions", "stranded_gw", "lender_losses_busd", "vendor_finance_losses_busd"]
    if outcomes["in_house_chip_share"] > 0:   # a world with clouds' own accelerators (custom_silicon)
        keys.insert(keys.index("chipmaker_margin") + 1, "in_house_chip_share")
    values = [_fmt(outcomes[k]) for k in keys]
    width = max(map(len, values))
    for k, v in zip(keys, values):   # units from sim.metrics.OUTCOME_DOCS, in full
        print(f"  {k:<28} {v:>{width}}  {outcome_unit(k)}".rstrip())
    notable = [e for e in model.event_log if e["kind"] in ("default", "acquisition", "liquidation", "moratorium",
                                                           "progress_stall", "efficiency_shock", "demand_surge")]
    big = sorted((e for e in model.event_log if e["kind"] == "contract_signed"), key=lambda e: -e["amount_busd"])[:3]
    if notable or big:
        print("notable events:")
        for e in sorted(notable + big, key=lambda e: e["tick"])[:25]:
            cp = f" <- {e['counterparty']}" if e["counterparty"] else ""
            print(f"  {e['date']}  {e['kind']:<18} {e['party']}{cp}  ${e['amount_busd']:,.1f}B  {e['gw']:.2f} GW  "
                  f"{_dated_detail(model, e)}")
    if out is not None:
        import json

        def write(tmp: Path) -> None:
            timeseries_frame(model, cfg.record.every).to_parquet(tmp / "timeseries.parquet", index=False)
            events_frame(model).to_parquet(tmp / "events.parquet", index=False)
            _write_run_row(tmp / "run.parquet", {"scenario": cfg.meta.name, "seed": args.seed, **outcomes})
            (tmp / "config.json").write_text(json.dumps(cfg.model_dump(), indent=1))

        _write_run(out, write)
        print(f"wrote {out}/ ({', '.join(RUN_FILES)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="computemarket",
        description="Agent-based market simulation of the AI compute buildout (labs, clouds, chipmaker, "
                    "capital markets, regulators).")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress of the library")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run one world and print its labels, outcomes and notable events")
    r.add_argument("scenario", help="scenario name (see `computemarket scenarios`) or path to a .toml")
    r.add_argument("--seed", type=int, default=0, help="random seed, 0 <= N < 2**63 (default 0)")
    r.add_argument("--months", type=int, default=None, help="horizon in months, 1-600 (default: the scenario's)")
    r.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="override a parameter by dotted path, e.g. labs.frontier_a.aggressiveness=2.0 (repeatable)")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="write the run's tables as Parquet to DIR (a new or empty folder)")
    r.add_argument("--overwrite", action="store_true",
                   help="replace DIR when it holds an earlier run's output and nothing else (run.parquet, "
                        "timeseries.parquet, events.parquet, config.json)")
    r.set_defaults(func=_cmd_run)

    s = sub.add_parser("scenarios", help="list the scenarios with one line each; with SCENARIO its labs, clouds "
                                         "and regulators; with --fields every parameter",
                       description="Without arguments: the scenario library, one line each. With SCENARIO: its "
                                   "agents by section (labs, clouds, regulators) with their ids and names. With "
                                   "--fields: every parameter (dotted path, type, default, unit and source); with "
                                   "SCENARIO and --fields, that scenario's value next to each default, agent "
                                   "tables under the scenario's own ids (labs.frontier_a.aggressiveness).")
    s.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO",
                   help="scenario name or path to a .toml: show its agents (and, with --fields, its values)")
    s.add_argument("--fields", nargs="?", const="", default=None, metavar="PREFIX",
                   help="list every scenario parameter instead; PREFIX keeps the paths that start with it, "
                        "e.g. --fields clouds, or with a SCENARIO --fields labs.frontier_a")
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
