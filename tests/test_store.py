"""The batch store: part files, atomic finish, resume bookkeeping and output-folder checks.

These tests write hand-made chunk results, so they need no model.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from experiments import store as store_mod
from experiments.store import BatchStore
from experiments.worker import EVENTS_SCHEMA, TIMESERIES_SCHEMA, ChunkResult
from sim.config import ConfigError


def run_row(i: int, ok: bool = True, **outcomes) -> dict:
    row = {"run_id": f"r{i:06d}", "scenario": "toy", "point": 0, "replicate": i, "seed": 1000 + i}
    if ok:
        row.update(outcomes or {"peak_spot_price": float(i), "label_glut": i % 2 == 0})
    row.update(status="ok" if ok else "failed", error="" if ok else "RuntimeError: boom")
    return row


def series(i: int, months: int = 3) -> pa.Table:
    rows = [{"run_id": f"r{i:06d}", "tick": t, "date": f"2025-{t + 1:02d}", "variable": "spot_price",
             "agent": "market", "value": float(i * 10 + t)} for t in range(months)]
    return pa.Table.from_pylist(rows, schema=TIMESERIES_SCHEMA)


def chunk(first: int, last: int, failed: set[int] = frozenset(), **outcomes) -> ChunkResult:
    ids = range(first, last + 1)
    ok = [i for i in ids if i not in failed]
    ts = pa.concat_tables([series(i) for i in ok]) if ok else TIMESERIES_SCHEMA.empty_table()
    return ChunkResult(first, last, [run_row(i, i not in failed, **outcomes) for i in ids], ts,
                       EVENTS_SCHEMA.empty_table())


def manifest(n_runs: int) -> dict:
    return {"name": "toy", "n_runs": n_runs, "fingerprint": "abc", "complete": False, "started": "t0"}


def test_finish_sorts_runs_and_streams_long_tables(tmp_path):
    store = BatchStore(tmp_path / "toy")
    assert store.start(manifest(6), resume=False, overwrite=False) == set()
    for c in (chunk(4, 5), chunk(0, 1), chunk(2, 3, failed={3})):  # completion order differs from run order
        store.write_chunk(c)
    m = store.finish(manifest(6), parameters=[], outcome_order=["peak_spot_price", "label_glut"])

    runs = pq.read_table(tmp_path / "toy" / "runs.parquet")
    assert runs["run_id"].to_pylist() == [f"r{i:06d}" for i in range(6)]
    assert runs.column_names == ["run_id", "scenario", "point", "replicate", "seed",
                                 "peak_spot_price", "label_glut", "status", "error"]
    assert runs.schema.field("label_glut").type == pa.bool_()
    assert runs["status"].to_pylist() == ["ok", "ok", "ok", "failed", "ok", "ok"]
    assert runs["peak_spot_price"][3].as_py() is None
    ts = pq.read_table(tmp_path / "toy" / "timeseries.parquet")
    assert ts.num_rows == 5 * 3 and ts["run_id"].to_pylist() == sorted(ts["run_id"].to_pylist())
    assert (m["n_ok"], m["n_failed"], m["complete"]) == (5, 1, True)
    assert m["labels"] == ["label_glut"]
    assert json.loads((tmp_path / "toy" / "manifest.json").read_text())["complete"] is True
    assert not (tmp_path / "toy" / ".parts").exists()


def test_outcome_types_are_unified_across_chunks(tmp_path):
    """An outcome that is an int in one chunk and a float in another becomes float64."""
    store = BatchStore(tmp_path / "toy")
    store.start(manifest(4), resume=False, overwrite=False)
    store.write_chunk(chunk(0, 1, labs_surviving=3))
    store.write_chunk(chunk(2, 3, labs_surviving=2.5))
    store.finish(manifest(4), parameters=[])
    runs = pq.read_table(tmp_path / "toy" / "runs.parquet")
    assert runs.schema.field("labs_surviving").type == pa.float64()
    assert runs["labs_surviving"].to_pylist() == [3.0, 3.0, 2.5, 2.5]


def test_all_failed_batch_still_has_declared_outcome_columns(tmp_path):
    store = BatchStore(tmp_path / "toy")
    store.start(manifest(2), resume=False, overwrite=False)
    store.write_chunk(chunk(0, 1, failed={0, 1}))
    m = store.finish(manifest(2), parameters=[], outcome_order=["peak_spot_price", "label_glut"])
    runs = pq.read_table(tmp_path / "toy" / "runs.parquet")
    assert runs.schema.field("label_glut").type == pa.bool_()
    assert runs.schema.field("peak_spot_price").type == pa.float64()
    assert m["n_failed"] == 2


def test_row_groups_do_not_depend_on_chunking(tmp_path, monkeypatch):
    """Row groups end at run boundaries chosen by content, so files are byte-identical."""
    monkeypatch.setattr(store_mod, "ROW_GROUP_ROWS", 7)
    paths = []
    for name, spans in (("a", [(0, 9)]), ("b", [(0, 2), (3, 3), (4, 8), (9, 9)])):
        store = BatchStore(tmp_path / name)
        store.start(manifest(10), resume=False, overwrite=False)
        for first, last in reversed(spans):
            store.write_chunk(chunk(first, last))
        store.finish(manifest(10), parameters=[])
        paths.append(tmp_path / name)
    for f in ("runs.parquet", "timeseries.parquet"):
        assert (paths[0] / f).read_bytes() == (paths[1] / f).read_bytes()
    meta = pq.ParquetFile(paths[0] / "timeseries.parquet")
    assert meta.num_row_groups > 1
    for g in range(meta.num_row_groups):  # 3 rows per run: no run is split between row groups
        assert meta.read_row_group(g).num_rows % 3 == 0


def test_long_tables_stream_in_run_order_whatever_the_arrival(tmp_path, monkeypatch):
    """Chunks are appended to the long tables as soon as the runs before them are in, from memory or
    from their parts, and an interrupted batch resumes from its parts: the files are the same."""
    monkeypatch.setattr(store_mod, "ROW_GROUP_ROWS", 7)

    def batch(name: str, sessions: list[list[tuple[int, int]]]):
        for i, spans in enumerate(sessions):
            with BatchStore(tmp_path / name) as store:
                store.start(manifest(10), resume=i > 0, overwrite=False)
                for first, last in spans:
                    store.write_chunk(chunk(first, last))
                if i == len(sessions) - 1:
                    store.finish(manifest(10), parameters=[])
            if i < len(sessions) - 1:  # interrupted: the committed parts stay, the partial long tables go
                left = [p.name for p in (tmp_path / name / ".parts").iterdir()]
                assert "runs-000000000-000000002.arrow" in left and not any(n.endswith(".partial") for n in left)
        return tmp_path / name

    one = batch("one", [[(0, 9)]])
    mixed = batch("mixed", [[(0, 2), (5, 6), (3, 4), (9, 9), (7, 8)]])
    resumed = batch("resumed", [[(0, 2), (5, 6)], [(7, 9), (3, 4)]])
    for f in ("runs.parquet", "timeseries.parquet"):
        assert (one / f).read_bytes() == (mixed / f).read_bytes() == (resumed / f).read_bytes()
    run_ids = pq.read_table(one / "timeseries.parquet")["run_id"].to_pylist()
    assert run_ids == [f"r{i:06d}" for i in range(10) for _ in range(3)]


def test_resume_keeps_committed_chunks_and_drops_orphans(tmp_path):
    store = BatchStore(tmp_path / "toy")
    store.start(manifest(6), resume=False, overwrite=False)
    store.write_chunk(chunk(0, 1))
    store.write_chunk(chunk(4, 5))
    parts = tmp_path / "toy" / ".parts"
    # a chunk killed after its time series but before its runs part, and a temp file
    store_mod._write_ipc(series(2), parts / "timeseries-000000002-000000003.arrow")
    (parts / ".runs-000000002-000000003.arrow.123.tmp").write_bytes(b"half")

    again = BatchStore(tmp_path / "toy")
    done = again.start(manifest(6), resume=True, overwrite=False)
    assert done == {0, 1, 4, 5}
    assert sorted(p.name for p in parts.iterdir()) == sorted(
        f"{k}-{a:09d}-{b:09d}.arrow" for k in ("runs", "timeseries", "events") for a, b in ((0, 1), (4, 5)))
    again.write_chunk(chunk(2, 3))
    again.finish(manifest(6), parameters=[])
    assert pq.read_table(tmp_path / "toy" / "timeseries.parquet").num_rows == 6 * 3


def test_resume_refuses_a_different_design(tmp_path):
    store = BatchStore(tmp_path / "toy")
    store.start(manifest(6), resume=False, overwrite=False)
    other = dict(manifest(6), fingerprint="different")
    with pytest.raises(ConfigError, match="--resume: this folder holds a batch with a different design"):
        BatchStore(tmp_path / "toy").start(other, resume=True, overwrite=False)


def test_finish_refuses_missing_runs(tmp_path):
    store = BatchStore(tmp_path / "toy")
    store.start(manifest(6), resume=False, overwrite=False)
    store.write_chunk(chunk(0, 1))
    store.write_chunk(chunk(4, 5))
    with pytest.raises(RuntimeError, match="missing"):
        store.finish(manifest(6), parameters=[])
    assert not (tmp_path / "toy" / "runs.parquet").exists()


def test_existing_folder_needs_resume_or_overwrite(tmp_path):
    out = tmp_path / "toy"
    BatchStore(out).start(manifest(2), resume=False, overwrite=False)
    with pytest.raises(ConfigError) as err:
        BatchStore(out).check_target(resume=False, overwrite=False)
    assert str(err.value) == (f"{out}: --out: already exists; pass --resume to complete it, "
                              "--overwrite to replace it, or choose another --out or --name")
    BatchStore(out).check_target(resume=True, overwrite=False)
    BatchStore(out).check_target(resume=False, overwrite=True)


def test_an_empty_existing_folder_is_fine(tmp_path):
    BatchStore(tmp_path).check_target(resume=False, overwrite=False)


def test_overwrite_refuses_a_folder_that_is_not_a_batch(tmp_path):
    (tmp_path / "notes.txt").write_text("precious")
    with pytest.raises(ConfigError, match="not a batch result folder"):
        BatchStore(tmp_path).check_target(resume=False, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_output_under_a_file_is_refused(tmp_path):
    (tmp_path / "plain").write_text("")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        BatchStore(tmp_path / "plain" / "toy").check_target(resume=False, overwrite=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_parent_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="not writable"):
            BatchStore(ro / "toy").check_target(resume=False, overwrite=False)
    finally:
        ro.chmod(0o700)


def test_outcome_columns_carry_their_unit_and_definition(tmp_path):
    """runs.parquet (and the run parts of an unfinished batch) record each outcome's unit and definition from
    sim.metrics.OUTCOME_DOCS as field metadata; pandas and DuckDB read the table as before."""
    from experiments.analysis.loading import load_batch
    from sim.metrics import OUTCOME_DOCS

    out = tmp_path / "toy"
    store = BatchStore(out)
    store.start(manifest(4), resume=False, overwrite=False)
    store.write_chunk(chunk(0, 1))
    with pa.OSFile(str(out / ".parts" / "runs-000000000-000000001.arrow"), "rb") as f:
        part_schema = ipc.open_file(f).schema
    assert part_schema.field("peak_spot_price").metadata[b"unit"] == b"$B per EGW-month"
    unfinished = load_batch(out, allow_incomplete=True)
    assert unfinished.unit("peak_spot_price") == "$B per EGW-month" and unfinished.unit("run_id") == ""

    store.write_chunk(chunk(2, 3))
    store.finish(manifest(4), parameters=[], outcome_order=["peak_spot_price", "label_glut"])
    schema = pq.read_schema(out / "runs.parquet")
    unit, text = OUTCOME_DOCS["peak_spot_price"]
    assert schema.field("peak_spot_price").metadata == {b"unit": unit.encode(), b"description": text.encode()}
    assert schema.field("label_glut").metadata[b"unit"] == b"bool"
    assert all(schema.field(n).metadata is None for n in ("run_id", "seed", "status", "error"))
    assert load_batch(out).units == {"peak_spot_price": "$B per EGW-month", "label_glut": "bool"}

    frame = pd.read_parquet(out / "runs.parquet")
    assert list(frame.columns) == schema.names and frame["peak_spot_price"].tolist() == [0.0, 1.0, 2.0, 3.0]
    duckdb = pytest.importorskip("duckdb")
    assert duckdb.connect().execute(f"SELECT sum(peak_spot_price), count(*) FROM read_parquet('{out}/runs.parquet')"
                                    ).fetchone() == (6.0, 4)
