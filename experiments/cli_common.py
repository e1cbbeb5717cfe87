"""Command-line pieces shared by the experiment subcommands (batch, compare/sensitivity, validate).

Light to import (argparse and logging only), so ``computemarket --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

BATCH_LOGGERS = ("experiments.batch", "experiments.backends", "experiments.design")


def add_execution_options(p: argparse.ArgumentParser) -> None:
    """``--workers``, ``--backend`` and ``--address``: where the runs of a batch execute."""
    p.add_argument("--workers", type=int, metavar="N", help="parallel workers (default: number of CPU cores)")
    p.add_argument("--backend", choices=("local", "ray"), default=None, help="local processes (default) or Ray")
    p.add_argument("--address", metavar="ADDR",
                   help="Ray cluster to join: 'auto' or host:port (implies --backend ray); "
                        "without it --backend ray starts a local Ray instance")


def backend_of(args: argparse.Namespace) -> str:
    """The backend the options ask for: Ray when named or when a cluster address is given."""
    return args.backend or ("ray" if args.address else "local")


def add_rerun_options(p: argparse.ArgumentParser, resume_help: str) -> None:
    """``--resume`` / ``--overwrite`` (mutually exclusive): what to do with an existing result folder."""
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help=resume_help)
    again.add_argument("--overwrite", action="store_true", help="replace an existing result folder")


def check_out_dir(out: str | Path, *, resume: bool = False, overwrite: bool = False, option: str = "--out",
                  other: str = "", beside: bool = False, can_resume: bool = True) -> None:
    """The result-folder checks every command makes before it runs (``experiments.store.check_folder``,
    imported when called: the batch store's module loads Arrow)."""
    from experiments.store import check_folder

    check_folder(out, resume=resume, overwrite=overwrite, option=option, other=other, beside=beside,
                 can_resume=can_resume)


def without_name_hint(exc: Exception) -> Exception:
    """The error for a command without ``--name`` (validate, sensitivity): the result store's hints
    ("use --overwrite or another --name") are worded for ``batch``; they name ``--out`` instead."""
    message = getattr(exc, "message", None)
    if not message or "--name" not in message:
        return exc
    from sim.config import ConfigError

    return ConfigError(exc.source, exc.path, message.replace("another --out or --name", "another --out")
                       .replace("another --name", "another --out"))


def standalone_main(register: Callable[[argparse._SubParsersAction], object], argv: Sequence[str] | None,
                    command: str | None = None) -> int:
    """Run subcommands outside ``computemarket``: ``python -m experiments.cli_X ARGS``. With ``command`` the
    arguments are those of that one subcommand; without it the first argument names the subcommand."""
    parser = argparse.ArgumentParser(prog="computemarket")
    register(parser.add_subparsers(dest="command", required=True))
    args = list(argv if argv is not None else sys.argv[1:])
    ns = parser.parse_args([command, *args] if command else args)
    return ns.func(ns)


def setup_logging(quiet: bool = True) -> None:
    """Warnings to stderr, plus the batch machinery's progress notes unless quiet.

    Leaves logging alone when the caller (e.g. sim/cli.py or a test) configured it already.
    """
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    if not quiet:
        for name in BATCH_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
