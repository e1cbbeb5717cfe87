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
    """Refuse, before anything runs or is written, a result folder the command may not or cannot write.

    ``out`` must be a directory or not exist yet; an existing non-empty one needs ``--resume`` or
    ``--overwrite`` (whether it is a result folder of the right kind is the caller's check); and the
    place where it goes must take new files (``store.check_writable``, the batch store's own check).
    ``other`` names the command's other way to pick a folder (``"--name"`` for batch) for the hint;
    ``can_resume`` False leaves --resume out of it. Raises ConfigError, one line:
    ``<folder>: --out: <what is wrong>``.
    """
    from experiments.store import check_writable
    from sim.config import ConfigError

    out = Path(out)
    choose = f"choose another {option}" + (f" or {other}" if other else "")
    if out.exists() and not out.is_dir():
        raise ConfigError(str(out), option, f"exists and is not a directory; {choose}")
    if out.is_dir() and not (resume or overwrite) and any(out.iterdir()):
        again = "pass --resume to complete it, --overwrite to replace it," if can_resume else "pass --overwrite to replace it"
        raise ConfigError(str(out), option, f"already exists; {again} or {choose}")
    check_writable(out, option, beside)


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
