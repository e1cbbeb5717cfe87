"""Read a batch results directory (``results/<name>/``) without the model.

The store format is fixed in ``docs/interfaces.md``: ``manifest.json``,
``runs.parquet`` (one row per run), ``timeseries.parquet`` (long format).
Everything here reads files only, so reports work on results produced on a
cluster or by an older version of the code.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
RUNS = "runs.parquet"
TIMESERIES = "timeseries.parquet"
PARTS = ".parts"
"""Part files of a running or killed batch (Arrow IPC), merged into the Parquet files at the finish."""

KEY_OUTCOMES = (
    "peak_spot_price",
    "trough_spot_price",
    "months_glut",
    "months_scarcity",
    "gw_operational_end",
    "cumulative_capex_busd",
    "stranded_gw",
    "labs_surviving",
    "n_defaults",
    "n_acquisitions",
    "largest_lab_share",
)
"""Outcomes shown first (and, in the batch summary, the only ones shown)."""

FAN_VARIABLES = ("spot_price", "utilisation", "gw_operational")
"""Market-level series drawn as fan charts."""

FAN_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
"""Quantiles across runs drawn in a fan chart: 10-90 and 25-75 bands, median."""

STRING_COLUMNS = ("run_id", "date", "variable", "agent")
"""String columns of timeseries.parquet, read dictionary-encoded."""

RUN_COLUMNS = ("run_id", "scenario", "point", "replicate", "seed", "status", "error")
"""Bookkeeping columns of ``runs.parquet`` that are neither parameters nor outcomes."""


class BatchError(ValueError):
    """A results directory cannot be analysed. ``str(e)`` is one line: ``<dir>: <what is wrong>``."""

    def __init__(self, path: Path | str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass
class Batch:
    """One batch's results: its manifest and its table of runs."""

    path: Path
    manifest: dict
    runs: pd.DataFrame
    labels: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    """Continuous (non-label) outcomes, key outcomes first."""
    units: dict[str, str] = field(default_factory=dict)
    """Outcome -> unit ("$B per EGW-month"), from the ``unit`` field metadata of the runs table (written by the
    batch store from ``sim.metrics.OUTCOME_DOCS``); empty for results written before units were recorded."""

    def unit(self, name: str) -> str:
        """The unit of an outcome as recorded with the results, "" when none is."""
        return self.units.get(name, "")

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.path.name)

    @property
    def scenario(self) -> str:
        scen = self.manifest.get("scenario")
        if scen:
            return str(scen)
        if "scenario" in self.runs.columns and len(self.runs):
            return ", ".join(sorted(map(str, self.runs["scenario"].unique())))
        return "?"

    @property
    def complete(self) -> bool:
        return bool(self.manifest.get("complete", False))

    @property
    def ok(self) -> pd.DataFrame:
        """Runs that finished (status ``ok``); failed runs carry no outcomes."""
        if "status" not in self.runs.columns:
            return self.runs
        return self.runs[self.runs["status"] == "ok"]

    @property
    def n_failed(self) -> int:
        return int(len(self.runs) - len(self.ok))

    @property
    def n_planned(self) -> int | None:
        n = self.manifest.get("n_runs")
        return int(n) if isinstance(n, (int, float)) else None

    @property
    def timeseries_path(self) -> Path:
        return self.path / TIMESERIES


def _read_manifest(path: Path) -> dict:
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise BatchError(path, f"not a batch results directory (no {MANIFEST})")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BatchError(path, f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise BatchError(path, f"{MANIFEST} must hold a JSON object, not {type(manifest).__name__}")
    return manifest


def _is_label(runs: pd.DataFrame, col: str) -> bool:
    """A ``label_*`` column whose values are booleans (missing values allowed)."""
    if not col.startswith("label_"):
        return False
    s = runs[col]
    if pd.api.types.is_bool_dtype(s):
        return True
    values = s.dropna()
    return s.dtype == object and len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values)


def _read_parts(parts_dir: Path, kind: str) -> list[Path]:
    return sorted(parts_dir.glob(f"{kind}-*.arrow")) if parts_dir.is_dir() else []


