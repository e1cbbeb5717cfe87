"""The ``computemarket validate`` subcommand: the ``history`` scenario against the record.

``sim/cli.py`` calls :func:`register` with its subparsers. Module-level imports stay light (no
pandas, pyarrow or plotly); experiments.validate is imported when the command runs.

Exit codes: 0 whatever the verdict (the table is the answer), also when some runs failed (the
failed runs are left out and the count is printed); 2 bad input (one line ``error: ...``, nothing
written); 1 a worker died (finished runs kept: run again with --resume); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from experiments.cli_common import (add_execution_options, add_rerun_options, backend_of, check_out_dir,
                                    setup_logging, standalone_main, without_name_hint)

EXIT_OK, EXIT_WORKER_DIED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

HELP = "run the history scenario (2023 start) as a batch and compare it with the record"
DESCRIPTION = """\
Run the `history` scenario (January 2023 start) as a batch and compare it with the
record of the five calibration targets (experiments/record/history_targets.csv):
one row per check with the record, the simulated median and 10-90% band over the
same dates, and whether the record falls inside (a point record inside the band,
a range record holding the median). Writes validation.html (the record drawn over
the simulated bands; self-contained, works offline) and validation.csv next to the
batch's Parquet files. Exit code 0 whatever the verdict.

Re-analyse a finished folder without running anything: --resume (a complete batch
is not run again).

Example:
  computemarket validate --runs 200 --workers 2
"""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``validate`` subcommand to a parent parser's subparsers."""
    p = subparsers.add_parser("validate", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, metavar="N", help="number of seeds (default 100)")
    add_execution_options(p)
    p.add_argument("--out", metavar="DIR", help="result folder (default: results/validate)")
    add_rerun_options(p, "complete a killed batch, or re-analyse a finished one without running it")
    p.add_argument("--seed", type=int, metavar="N", help="batch seed (run seeds are spawned from it)")
    p.add_argument("--scenario", default="history", metavar="SCENARIO",
                   help="scenario name or .toml to validate (default: history)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="fixed override for every run by dotted path (repeatable)")
    p.add_argument("--record", metavar="CSV", help="record file (default: the shipped history_targets.csv)")
    p.add_argument("--no-report", action="store_true", help="skip validation.html")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_command)
    return p


def run_command(args: argparse.Namespace) -> int:
    """Run the validation batch, print the table, write the report; return the exit code."""
    setup_logging()
    from experiments.batch import WorkerCrash, run_batch
    from experiments.design import load_design
    from experiments.validate import DEFAULT_OUT, DEFAULT_RUNS, ValidationError, load_record, validate_dir
    from sim.config import ConfigError

    backend = backend_of(args)
    try:
        record = load_record(args.record)
        design = load_design(args.scenario, runs=args.runs or DEFAULT_RUNS, seed=args.seed, name="validate",
                             record_every=1, set_overrides=args.overrides)
        out = args.out or DEFAULT_OUT
        check_out_dir(out, resume=args.resume, overwrite=args.overwrite)
        result = run_batch(design, out, backend=backend, workers=args.workers,
                           address=args.address, resume=args.resume, overwrite=args.overwrite,
                           progress=not args.quiet)
        res = validate_dir(result.out_dir, record, report=not args.no_report)
    except (ConfigError, ValidationError) as exc:
        print(f"error: {without_name_hint(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except WorkerCrash as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_WORKER_DIED
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept; run the same command with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"validate {design.scenario_name}: {result.n_ok} of {result.n_runs} runs ok"
          + (f" ({result.n_failed} failed, left out)" if result.n_failed else "")
          + f" -> {result.out_dir}")
    for warning in res.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(res.text)
    if res.report:
        print(f"report: {res.report}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m experiments.cli_validate ARGS`` (same as ``computemarket validate``)."""
    return standalone_main(register, argv, "validate")


if __name__ == "__main__":
    sys.exit(main())
