"""Sensitivity analysis on analytic functions whose Sobol indices are known."""

import tomllib

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import sensitivity as sa
from experiments.analysis.synthetic import (ISHIGAMI_S1, ISHIGAMI_ST, LinearWorld, ishigami,
                                            write_synthetic_batch, write_synthetic_sensitivity_batch)
from experiments.cli_compare import main as cli_main

PI = float(np.pi)
ISHIGAMI_RANGES = {"x1": [-PI, PI], "x2": [-PI, PI], "x3": [-PI, PI], "dummy": [0.0, 1.0]}


def test_sobol_ishigami_known_indices_and_dummy_near_zero():
    prob = sa.problem(ISHIGAMI_RANGES)
    x = sa.sample(prob, "sobol", 1024, seed=3)
    assert x.shape == (1024 * (4 + 2), 4)
    t = sa.sobol_indices(prob, ishigami(x), seed=3).set_index("parameter")
    for name, s1, st in zip(("x1", "x2", "x3"), ISHIGAMI_S1, ISHIGAMI_ST):
        assert t.loc[name, "S1"] == pytest.approx(s1, abs=0.08)
        assert t.loc[name, "ST"] == pytest.approx(st, abs=0.06)
        assert abs(t.loc[name, "ST"] - st) <= t.loc[name, "ST_conf"] * 1.5
    assert abs(t.loc["dummy", "ST"]) < 0.01 and abs(t.loc["dummy", "S1"]) < 0.01
    # x3 acts only through its interaction with x1: no first-order share, a clear total share
    assert t.loc["x3", "S1"] < 0.08 < t.loc["x3", "ST"] - t.loc["x3", "ST_conf"]


def test_sobol_linear_function_plus_dummy():
    """y = 2 a + b on equal ranges: Var = 4/12 + 1/12, so S1 = ST = 0.8, 0.2 and 0 for the dummy."""
    prob = sa.problem({"a": [0, 1], "b": [0, 1], "dummy": [5, 9]})
    x = sa.sample(prob, "sobol", 512, seed=1)
    t = sa.sobol_indices(prob, 2 * x[:, 0] + x[:, 1], seed=1).set_index("parameter")
    assert t["S1"].to_numpy() == pytest.approx([0.8, 0.2, 0.0], abs=0.05)
    assert t["ST"].to_numpy() == pytest.approx([0.8, 0.2, 0.0], abs=0.05)


def test_morris_screening_puts_the_dummy_last_with_zero_effect():
    prob = sa.problem(ISHIGAMI_RANGES)
    x = sa.sample(prob, "morris", 40, seed=2)
    assert x.shape == (40 * 5, 4)
    t = sa.morris_indices(prob, x, ishigami(x), seed=2).set_index("parameter")
    assert t.loc["dummy", "mu_star"] == 0.0 and t.loc["dummy", "sigma"] == 0.0
    assert min(t.loc[["x1", "x2", "x3"], "mu_star"]) > 1.0


def test_analyze_results_from_a_results_directory_in_real_units(tmp_path):
    """A Saltelli batch over scenario-like ranges, analysed from runs.parquet + manifest.json.
    The analysis must map rows to design points by ``point``, not by row order."""
    ranges = {"scale.lab_aggressiveness": [0.5, 2.5], "scale.permit_delay": [0.5, 3.0],
              "financier.base_rate": [0.02, 0.08]}

    def outcome(x):  # aggressiveness matters 3x as much as permit delay per unit of its range; base rate not at all
        return 3 * (x[:, 0] - 0.5) / 2.0 + (x[:, 1] - 0.5) / 2.5

    path = write_synthetic_sensitivity_batch(tmp_path / "sens", ranges, outcome, n=256)
    runs = pd.read_parquet(path / "runs.parquet")
    runs.sample(frac=1.0, random_state=0).to_parquet(path / "runs.parquet", index=False)  # shuffle the rows
    res = sa.analyze_results(path, ["peak_spot_price"])
    t = res.table.set_index("parameter")
    assert t["S1"].to_numpy() == pytest.approx([0.9, 0.1, 0.0], abs=0.05)
    assert abs(t.loc["financier.base_rate", "ST"]) < 0.01
    text = sa.sensitivity_text(res)
    assert "  peak_spot_price: scale.lab_aggressiveness, scale.permit_delay\n" in text
    html = sa.write_sensitivity_report(res, tmp_path / "s.html").read_text()
    assert "Sobol" in html and "<script src=" not in html


def test_morris_from_a_results_directory(tmp_path):
    path = write_synthetic_sensitivity_batch(tmp_path / "m", ISHIGAMI_RANGES, ishigami, method="morris", n=30)
    res = sa.analyze_results(path)
    t = res.table.set_index("parameter")
    assert res.method == "morris" and t.loc["dummy", "mu_star"] == 0.0


def test_constant_outcome_is_skipped_with_a_reason(tmp_path):
    path = write_synthetic_sensitivity_batch(tmp_path / "c", {"a": [0, 1], "b": [0, 1]}, lambda x: np.ones(len(x)), n=16)
    res = sa.analyze_results(path, ["peak_spot_price"])
    assert res.table.empty and "constant" in res.skipped["peak_spot_price"]


def test_a_batch_without_a_sensitivity_design_is_rejected(tmp_path):
    path = write_synthetic_batch(tmp_path / "plain", 20, timeseries=False)
    with pytest.raises(sa.SensitivityError, match=r"design.sample.method.*saltelli.*morris"):
        sa.analyze_results(path)