def _recorded_runs(path: Path) -> int:
    """Runs recorded so far: rows of runs.parquet, else the spans named by the run parts."""
    if (path / RUNS).exists():
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path / RUNS).metadata.num_rows
        except Exception:  # a broken file: reported when it is read
            return 0
    total = 0
    for part in _read_parts(path / PARTS, "runs"):
        bits = part.stem.split("-")
        if len(bits) == 3 and bits[1].isdigit() and bits[2].isdigit():
            total += int(bits[2]) - int(bits[1]) + 1
    return total


def units_of(schema) -> dict[str, str]:
    """Column -> unit from an Arrow schema's field metadata (``{"unit": ...}``, as the batch store writes it)."""
    return {f.name: f.metadata[b"unit"].decode("utf-8", "replace") for f in schema
            if f.metadata and b"unit" in f.metadata}


def _read_runs(path: Path, complete: bool) -> tuple[pd.DataFrame, dict[str, str]]:
    """``runs.parquet``, or for an unfinished batch the committed run parts in ``.parts/``; with the units of
    its columns (:func:`units_of`)."""
    rpath = path / RUNS
    if rpath.exists():
        import pyarrow.parquet as pq

        try:
            return pd.read_parquet(rpath), units_of(pq.read_schema(rpath))
        except Exception as exc:  # pyarrow raises several types for a broken file
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise BatchError(path, f"{RUNS} is not a readable Parquet file ({type(exc).__name__}: {first})") from None
    parts = _read_parts(path / PARTS, "runs")
    if complete or not parts:
        what = "no finished runs yet" if not complete and (path / PARTS).is_dir() else f"no {RUNS}"
        raise BatchError(path, f"not a batch results directory ({what})" if complete else f"unfinished batch with {what}")
    import pyarrow as pa
    import pyarrow.ipc as ipc

    try:
        tables = []
        for part in parts:
            with pa.OSFile(str(part), "rb") as source:
                tables.append(ipc.open_file(source).read_all())
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, OSError) as exc:
        raise BatchError(path, f"cannot read the run parts of the unfinished batch ({exc})") from None
    log.info("%s: unfinished batch, read %d run parts", path, len(parts))
    units = {k: v for t in tables for k, v in units_of(t.schema).items()}
    return table.to_pandas().sort_values("run_id", kind="stable").reset_index(drop=True), units


def _is_numeric_outcome(runs: pd.DataFrame, col: str) -> bool:
    s = runs[col]
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def classify_columns(runs: pd.DataFrame, manifest: dict) -> tuple[list[str], list[str]]:
    """Split outcome columns into labels (bool ``label_*``) and continuous outcomes.

    Uses the manifest's ``labels`` and ``outcomes`` lists when present (only
    the columns that exist), otherwise every column that is neither
    bookkeeping nor a ``param.*`` column. Key outcomes come first.
    """
    declared = list(manifest.get("labels") or []) + list(manifest.get("outcomes") or [])
    if declared:
        candidates = [c for c in dict.fromkeys(declared) if c in runs.columns]
    else:
        candidates = [c for c in runs.columns if c not in RUN_COLUMNS and not c.startswith("param.")]
    labels = [c for c in candidates if _is_label(runs, c)]
    others = [c for c in candidates if c not in labels and _is_numeric_outcome(runs, c)]
    outcomes = [c for c in KEY_OUTCOMES if c in others] + [c for c in others if c not in KEY_OUTCOMES]
    return labels, outcomes


