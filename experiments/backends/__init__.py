"""Execution backends: where the runs of a batch are simulated.

Every backend has the same small interface (:class:`Backend`): a context
manager that maps a function over tasks and yields results as they finish,
in any order. The function receives a *context* object that is shipped to
each worker once, and one task. Results never depend on the backend: the
store sorts by run id, and a run depends only on its configuration and seed.

- ``local``: processes on this machine (nothing to start); ``workers=1`` runs
  in the calling process.
- ``ray``: a Ray cluster (``address="auto"`` or ``"host:port"``), or a local
  Ray instance started for the batch when no address is given. Ray is an
  optional extra, imported only here, when used.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar


T = TypeVar("T")
R = TypeVar("R")

BACKENDS = ("local", "ray")


class Backend(Protocol):
    """Runs ``fn(context, task)`` for every task; yields ``(task, result)`` as each finishes."""

    name: str
    workers: int

    def __enter__(self) -> "Backend": ...

    def __exit__(self, *exc: Any) -> None: ...

    def imap_unordered(self, fn: Callable[[Any, T], R], context: Any,
                       tasks: Iterable[T]) -> Iterator[tuple[T, R]]: ...


def default_workers() -> int:
    """One worker per CPU core."""
    return os.cpu_count() or 1


def make_backend(name: str = "local", *, workers: int | None = None, address: str | None = None,
                 preload: tuple[str, ...] = ()) -> Backend:
    """The backend called ``name``; errors are one-line :class:`ConfigError`.

    ``preload``: modules every local worker needs (imported once by a fork server).
    """
    from sim.config import ConfigError   # here: the batch command imports this package before the model's modules

    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError("command line", "--workers", f"must be a positive integer (got {workers!r})")
    if name == "local":
        if address:
            raise ConfigError("command line", "--address", "only for --backend ray")
        from experiments.backends.local import LocalBackend

        return LocalBackend(workers=workers, preload=preload)
    if name == "ray":
        from experiments.backends.ray_backend import RayBackend

        return RayBackend(workers=workers, address=address)
    raise ConfigError("command line", "--backend", f"must be one of {', '.join(BACKENDS)} (got {name!r})")