# --------------------------------------------------------------------------- the file


def _write(tmp_path, text):
    p = tmp_path / "sens.toml"
    p.write_text(text)
    return p


GOOD = """
[batch]
scenario = "baseline"
seed = 3
[sample]
method = "saltelli"
n = 16
second_order = false
[sample.ranges]
"scale.lab_aggressiveness" = [0.5, 2.5]
"financier.base_rate" = [0.02, 0.08]
[sensitivity]
outcomes = ["label_glut", "peak_spot_price"]
"""


def test_read_sensitivity_file_and_switch_method(tmp_path):
    spec = sa.read_sensitivity_file(_write(tmp_path, GOOD))
    assert spec.method == "sobol" and spec.outcomes == ["label_glut", "peak_spot_price"]
    assert "sensitivity" not in spec.batch_tables
    morris = sa.with_method(spec.batch_tables, "morris")["sample"]
    assert morris["method"] == "morris" and "second_order" not in morris
    assert tomllib.loads(sa.to_toml(spec.batch_tables)) == spec.batch_tables


@pytest.mark.parametrize("text, message", [
    ("[sample]\nmethod='morris'\nn=2\n[sample.ranges]\n'a'=[0,1]\n", "batch: missing"),
    ("[batch]\nscenario='baseline'\n", "sample.ranges: required"),
    (GOOD + "[grid]\n'chipmaker.vendor_financing' = [true, false]\n", "grid: not allowed"),
    (GOOD.replace('outcomes = ["label_glut", "peak_spot_price"]', "outcomes = []"), "sensitivity.outcomes"),
    (GOOD + "colour = 'red'\n", "sensitivity.colour: unknown field"),
    ("[batch\n", "not valid TOML"),
])
def test_bad_sensitivity_files_give_one_line_errors(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(sa.SensitivityError) as err:
        sa.read_sensitivity_file(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value) and "\n" not in str(err.value)


def test_cli_sensitivity_on_a_results_directory(tmp_path, capsys):
    path = write_synthetic_sensitivity_batch(tmp_path / "sens", ISHIGAMI_RANGES, ishigami, n=64)
    assert cli_main(["sensitivity", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Sobol indices" in out and "dummy" in out and (path / "sensitivity.html").is_file()


def test_cli_sensitivity_bad_file(tmp_path, capsys):
    path = _write(tmp_path, "[batch]\nscenario='baseline'\n")
    assert cli_main(["sensitivity", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {path}: sample.ranges: required: the parameters to vary, " \
                                              "\"dotted.path\" = [low, high]"


def test_sensitivity_runs_through_the_batch_machinery(tmp_path):
    """End to end with the real design and store, the model replaced by a linear world:
    outcome = 2 * aggressiveness + 1 * permit delay (scaled to their ranges); base rate is a dummy."""
    pytest.importorskip("sim.config")
    from experiments.cli_compare import run_sensitivity

    spec = _write(tmp_path, GOOD.replace('"financier.base_rate" = [0.02, 0.08]',
                                         '"financier.base_rate" = [0.02, 0.08]\n"scale.permit_delay" = [0.5, 3.0]'))
    world = LinearWorld({"scale.lab_aggressiveness": (2.0, 0.5, 2.5), "scale.permit_delay": (1.0, 0.5, 3.0)})
    result, out = run_sensitivity(spec, out_dir=tmp_path / "out", workers=1, progress=False, run_fn=world)
    assert result.n_failed == 0 and result.n_runs == 16 * (3 + 2)
    res = sa.analyze_results(out, ["peak_spot_price"])
    t = res.table.set_index("parameter")
    assert abs(t.loc["financier.base_rate", "ST"]) < 0.01
    assert t.loc["scale.lab_aggressiveness", "S1"] > t.loc["scale.permit_delay", "S1"] > 0.05


def test_method_switch_gets_its_own_default_folder(tmp_path):
    """`--method morris` on a Saltelli file must not land in (and clash with) the file's own results/<name>."""
    from experiments.cli_compare import _batch_file_for

    spec = sa.read_sensitivity_file(_write(tmp_path, GOOD))
    name = lambda method: tomllib.loads(_batch_file_for(spec, method))["batch"]["name"]  # noqa: E731
    assert name(None) == "sens" and name("sobol") == "sens"          # the file's own design
    assert name("morris") == "sens_morris"
    spec = sa.read_sensitivity_file(_write(tmp_path, GOOD.replace('seed = 3', 'seed = 3\nname = "drivers"')))
    assert name("morris") == "drivers_morris"


def test_cli_sensitivity_folder_errors_name_only_its_own_options(tmp_path, capsys):
    spec = _write(tmp_path, GOOD)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"fingerprint": "another design"}')
    assert cli_main(["sensitivity", str(spec), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--out" in err and "--name" not in err
    assert cli_main(["sensitivity", str(spec), "--out", str(out), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different design" in err and "another --out" in err and "--name" not in err
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


def test_cli_sensitivity_design_errors_name_the_users_file(tmp_path, capsys):
    spec = _write(tmp_path, GOOD.replace("method = \"saltelli\"\nn = 16", "method = \"morris\"\nn = 12")
                  .replace("second_order = false\n", ""))
    assert cli_main(["sensitivity", str(spec), "--method", "sobol", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {spec}: sample.n: a Saltelli design needs a power of two, e.g. 64 or 128 (got 12) " \
                  "(with --method sobol)\n"
    assert not (tmp_path / "o").exists()
