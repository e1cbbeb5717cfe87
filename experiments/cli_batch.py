"""The ``computemarket batch`` subcommand.

``sim/cli.py`` calls :func:`register` with its subparsers; ``args.func(args)``
then returns the exit code. Module-level imports stay light (no pandas,
pyarrow or ray) so that ``computemarket --help`` is fast; the batch machinery
is imported when the command runs.

Exit codes: 0 all runs ok; 1 some runs failed (the batch still completes) or a
worker died (finished runs kept for ``--resume``); 2 bad input (a one-line
``error: <file>: <field path>: <what is allowed>`` and nothing written);
130 interrupted with Ctrl-C (finished runs kept for ``--resume``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from experiments.cli_common import (add_execution_options, add_rerun_options, backend_of, check_out_dir,
                                    setup_logging, standalone_main)

EXIT_OK, EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

HELP = "run many seeded worlds (a batch file or a bare scenario) and store them as Parquet"
DESCRIPTION = """\
Run an experiment batch and write results/<name>/: runs.parquet (one row per run),
timeseries.parquet, events.parquet, manifest.json and report.html.

BATCH_OR_SCENARIO is a batch file (a .toml with a [batch] table, see
experiments/batches/), the name of one in experiments/batches/, or a scenario
(name or .toml) run for --runs seeds.
"""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``batch`` subcommand to a parent parser's subparsers."""
    p = subparsers.add_parser("batch", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="BATCH_OR_SCENARIO", help="batch file, batch name, or scenario")
    p.add_argument("--runs", type=int, metavar="N",
                   help="seeds per design point (a bare scenario: number of runs; default 100)")
    add_execution_options(p)
    p.add_argument("--out", metavar="DIR", help="result folder (default: results/<name>)")
    p.add_argument("--name", metavar="NAME", help="batch name (default: the batch file or scenario name)")
    add_rerun_options(p, "complete a killed batch, skipping finished runs")
    p.add_argument("--seed", type=int, metavar="N", help="batch seed (run seeds are spawned from it)")
    p.add_argument("--record-every", type=int, metavar="N", help="time-series recording period in months")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="fixed override for every run by dotted path, e.g. --set meta.months=60 (repeatable)")
    p.add_argument("--no-report", action="store_true", help="skip the summary table and report.html")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_command)
    return p


def run_command(args: argparse.Namespace) -> int:
    """Run the batch described by parsed arguments; print results; return the exit code."""
    setup_logging(args.quiet)
    backend = backend_of(args)
    if backend == "local":   # the workers' fork server imports the model while this process imports the rest
        from experiments.backends import default_workers
        from experiments.backends.local import WORKER_MODULES, start_fork_server

        start_fork_server(args.workers or default_workers(), WORKER_MODULES)
    from experiments.batch import WorkerCrash, default_out_dir, run_batch, summary_and_report
    from experiments.design import load_design
    from sim.config import ConfigError

    try:
        design = load_design(args.target, runs=args.runs, seed=args.seed, name=args.name,
                             record_every=args.record_every, set_overrides=args.overrides)
        out = args.out or default_out_dir(design)
        check_out_dir(out, resume=args.resume, overwrite=args.overwrite, other="--name")
        result = run_batch(design, out, backend=backend, workers=args.workers, address=args.address,
                           resume=args.resume, overwrite=args.overwrite, progress=not args.quiet)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except WorkerCrash as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED_RUNS
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept; run the same command with --resume to complete "
              "the batch", file=sys.stderr)
        return EXIT_INTERRUPTED

    print(f"batch {design.name}: {result.n_ok} of {result.n_runs} runs ok"
          + (f", {result.n_resumed} from an earlier session" if result.n_resumed else "")
          + f" in {result.wall_seconds:.1f} s -> {result.out_dir}")
    if not args.no_report:
        table, report = summary_and_report(result.out_dir)
        if table:
            print(table)
        if report:
            print(f"report: {report}")
    if result.n_failed:
        print(f"error: {result.n_failed} of {result.n_runs} runs failed; their errors are in the "
              f"status and error columns of {result.out_dir / 'runs.parquet'}", file=sys.stderr)
        return EXIT_FAILED_RUNS
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m experiments.cli_batch ARGS`` (same as ``computemarket batch``)."""
    return standalone_main(register, argv, "batch")

if __name__ == "__main__":
    sys.exit(main())
