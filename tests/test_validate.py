"""computemarket validate: the record, the unit mapping, fiscal years, the statistics and the command."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import validate as v
from sim.config import load_scenario
from sim.economics import HOURS_PER_MONTH, usd_per_gpu_hour, vintage_efficiency


# ----------------------------------------------------------------------------- unit mapping
def test_usd_per_gpu_hour_by_hand():
    # $1B per EGW-month over 770,000 GPUs x 730 hours = $1.779 per GPU-hour
    assert usd_per_gpu_hour(1.0, 770_000) == pytest.approx(1e9 / (770_000 * 730.0))
    assert usd_per_gpu_hour(1.0, 770_000) == pytest.approx(1.779, abs=1e-3)
    # the 2023 scarcity peak of >$8 per H100-hour is ~4.5 $B per EGW-month
    assert usd_per_gpu_hour(4.5, 770_000) == pytest.approx(8.0, rel=0.01)
    # a GW of a vintage twice as efficient is 2 EGW: per GPU-hour of that vintage the price doubles
    assert usd_per_gpu_hour(1.0, 770_000, efficiency=2.0) == pytest.approx(2 * usd_per_gpu_hour(1.0, 770_000))
    assert HOURS_PER_MONTH == 730.0


def test_start_vintage_has_efficiency_one_in_history():
    cfg = load_scenario("history")
    tech = cfg.technology
    assert vintage_efficiency(0, tech.generation_months, tech.efficiency_gain_per_generation) == 1.0
    assert vintage_efficiency(tech.generation_months - 1, tech.generation_months,
                              tech.efficiency_gain_per_generation) == 1.0
    assert vintage_efficiency(tech.generation_months, tech.generation_months,
                              tech.efficiency_gain_per_generation) == pytest.approx(1 + tech.efficiency_gain_per_generation)


def test_model_records_the_documented_gpu_hour_price():
    """The recorded $/GPU-hour series is the spot price per EGW-month at efficiency 1 (an H100-hour in a
    2023 start), with the scenario's GPUs per GW, in every month, also after a new chip generation."""
    from sim.runner import simulate

    cfg = load_scenario("history").with_overrides({"technology.generation_months": 3})
    model = simulate(cfg, seed=3, months=8)
    spot = np.asarray(model.series["spot_price"])
    usd = np.asarray(model.series["spot_price_usd_gpu_hour"])
    expected = spot * 1e9 / (cfg.market.gpus_per_gw * 730.0)
    np.testing.assert_allclose(usd, expected, rtol=1e-12)
    assert cfg.market.gpus_per_gw == 770_000   # H100 ~1.3 kW at server level [cal: Power per accelerator]


# ----------------------------------------------------------------------------- fiscal years
def test_fiscal_year_window_nvidia():
    assert v.fiscal_year_window(2024) == ("2023-02", "2024-01")
    assert v.fiscal_year_window(2026) == ("2025-02", "2026-01")
    assert v.fiscal_year_of("2023-01") == 2023
    assert v.fiscal_year_of("2023-02") == 2024
    assert v.fiscal_year_of("2024-01") == 2024
    assert v.fiscal_year_of("2024-12") == 2025


def test_fiscal_year_sums_on_a_hand_made_series():
    # months Nov 2022 .. Mar 2025, value = 1 + month number since Nov 2022
    start = v.ym("2022-11")
    dates = [v.ym_str(start + k) for k in range(29)]
    values = [1.0 + k for k in range(29)]
    sums = v.fiscal_year_sums(values, dates)
    # FY23 (Feb 2022-Jan 2023) and FY26 are incomplete and left out
    assert sorted(sums) == [2024, 2025]
    # FY24 = Feb 2023 (k=3) .. Jan 2024 (k=14): values 4..15
    assert sums[2024] == sum(range(4, 16))
    assert sums[2025] == sum(range(16, 28))
    partial = v.fiscal_year_sums(values, dates, complete_only=False)
    assert partial[2023] == 1 + 2 + 3 and partial[2026] == 28 + 29


