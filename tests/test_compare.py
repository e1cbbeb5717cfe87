"""``computemarket compare`` on synthetic result tables with planted, known differences."""

import json
import shutil
import subprocess
import sys

import pytest

from experiments.analysis import stats
from experiments.analysis.compare import compare_batches, comparison_text, load_batches
from experiments.analysis.synthetic import write_synthetic_batch
from experiments.cli_compare import main as cli_main

N = 2000


def _row(comp, name, batch=1):
    return next(r for r in [*comp.label_rows, *comp.outcome_rows]
                if getattr(r, "label", getattr(r, "outcome", None)) == name and r.batch == batch)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """Reference (glut 0.30), a copy, and 'treated' batches with glut 0.45 and peak price +0.3,
    once with the reference's seeds (paired) and once with other seeds (independent)."""
    root = tmp_path_factory.mktemp("results")
    ref = write_synthetic_batch(root / "baseline", N, batch_seed=1, timeseries=False)
    copy = root / "baseline_copy"
    shutil.copytree(ref, copy)
    planted = dict(label_probs={"label_glut": 0.45}, outcome_shifts={"peak_spot_price": 0.3}, timeseries=False)
    paired = write_synthetic_batch(root / "treated_paired", N, batch_seed=1, scenario="forward_bet", **planted)
    indep = write_synthetic_batch(root / "treated_indep", N, batch_seed=2, scenario="forward_bet", **planted)
    same_dist = write_synthetic_batch(root / "baseline_other_seeds", N, batch_seed=3, timeseries=False)
    return {"ref": ref, "copy": copy, "paired": paired, "indep": indep, "same": same_dist, "root": root}


@pytest.fixture(scope="module")
def comps(dirs):
    """Each comparison computed once for the module (the bootstrap dominates the cost)."""
    return {key: compare_batches(load_batches([dirs["ref"], dirs[key]]), n_boot=1000) for key in ("paired", "indep")}


def test_identical_batches_are_indistinguishable(dirs):
    comp = compare_batches(load_batches([dirs["ref"], dirs["copy"]]), n_boot=500)
    assert comp.pairings[1].used and comp.pairings[1].n_pairs == N
    yes, no = _verdicts(comp)
    assert yes == [] and len(no) == comp.family_size == 4 + 11
    for r in [*comp.label_rows, *comp.outcome_rows]:
        if r.batch == 1:
            assert r.p_adjusted == 1.0
            if hasattr(r, "diff"):  # Newcombe's paired interval keeps a sliver of width
                assert r.diff.estimate == 0.0 and -0.002 < r.diff.low <= 0.0 <= r.diff.high < 0.002
            else:
                assert r.diff_median.estimate == r.diff_median.low == r.diff_median.high == 0.0
    assert "No difference is distinguishable from seed noise" in comparison_text(comp)


def test_same_scenario_with_other_seeds_shows_no_difference(dirs):
    """Independent seeds, same distributions: Holm keeps every difference within noise."""
    comp = compare_batches(load_batches([dirs["ref"], dirs["same"]]), n_boot=500)
    assert not comp.pairings[1].used
    yes, _ = _verdicts(comp)
    assert yes == []


def test_planted_label_difference_independent_batches(comps):
    comp = comps["indep"]
    row = _row(comp, "label_glut")
    assert row.test.method == "fisher exact" and row.paired is None
    # 0.45 - 0.30 = 0.15; sd of the estimate sqrt(.3*.7/2000 + .45*.55/2000) = 0.0151
    assert row.diff.estimate == pytest.approx(0.15, abs=3 * 0.0151)
    assert row.diff.covers(0.15)
    assert row.diff.width == pytest.approx(2 * 1.96 * 0.0151, rel=0.15)
    assert stats.is_distinguishable(row.p_adjusted)
    # the labels that were not touched stay within noise
    for label in ("label_scarcity", "label_cascade", "label_consolidation"):
        assert not stats.is_distinguishable(_row(comp, label).p_adjusted)


def test_planted_label_difference_paired_batches_is_sharper(comps):
    comp, indep = comps["paired"], comps["indep"]
    row = _row(comp, "label_glut")
    assert row.test.method == "mcnemar exact" and row.paired.n_pairs == N
    assert row.diff.covers(0.15) and stats.is_distinguishable(row.p_adjusted)
    # common random numbers: only seeds with 0.30 <= u < 0.45 switch, so the interval is narrower
    assert row.diff.width < 0.7 * _row(indep, "label_glut").diff.width
    assert row.paired.share_down == 0.0


