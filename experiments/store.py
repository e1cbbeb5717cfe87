"""The batch store: streamed part files while a batch runs, one atomic finish at the end.

Layout of ``results/<name>/`` (docs/interfaces.md, ../shared/DESIGN.md section 6)::

    manifest.json        written at the start (complete = false) and again at the end
    .parts/              while running: one part per chunk of runs and per table
        timeseries-000000040-000000079.arrow
        events-000000040-000000079.arrow
        runs-000000040-000000079.arrow      written last: the chunk's commit mark
        .timeseries.parquet.partial  .events.parquet.partial   the long tables so far
    runs.parquet  timeseries.parquet  events.parquet      at the end

Every file is written to a temporary name and moved into place with
``os.replace``, so a reader (or a resumed batch) never sees half a file. A
killed batch loses only the chunks in flight: ``--resume`` keeps every chunk
with a runs part and drops orphans (the partial long tables among them).

The long tables are streamed into their final Parquet files while the batch
runs: a chunk is appended as soon as every run before it is, straight from
memory when it arrives in order and from its parts otherwise, so the Parquet
encoding overlaps the simulation instead of following it, and memory stays
flat in the number of runs. Row groups are cut at run boundaries chosen by
content alone, so the files are byte-identical whatever the worker count,
chunking or backend.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from experiments.worker import EVENTS_SCHEMA, TIMESERIES_SCHEMA, ChunkResult
from sim.config import ConfigError
from sim.metrics import field_metadata, with_field_metadata

log = logging.getLogger(__name__)

PARTS = ".parts"
MANIFEST = "manifest.json"
FINAL_FILES = ("runs.parquet", "timeseries.parquet", "events.parquet")
LONG_TABLES = {"timeseries": TIMESERIES_SCHEMA, "events": EVENTS_SCHEMA}
ROW_GROUP_ROWS = 250_000
"""Target rows per row group of the long tables (cut at the next run boundary)."""
COMPRESSION = "zstd"
_PART = re.compile(r"^(runs|timeseries|events)-(\d{9})-(\d{9})\.arrow$")
_FIXED_FIRST = ("run_id", "scenario", "point", "replicate", "seed")
_FIXED_LAST = ("status", "error")
_FIXED_TYPES = {"run_id": pa.string(), "scenario": pa.string(), "point": pa.int64(),
                "replicate": pa.int64(), "seed": pa.int64(), "status": pa.string(), "error": pa.string()}


class BatchStore:
    """The output folder of one batch."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.parts_dir = self.out_dir / PARTS
        self._streams = {kind: _LongTable(self.parts_dir / f".{kind}.parquet.partial", schema)
                         for kind, schema in LONG_TABLES.items()}
        self._next_run = 0
        """The first run not yet appended to the long tables."""
        self._unstreamed: dict[int, int] = {}
        """Committed chunks not yet appended: first run -> last run."""

    # ------------------------------------------------------------------ checks (no writes)
    def check_target(self, *, resume: bool, overwrite: bool) -> None:
        """Refuse, before anything is written, a folder the batch may not or cannot write to: the checks of
        every result folder (``check_folder``), and --resume or --overwrite only for a batch's folder."""
        out = self.out_dir
        if resume and overwrite:
            raise ConfigError("command line", "--resume", "cannot be combined with --overwrite; choose one")
        check_folder(out, resume=resume, overwrite=overwrite, other="--name")
        if out.is_dir() and any(out.iterdir()) and not ((out / MANIFEST).is_file() or self.parts_dir.is_dir()):
            raise ConfigError(str(out), "--out", "is not a batch result folder (no manifest.json); "
                              "refusing to resume or replace it")

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when there is none yet."""
        path = self.out_dir / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(str(path), "", f"not valid JSON ({exc.msg}); use --overwrite to start afresh") from None

    def is_complete(self) -> bool:
        """True when the final files exist and the manifest says the batch finished."""
        manifest = self.read_manifest()
        return bool(manifest and manifest.get("complete")) and all((self.out_dir / f).is_file() for f in FINAL_FILES)

    # ------------------------------------------------------------------ writing
    def start(self, manifest: dict[str, Any], *, resume: bool, overwrite: bool) -> set[int]:
        """Create (or reopen) the folder and return the run indices already finished.

        On ``resume`` the stored design fingerprint must match ``manifest["fingerprint"]``.
        """
        previous = self.read_manifest() if resume else None
        if resume and previous is not None and previous.get("fingerprint") != manifest["fingerprint"]:
            raise ConfigError(str(self.out_dir), "--resume", "this folder holds a batch with a different design "
                              "or configuration; use --overwrite or another --name")
        if resume and self.is_complete():
            return set(range(manifest["n_runs"]))
        if overwrite and self.out_dir.exists():
            shutil.rmtree(self.out_dir)
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        if previous is not None:
            manifest["started"] = previous.get("started", manifest.get("started"))
        self.close()  # the long tables restart from run 0 with the committed parts
        self._drop_orphans()
        self.write_manifest(manifest)
        committed = self._committed()
        self._next_run, self._unstreamed = 0, dict(committed)
        return {i for first, last in committed for i in range(first, last + 1)}

    def write_chunk(self, result: ChunkResult) -> None:
        """Store one chunk's tables as part files; the runs part, written last, commits the chunk.

        Then append to the long tables every chunk that now continues them, this one included.
        """
        tag = f"{result.first:09d}-{result.last:09d}"
        _write_ipc(result.timeseries, self.parts_dir / f"timeseries-{tag}.arrow")
        _write_ipc(result.events, self.parts_dir / f"events-{tag}.arrow")
        _write_ipc(with_field_metadata(pa.Table.from_pylist(result.runs)), self.parts_dir / f"runs-{tag}.arrow")
        self._unstreamed[result.first] = result.last
        self._stream(arrived=result)

    def close(self) -> None:
        """Let go of the partial long tables of a batch that did not finish (its parts stay for --resume)."""
        for stream in self._streams.values():
            stream.abandon()

    def __enter__(self) -> "BatchStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write manifest.json atomically."""
        _atomic_write_text(self.out_dir / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")

    def finish(self, manifest: dict[str, Any], *, parameters: list[str],
               outcome_order: Iterable[str] = ()) -> dict[str, Any]:
        """Merge the parts into the final files, write the manifest and drop the parts.

        ``manifest`` is completed with counts, outcome and label names and
        ``complete = True``; it is returned.
        """
        parts = self._committed()
        _check_coverage(parts, manifest["n_runs"])
        self._unstreamed = {first: last for first, last in parts if first >= self._next_run}
        self._stream()
        runs = self._merge_runs(parts, parameters, list(outcome_order))
        for kind, stream in self._streams.items():
            stream.finish(self.out_dir / f"{kind}.parquet")
        failed = pc.sum(pc.not_equal(runs["status"], "ok")).as_py() or 0
        outcome_cols = [n for n in runs.column_names
                        if n not in _FIXED_FIRST + _FIXED_LAST and not n.startswith("param.")]
        manifest.update(
            n_runs=runs.num_rows, n_ok=runs.num_rows - failed, n_failed=failed, complete=True,
            outcomes=outcome_cols, labels=[n for n in outcome_cols if n.startswith("label_")],
        )
        self.write_manifest(manifest)
        shutil.rmtree(self.parts_dir, ignore_errors=True)
        return manifest

    # ------------------------------------------------------------------ internals
    def _committed(self) -> list[tuple[int, int]]:
        """(first, last) run index of every committed chunk, in run order."""
        if not self.parts_dir.is_dir():
            return []
        spans = []
        for path in self.parts_dir.iterdir():
            m = _PART.match(path.name)
            if m and m.group(1) == "runs":
                spans.append((int(m.group(2)), int(m.group(3))))
        return sorted(spans)

    def _drop_orphans(self) -> None:
        """Remove temporary files and parts of chunks that never committed (a killed batch)."""
        committed = {f"{a:09d}-{b:09d}" for a, b in self._committed()}
        for path in self.parts_dir.iterdir():
            m = _PART.match(path.name)
            if m is None or f"{m.group(2)}-{m.group(3)}" not in committed:
                log.debug("dropping orphan part %s", path.name)
                path.unlink()

    def _part(self, kind: str, span: tuple[int, int]) -> Path:
        return self.parts_dir / f"{kind}-{span[0]:09d}-{span[1]:09d}.arrow"

    def _merge_runs(self, parts: list[tuple[int, int]], parameters: list[str],
                    outcome_order: list[str]) -> pa.Table:
        """runs.parquet: one row per run in run_id order, column types unified over all chunks.

        Each outcome column carries its unit and definition from ``sim.metrics.OUTCOME_DOCS`` as Arrow field
        metadata (``{"unit": ..., "description": ...}``, kept in the Parquet schema); readers that ignore it
        (pandas, DuckDB) read the same columns as before.
        """
        tables = [_read_ipc(self._part("runs", span)) for span in parts]
        types: dict[str, list[pa.DataType]] = {}
        for table in tables:
            for f in table.schema:
                types.setdefault(f.name, []).append(f.type)
        params = [f"param.{p}" for p in parameters]
        seen = [n for n in types if n not in _FIXED_FIRST + _FIXED_LAST and n not in params]
        outcomes = list(outcome_order) + sorted(set(seen) - set(outcome_order))
        names = [*_FIXED_FIRST, *params, *outcomes, *_FIXED_LAST]
        schema = pa.schema([pa.field(n, _FIXED_TYPES.get(n) or _common_type(n, types.get(n, [])),
                                     metadata=field_metadata(n)) for n in names])
        table = pa.concat_tables([_conform(t, schema) for t in tables]) if tables else schema.empty_table()
        _atomic_write_parquet(table, self.out_dir / "runs.parquet", row_group_size=max(table.num_rows, 1))
        return table

    def _stream(self, arrived: ChunkResult | None = None) -> None:
        """Append to the long tables, in run order, every committed chunk that continues them.

        The chunk that just ``arrived`` is taken from memory, the others from their parts.
        """
        while self._next_run in self._unstreamed:
            span = (self._next_run, self._unstreamed.pop(self._next_run))
            if arrived is not None and (arrived.first, arrived.last) == span:
                tables = {"timeseries": arrived.timeseries, "events": arrived.events}
            else:
                tables = {kind: _read_ipc(self._part(kind, span)) for kind in LONG_TABLES}
            for kind, stream in self._streams.items():
                stream.add(tables[kind])
            self._next_run = span[1] + 1


class _LongTable:
    """One long table's final Parquet file, written run by run under a partial name until the batch ends."""

    def __init__(self, partial: Path, schema: pa.Schema):
        self.partial, self.schema = partial, schema
        self._writer: pq.ParquetWriter | None = None
        self._groups: _RowGroups | None = None

    def add(self, table: pa.Table) -> None:
        """Append the next runs' rows."""
        if self._writer is None:
            # The time series' text columns arrive as Arrow dictionary arrays (experiments/worker.py), which
            # Parquet's dictionary encoding takes as they are: no decoding, no hashing of ~16,000 strings a run
            # (one run's dictionaries are those of the next, so the encoder keeps them). Without the Arrow
            # schema in the file (store_schema=False) readers see plain text columns, not categoricals.
            self._writer = pq.ParquetWriter(self.partial, self.schema, compression=COMPRESSION,
                                            use_dictionary=_text_columns(self.schema), store_schema=False)
            self._groups = _RowGroups(self._writer)
        self._groups.add(table.cast(self.schema))

    def finish(self, final: Path) -> None:
        """Write the last row group and move the file into place as ``final``."""
        if self._writer is None:  # no rows at all: still a file with the table's columns
            self.add(self.schema.empty_table())
        try:
            self._groups.close()
        finally:
            self._writer.close()
            self._writer = self._groups = None
        os.replace(self.partial, final)

    def abandon(self) -> None:
        """Close and delete the partial file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = self._groups = None
        self.partial.unlink(missing_ok=True)


class _RowGroups:
    """Buffer rows and write a row group at the first run boundary after ROW_GROUP_ROWS rows."""

    def __init__(self, writer: pq.ParquetWriter, target: int | None = None):
        self.writer, self.target = writer, target or ROW_GROUP_ROWS
        self.pending: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.pending.append(table)
        self.rows += table.num_rows
        while self.rows >= self.target:
            buffered = pa.concat_tables(self.pending)
            last_run = buffered["run_id"][self.target - 1]
            cut = pc.sum(pc.less_equal(buffered["run_id"], last_run)).as_py()
            if cut >= buffered.num_rows:  # the boundary lies in a part not read yet
                self.pending = [buffered]
                break
            self._write(buffered.slice(0, cut))
            rest = buffered.slice(cut)
            self.pending, self.rows = [rest], rest.num_rows

    def close(self) -> None:
        if self.rows:
            self._write(pa.concat_tables(self.pending))
        self.pending, self.rows = [], 0

    def _write(self, table: pa.Table) -> None:
        self.writer.write_table(_one_dictionary(table), row_group_size=table.num_rows)


def _one_dictionary(table: pa.Table) -> pa.Table:
    """The row group with one dictionary for each text column, decided by its rows alone, so the file's
    bytes do not depend on how the runs were chunked. Runs of one scenario carry equal dictionaries and
    pass unchanged (Parquet then writes their codes as they are); otherwise the column's texts are encoded
    afresh, in order of first appearance."""
    for i, f in enumerate(table.schema):
        if not pa.types.is_dictionary(f.type):
            continue
        chunks = table.column(i).chunks
        if all(c.dictionary.equals(chunks[0].dictionary) for c in chunks[1:]):
            continue
        text = pa.concat_arrays([c.dictionary_decode() for c in chunks])
        table = table.set_column(i, f, pa.chunked_array([text.dictionary_encode().cast(f.type)]))
    return table


def _check_coverage(parts: list[tuple[int, int]], n_runs: int) -> None:
    """The committed chunks must cover runs 0..n_runs-1 exactly once."""
    expected = 0
    for first, last in parts:
        if first != expected:
            raise RuntimeError(f"runs {expected}..{first - 1} missing or duplicated in the parts; "
                               "rerun with --resume")
        expected = last + 1
    if expected != n_runs:
        raise RuntimeError(f"only {expected} of {n_runs} runs stored; rerun with --resume")


def _common_type(name: str, types: list[pa.DataType]) -> pa.DataType:
    """One type for a column seen with different types in different chunks (or only as nulls)."""
    kinds = {t for t in types if not pa.types.is_null(t)}
    if not kinds:
        return pa.bool_() if name.startswith("label_") else pa.float64()
    if len(kinds) == 1:
        return kinds.pop()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in kinds):
        return pa.float64()
    return pa.string()


def check_folder(out: str | Path, *, resume: bool = False, overwrite: bool = False, option: str = "--out",
                 other: str = "", beside: bool = False, can_resume: bool = True) -> None:
    """Refuse, before anything runs or is written, a result folder a command may not or cannot write.

    ``out`` must be a directory or not exist yet; an existing non-empty one needs ``resume`` or
    ``overwrite`` (whether it is a result folder of the right kind is the caller's check); and the
    place where it goes must take new files (``check_writable``). ``other`` names the command's other
    way to pick a folder (``"--name"`` for batch) for the hint; ``can_resume`` False leaves --resume out
    of it. Raises ConfigError, one line: ``<folder>: --out: <what is wrong>``. (The commands call it
    before their work; the batch store again, through ``BatchStore.check_target``.)
    """
    out = Path(out)
    choose = f"choose another {option}" + (f" or {other}" if other else "")
    if out.exists() and not out.is_dir():
        raise ConfigError(str(out), option, f"exists and is not a directory; {choose}")
    if out.is_dir() and not (resume or overwrite) and any(out.iterdir()):
        again = "pass --resume to complete it, --overwrite to replace it," if can_resume else "pass --overwrite to replace it"
        raise ConfigError(str(out), option, f"already exists; {again} or {choose}")
    check_writable(out, option, beside)


def check_writable(out: Path, option: str = "--out", beside: bool = False) -> None:
    """``out``, or with ``beside`` or when it does not exist its nearest existing parent, must be a directory
    that takes new files. A probe folder is created there and removed at once: permission bits say
    nothing when running as root or on special file systems (``/proc``). Raises ConfigError, one line."""
    out = Path(out)
    probe = out if out.is_dir() and not beside else out.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(str(out), option, f"cannot create it: {probe} is a file, not a directory")
    try:
        made = tempfile.mkdtemp(prefix=".computemarket-probe-", dir=probe)
    except OSError as exc:
        raise ConfigError(str(out), option, f"cannot write there: {probe} does not take new files "
                          f"({exc.strerror or exc})") from None
    os.rmdir(made)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with the schema's columns, order and types; missing columns become nulls."""
    columns = [table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
               for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _text_columns(schema: pa.Schema) -> list[str]:
    """The text columns: a long table's repeated names, dates and kinds, dictionary-encoded in Parquet. Its
    numbers are not (dictionary encoding a float column that does not repeat was most of the writer's time,
    and made the file larger)."""
    return [f.name for f in schema
            if pa.types.is_string(f.type) or (pa.types.is_dictionary(f.type) and pa.types.is_string(f.type.value_type))]


def _write_ipc(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        options = ipc.IpcWriteOptions(compression="lz4")
        with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema, options=options) as writer:
            writer.write_table(table)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_ipc(path: Path) -> pa.Table:
    with pa.OSFile(str(path), "rb") as source:
        return ipc.open_file(source).read_all()


def _atomic_write_parquet(table: pa.Table, path: Path, **kwargs: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, tmp, compression=COMPRESSION, **kwargs)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
