"""Ray backend: a Ray cluster (``--address auto|host:port``) or a local Ray started for the batch.

``ray`` is an optional dependency (``pip install 'computemarket[ray]'``) and is
imported only when this backend is entered. Every node of a cluster needs the
same computemarket installed. Results come back through Ray's object store,
so no shared file system is needed.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Iterator, TypeVar

from experiments.backends import default_workers
from sim.config import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 2


def _call(fn: Callable[[Any, T], R], context: Any, task: T) -> R:
    return fn(context, task)


class RayBackend:
    """Tasks on Ray, one CPU each; at most ``IN_FLIGHT_PER_WORKER`` per CPU in flight."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None):
        self.address = address
        self.workers = workers or (0 if address else default_workers())
        self._ray: Any = None
        self._owns_ray = False

    def __enter__(self) -> "RayBackend":
        try:
            import ray
        except ImportError:
            raise ConfigError("command line", "--backend", "ray is not installed; "
                              "pip install 'computemarket[ray]' or use --backend local") from None
        self._ray = ray
        if not ray.is_initialized():
            try:
                if self.address:
                    log.info("joining the Ray cluster at %s", self.address)
                    ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
                else:
                    log.info("starting a local Ray instance with %d CPUs", self.workers)
                    ray.init(num_cpus=self.workers, include_dashboard=False,
                             logging_level=logging.WARNING, log_to_driver=False)
            except Exception as exc:  # no cluster at that address, or Ray could not start
                reason = " ".join(str(exc).split())[:300]
                if self.address:
                    raise ConfigError("command line", "--address",
                                      f"cannot join the Ray cluster at {self.address!r}: {reason}") from None
                raise ConfigError("command line", "--backend", f"cannot start a local Ray instance: {reason}") from None
            self._owns_ray = True
        if not self.workers:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._owns_ray and self._ray is not None:
            self._ray.shutdown()
        self._ray, self._owns_ray = None, False

    def imap_unordered(self, fn: Callable[[Any, T], R], context: Any,
                       tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(task, fn(context, task))`` as Ray tasks finish."""
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=0)(_call)
        context_ref = ray.put(context)
        pending: dict[Any, T] = {}
        todo = iter(tasks)
        limit = IN_FLIGHT_PER_WORKER * self.workers
        try:
            while True:
                for task in todo:
                    pending[remote.remote(fn, context_ref, task)] = task
                    if len(pending) >= limit:
                        break
                if not pending:
                    return
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    yield task, ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