def test_planted_outcome_shift(comps):
    comp = comps["indep"]
    row = _row(comp, "peak_spot_price")
    assert row.diff_median.covers(0.3) and row.test.method == "kolmogorov-smirnov"
    assert stats.is_distinguishable(row.p_adjusted)
    assert row.hl_shift == pytest.approx(0.3, abs=0.08)
    # normal(0, 0.8) shifted by 0.3: Cliff's delta = 2 * Phi(0.3 / (0.8 * sqrt 2)) - 1 = 0.211
    assert row.cliffs_delta == pytest.approx(0.211, abs=0.04)
    paired = _row(comps["paired"], "peak_spot_price")
    assert paired.paired.mean.estimate == pytest.approx(0.3) and paired.paired.share_up == 1.0
    assert paired.test.method == "wilcoxon signed-rank"


def test_three_batches_all_against_the_first(dirs):
    comp = compare_batches(load_batches([dirs["ref"], dirs["paired"], dirs["indep"]]), n_boot=300)
    assert comp.family_size == 2 * (4 + 11)
    assert comp.names[0].startswith("A ") and comp.names[2].startswith("C ")
    text = comparison_text(comp)
    assert text.count("distinguishable from seed noise (") >= 4  # glut and peak price in B and C


def _verdicts(comp):
    from experiments.analysis.compare import statements

    return statements(comp)


# --------------------------------------------------------------------------- the command


def test_cli_compare_writes_report_and_table(dirs, tmp_path, capsys):
    out = tmp_path / "cmp.html"
    code = cli_main(["compare", str(dirs["ref"]), str(dirs["paired"]), "--out", str(out), "--bootstrap", "300"])
    assert code == 0
    text = capsys.readouterr().out
    assert "label_glut" in text and f"report: {out}" in text
    html = out.read_text()
    assert html.count('<script type="text/javascript">') == 1 and "Paired per-seed deltas" in html
    assert "Holm" in html and "Method" in html


def _cli_error(capsys, *argv):
    code = cli_main(["compare", *map(str, argv)])
    err = capsys.readouterr().err.strip()
    return code, err