def test_record_fiscal_rows_match_the_fiscal_calendar():
    rec = v.load_record()
    fy = rec[(rec["variable"] == "chipmaker_revenue_busd") & (rec["compare"] == "level")]
    assert len(fy) == 3
    for _, r in fy.iterrows():
        year = 2000 + int(r["check"].split("FY")[1][:2])
        assert (r["start"], r["end"]) == v.fiscal_year_window(year)


def _panel(series: dict[str, np.ndarray], start: str = "2023-01") -> v.Panel:
    n, months = next(iter(series.values())).shape
    return v.Panel(start=start, months=months, run_ids=[f"r{i}" for i in range(n)], series=series)


def test_chipmaker_fiscal_year_revenue_from_a_panel():
    # two runs, 48 months from Jan 2023: run 0 earns 1 per month, run 1 earns the month number
    months = 48
    rev = np.vstack([np.ones(months), np.arange(months, dtype=float)])
    panel = _panel({"chipmaker_revenue_busd": rev})
    fy24 = v.period_value(panel, "chipmaker_revenue_busd", "sum", *v.fiscal_year_window(2024))
    assert fy24.tolist() == [12.0, float(sum(range(1, 13)))]   # ticks 1..12 = Feb 2023..Jan 2024
    fy27 = v.period_value(panel, "chipmaker_revenue_busd", "sum", *v.fiscal_year_window(2027))
    assert np.isnan(fy27).all()                                # Feb 2026-Jan 2027 runs past the horizon


# ----------------------------------------------------------------------------- statistics and verdicts
def test_ratio_variables_and_annual_multiple():
    months = 48
    gp = np.full((1, months), 0.72)
    rev = np.ones((1, months))
    grow = (1.6 ** (np.arange(months) / 12.0))[None, :]
    panel = _panel({"chipmaker_gross_profit_busd": gp, "chipmaker_revenue_busd": rev, "hyperscaler_capex_busd": grow})
    assert v.period_value(panel, "chipmaker_gross_margin", "sum", "2023-02", "2026-01")[0] == pytest.approx(0.72)
    row = {"variable": "hyperscaler_capex_busd", "agg": "sum", "compare": "annual_multiple", "start": "2026-01",
           "end": "2026-12", "base_start": "2023-01", "base_end": "2023-12", "base_agg": ""}
    assert v.statistic(panel, row)[0] == pytest.approx(1.6)
    row |= {"compare": "ratio", "start": "2024-01", "end": "2024-12"}
    assert v.statistic(panel, row)[0] == pytest.approx(1.6)


def test_judge_points_and_ranges():
    point = {"value": 10.0, "low": math.nan, "high": math.nan}
    assert v.judge(point, 9.0, 9.5, 11.0) is True
    assert v.judge(point, 10.5, 11.0, 12.0) is False
    lower = {"value": math.nan, "low": 8.0, "high": math.nan}
    assert v.judge(lower, 1.0, 8.5, 9.0) is True and v.judge(lower, 1.0, 7.9, 9.0) is False
    upper = {"value": math.nan, "low": math.nan, "high": 2.0}
    assert v.judge(upper, 1.0, 1.9, 5.0) is True and v.judge(upper, 1.0, 2.1, 5.0) is False
    assert v.judge(point, math.nan, math.nan, math.nan) is None


def test_derived_capex_follows_the_model_cash_timing():
    index = pd.Index(["r0"])
    starts = pd.DataFrame({"run_id": ["r0"], "tick": [2], "gw": [1.0], "amount_busd": [50.0]})
    chip = np.zeros((1, 12))
    chip[0, 5] = 20.0
    capex = v.derived_capex(starts, starts, index, 12, build_months=4, shell_other_per_gw=24.0, chip_revenue=chip)
    # construction: 24/4 = 6 a month in months 2..5; chips: all of month 5's chip revenue (only starter)
    assert capex[0].tolist() == [0, 0, 6, 6, 6, 26, 0, 0, 0, 0, 0, 0]
    other = pd.DataFrame({"run_id": ["r0"], "tick": [3], "gw": [3.0], "amount_busd": [150.0]})
    capex = v.derived_capex(starts, pd.concat([starts, other]), index, 12, 4, 24.0, chip)
    assert capex[0, 5] == pytest.approx(6 + 20 * 1.0 / 4.0)   # a quarter of the recent starts


