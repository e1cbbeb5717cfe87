"""Local backend: a pool of processes on this machine (the default; nothing to start)."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import forkserver
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from experiments.backends import default_workers

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

WORKER_MODULES = ("experiments.worker", "sim.runner")
"""Modules every batch worker imports; preloaded once when workers come from a fork server."""
IN_FLIGHT_PER_WORKER = 2
"""Tasks queued per worker: enough to keep workers busy, few enough to keep memory flat."""

_CONTEXT: Any = None  # set once in each worker process by _init_worker


def _init_worker(context: Any) -> None:
    """Once in each worker process, before its first task."""
    global _CONTEXT
    _CONTEXT = context
    _share_the_cores()
    gc.freeze()  # the imported modules and the context live as long as the worker: scan them no more


def _share_the_cores() -> None:
    """Keep a worker to one thread: the workers already take every core they are given.

    Arrow would otherwise size its thread pools to the whole machine for the work a worker does on a
    run's tables (building, casting and pickling them), and start those threads in every worker.
    """
    import pyarrow as pa

    pa.set_cpu_count(1)


def _call(fn: Callable[[Any, T], R], task: T) -> R:
    return fn(_CONTEXT, task)


def safe_start_method() -> str:
    """How to start workers: a fork server on Linux, fresh interpreters elsewhere.

    Plain ``fork`` would be faster still, but this process is multi-threaded
    by then (numpy's BLAS pool, Arrow's thread pool), and forking a threaded
    process can deadlock the child. A fork server is a fresh single-threaded
    process that imports the model once (``preload``) and forks every worker
    from that clean state.
    """
    return "forkserver" if sys.platform == "linux" else "spawn"


def start_fork_server(workers: int, preload: Sequence[str]) -> bool:
    """Start the fork server now, for a batch of ``workers`` workers, importing ``preload`` in its own
    process while the caller goes on: the batch command calls it before importing its own modules, so the
    two sets of imports (~0.3 s each) overlap on two cores instead of following each other. Nothing for one
    worker or where workers are not forked from a server. Returns whether a fork server runs."""
    if workers <= 1 or safe_start_method() != "forkserver":
        return False
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    forkserver.ensure_running()
    return True


class LocalBackend:
    """Processes from ``concurrent.futures.ProcessPoolExecutor``; one worker runs in-process.

    Workers start as :func:`safe_start_method` says; ``preload`` names modules
    a fork server imports once for all workers. At most ``IN_FLIGHT_PER_WORKER * workers``
    tasks are queued at a time, so finished results never pile up in memory.
    """

    name = "local"

    def __init__(self, workers: int | None = None, start_method: str | None = None,
                 preload: tuple[str, ...] = ()):
        self.workers = workers or default_workers()
        self.start_method = start_method
        self.preload = preload
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalBackend":
        """Start the fork server now, so it imports the model while the batch gets ready."""
        self._method = self.start_method or safe_start_method()
        self._mp_context = multiprocessing.get_context(self._method)
        if self._method == "forkserver":
            start_fork_server(self.workers, self.preload)   # (already running when the batch command started it)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def imap_unordered(self, fn: Callable[[Any, T], R], context: Any,
                       tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(task, fn(context, task))`` as tasks finish."""
        if self.workers == 1:
            for task in tasks:
                yield task, fn(context, task)
            return
        log.debug("starting %d %s workers", self.workers, self._method)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._mp_context,
                                         initializer=_init_worker, initargs=(context,))
        pending: dict[Future, T] = {}
        todo = iter(tasks)
        limit = IN_FLIGHT_PER_WORKER * self.workers
        while True:
            for task in todo:
                pending[self._pool.submit(_call, fn, task)] = task
                if len(pending) >= limit:
                    break
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                yield task, future.result()