def test_cli_rejects_a_directory_that_is_not_a_batch(dirs, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, err = _cli_error(capsys, dirs["ref"], tmp_path / "empty")
    assert code == 2 and err == f"error: {tmp_path / 'empty'}: not a batch results directory (no manifest.json)"


def test_cli_rejects_a_missing_directory(dirs, tmp_path, capsys):
    code, err = _cli_error(capsys, tmp_path / "nope", dirs["ref"])
    assert code == 2 and err == f"error: {tmp_path / 'nope'}: no such directory"


def test_cli_rejects_batches_without_common_outcomes(dirs, tmp_path, capsys):
    import pandas as pd

    runs = pd.DataFrame({"run_id": ["r000000", "r000001"], "scenario": "x", "point": 0, "replicate": [0, 1],
                         "seed": [1, 2], "something_else": [1.0, 2.0], "status": "ok", "error": ""})
    other = write_synthetic_batch(tmp_path / "other", runs=runs, timeseries=False)
    code, err = _cli_error(capsys, dirs["ref"], other)
    assert code == 2 and err.startswith(f"error: {other}: no outcome in common with {dirs['ref']}")
    assert "\n" not in err


def test_cli_unfinished_batch_needs_the_flag_and_the_report_says_so(dirs, tmp_path, capsys):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(dirs["indep"], unfinished)
    manifest = json.loads((unfinished / "manifest.json").read_text())
    (unfinished / "manifest.json").write_text(json.dumps({**manifest, "complete": False}))
    code, err = _cli_error(capsys, dirs["ref"], unfinished)
    assert code == 2 and err.startswith(f"error: {unfinished}: batch is unfinished") and "--allow-incomplete" in err
    out = tmp_path / "c.html"
    code = cli_main(["compare", str(dirs["ref"]), str(unfinished), "--allow-incomplete", "--out", str(out),
                     "--bootstrap", "200"])
    assert code == 0
    assert "UNFINISHED" in capsys.readouterr().out
    assert "Unfinished batch(es) included" in out.read_text()


def test_cli_needs_two_directories(dirs, capsys):
    code, err = _cli_error(capsys, dirs["ref"])
    assert code == 2 and "at least two" in err


def test_cli_module_imports_stay_light():
    code = ("import sys, argparse, experiments.cli_compare as c\n"
            "p = argparse.ArgumentParser(); c.register(p.add_subparsers())\n"
            "heavy = [m for m in ('pandas', 'plotly', 'scipy', 'SALib', 'pyarrow') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- batches that are not like for like


@pytest.fixture(scope="module")
def uneven(tmp_path_factory):
    """A reference of 20 runs and a batch of 10 runs on the first 10 of its seeds, with another horizon."""
    root = tmp_path_factory.mktemp("uneven")
    a = write_synthetic_batch(root / "a", 20, batch_seed=1, timeseries=False)
    b = write_synthetic_batch(root / "b", 10, batch_seed=1, timeseries=False, label_probs={"label_glut": 0.6})
    for path, start, months in ((a, "2025-01", 120), (b, "2023-01", 48)):
        manifest = json.loads((path / "manifest.json").read_text())
        manifest["config"] = {"meta": {"start": start, "months": months}}
        (path / "manifest.json").write_text(json.dumps(manifest))
    return a, b


def test_cli_says_when_the_diff_is_over_fewer_paired_seeds_than_the_shares(uneven, tmp_path, capsys):
    a, b = uneven
    assert cli_main(["compare", str(a), str(b), "--bootstrap", "200", "--out", str(tmp_path / "r.html")]) == 0
    out, err = capsys.readouterr()
    glut = next(line for line in out.splitlines() if line.split()[:1] == ["B"] and "/10" in line)
    assert " *" in glut
    note = "* B: diff over the 10 paired seeds only (A has 20 runs, B 10); the shares and medians beside it are " \
           "over all runs of each batch"
    assert out.count(note) == 2                            # under the labels and under the outcomes
    assert "diff over the 10 paired seeds only" in (tmp_path / "r.html").read_text()
    # another horizon: one warning line, not an error
    assert err.strip().splitlines() == [f"warning: {b} runs 48 months from 2023-01, the reference {a} 120 months "
                                        "from 2025-01: outcomes counted or summed over the horizon are not like "
                                        "for like"]


def test_cli_no_footnote_when_every_run_is_paired(dirs, tmp_path, capsys):
    assert cli_main(["compare", str(dirs["ref"]), str(dirs["copy"]), "--bootstrap", "200",
                     "--out", str(tmp_path / "r.html")]) == 0
    out, err = capsys.readouterr()
    assert "paired seeds only" not in out and " *" not in out and err == ""


def test_cli_warns_when_a_folder_is_compared_with_itself(uneven, tmp_path, capsys):
    a, _ = uneven
    assert cli_main(["compare", str(a), str(a), "--bootstrap", "200", "--out", str(tmp_path / "r.html")]) == 0
    err = capsys.readouterr().err
    assert err == f"warning: {a} is given twice: it is compared with itself, so its differences are zero by " \
                  "construction\n"


@pytest.mark.parametrize("option, value, expected", [
    ("--alpha", "2", "error: command line: --alpha: must be between 0 and 1, both excluded (got 2)"),
    ("--alpha", "0", "error: command line: --alpha: must be between 0 and 1, both excluded (got 0)"),
    ("--bootstrap", "0", "error: command line: --bootstrap: must be at least 100 resamples (got 0)"),
])
def test_cli_alpha_and_bootstrap_errors_name_the_option(uneven, option, value, expected, capsys):
    a, b = uneven
    code, err = _cli_error(capsys, a, b, option, value)
    assert code == 2 and err == expected


# --------------------------------------------------------------------------- units


def test_outcome_tables_and_verdicts_show_units(comps):
    comp = comps["paired"]
    assert comp.unit("peak_spot_price") == "$B per EGW-month"
    text = comparison_text(comp)
    peak = [line for line in text.splitlines() if line.startswith("peak_spot_price ")]
    assert peak[0].split()[1] == "$B/EGW-mo"                      # the outcome table's unit column
    assert peak[1].split()[1] == "$B/EGW-mo"                      # the paired deltas'
    assert "peak_spot_price ($B/EGW-mo): median " in text        # the verdict
    assert any(line.startswith("label_glut ") and line.split()[1] == "pts" for line in text.splitlines())


def test_compare_report_shows_units(dirs, tmp_path, capsys):
    out = tmp_path / "cmp.html"
    assert cli_main(["compare", str(dirs["ref"]), str(dirs["paired"]), "--out", str(out), "--bootstrap", "200"]) == 0
    html = out.read_text()
    assert "<th class='l'>unit</th>" in html and "<td class='l'>$B/EGW-mo</td>" in html
    assert '"title":{"text":"$B per EGW-month"}' in html          # a violin's and a delta histogram's axis


def test_compare_warns_when_batches_record_other_units(dirs, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    other = tmp_path / "other_units"
    shutil.copytree(dirs["ref"], other)
    table = pq.read_table(other / "runs.parquet")
    i = table.schema.get_field_index("peak_spot_price")
    table = table.cast(table.schema.set(i, table.schema.field(i).with_metadata({"unit": "$ per GPU-hour"})))
    pq.write_table(table, other / "runs.parquet")
    assert cli_main(["compare", str(dirs["ref"]), str(other), "--bootstrap", "100",
                     "--out", str(tmp_path / "r.html")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {other} records peak_spot_price in '$ per GPU-hour', the reference {dirs['ref']} in " \
           "'$B per EGW-month': compare like with like" in err