# ----------------------------------------------------------------------------- the record file
def test_record_is_complete_and_inside_the_history_horizon():
    rec = v.load_record()
    assert rec["id"].is_unique
    assert sorted(rec["target"].unique()) == [1, 2, 3, 4, 5]
    cfg = load_scenario("history")
    first, last = v.ym(cfg.meta.start), v.ym(cfg.meta.start) + cfg.meta.months - 1
    for _, r in rec[rec["role"] != "assumed"].iterrows():
        for col in ("start", "end", "base_start", "base_end"):
            if r[col]:
                assert first <= v.ym(r[col]) <= last, (r["id"], col)
        assert r["source"], r["id"]
    for target in range(1, 6):
        assert (rec[(rec["target"] == target)]["role"] == "check").any()


def test_bad_record_is_one_line(tmp_path):
    text = v.RECORD_CSV.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([text[0], text[1].replace("spot_usd_gpu_hour", "no_such_series", 1)]) + "\n")
    with pytest.raises(v.ValidationError) as err:
        v.load_record(bad)
    assert "unknown variable" in str(err.value) and "\n" not in str(err.value)


# ----------------------------------------------------------------------------- the command
def test_cli_module_imports_stay_light():
    code = ("import sys, experiments.cli_validate; "
            "heavy = [m for m in ('pandas', 'pyarrow', 'plotly', 'experiments.validate') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_validate_command_end_to_end(tmp_path, capsys):
    from experiments.cli_validate import main

    out = tmp_path / "val"
    assert main(["--runs", "3", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    rec = v.load_record()
    for rid in rec["id"]:
        assert f" {rid} " in text
    assert "calibration targets reproduced" in text
    assert (out / "validation.html").stat().st_size > 1_000_000          # plotly.js embedded: works offline
    html = (out / "validation.html").read_text()
    assert "<script src=" not in html
    table = pd.read_csv(out / "validation.csv")
    assert len(table) == len(rec)
    # like `batch`: an existing folder needs --resume (re-analyse) or --overwrite
    assert main(["--runs", "3", "--workers", "1", "--out", str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["--runs", "3", "--workers", "1", "--out", str(out), "--quiet", "--resume"]) == 0
    assert main(["--runs", "3", "--workers", "1", "--out", str(out), "--quiet", "--overwrite", "--no-report"]) == 0


def test_validate_dir_on_a_small_batch(tmp_path):
    """The comparison works from the Parquet files of an ordinary batch (here: 2 runs)."""
    from experiments.batch import run_batch
    from experiments.design import load_design

    design = load_design("history", runs=2, name="validate", record_every=1)
    run_batch(design, tmp_path / "b", workers=1, progress=False)
    res = v.validate_dir(tmp_path / "b", report=False)
    assert res.n_runs == 2
    checks = res.table[res.table["role"] == "check"]
    assert checks["median"].notna().all()
    assert set(res.verdicts["target"]) == {1, 2, 3, 4, 5}
    assert (tmp_path / "b" / "validation.csv").is_file()
    # docs/interfaces.md lists validation.csv's columns exactly, in order
    doc = (Path(__file__).resolve().parents[1] / "docs" / "interfaces.md").read_text()
    listed = doc.split("<!-- validation-columns -->")[1].split("<!-- /validation-columns -->")[0]
    columns = [c.strip().strip("`") for c in listed.split(",")]
    assert list(pd.read_csv(tmp_path / "b" / "validation.csv").columns) == columns


def test_cli_folder_errors_name_only_options_validate_has(tmp_path, capsys):
    out = tmp_path / "val"
    out.mkdir()
    (out / "manifest.json").write_text('{"fingerprint": "another design"}')
    args = ["--runs", "2", "--set", "meta.months=3", "--out", str(out), "--quiet"]
    from experiments.cli_validate import main

    assert main(args) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "another --out" in err and "--name" not in err
    assert main([*args, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different design" in err and "another --out" in err and "--name" not in err
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


def _table(rows):
    base = {"target": 2, "target_name": "Chip supplier", "role": "check", "value": math.nan, "low": math.nan,
            "high": math.nan, "unit": "$B", "start": "2023-02", "base_start": ""}
    table = pd.DataFrame([{**base, **r} for r in rows])
    table["record"] = [v.record_text(r) for _, r in table.iterrows()]
    return table


def test_table_prints_enough_digits_to_show_why_a_check_fails():
    table = _table([
        {"id": "2a", "check": "FY24", "value": 47.5, "median": 47.49, "q10": 47.472, "q90": 47.497, "n": 100,
         "inside": False},
        {"id": "2b", "check": "FY25", "value": 115.2, "median": 116.04, "q10": 101.3, "q90": 130.9, "n": 100,
         "inside": True},
        {"id": "2f", "check": "margin", "low": 0.7, "high": 0.76, "median": 0.7512, "q10": 0.70, "q90": 0.8,
         "n": 100, "inside": True},
    ])
    text = v.format_table(table, 100)
    line = next(x for x in text.splitlines() if " 2a " in x)
    assert "47.5 " in line and "[47.472, 47.497]" in line and "OUTSIDE" in line
    assert "47.49 " in line                                # the median needs no more than 4 digits here
    assert "[101.3, 130.9]" in text and "116 " in text     # 4 significant digits, no trailing zeros
    assert "0.7-0.76" in text and "0.7512" in text
    assert "(outside: 2a)" in text


def test_checks_without_data_are_no_data_not_outside():
    table = _table([
        {"id": "2a", "check": "FY24", "value": 47.5, "median": math.nan, "q10": math.nan, "q90": math.nan,
         "n": 0, "inside": None},
        {"id": "2c", "check": "FY26", "value": 193.7, "median": 216.07, "q10": 216.02, "q90": 216.09, "n": 10,
         "inside": False},
    ])
    verdicts = v.target_verdicts(table)
    assert verdicts["failed_checks"].tolist() == ["2c"] and verdicts["no_data_checks"].tolist() == ["2a"]
    text = v.format_table(table, 10)
    assert "(outside: 2c; no data: 2a)" in text
    only_missing = v.format_table(table.iloc[:1], 10)
    assert "-> no data (no data: 2a)" in only_missing and "outside" not in only_missing
    assert "0 of 1 calibration targets reproduced over 10 runs, 1 without data" in only_missing


def test_warnings_for_few_runs_and_a_late_start():
    table = _table([{"id": "2a", "check": "FY24", "value": 47.5, "median": math.nan, "q10": math.nan,
                     "q90": math.nan, "n": 0, "inside": None}])
    late = v.Panel(start="2025-01", months=24, run_ids=[f"r{i}" for i in range(5)], series={})
    warnings = v.coverage_warnings(late, table)
    assert len(warnings) == 2 and all("\n" not in w for w in warnings)
    assert "only 5 runs" in warnings[0] and "fewer than 40" in warnings[0]
    assert "starts 2025-01, after the record's first date 2023-02: 1 checks have no data (2a)" in warnings[1]
    early = v.Panel(start="2023-01", months=48, run_ids=[f"r{i}" for i in range(40)], series={})
    assert v.coverage_warnings(early, table) == []


def test_a_ratio_whose_base_period_has_no_data_has_no_statistic():
    """A ratio to a base period outside the simulated months is NaN ('no data'), not infinite; a real zero
    base with a positive level is infinite."""
    panel = v.Panel(start="2025-01", months=12, run_ids=["a", "b"],
                    series={"chipmaker_revenue_busd": np.array([[1.0] * 12, [0.0] * 6 + [2.0] * 6])})
    row = {"variable": "chipmaker_revenue_busd", "agg": "sum", "compare": "ratio", "start": "2025-07",
           "end": "2025-12", "base_agg": "", "base_start": "2024-01", "base_end": "2024-06"}
    assert np.isnan(v.statistic(panel, row)).all()
    row.update(base_start="2025-01", base_end="2025-06")
    assert v.statistic(panel, row).tolist() == [1.0, math.inf]


def test_summarise_keeps_infinite_values_as_very_large():
    q10, median, q90, n = v.summarise(np.array([1.0, 2.0, math.inf, math.inf, math.nan]))
    assert n == 4 and q10 == pytest.approx(1.3) and median == math.inf and q90 == math.inf
    assert v.summarise(np.array([math.inf, math.inf])) == (math.inf, math.inf, math.inf, 2)
