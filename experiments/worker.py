"""What a worker does with a chunk of runs: simulate each world and return its tables.

This module runs inside worker processes (local pool or Ray), so it imports
only what a run needs. A run that raises is caught here and reported as a
failed row with its error; the chunk always completes. Results travel back
as Arrow tables, which pickle without copying, so nothing here depends on a
shared file system (a Ray cluster works the same as local processes).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Sequence

import pyarrow as pa

from experiments.design import RunSpec
from sim.gctuning import few_collections

_TEXT_CODES = pa.dictionary(pa.int32(), pa.string())
TIMESERIES_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("tick", pa.int32()), ("date", _TEXT_CODES),
    ("variable", _TEXT_CODES), ("agent", _TEXT_CODES), ("value", pa.float64()),
])
"""Columns of timeseries.parquet (docs/interfaces.md) as chunks carry them: date, variable and agent as
dictionary arrays (a run's ~16,000 rows hold a few hundred distinct texts). The store writes them to
Parquet as they are, and readers get text columns (experiments/store.py)."""

EVENTS_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("tick", pa.int32()), ("date", pa.string()), ("kind", pa.string()),
    ("party", pa.string()), ("counterparty", pa.string()), ("amount_busd", pa.float64()),
    ("gw", pa.float64()), ("detail", pa.string()),
])
"""Columns of events.parquet (docs/interfaces.md)."""

_MAX_ERROR_CHARS = 1000
_CONFIG_CACHE_SIZE = 256


@dataclass
class BatchContext:
    """What every worker needs once per batch: the base scenario and how to run a world."""

    base_config: Any
    """The scenario (a ``sim.config.ScenarioConfig``) with the fixed overrides applied."""
    scenario: str
    """Value of the ``scenario`` column."""
    parameters: list[str]
    """Varied dotted paths, in column order."""
    run_fn: Callable[..., Any] | None = None
    """``run_world(cfg, seed=...)``-compatible callable; None means ``sim.runner.run_world`` (asked for
    dictionary-encoded text columns, ``dictionary_text=True``)."""
    _configs: dict[int, Any] = field(default_factory=dict, repr=False, compare=False)

    def config_for(self, spec: RunSpec) -> Any:
        """The validated configuration at the run's design point (cached per point)."""
        cfg = self._configs.get(spec.point)
        if cfg is None:
            cfg = self.base_config.with_overrides(dict(spec.params)) if spec.params else self.base_config
            if len(self._configs) >= _CONFIG_CACHE_SIZE:
                self._configs.clear()
            self._configs[spec.point] = cfg
        return cfg


@dataclass
class ChunkResult:
    """The outputs of a contiguous chunk of runs."""

    first: int
    last: int
    runs: list[dict[str, Any]]
    timeseries: pa.Table
    events: pa.Table

    @property
    def n_failed(self) -> int:
        return sum(1 for r in self.runs if r["status"] != "ok")


def run_chunk(context: BatchContext, chunk: Sequence[RunSpec]) -> ChunkResult:
    """Simulate every run of the chunk; failures become rows with status "failed"."""
    rows, series, events = [], [], []
    with few_collections():   # also around the tables' building, not only the months (sim/gctuning.py)
        for spec in chunk:
            row, ts, ev = run_one(context, spec)
            rows.append(row)
            if ts is not None:
                series.append(ts)
                events.append(ev)
    return ChunkResult(
        first=chunk[0].index, last=chunk[-1].index, runs=rows,
        timeseries=_concat(series, TIMESERIES_SCHEMA), events=_concat(events, EVENTS_SCHEMA),
    )


def run_one(context: BatchContext, spec: RunSpec) -> tuple[dict[str, Any], pa.Table | None, pa.Table | None]:
    """One world: its runs.parquet row, and its time series and events (None if it failed)."""
    row: dict[str, Any] = {"run_id": spec.run_id, "scenario": context.scenario, "point": spec.point,
                           "replicate": spec.replicate, "seed": spec.seed}
    for path in context.parameters:
        row[f"param.{path}"] = spec.params[path]
    try:
        run_fn = context.run_fn or _default_run_fn()
        result = run_fn(context.config_for(spec), seed=spec.seed)
        outcomes = {name: _scalar(name, value) for name, value in result.outcomes.items()}
        ts = _with_run_id(_table(result, "timeseries"), spec.run_id, TIMESERIES_SCHEMA)
        ev = _with_run_id(_table(result, "events"), spec.run_id, EVENTS_SCHEMA)
    except Exception as exc:  # a failing world must not stop the batch
        row.update(status="failed", error=describe_error(exc))
        return row, None, None
    row.update(outcomes)
    row.update(status="ok", error="")
    return row, ts, ev


def describe_error(exc: BaseException) -> str:
    """One line: exception type, message and the innermost source location."""
    message = " ".join(str(exc).split())
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    text = f"{type(exc).__name__}: {message}{where}"
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 3] + "..."


def _default_run_fn() -> Callable[..., Any]:
    from sim.runner import run_world

    return partial(run_world, dictionary_text=True)   # the time series' text columns as TIMESERIES_SCHEMA has them


def _scalar(name: str, value: Any) -> bool | int | float | str:
    """An outcome as a plain Python scalar (numpy scalars unwrapped)."""
    if hasattr(value, "item") and not isinstance(value, (bool, int, float, str)):
        value = value.item()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise TypeError(f"outcome {name!r} is {type(value).__name__}, not a number, bool or text")


def _table(result: Any, name: str) -> Any:
    """The result's Arrow table ``name`` when it has one (sim.runner.RunResult), else its pandas frame."""
    table = getattr(result, f"{name}_table", None)
    return table if table is not None else getattr(result, name)


def _with_run_id(frame: Any, run_id: str, schema: pa.Schema) -> pa.Table:
    """A run's table (Arrow or pandas) with the store's column order and types."""
    names = [f.name for f in schema if f.name != "run_id"]
    if frame is None or len(frame) == 0:
        return schema.empty_table()
    if isinstance(frame, pa.Table):
        table = frame.select(names)
    else:
        table = pa.Table.from_pandas(frame[names], preserve_index=False)
    table = table.add_column(0, "run_id", pa.repeat(pa.scalar(run_id, pa.string()), len(frame)))
    return table if table.schema.equals(schema) else table.cast(schema)


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    """The runs' tables one after the other, each run a chunk. A text column's runs share one dictionary
    (an Arrow IPC part file holds one a column; runs of one scenario have the same texts anyway)."""
    return pa.concat_tables(tables).unify_dictionaries() if tables else schema.empty_table()
