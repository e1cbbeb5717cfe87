"""Run an experiment batch: design -> backend -> store, with a progress bar.

``run_batch`` is the library entry point behind ``computemarket batch``::

    from experiments.design import load_design
    from experiments.batch import run_batch

    if __name__ == "__main__":   # needed in scripts: workers start from a fork server
        design = load_design("experiments/batches/baseline.toml", runs=50)
        result = run_batch(design, "results/baseline", workers=2)
        print(result.n_failed, result.out_dir / "runs.parquet")

Runs are sent to the backend in chunks of consecutive runs (a chunk never
spans a gap left by runs already finished), enough chunks for load balance,
few enough that per-run overhead stays small.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import platform
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from experiments.backends import make_backend
from experiments.backends.local import WORKER_MODULES
from experiments.design import Design, RunSpec
from experiments.store import BatchStore
from experiments.worker import BatchContext, ChunkResult, run_chunk
from sim import native

log = logging.getLogger(__name__)

MAX_CHUNK_RUNS = 8
"""Upper bound on runs per chunk: bounds the work lost when a batch is killed and the idle
tail at the end of a batch (a 120-month world takes ~0.25 s)."""
CHUNKS_PER_WORKER = 8
"""Target chunks per worker, for load balance between fast and slow worlds."""


@dataclass
class BatchResult:
    """What a finished (or already complete) batch produced."""

    out_dir: Path
    n_runs: int
    n_ok: int
    n_failed: int
    n_resumed: int
    """Runs found finished in the folder and not run again."""
    wall_seconds: float
    manifest: dict[str, Any]


class WorkerCrash(RuntimeError):
    """A worker process or node died; finished runs are kept for ``--resume``."""


def default_out_dir(design: Design) -> Path:
    """``results/<name>`` under the current directory."""
    return Path("results") / design.name


def run_batch(design: Design, out_dir: str | Path | None = None, *, backend: str = "local",
              workers: int | None = None, address: str | None = None, resume: bool = False,
              overwrite: bool = False, progress: bool = True, chunk_runs: int | None = None,
              run_fn: Callable[..., Any] | None = None) -> BatchResult:
    """Simulate every run of ``design`` and store the results under ``out_dir``.

    Bad targets raise :class:`sim.config.ConfigError` before anything is written.
    ``run_fn`` replaces ``sim.runner.run_world`` (same signature; for tests and
    benchmarks). Failed runs are recorded, not raised: see ``BatchResult.n_failed``.
    """
    started = time.perf_counter()
    store = BatchStore(out_dir if out_dir is not None else default_out_dir(design))
    store.check_target(resume=resume, overwrite=overwrite)
    runner = make_backend(backend, workers=workers, address=address, preload=WORKER_MODULES)
    with runner, store:  # Ray starts or joins its cluster here, so a bad --address fails before anything is written
        manifest = new_manifest(design, backend=backend, workers=runner.workers)
        done = store.start(manifest, resume=resume, overwrite=overwrite)
        log.info("batch %s: %d runs (%d already finished) on %s with %d workers -> %s",
                 design.name, design.n_runs, len(done), backend, runner.workers, store.out_dir)
        if store.is_complete():  # resuming a finished batch: nothing to do
            manifest = store.read_manifest() or manifest
        else:
            if len(done) < design.n_runs:
                _simulate(design, store, runner, done, progress=progress, chunk_runs=chunk_runs, run_fn=run_fn)
            manifest["finished"] = _now()
            merge_started = time.perf_counter()
            manifest = store.finish(manifest, parameters=design.parameters, outcome_order=_outcome_order())
            log.info("stored %d runs in %s (final merge %.1f s)", manifest["n_runs"], store.out_dir,
                     time.perf_counter() - merge_started)
    return BatchResult(
        out_dir=store.out_dir, n_runs=manifest["n_runs"], n_ok=manifest["n_ok"], n_failed=manifest["n_failed"],
        n_resumed=len(done), wall_seconds=time.perf_counter() - started, manifest=manifest,
    )


def _simulate(design: Design, store: BatchStore, runner: Any, done: set[int], *, progress: bool,
              chunk_runs: int | None, run_fn: Callable[..., Any] | None) -> None:
    """Run every run not in ``done`` on the (entered) backend, storing each chunk as it arrives."""
    context = BatchContext(design.base_config, design.scenario_name, design.parameters, run_fn)
    todo = design.n_runs - len(done)
    failed = 0
    with _progress_bar(design.n_runs, len(done), progress) as bar:
        tasks = chunks(design.runs(skip=done), todo, runner.workers, fixed=chunk_runs)
        results = runner.imap_unordered(run_chunk, context, tasks)
        for chunk, result in _guarded(results):
            store.write_chunk(result)
            bar.update(len(chunk))
            if result.n_failed:
                failed += result.n_failed
                bar.set_postfix(failed=failed, refresh=False)


def chunk_size(remaining: int, workers: int) -> int:
    """Runs in the next chunk: a CHUNKS_PER_WORKER-th of each worker's share of what is left,
    at most MAX_CHUNK_RUNS; chunks shrink near the end so that workers finish together."""
    return max(1, min(MAX_CHUNK_RUNS, math.ceil(remaining / (max(workers, 1) * CHUNKS_PER_WORKER))))


def chunks(runs: Iterable[RunSpec], total: int, workers: int, fixed: int | None = None) -> Iterator[list[RunSpec]]:
    """Consecutive runs in groups (``fixed`` runs, or :func:`chunk_size`), split wherever an index is skipped.

    ``total`` is the number of runs ``runs`` yields. Grouping never changes results.
    """
    remaining, chunk = total, []
    size = fixed or chunk_size(remaining, workers)
    for spec in runs:
        if chunk and (len(chunk) == size or spec.index != chunk[-1].index + 1):
            yield chunk
            remaining -= len(chunk)
            size = fixed or chunk_size(remaining, workers)
            chunk = []
        chunk.append(spec)
    if chunk:
        yield chunk


def new_manifest(design: Design, *, backend: str, workers: int) -> dict[str, Any]:
    """The manifest written when a batch starts (``complete = false``)."""
    return {
        "name": design.name,
        "description": design.description,
        "scenario": design.scenario_name,
        "batch_file": design.source,
        "batch_seed": design.batch_seed,
        "design": design.to_record(),
        "fingerprint": design.fingerprint(),
        "n_runs": design.n_runs,
        "n_ok": 0,
        "n_failed": 0,
        "complete": False,
        "outcomes": [],
        "labels": [],
        "parameters": design.parameters,
        "record_every": design.record_every,
        "seeds": design.seed_list(),
        "config": design.base_config.model_dump(mode="json"),
        "versions": package_versions(),
        "code_version": code_version(),
        "build": "compiled" if native.check() else "sources",   # make native or not: the same results
        "started": _now(),
        "finished": None,
        "backend": backend,
        "workers": workers,
    }


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the results."""
    versions = {"python": platform.python_version()}
    for dist in ("numpy", "pandas", "pyarrow", "mesa", "computemarket"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def code_version() -> str:
    """``git describe`` of the source tree, or "unknown" outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=root,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def summary_and_report(result_dir: str | Path) -> tuple[str | None, Path | None]:
    """The terminal summary table and report.html from experiments.analysis.

    Either is None (with a logged warning) when the analysis package is missing
    or fails: the batch's own files are complete either way.
    """
    table = report = None
    try:
        from experiments.analysis.summary import summary_table

        table = summary_table(result_dir)
    except ImportError as exc:
        log.warning("no summary table: experiments.analysis.summary is not available (%s)", exc)
    except Exception as exc:  # the results are complete; a failing summary must not hide that
        log.warning("no summary table: %s: %s", type(exc).__name__, exc)
    try:
        from experiments.analysis.report import write_batch_report

        report = write_batch_report(result_dir)
    except ImportError as exc:
        log.warning("no report.html: experiments.analysis.report is not available (%s)", exc)
    except Exception as exc:
        log.warning("no report.html: %s: %s", type(exc).__name__, exc)
    return table, report


def _outcome_order() -> list[str]:
    """Outcome column order from sim.metrics (labels included), if the model declares it."""
    try:
        from sim import metrics
    except ImportError:
        return []
    names = list(getattr(metrics, "OUTCOMES", []))
    return names + [n for n in getattr(metrics, "LABELS", []) if n not in names]


def _guarded(results: Iterator[tuple[list[RunSpec], ChunkResult]]) -> Iterator[tuple[list[RunSpec], ChunkResult]]:
    """Turn a dead worker into a WorkerCrash that says finished runs are kept."""
    try:
        yield from results
    except (KeyboardInterrupt, WorkerCrash):
        raise
    except Exception as exc:  # BrokenProcessPool, Ray node or worker death, ...
        raise WorkerCrash(f"a worker died ({type(exc).__name__}: {exc}); finished runs are kept, "
                          "run the same command with --resume to complete the batch") from exc


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: workers may be forked
    return tqdm(total=total, initial=initial, unit="run", desc="runs", disable=not enabled,
                dynamic_ncols=True, smoothing=0.1)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
