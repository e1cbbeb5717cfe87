"""The ``computemarket compare`` and ``computemarket sensitivity`` subcommands.

``sim/cli.py`` calls :func:`register` with its subparsers; ``args.func(args)``
returns the exit code. Module-level imports stay light (no pandas, plotly,
scipy or SALib): the analysis package is imported when a command runs.

Exit codes: 0 done; 1 some runs of a sensitivity batch failed; 2 bad input
(one line ``error: <dir or file>: <what is wrong>``, nothing written);
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from experiments.cli_common import (add_execution_options, add_rerun_options, backend_of, check_out_dir,
                                    setup_logging, standalone_main, without_name_hint)

EXIT_OK, EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

COMPARE_HELP = "compare outcome distributions of two or more batches (HTML report + table)"
COMPARE_DESCRIPTION = """\
Compare batches against the first one: per label the probability with a
bootstrap 95% interval and the difference against the first batch; per
outcome medians, a Kolmogorov-Smirnov test and effect sizes; paired per-seed
deltas when the batches share seeds; fan charts side by side; and a plain
verdict which differences are distinguishable from seed noise (Holm-adjusted).

Example:
  computemarket compare results/baseline results/forward_bet --out results/forward_bet_vs_baseline.html
"""

SENSITIVITY_HELP = "which parameters drive which outcomes: Sobol indices or Morris screening via SALib"
SENSITIVITY_DESCRIPTION = """\
Run a sensitivity design through the batch machinery and estimate which
parameters drive which outcomes: Sobol indices (S1, ST with intervals) from a
Saltelli design, or Morris screening (mu*, sigma) as the cheap option.

FILE is a batch file whose [sample] has method = "saltelli" (Sobol) or
"morris" (see experiments/batches/sensitivity.toml), with an optional
[sensitivity] table (outcomes, conf_level, num_resamples); --method switches
the design. FILE may also be a finished results directory of such a batch:
then nothing is run and the indices are computed from its runs.parquet.

