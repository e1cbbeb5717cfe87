"""`computemarket viz`: serve the live page (sim/app.py) with Solara on this machine.

Binds to 127.0.0.1 unless ``--host`` says otherwise. Works offline: the front-end
assets come from the ``solara-assets`` package and plotly.js from the installed
``plotly`` package; Solara's version check and telemetry are switched off.
Module-level imports stay light so ``computemarket --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def server_command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The command that serves the page: this Python's ``solara run`` in production mode."""
    solara = Path(sys.executable).parent / "solara"
    prefix = [str(solara)] if solara.exists() else [sys.executable, "-m", "solara"]
    return [*prefix, "run", str(APP), "--host", host, "--port", str(port), "--no-open",
            "--production", "--no-check-version"]


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the server: no telemetry, no outbound calls, no "runs on Solara" banner over the charts."""
    env = dict(os.environ if base is None else base)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env["SOLARA_THEME_SHOW_BANNER"] = "False"
    # served over plain http on 127.0.0.1, Solara warns at length that it falls back to SameSite=Lax cookies: fine here
    quiet = "ignore:Cookies with samesite=none require https:UserWarning"
    env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS"), quiet) if w)
    return env


def _check_port(host: str, port: int) -> None:
    import socket

    from sim.config import ConfigError

    if not 1 <= port <= 65535:
        raise ConfigError("computemarket viz", "--port", f"must be between 1 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the server does: ignore TIME_WAIT leftovers
        try:
            s.bind((host, port))
        except socket.gaierror as exc:   # not an address at all: the host is wrong, not the port
            raise ConfigError("computemarket viz", "--host", f"cannot listen on {host} ({exc.strerror}); give an "
                              "address of this machine, e.g. 127.0.0.1 or 0.0.0.0") from None
        except OSError as exc:
            raise ConfigError("computemarket viz", "--port",
                              f"cannot listen on {host}:{port} ({exc.strerror}); pick another with --port") from None


def _cmd_viz(args: argparse.Namespace) -> int:
    _check_port(args.host, args.port)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"computemarket viz: serving http://{shown}:{args.port}/  (Ctrl-C to stop)", flush=True)
    if args.host not in LOOPBACK:
        print(f"warning: --host {args.host} makes the page reachable from other machines", file=sys.stderr, flush=True)
    cmd, env = server_command(args.host, args.port), server_env()
    if os.name == "posix":
        # become the server: Ctrl-C and kill reach it directly and nothing is left running behind
        os.execve(cmd[0], cmd, env)
    import subprocess

    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        return 130


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``viz`` to the ``computemarket`` command line."""
    p = subparsers.add_parser("viz", help="watch one world live in the browser (Mesa SolaraViz page)",
                              description="Serve the live page: scenario picker, sliders, play/step/reset and "
                                          "Plotly charts of one world. One model per browser tab.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.set_defaults(func=_cmd_viz)