def load_batch(path: Path | str, *, allow_incomplete: bool = False) -> Batch:
    """Read ``manifest.json`` and ``runs.parquet`` of a results directory.

    Raises :class:`BatchError` (a one-line message) when the directory is not
    a batch, is unfinished (``complete: false``, unless ``allow_incomplete``),
    or holds no successful run.
    """
    path = Path(path)
    if not path.exists():
        raise BatchError(path, "no such directory")
    if not path.is_dir():
        raise BatchError(path, "not a directory (expected a batch results directory with manifest.json and runs.parquet)")
    manifest = _read_manifest(path)
    complete = manifest.get("complete")
    if complete is not True and not allow_incomplete:
        raise BatchError(
            path,
            f"batch is unfinished (manifest complete: {json.dumps(complete)}; {_recorded_runs(path)} of "
            f"{manifest.get('n_runs', '?')} runs recorded); complete it with `computemarket batch ... --resume` "
            "or pass --allow-incomplete",
        )
    runs, units = _read_runs(path, complete is True)
    if "run_id" not in runs.columns:
        raise BatchError(path, f"{RUNS} has no run_id column; not a batch results table")
    labels, outcomes = classify_columns(runs, manifest)
    for label in labels:  # bool with missing values arrives as object: make it nullable boolean
        if runs[label].dtype == object:
            runs[label] = runs[label].astype("boolean")
    batch = Batch(path=path, manifest=manifest, runs=runs, labels=labels, outcomes=outcomes, units=units)
    if len(batch.ok) == 0:
        raise BatchError(path, f"no successful runs ({batch.n_failed} failed of {len(runs)})")
    if not labels and not outcomes:
        raise BatchError(path, f"{RUNS} has no outcome columns (no label_* bool or numeric outcome)")
    log.info("loaded %s: %d runs (%d ok), %d labels, %d outcomes", path, len(runs), len(batch.ok), len(labels), len(outcomes))
    return batch


# --------------------------------------------------------------------------- time series


def read_market_series(path: Path | str, variables: Sequence[str] = FAN_VARIABLES, agent: str = "market") -> pd.DataFrame:
    """Rows of ``timeseries.parquet`` for a few variables of one agent.

    Reads only the needed columns, row group by row group (memory stays flat):
    first ``variable`` and ``agent`` as dictionary codes, then the other
    columns of the matching rows' row groups. A 2,000-run batch (about 20
    million rows) takes about a second. For an unfinished batch the part
    files are scanned instead. Returns ``run_id, tick, date, variable, value``
    (an empty frame if there are no time series).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tpath = Path(path) / TIMESERIES
    cols = ["run_id", "tick", "date", "variable", "value"]
    if not tpath.exists():
        if parts := _read_parts(Path(path) / PARTS, "timeseries"):  # an unfinished batch
            return _scan_parts(parts, cols, variables, agent)
        log.info("%s: no %s; no fan charts", path, TIMESERIES)
        return pd.DataFrame(columns=cols)
    pf = pq.ParquetFile(tpath, read_dictionary=list(STRING_COLUMNS))
    names = set(pf.schema_arrow.names)
    wanted = {"variable": set(variables)} | ({"agent": {agent}} if "agent" in names else {})
    present = [c for c in cols if c in names]
    pieces = []
    for i in range(pf.num_row_groups):
        keys = pf.read_row_group(i, columns=list(wanted))
        mask = np.ones(keys.num_rows, dtype=bool)
        for col, values in wanted.items():
            mask &= _dictionary_mask(keys[col], values)
        if mask.any():
            rest = pf.read_row_group(i, columns=[c for c in present if c not in wanted])
            rest = rest.append_column("variable", keys["variable"])
            pieces.append(rest.filter(pa.array(mask)))
    if not pieces:
        return pd.DataFrame(columns=cols)
    return pa.concat_tables(pieces).to_pandas()


def _dictionary_mask(column, values: set) -> np.ndarray:
    """Rows of a dictionary-encoded (chunked) column whose value is in ``values``."""
    import pyarrow as pa

    masks = []
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = chunk.dictionary_encode()
        labels = chunk.dictionary.to_pylist()
        hit = np.fromiter((v in values for v in labels), dtype=bool, count=len(labels))
        mask = hit[chunk.indices.fill_null(0).to_numpy(zero_copy_only=False)]
        if chunk.null_count:
            mask &= chunk.is_valid().to_numpy(zero_copy_only=False)
        masks.append(mask)
    return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)


def _scan_parts(parts: list[Path], cols: list[str], variables: Sequence[str], agent: str) -> pd.DataFrame:
    """The matching rows of the Arrow IPC part files of an unfinished batch."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    dataset = ds.dataset(parts, format="ipc")
    flt = pc.field("variable").isin(list(variables))
    if "agent" in dataset.schema.names:
        flt = flt & (pc.field("agent") == agent)
    return dataset.to_table(columns=[c for c in cols if c in dataset.schema.names], filter=flt).to_pandas()