Example:
  computemarket sensitivity experiments/batches/sensitivity.toml --method morris --workers 2
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` and ``sensitivity`` subcommands to a parent parser's subparsers."""
    p = subparsers.add_parser("compare", help=COMPARE_HELP, description=COMPARE_DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dirs", nargs="+", metavar="RESULT_DIR", help="batch result folders; the first is the reference")
    p.add_argument("--out", metavar="FILE", help="HTML report (default: results/compare_<a>_vs_<b>.html)")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="compare unfinished batches too (the report says so)")
    p.add_argument("--outcomes", nargs="+", action="extend", metavar="NAME",
                   help="continuous outcomes to compare (default: the key outcomes; 'all' for every common one)")
    p.add_argument("--alpha", type=float, default=0.05, metavar="A",
                   help="family-wise error rate of the verdicts (Holm), default 0.05")
    p.add_argument("--bootstrap", type=int, default=2000, metavar="B", help="bootstrap resamples, default 2000")
    p.add_argument("--seed", type=int, default=20250101, metavar="N", help="bootstrap seed (reports are reproducible)")
    p.set_defaults(func=run_compare)

    s = subparsers.add_parser("sensitivity", help=SENSITIVITY_HELP, description=SENSITIVITY_DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("target", metavar="FILE", help="sensitivity batch file, or a finished results directory")
    s.add_argument("--method", choices=("sobol", "morris"), help="override the file's design")
    s.add_argument("--outcomes", nargs="+", action="extend", metavar="NAME",
                   help="outcomes to analyse (default: the file's [sensitivity] outcomes, else labels + key outcomes)")
    s.add_argument("--runs", type=int, metavar="N", help="seeds per design point (default: the file's replications)")
    add_execution_options(s)
    s.add_argument("--out", metavar="DIR",
                   help="result folder (default: results/<name>, results/<name>_<method> when --method "
                        "switches the file's design)")
    add_rerun_options(s, "complete a killed sensitivity batch")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=run_sensitivity_command)


# --------------------------------------------------------------------------- compare


def run_compare(args: argparse.Namespace) -> int:
    """``computemarket compare``: print the table, write the report, return the exit code."""
    setup_logging()
    from experiments.analysis.compare import comparison_text, comparison_warnings, compare_dirs
    from experiments.analysis.loading import BatchError

    if len(args.dirs) < 2:
        print(f"error: {args.dirs[0]}: compare needs at least two batch directories", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not 0 < args.alpha < 1:
        print(f"error: command line: --alpha: must be between 0 and 1, both excluded (got {args.alpha:g})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.bootstrap < 100:
        print(f"error: command line: --bootstrap: must be at least 100 resamples (got {args.bootstrap})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        comp, path = compare_dirs(args.dirs, args.out, allow_incomplete=args.allow_incomplete,
                                  outcomes=args.outcomes, n_boot=args.bootstrap, seed=args.seed, alpha=args.alpha)
    except BatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: {args.out or 'report'}: cannot write the report ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in comparison_warnings(comp.batches):
        print(f"warning: {warning}", file=sys.stderr)
    print(comparison_text(comp, path), end="")
    return EXIT_OK


# --------------------------------------------------------------------------- sensitivity


def _batch_file_for(spec: Any, method: str | None) -> str:
    """TOML text of the batch to run: the file's tables with the chosen design and absolute paths."""
    from experiments.analysis.sensitivity import DESIGN_METHODS, SensitivityError, to_toml, with_method

    tables = with_method(spec.batch_tables, method) if method else dict(spec.batch_tables)
    design_method = tables["sample"].get("method")
    if design_method not in DESIGN_METHODS:
        raise SensitivityError(f"{spec.path}: sample.method: is {design_method!r}; a sensitivity design needs "
                               "\"saltelli\" (Sobol) or \"morris\", or pass --method sobol|morris")
    batch = dict(tables["batch"])
    batch.setdefault("name", spec.path.stem)
    if method and spec.batch_tables["sample"].get("method") != design_method:
        # --method switched the file's design: its own folder, so the file's design and this one do not collide
        batch["name"] = f"{batch['name']}_{method}"
    scenario = str(batch.get("scenario", ""))
    if scenario.endswith(".toml") and not Path(scenario).is_absolute():
        batch["scenario"] = str((spec.path.parent / scenario).resolve())
    return to_toml({**tables, "batch": batch})


def run_sensitivity(target: str | Path, *, method: str | None = None, runs: int | None = None,
                    out_dir: str | Path | None = None, backend: str = "local", workers: int | None = None,
                    address: str | None = None, resume: bool = False, overwrite: bool = False,
                    progress: bool = True, run_fn: Any = None) -> tuple[Any, Path]:
    """Run a sensitivity file's design through the batch machinery; return (BatchResult, result dir).

    The one place that runs the model for a sensitivity analysis: the file is
    turned into a batch design (``experiments.design.load_design``) and run by
    ``experiments.batch.run_batch`` on any backend; the analysis then reads
    the results directory like any other batch.
    """
    from experiments.analysis.sensitivity import read_sensitivity_file
    from experiments.batch import default_out_dir, run_batch
    from experiments.design import load_design
    from sim.config import ConfigError

    spec = read_sensitivity_file(target)
    with tempfile.TemporaryDirectory(prefix="computemarket-sensitivity-") as tmp:
        batch_file = Path(tmp) / f"{spec.path.stem}.toml"
        batch_file.write_text(_batch_file_for(spec, method), encoding="utf-8")
        try:
            design = load_design(batch_file, runs=runs)
        except ConfigError as exc:   # name the user's file, not the temporary copy
            if exc.source != str(batch_file):
                raise
            raise ConfigError(str(spec.path), exc.path,
                              exc.message + (f" (with --method {method})" if method else "")) from None
    design.source = str(spec.path)
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(design)
    check_out_dir(out_dir, resume=resume, overwrite=overwrite)
    result = run_batch(design, out_dir, backend=backend, workers=workers, address=address, resume=resume,
                       overwrite=overwrite, progress=progress, run_fn=run_fn)
    return result, Path(result.out_dir)


def run_sensitivity_command(args: argparse.Namespace) -> int:
    """``computemarket sensitivity``: run (unless given results), analyse, print, write the report."""
    setup_logging(quiet=args.quiet)
    from experiments.analysis.loading import BatchError
    from experiments.analysis.sensitivity import (SensitivityError, analyze_results, read_sensitivity_file,
                                                  sensitivity_text, write_sensitivity_report)

    target = Path(args.target)
    n_failed = 0
    try:
        if target.is_dir():
            result_dir, outcomes, conf, resamples = target, args.outcomes, 0.95, 1000
        else:
            spec = read_sensitivity_file(target)
            outcomes = args.outcomes or spec.outcomes
            conf, resamples = spec.conf_level, spec.num_resamples
            from sim.config import ConfigError

            backend = backend_of(args)
            try:
                batch, result_dir = run_sensitivity(target, method=args.method, runs=args.runs, out_dir=args.out,
                                                    backend=backend, workers=args.workers, address=args.address,
                                                    resume=args.resume, overwrite=args.overwrite,
                                                    progress=not args.quiet)
            except ConfigError as exc:
                print(f"error: {without_name_hint(exc)}", file=sys.stderr)
                return EXIT_BAD_INPUT
            n_failed = batch.n_failed
        result = analyze_results(result_dir, outcomes, conf_level=conf, num_resamples=resamples)
        report = write_sensitivity_report(result, Path(result_dir) / "sensitivity.html")
    except (SensitivityError, BatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept; run the same command with --resume to complete it",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print(sensitivity_text(result), end="")
    print(f"report: {report}")
    if n_failed:
        print(f"error: {n_failed} runs failed; see the status and error columns of {result_dir}/runs.parquet",
              file=sys.stderr)
        return EXIT_FAILED_RUNS
    return EXIT_OK


# --------------------------------------------------------------------------- plumbing


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m experiments.cli_compare compare|sensitivity ARGS``."""
    return standalone_main(register, argv)


if __name__ == "__main__":
    sys.exit(main())
