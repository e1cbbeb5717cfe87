"""Reading results directories, the batch summary table and the batch report (no model needed)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from experiments.analysis.loading import BatchError, fan_quantiles, load_batch, read_market_series
from experiments.analysis.report import write_batch_report
from experiments.analysis.summary import summary_table
from experiments.analysis.synthetic import synthetic_runs, write_synthetic_batch


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    return write_synthetic_batch(tmp_path_factory.mktemp("res") / "baseline", 400, batch_seed=3, months=12, n_agents=2)


def test_load_batch_finds_labels_and_outcomes_key_outcomes_first(batch_dir):
    b = load_batch(batch_dir)
    assert b.labels == ["label_glut", "label_scarcity", "label_cascade", "label_consolidation"]
    assert b.outcomes[:3] == ["peak_spot_price", "trough_spot_price", "months_glut"]
    assert len(b.ok) == 400 and b.complete


def test_failed_runs_are_left_out_of_the_statistics(tmp_path):
    runs = synthetic_runs(np.arange(10))
    runs.loc[[1, 2], "status"] = "failed"
    runs.loc[[1, 2], "peak_spot_price"] = np.nan
    path = write_synthetic_batch(tmp_path / "b", runs=runs, timeseries=False)
    b = load_batch(path)
    assert len(b.ok) == 8 and b.n_failed == 2
    assert "10 runs, 8 ok, 2 failed" in summary_table(path)


def test_summary_table_reports_counts_and_quantiles(batch_dir):
    text = summary_table(batch_dir)
    runs = pd.read_parquet(batch_dir / "runs.parquet")
    k = int(runs["label_glut"].sum())
    line = next(l for l in text.splitlines() if l.startswith("label_glut"))
    assert f"{k}/400" in line and f"{100 * k / 400:.1f}%" in line
    peak = next(l for l in text.splitlines() if l.startswith("peak_spot_price")).split()
    p10, p50, p90 = np.quantile(runs["peak_spot_price"], [0.1, 0.5, 0.9])
    assert peak[1] == "$B/EGW-mo"                          # the unit column (sim.metrics.short_unit)
    assert [float(v) for v in peak[2:5]] == pytest.approx([p50, p10, p90], rel=5e-3)


def test_fan_quantiles_known_answer_and_market_rows_only(tmp_path):
    """Eleven runs whose value at every tick is the run number 0..10: median 5, P10 1, P90 9.
    Agent rows with huge values must not leak into the market fan."""
    rows = []
    for r in range(11):
        for t in range(3):
            rows.append((f"r{r:06d}", t, f"2025-0{t + 1}", "spot_price", "market", float(r)))
            rows.append((f"r{r:06d}", t, f"2025-0{t + 1}", "spot_price", "lab_a", 1e6))
    frame = pd.DataFrame(rows, columns=["run_id", "tick", "date", "variable", "agent", "value"])
    (tmp_path / "b").mkdir()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "b" / "timeseries.parquet")
    fans = fan_quantiles(read_market_series(tmp_path / "b", ["spot_price"]))
    f = fans["spot_price"]
    assert list(f["q50"]) == [5.0] * 3 and list(f["q10"]) == [1.0] * 3 and list(f["q90"]) == [9.0] * 3
    assert list(f["date"]) == ["2025-01", "2025-02", "2025-03"] and list(f["n"]) == [11] * 3


def test_batch_report_is_self_contained(batch_dir):
    path = write_batch_report(batch_dir)
    assert path == batch_dir / "report.html"
    text = path.read_text()
    assert text.count("<script type=\"text/javascript\">") == 1  # plotly.js embedded once
    assert "<script src=" not in text  # nothing fetched from the network
    for needle in ("label_glut", "peak_spot_price", "Market over time", "Wilson"):
        assert needle in text


def test_unfinished_batch_is_read_from_its_part_files(tmp_path):
    """The batch store keeps finished chunks in .parts/*.arrow until the batch completes."""
    path = tmp_path / "running"
    (path / ".parts").mkdir(parents=True)
    runs = synthetic_runs(np.arange(20))
    for first in (0, 10):
        chunk = pa.Table.from_pandas(runs.iloc[first:first + 10], preserve_index=False)
        with ipc.new_file(str(path / ".parts" / f"runs-{first:09d}-{first + 9:09d}.arrow"), chunk.schema) as w:
            w.write_table(chunk)
    series = pa.table({"run_id": ["r000000"] * 2, "tick": pa.array([0, 1], pa.int32()), "date": ["2025-01", "2025-02"],
                       "variable": ["spot_price"] * 2, "agent": ["market"] * 2, "value": [1.0, 2.0]})
    with ipc.new_file(str(path / ".parts" / "timeseries-000000000-000000009.arrow"), series.schema) as w:
        w.write_table(series)
    (path / "manifest.json").write_text(json.dumps({"name": "running", "complete": False, "n_runs": 50,
                                                    "outcomes": [], "labels": []}))
    with pytest.raises(BatchError, match=r"unfinished .*20 of 50 runs recorded.*--allow-incomplete"):
        load_batch(path)
    b = load_batch(path, allow_incomplete=True)
    assert len(b.runs) == 20 and "label_glut" in b.labels and not b.complete
    assert "UNFINISHED" in summary_table(path)
    assert "unfinished" in write_batch_report(path).read_text()
    assert list(read_market_series(path, ["spot_price"])["value"]) == [1.0, 2.0]


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such directory"),
    (lambda p: p.mkdir(), "not a batch results directory (no manifest.json)"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text("{oops")), "manifest.json is not valid JSON"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text('{"complete": true}')), "no runs.parquet"),
    (lambda p: (p.mkdir(), (p / "manifest.json").write_text('{"complete": true}'),
                (p / "runs.parquet").write_text("not parquet")), "runs.parquet is not a readable Parquet file"),
])
def test_bad_directories_give_one_line_errors(tmp_path, make, message):
    target = tmp_path / "x"
    make(target)
    with pytest.raises(BatchError) as err:
        load_batch(target)
    assert str(err.value).startswith(f"{target}: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_analysis_package_never_imports_the_model(batch_dir, tmp_path):
    """Reports must work on results from a cluster without the model installed."""
    other = write_synthetic_batch(tmp_path / "other", 50, batch_seed=4, timeseries=False)
    code = (
        "import sys\n"
        "from experiments.analysis import compare, compare_report, report, summary, sensitivity, stats, loading\n"
        f"summary.summary_table({str(batch_dir)!r})\n"
        f"compare.compare_batches(compare.load_batches([{str(batch_dir)!r}, {str(other)!r}]), n_boot=100)\n"
        "bad = [m for m in sys.modules if m == 'sim' or m.startswith(('sim.', 'agents', 'mesa'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_fan_cache_is_reused_and_invalidated_when_the_series_change(tmp_path, monkeypatch):
    from experiments.analysis import loading

    path = write_synthetic_batch(tmp_path / "b", 30, months=6, n_agents=1)
    first = loading.batch_fans(load_batch(path))
    assert (path / ".analysis" / "fans.parquet").is_file()

    def no_read(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(loading, "read_market_series", no_read)
    again = loading.batch_fans(load_batch(path))
    pd.testing.assert_frame_equal(first["spot_price"], again["spot_price"])
    monkeypatch.undo()
    write_synthetic_batch(path, 30, months=6, n_agents=1, level=2.0)  # same seeds, every value doubled
    doubled = loading.batch_fans(load_batch(path))
    assert doubled["spot_price"]["q50"].to_numpy() == pytest.approx(2 * first["spot_price"]["q50"].to_numpy())


def test_synthetic_units_are_those_of_the_model():
    from experiments.analysis.synthetic import UNITS
    from sim.metrics import OUTCOME_DOCS

    assert UNITS == {name: OUTCOME_DOCS[name][0] for name in UNITS}


def test_every_outcome_unit_is_short_in_tables():
    """Table columns show textfmt.short_unit of the unit: at most 10 characters for every outcome of the model."""
    from experiments.analysis.textfmt import short_unit
    from sim.metrics import OUTCOME_DOCS

    assert short_unit("$B per EGW-month") == "$B/EGW-mo" and short_unit("GW") == "GW" and short_unit("bool") == ""
    assert max(len(short_unit(unit)) for unit, _ in OUTCOME_DOCS.values()) <= 10


def test_batch_report_shows_the_units_of_outcomes(batch_dir):
    text = write_batch_report(batch_dir).read_text()
    assert "<th class='l'>unit</th>" in text                    # the outcome table's unit column
    assert "<td class='l'>$B per EGW-month</td>" in text         # peak_spot_price's row
    assert '"title":{"text":"$B per EGW-month"}' in text         # its histogram's axis


def test_results_without_recorded_units_show_none(tmp_path):
    """Results written before units were recorded: the unit column is empty, nothing else changes."""
    path = write_synthetic_batch(tmp_path / "old", 30, batch_seed=2, timeseries=False, units=False)
    assert load_batch(path).units == {}
    peak = next(l for l in summary_table(path).splitlines() if l.startswith("peak_spot_price")).split()
    assert len(peak) == 4 and all(v[0].isdigit() for v in peak[1:])
    assert "<td class='l'></td>" in write_batch_report(path).read_text()