def fan_quantiles(series: pd.DataFrame, run_ids: Sequence[str] | None = None,
                  qs: Sequence[float] = FAN_QUANTILES) -> dict[str, pd.DataFrame]:
    """Per variable, quantiles across runs at each tick.

    ``series`` as returned by :func:`read_market_series`; ``run_ids`` limits
    the runs (e.g. to successful ones). Returns ``{variable: frame}`` with
    columns ``tick``, ``date`` and one column per quantile (``q10``, ``q50``, ...)
    plus ``n`` (runs with a value at that tick).
    """
    out: dict[str, pd.DataFrame] = {}
    if series.empty:
        return out
    if run_ids is not None:
        series = series[series["run_id"].isin(pd.Index(run_ids))]
    for var, grp in series.groupby("variable", sort=False, observed=True):
        run_code, _ = pd.factorize(grp["run_id"])
        tick_code, ticks = pd.factorize(grp["tick"], sort=True)
        grid = np.full((run_code.max() + 1, len(ticks)), np.nan)
        grid[run_code, tick_code] = grp["value"].to_numpy(dtype=float)
        valid = ~np.isnan(grid)
        n = valid.sum(axis=0)
        with warnings.catch_warnings():  # all-NaN ticks give NaN quantiles, not noise
            warnings.simplefilter("ignore", RuntimeWarning)
            qv = np.nanquantile(grid, qs, axis=0)
        frame = pd.DataFrame({"tick": np.asarray(ticks)})
        if "date" in grp.columns:
            dates = grp.drop_duplicates("tick").set_index("tick")["date"]
            frame["date"] = frame["tick"].map(dates).astype(str)
        for q, row in zip(qs, qv):
            frame[f"q{round(q * 100):d}"] = row
        frame["n"] = n
        out[str(var)] = frame
    return out


CACHE_DIR = ".analysis"
"""Derived, disposable files of the analysis inside a results directory (safe to delete)."""


def _fans_key(batch: Batch, variables: Sequence[str], qs: Sequence[float]) -> str | None:
    """What the cached fans depend on: the time-series file and the successful runs."""
    tpath = batch.timeseries_path
    if not tpath.is_file():
        return None
    import hashlib

    st = tpath.stat()
    runs = hashlib.sha1("\n".join(map(str, batch.ok["run_id"])).encode()).hexdigest()
    return json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "runs": runs,
                       "variables": list(variables), "quantiles": list(qs)}, sort_keys=True)


def batch_fans(batch: Batch, variables: Sequence[str] = FAN_VARIABLES,
               qs: Sequence[float] = FAN_QUANTILES) -> dict[str, pd.DataFrame]:
    """Fan-chart quantiles of a batch's market series over its successful runs.

    Reading a large ``timeseries.parquet`` costs about a second per 2,000 runs,
    so the result is cached in ``<dir>/.analysis/fans.parquet``, keyed by the
    file's size and modification time and the set of successful runs; a
    read-only directory simply goes without the cache.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = _fans_key(batch, variables, qs)
    cache = batch.path / CACHE_DIR / "fans.parquet"
    if key is not None and cache.is_file():
        try:
            table = pq.read_table(cache)
            if (table.schema.metadata or {}).get(b"computemarket.fans_key", b"").decode() == key:
                frame = table.to_pandas()
                return {str(v): g.drop(columns="variable").reset_index(drop=True)
                        for v, g in frame.groupby("variable", sort=False)}
        except Exception as exc:  # a broken cache is recomputed
            log.debug("ignoring fan cache %s: %s", cache, exc)
    fans = fan_quantiles(read_market_series(batch.path, variables), run_ids=batch.ok["run_id"], qs=qs)
    if key is not None and fans:
        try:
            frame = pd.concat([f.assign(variable=v) for v, f in fans.items()], ignore_index=True)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"computemarket.fans_key": key.encode()})
            cache.parent.mkdir(exist_ok=True)
            tmp = cache.with_name(f".fans.{os.getpid()}.tmp")
            try:
                pq.write_table(table, tmp)
                os.replace(tmp, cache)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:  # e.g. a read-only results directory
            log.debug("no fan cache for %s: %s", batch.path, exc)
    return fans
