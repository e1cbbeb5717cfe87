"""Check a batch of the ``history`` scenario against the record (``computemarket validate``).

The record is ``experiments/record/history_targets.csv``: one row per check of the five calibration
targets of ../shared/CALIBRATION.md, each with its period, the published value or range and the source.
:func:`run_validation` runs the scenario as a batch through the ordinary batch machinery
(experiments/batch.py, results under ``results/validate``); :func:`validate_dir` compares any
finished batch folder with the record, reading only its Parquet files and manifest (it never
imports the model), and writes ``validation.html`` and ``validation.csv`` next to them.

Statistics are computed per run, then summarised across runs by the median and the 10-90 % band.
A check passes when

* the record is a single value (``value``): it lies inside the simulated 10-90 % band;
* the record is a range (``low``/``high``, either may be open): the simulated median lies in it.

A target passes when all its ``check`` rows pass; ``info`` rows are shown, not judged, and
``assumed`` rows name a part of the record the model does not simulate.

Unit mapping (docs/validation.md):

* ``spot_price_usd_gpu_hour`` is the spot price per effective-GW-month turned into dollars per hour
  of one accelerator of the start vintage (efficiency 1): ``$B/EGW-month x 1e9 / (gpus_per_gw x
  730 h)`` (``sim.economics.usd_per_gpu_hour``). In a 2023 start the start vintage is the H100, so
  the series is an H100-hour price at every date, also after newer chips arrive.
* Nvidia's fiscal year ends in late January: FY ``N`` is February ``N-1`` to January ``N``
  (:func:`fiscal_year_window`). The model's single chipmaker is the whole CoWoS-bound accelerator
  supply (every GW built needs its chips); Nvidia is ~60 % of it [cal: Chip supply cap], so its
  data-centre revenue is compared with 0.6 x the simulated revenue (``sim_scale`` in the record).
* Hyperscaler capex is the capex of clouds of kind ``hyperscaler``. When the batch records an
  agent-level ``capex_busd`` series it is used; otherwise it is derived on the model's cash timing
  (:func:`derived_capex`): construction instalments from ``construction_start`` events, chips from
  the chipmaker's monthly revenue by the hyperscalers' share of recent construction starts.
* Internal cash flow of a hyperscaler (operating cash flow after interest) = its other-business cash
  flow (configured) + its AI revenue - power and operations of its fleet - interest on its debt at the
  investment-grade rate (base rate + base spread).
* Lab ARR per GW = 12 x the labs' monthly revenue / operational GW (physical, all vintages).
* Token demand is not a model variable: an index = effective compute served x
  ``TOKENS_PER_EGW_GROWTH ** (months / 12)``, i.e. tokens per unit of compute rise ~10x a year as
  the price per token at constant capability falls ~10x a year [cal: Price per token].
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

RECORD_CSV = Path(__file__).resolve().parent / "record" / "history_targets.csv"
DEFAULT_SCENARIO = "history"
DEFAULT_OUT = Path("results") / "validate"
DEFAULT_RUNS = 100
REPORT_NAME = "validation.html"
TABLE_NAME = "validation.csv"
QUANTILES = (0.1, 0.5, 0.9)

TOKENS_PER_EGW_GROWTH = 10.0
"""Growth per year of tokens per effective GW-month (compute per token at constant capability falls
~10x a year, the fall in the price per token [cal: Price per token]). Used only by the token mapping."""

FISCAL_YEAR_END_MONTH = 1
"""Nvidia's fiscal year ends in late January: FY N runs from February N-1 to January N."""

AGGS = ("sum", "mean", "max", "min")
COMPARES = ("level", "ratio", "annual_multiple")
ROLES = ("check", "info", "assumed")
RECORD_COLUMNS = ("id", "target", "target_name", "check", "role", "variable", "agg", "compare", "start", "end",
                  "base_start", "base_end", "base_agg", "value", "low", "high", "sim_scale", "unit", "source")


class ValidationError(ValueError):
    """The record file or a results folder cannot be used. ``str(e)`` is one line."""


# =============================================================================== dates
def ym(date: str) -> int:
    """``"YYYY-MM"`` -> months since year 0."""
    y, m = date.split("-")
    return int(y) * 12 + int(m) - 1


def ym_str(months: int) -> str:
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def fiscal_year_window(fy: int, end_month: int = FISCAL_YEAR_END_MONTH) -> tuple[str, str]:
    """First and last month of fiscal year ``fy`` ending in ``end_month``: FY24 -> ("2023-02", "2024-01")."""
    last = fy * 12 + end_month - 1
    return ym_str(last - 11), ym_str(last)


def fiscal_year_of(date: str, end_month: int = FISCAL_YEAR_END_MONTH) -> int:
    """The fiscal year a month belongs to: "2023-01" -> 2023 (FY23), "2023-02" -> 2024 (FY24)."""
    y, m = (int(x) for x in date.split("-"))
    return y if m <= end_month else y + 1


def fiscal_year_sums(values: Sequence[float], dates: Sequence[str], end_month: int = FISCAL_YEAR_END_MONTH,
                     complete_only: bool = True) -> dict[int, float]:
    """Sum a monthly series by fiscal year; with ``complete_only`` only years with all 12 months."""
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for v, d in zip(values, dates):
        fy = fiscal_year_of(d, end_month)
        sums[fy] = sums.get(fy, 0.0) + float(v)
        counts[fy] = counts.get(fy, 0) + 1
    return {fy: s for fy, s in sorted(sums.items()) if counts[fy] == 12 or not complete_only}


# =============================================================================== the record
def _float(text: str | None) -> float:
    text = (text or "").strip()
    return float(text) if text else math.nan


def load_record(path: str | Path | None = None) -> pd.DataFrame:
    """The record as a frame (one row per check), validated.

    Numeric columns ``value``, ``low``, ``high`` are floats (NaN when empty); a row has either a
    ``value`` (a point, judged by the band) or at least one of ``low``/``high`` (a range, judged by the
    median). Raises :class:`ValidationError` with the file, row id and problem on one line.
    """
    path = Path(path) if path is not None else RECORD_CSV
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read the record ({exc})") from None
    if not rows:
        raise ValidationError(f"{path}: no rows")
    missing = [c for c in RECORD_COLUMNS if c not in rows[0]]
    if missing:
        raise ValidationError(f"{path}: missing columns {missing}")
    out = []
    for r in rows:
        where = f"{path}: row {r.get('id') or '?'}"
        rec = {c: (r[c] or "").strip() for c in RECORD_COLUMNS}
        for c in ("value", "low", "high", "sim_scale"):
            try:
                rec[c] = _float(r[c])
            except ValueError:
                raise ValidationError(f"{where}: {c} is not a number ({r[c]!r})") from None
        rec["target"] = int(rec["target"])
        if math.isnan(rec["sim_scale"]):
            rec["sim_scale"] = 1.0
        if rec["role"] not in ROLES:
            raise ValidationError(f"{where}: role must be one of {ROLES}, got {rec['role']!r}")
        for c in ("start", "end", "base_start", "base_end"):
            if rec[c]:
                try:
                    ym(rec[c])
                except ValueError:
                    raise ValidationError(f"{where}: {c} must be YYYY-MM, got {rec[c]!r}") from None
        if rec["role"] != "assumed":
            if rec["variable"] not in VARIABLES:
                raise ValidationError(f"{where}: unknown variable {rec['variable']!r}; allowed: {sorted(VARIABLES)}")
            if rec["agg"] not in AGGS or (rec["base_agg"] and rec["base_agg"] not in AGGS):
                raise ValidationError(f"{where}: agg must be one of {AGGS}")
            if rec["compare"] not in COMPARES:
                raise ValidationError(f"{where}: compare must be one of {COMPARES}")
            if not (rec["start"] and rec["end"]):
                raise ValidationError(f"{where}: start and end are required")
            if rec["compare"] != "level" and not (rec["base_start"] and rec["base_end"]):
                raise ValidationError(f"{where}: compare {rec['compare']} needs base_start and base_end")
            point = not math.isnan(rec["value"])
            ranged = not (math.isnan(rec["low"]) and math.isnan(rec["high"]))
            if point == ranged:
                raise ValidationError(f"{where}: give either value (a point) or low/high (a range)")
        out.append(rec)
    return pd.DataFrame(out, columns=list(RECORD_COLUMNS))


def _num(x: float, digits: int) -> str:
    """``textfmt.num`` without trailing zeros after the decimal point (47.50 -> 47.5)."""
    from experiments.analysis.textfmt import num

    text = num(x, digits)
    return text.rstrip("0").rstrip(".") if "." in text else text


def record_text(row: Any, digits: int = 3) -> str:
    """The record of one row as text: ``47.5``, ``>= 8``, ``<= 2``, ``0.7-0.76`` (up to ``digits`` significant)."""
    num = _num

    if not math.isnan(row["value"]):
        return num(row["value"], digits)
    lo, hi = row["low"], row["high"]
    if math.isnan(hi):
        return f">= {num(lo, digits)}"
    if math.isnan(lo):
        return f"<= {num(hi, digits)}"
    return f"{num(lo, digits)}-{num(hi, digits)}"


# =============================================================================== monthly panel
@dataclass
class Panel:
    """Monthly series of every successful run of a batch: ``series[name]`` is runs x months."""

    start: str
    months: int
    run_ids: list[str]
    series: dict[str, np.ndarray]
    config: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def dates(self) -> list[str]:
        s = ym(self.start)
        return [ym_str(s + t) for t in range(self.months)]

    def window(self, start: str, end: str) -> slice | None:
        """Tick slice of a date window, or None when any of it lies outside the simulated months."""
        a, b = ym(start) - ym(self.start), ym(end) - ym(self.start)
        if a < 0 or b >= self.months or b < a:
            return None
        return slice(a, b + 1)


# name -> (numerator, denominator or None, label, unit)
VARIABLES: dict[str, tuple[str, str | None, str, str]] = {
    "spot_usd_gpu_hour": ("spot_usd_gpu_hour", None, "Spot price, H100-hour", "$/GPU-hour"),
    "chipmaker_revenue_busd": ("chipmaker_revenue_busd", None, "Chipmaker revenue", "$B per month"),
    "chipmaker_gross_margin": ("chipmaker_gross_profit_busd", "chipmaker_revenue_busd", "Chipmaker gross margin", "share"),
    "hyperscaler_capex_busd": ("hyperscaler_capex_busd", None, "Hyperscaler capex", "$B per month"),
    "hyperscaler_capex_to_internal_cash": ("hyperscaler_capex_busd", "hyperscaler_internal_cash_busd",
                                           "Hyperscaler capex / internal cash flow", "x"),
    "hyperscaler_new_debt_busd": ("hyperscaler_new_debt_busd", None, "Hyperscaler new borrowing", "$B per month"),
    "all_in_busd_per_gw": ("capex_started_busd", "gw_started", "All-in cost per GW started", "$B per GW"),
    "shell_share": ("shell_started_busd", "capex_started_busd", "Shell + power share of all-in cost", "share"),
    "lab_arr_per_gw": ("lab_arr_busd", "gw_operational", "Lab ARR per operational GW", "$B per GW"),
    "token_demand_index": ("token_demand_index", None, "Token demand index (compute served x 10^years)", "index"),
    "served_egw": ("served_egw", None, "Compute served", "EGW"),
    "gw_operational": ("gw_operational", None, "Operational capacity", "GW"),
}

MARKET_SERIES = {"spot_price_usd_gpu_hour": "spot_usd_gpu_hour", "chipmaker_revenue_busd": "chipmaker_revenue_busd",
                 "chipmaker_margin": "chipmaker_margin", "gw_operational": "gw_operational",
                 "served_egw": "served_egw"}


def _read_manifest(result_dir: Path) -> dict:
    path = result_dir / "manifest.json"
    if not path.is_file():
        raise ValidationError(f"{result_dir}: not a batch results directory (no manifest.json)")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not manifest.get("complete"):
        raise ValidationError(f"{result_dir}: batch is unfinished; complete it with --resume")
    if not isinstance(manifest.get("config"), dict):
        raise ValidationError(f"{result_dir}: manifest.json has no resolved scenario config")
    return manifest


def build_panel(result_dir: str | Path) -> Panel:
    """Read a finished batch folder into monthly per-run series (see the module docstring)."""
    import pyarrow.parquet as pq

    result_dir = Path(result_dir)
    manifest = _read_manifest(result_dir)
    cfg = manifest["config"]
    runs = pq.read_table(result_dir / "runs.parquet", columns=["run_id", "status"]).to_pandas()
    run_ids = list(runs.loc[runs["status"] == "ok", "run_id"])
    if not run_ids:
        raise ValidationError(f"{result_dir}: no successful runs")
    months = int(cfg["meta"]["months"])
    start = str(cfg["meta"]["start"])
    notes: list[str] = []
    if int(manifest.get("record_every", 1)) != 1:
        notes.append(f"time series recorded every {manifest['record_every']} months: sums over windows are partial")
    index = pd.Index(run_ids)
    n = len(run_ids)

    labs = list(cfg.get("labs", {}))
    clouds = cfg.get("clouds", {})
    hypers = [cid for cid, c in clouds.items() if c.get("kind") == "hyperscaler"]
    wanted_vars = list(MARKET_SERIES) + ["revenue_busd", "capex_busd", "capacity_gw", "debt_busd"]
    ts = pq.read_table(result_dir / "timeseries.parquet", columns=["run_id", "tick", "variable", "agent", "value"],
                       filters=[("variable", "in", wanted_vars)]).to_pandas()
    for c in ("run_id", "variable", "agent"):
        ts[c] = ts[c].astype(str)

    def grid(rows: pd.DataFrame, fill: float = np.nan, accumulate: bool = False) -> np.ndarray:
        g = np.full((n, months), fill)
        r = index.get_indexer(rows["run_id"])
        t = rows["tick"].to_numpy(dtype=np.int64)
        ok = (r >= 0) & (t >= 0) & (t < months)
        if accumulate:
            np.add.at(g, (r[ok], t[ok]), rows["value"].to_numpy(dtype=float)[ok])
        else:
            g[r[ok], t[ok]] = rows["value"].to_numpy(dtype=float)[ok]
        return g

    series: dict[str, np.ndarray] = {}
    market = ts[ts["agent"] == "market"]
    for var, name in MARKET_SERIES.items():
        series[name] = grid(market[market["variable"] == var])
    margin = np.nan_to_num(series.pop("chipmaker_margin"), nan=0.0)
    series["chipmaker_revenue_busd"] = np.nan_to_num(series["chipmaker_revenue_busd"], nan=0.0)
    series["chipmaker_gross_profit_busd"] = series["chipmaker_revenue_busd"] * margin
    rev = ts[ts["variable"] == "revenue_busd"]
    series["lab_arr_busd"] = 12.0 * grid(rev[rev["agent"].isin(labs)], fill=0.0, accumulate=True)
    hyper_rev = grid(rev[rev["agent"].isin(hypers)], fill=0.0, accumulate=True)
    other = sum(float(clouds[c].get("other_business_busd_per_month", 0.0)) for c in hypers)
    tech = cfg.get("technology", {})
    fin = cfg.get("financier", {})
    cap = ts[(ts["variable"] == "capacity_gw") & ts["agent"].isin(hypers)]
    debt = ts[(ts["variable"] == "debt_busd") & ts["agent"].isin(hypers)]
    opex = float(tech.get("opex_busd_per_gw_month", 0.0)) * grid(cap, fill=0.0, accumulate=True)
    rate = float(fin.get("base_rate", 0.0)) + float(fin.get("base_spread", 0.0))
    interest = rate / 12.0 * grid(debt, fill=0.0, accumulate=True)
    series["hyperscaler_internal_cash_busd"] = hyper_rev + other - opex - interest
    ticks = np.arange(months)
    series["token_demand_index"] = series["served_egw"] * TOKENS_PER_EGW_GROWTH ** (ticks / 12.0)[None, :]

    ev = pq.read_table(result_dir / "events.parquet", columns=["run_id", "tick", "kind", "party", "amount_busd", "gw"],
                       filters=[("kind", "in", ["construction_start", "loan", "rescue_loan"])]).to_pandas()
    for c in ("run_id", "kind", "party"):
        ev[c] = ev[c].astype(str)
    shell = float(tech.get("shell_capex_busd_per_gw", 0.0))
    starts = ev[ev["kind"] == "construction_start"]
    series["capex_started_busd"] = grid(starts.rename(columns={"amount_busd": "value"}), fill=0.0, accumulate=True)
    series["gw_started"] = grid(starts.rename(columns={"gw": "value"}), fill=0.0, accumulate=True)
    series["shell_started_busd"] = shell * series["gw_started"]
    loans = ev[ev["party"].isin(hypers) & ev["kind"].isin(["loan", "rescue_loan"])]
    series["hyperscaler_new_debt_busd"] = grid(loans.rename(columns={"amount_busd": "value"}), fill=0.0, accumulate=True)

    capex_rows = ts[(ts["variable"] == "capex_busd") & ts["agent"].isin(hypers)]
    if len(capex_rows):
        series["hyperscaler_capex_busd"] = grid(capex_rows, fill=0.0, accumulate=True)
        notes.append("hyperscaler capex: the recorded capex_busd series")
    else:
        build = int(tech.get("build_months", 15))
        per_gw = shell + float(tech.get("other_capex_busd_per_gw", 0.0))
        hyper_starts = starts[starts["party"].isin(hypers)]
        init_h = sum(float(clouds[c].get("initial_pipeline_gw", 0.0)) for c in hypers)
        init_all = sum(float(c.get("initial_pipeline_gw", 0.0)) for c in clouds.values())
        series["hyperscaler_capex_busd"] = derived_capex(
            hyper_starts, starts, index, months, build, per_gw, series["chipmaker_revenue_busd"], init_h, init_all)
        notes.append("hyperscaler capex derived (no capex_busd series recorded): construction paid monthly over "
                     "the build time from construction_start events, chips from the chipmaker's monthly revenue "
                     "by the hyperscalers' share of the GW that started construction in the last build_months")
    return Panel(start=start, months=months, run_ids=run_ids, series=series, config=cfg, notes=notes)


def derived_capex(own_starts: pd.DataFrame, all_starts: pd.DataFrame, index: pd.Index, months: int,
                  build_months: int, shell_other_per_gw: float, chip_revenue: np.ndarray,
                  initial_own_gw: float = 0.0, initial_all_gw: float = 0.0) -> np.ndarray:
    """Monthly capex of a group of clouds (runs x months) from events, on the model's cash timing.

    Construction (shell + other capex) is paid in equal monthly instalments over ``build_months`` from the
    construction start, as the model pays it; the projects under construction at the start (``initial_*_gw``,
    random progress) pay on average ``(build - t) / build`` of an instalment in month ``t``. Chips are paid on
    delivery: the group's share of the chipmaker's monthly revenue is its share of the GW that entered
    construction in the last ``build_months`` (the start pipeline counted as entering at month 0).
    """
    b = max(int(build_months), 1)
    n = len(index)
    ticks = np.arange(months)

    def starts_grid(frame: pd.DataFrame) -> np.ndarray:
        g = np.zeros((n, months))
        r = index.get_indexer(frame["run_id"])
        t = frame["tick"].to_numpy(dtype=np.int64)
        ok = (r >= 0) & (t >= 0) & (t < months)
        np.add.at(g, (r[ok], t[ok]), frame["gw"].to_numpy(dtype=float)[ok])
        return g

    def trailing(g: np.ndarray) -> np.ndarray:
        c = np.cumsum(g, axis=1)
        shifted = np.zeros_like(c)
        shifted[:, b:] = c[:, :-b] if b < months else 0.0
        return c - shifted

    own, every = starts_grid(own_starts), starts_grid(all_starts)
    instalments = trailing(own) * shell_other_per_gw / b
    decay = np.clip((b - ticks) / b, 0.0, None)
    instalments += (initial_own_gw * shell_other_per_gw / b) * decay[None, :]
    own_w = trailing(own) + initial_own_gw * (ticks < b)[None, :]
    all_w = trailing(every) + initial_all_gw * (ticks < b)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(all_w > 0, own_w / np.where(all_w > 0, all_w, 1.0), 0.0)
    return instalments + share * np.nan_to_num(chip_revenue, nan=0.0)


# =============================================================================== statistics
def _agg(values: np.ndarray, agg: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if agg == "sum":
                return np.nansum(values, axis=1)
            if agg == "mean":
                return np.nanmean(values, axis=1)
            if agg == "max":
                return np.nanmax(values, axis=1)
            if agg == "min":
                return np.nanmin(values, axis=1)
    raise ValidationError(f"unknown aggregation {agg!r}; allowed: {AGGS}")


def period_value(panel: Panel, variable: str, agg: str, start: str, end: str) -> np.ndarray:
    """Per run: ``agg`` of a variable over the months ``start``..``end`` (NaN outside the horizon).

    A ratio variable is ``agg(numerator) / agg(denominator)`` over the window (only sum or mean).
    """
    num, den, _, _ = VARIABLES[variable]
    win = panel.window(start, end)
    n = len(panel.run_ids)
    if win is None:
        return np.full(n, np.nan)
    top = _agg(panel.series[num][:, win], agg)
    if den is None:
        return top
    if agg not in ("sum", "mean"):
        raise ValidationError(f"{variable}: a ratio variable takes sum or mean, not {agg}")
    bottom = _agg(panel.series[den][:, win], agg)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def statistic(panel: Panel, row: Any) -> np.ndarray:
    """Per run: the statistic of one record row (level, ratio to a base period, or annual multiple).

    A level is multiplied by the row's ``sim_scale`` (default 1), the share of the simulated quantity the
    record covers (e.g. Nvidia's share of the accelerator supply); ratios and multiples are scale-free.
    """
    level = period_value(panel, row["variable"], row["agg"], row["start"], row["end"])
    if row["compare"] == "level":
        scale = row.get("sim_scale", 1.0) if hasattr(row, "get") else 1.0
        return level * (1.0 if scale is None or math.isnan(scale) else scale)
    base = period_value(panel, row["variable"], row["base_agg"] or row["agg"], row["base_start"], row["base_end"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base > 0, level / np.where(base > 0, base, 1.0), np.where(level > 0, np.inf, np.nan))
    ratio = np.where(np.isnan(base) | np.isnan(level), np.nan, ratio)   # a period without data: no statistic
    if row["compare"] == "ratio":
        return ratio
    years = (ym(row["start"]) - ym(row["base_start"])) / 12.0
    with np.errstate(invalid="ignore"):
        return np.power(ratio, 1.0 / years)


def summarise(values: np.ndarray) -> tuple[float, float, float, int]:
    """(q10, median, q90, n) over the runs with a value (infinite values count as very large)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan, 0
    # infinite values (a ratio to a base of zero) as the largest floats, so that interpolating between two
    # of them does not give inf - inf = NaN; a quantile beyond every finite value involved one, and is infinite
    big = np.finfo(float).max
    q = np.quantile(np.clip(v, -big, big), QUANTILES)
    finite = v[np.isfinite(v)]
    hi, lo = (finite.max(), finite.min()) if finite.size else (0.0, 0.0)
    q = np.where(q > hi, np.inf, np.where(q < lo, -np.inf, q))
    return float(q[0]), float(q[1]), float(q[2]), int(v.size)


def judge(row: Any, q10: float, median: float, q90: float) -> bool | None:
    """Does the simulation reproduce the record? A point must lie in [q10, q90]; a range must hold
    the median. None when the statistic could not be computed."""
    if math.isnan(median):
        return None
    if not math.isnan(row["value"]):
        return bool(q10 <= row["value"] <= q90)
    lo = -math.inf if math.isnan(row["low"]) else row["low"]
    hi = math.inf if math.isnan(row["high"]) else row["high"]
    return bool(lo <= median <= hi)


def compare(panel: Panel, record: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per record row: the record, the simulated median and 10-90 % band, and the verdict.

    Columns: the record's columns plus ``record`` (text), ``q10``, ``median``, ``q90``, ``n``
    (runs with a value) and ``inside`` (True / False; None for assumed rows or missing data).
    """
    record = load_record() if record is None else record
    out = []
    for _, row in record.iterrows():
        res = dict(row)
        res["record"] = record_text(row) if row["role"] != "assumed" else f"{record_text(row)} (not simulated)"
        if row["role"] == "assumed":
            res.update(q10=math.nan, median=math.nan, q90=math.nan, n=0, inside=None)
        else:
            q10, med, q90, n = summarise(statistic(panel, row))
            res.update(q10=q10, median=med, q90=q90, n=n, inside=judge(row, q10, med, q90))
        out.append(res)
    return pd.DataFrame(out)


def target_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Per target: its checks and whether all of them pass (``reproduced``). ``failed_checks`` are the checks
    whose record is outside; ``no_data_checks`` those the batch could not judge (dates outside its months)."""
    rows = []
    for target, grp in table.groupby("target", sort=True):
        checks = grp[grp["role"] == "check"]
        passed = int(sum(v is True for v in checks["inside"]))
        rows.append({"target": int(target), "target_name": grp["target_name"].iloc[0], "checks": len(checks),
                     "passed": passed, "reproduced": len(checks) > 0 and passed == len(checks),
                     "failed_checks": ", ".join(checks.loc[[v is False for v in checks["inside"]], "id"]),
                     "no_data_checks": ", ".join(checks.loc[[v is None for v in checks["inside"]], "id"])})
    return pd.DataFrame(rows)


def target_word(v: Any) -> str:
    """A target's verdict: reproduced; not reproduced (a check outside); no data (nothing outside, some unjudged)."""
    if v["reproduced"]:
        return "REPRODUCED"
    return "not reproduced" if v["failed_checks"] or not v["no_data_checks"] else "no data"


# =============================================================================== text output
MIN_DIGITS, MAX_DIGITS = 4, 10
"""Significant digits of the printed numbers: at least 4, more while a row's record and band would look equal."""
FEW_RUNS = 40
"""Below this many runs the 10-90% band rests on a handful of runs per tail: the output says so."""


def _fmt(x: float, digits: int = MIN_DIGITS) -> str:
    num = _num

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "inf"
    return num(x, digits)


def row_digits(row: Any) -> int:
    """Significant digits for one row: 4, or more until every two different numbers of the row (record,
    median, band ends) print differently, so a check judged outside shows why (47.5 vs [47.472, 47.497])."""
    num = _num
    vals = [float(row[k]) for k in ("value", "low", "high", "median", "q10", "q90")
            if k in row and row[k] is not None and math.isfinite(float(row[k]))]
    for digits in range(MIN_DIGITS, MAX_DIGITS + 1):
        if all(num(a, digits) != num(b, digits) for i, a in enumerate(vals) for b in vals[i + 1:] if a != b):
            return digits
    return MAX_DIGITS


def _row_texts(r: Any) -> tuple[str, str, str]:
    """(record, median, band) of one row, with the row's digits."""
    d = row_digits(r)
    if r["role"] == "assumed":
        return f"{record_text(r, d)} (not simulated)", _fmt(r["median"], d), ""
    no_band = not r["n"] or (math.isnan(r["q10"]) and math.isnan(r["q90"]))
    band = "n/a" if no_band else f"[{_fmt(r['q10'], d)}, {_fmt(r['q90'], d)}]"
    return record_text(r, d), _fmt(r["median"], d), band


def coverage_warnings(panel: Panel, table: pd.DataFrame) -> list[str]:
    """One-line warnings about what the table can say: too few runs; a horizon missing record dates."""
    out = []
    n = len(panel.run_ids)
    if n < FEW_RUNS:
        out.append(f"only {n} runs: a 10-90% band from fewer than {FEW_RUNS} runs is unreliable (its ends rest on "
                   f"a few runs each); use --runs {DEFAULT_RUNS} or more before reading the verdicts")
    judged = table[table["role"] != "assumed"]
    dates = [d for col in ("start", "base_start") if col in judged for d in judged[col]
             if isinstance(d, str) and d]
    no_data = [str(i) for i, v in zip(judged["id"], judged["inside"]) if v is None]
    if dates and min(dates) < panel.start:
        out.append(f"the scenario starts {panel.start}, after the record's first date {min(dates)}: "
                   f"{len(no_data)} checks have no data" + (f" ({', '.join(no_data)})" if no_data else "")
                   + "; validate the history scenario (2023 start) for the full record")
    return out


def verdict_word(row: Any) -> str:
    if row["role"] == "assumed":
        return "not simulated"
    if row["inside"] is None:
        return "no data"
    if row["role"] == "info":
        return "(in)" if row["inside"] else "(out)"
    return "inside" if row["inside"] else "OUTSIDE"


def format_table(table: pd.DataFrame, n_runs: int | None = None) -> str:
    """The terminal table: one line per check, grouped by target, then a verdict per target."""
    from experiments.analysis.textfmt import text_table

    headers = ["check", "record", "sim median", "sim 10-90%", "unit", "verdict"]
    rows = []
    for _, r in table.iterrows():
        record, median, band = _row_texts(r)
        rows.append([f"{r['id']} {r['check']}", record, median, band, r["unit"], verdict_word(r)])
    lines = []
    for target, grp in table.groupby("target", sort=True):
        idx = [i for i, t in enumerate(table["target"]) if t == target]
        lines.append((int(target), grp["target_name"].iloc[0], [rows[i] for i in idx]))
    flat = []
    for target, name, rs in lines:
        flat.append([f"{target}. {name}", "", "", "", "", ""])
        flat.extend([["   " + r[0]] + r[1:] for r in rs])
    out = [text_table(headers, flat, align="lrrrll")]
    verdicts = target_verdicts(table)
    n_ok = int(verdicts["reproduced"].sum())
    out.append("")
    for _, v in verdicts.iterrows():
        why = [f"{k}: {v[c]}" for k, c in (("outside", "failed_checks"), ("no data", "no_data_checks")) if v[c]]
        extra = f" ({'; '.join(why)})" if why and not v["reproduced"] else ""
        out.append(f"target {v['target']} {v['target_name']}: {v['passed']}/{v['checks']} checks -> "
                   f"{target_word(v)}{extra}")
    runs = f" over {n_runs} runs" if n_runs else ""
    unjudged = int(sum(target_word(v) == "no data" for _, v in verdicts.iterrows()))
    out.append(f"{n_ok} of {len(verdicts)} calibration targets reproduced{runs}"
               + (f", {unjudged} without data" if unjudged else "")
               + " (point record inside the simulated 10-90% band; range record holding the simulated median)")
    return "\n".join(out)


# =============================================================================== HTML report
def _fan(panel: Panel, name: str) -> pd.DataFrame:
    """Monthly quantiles (q10, q25, q50, q75, q90) of a plain panel series across runs."""
    import warnings

    grid = panel.series[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanquantile(grid, [0.1, 0.25, 0.5, 0.75, 0.9], axis=0)
    frame = pd.DataFrame({"date": panel.dates})
    for k, col in enumerate(("q10", "q25", "q50", "q75", "q90")):
        frame[col] = q[k]
    return frame


def _ratio_fan(panel: Panel, variable: str, window: int = 1) -> pd.DataFrame:
    """Monthly quantiles of a ratio variable, each month the ratio of ``window``-month trailing sums."""
    num, den, _, _ = VARIABLES[variable]
    a, b = panel.series[num], panel.series[den]
    if window > 1:
        kernel = np.ones(window)
        a = np.apply_along_axis(lambda x: np.convolve(x, kernel)[: len(x)], 1, a)
        b = np.apply_along_axis(lambda x: np.convolve(x, kernel)[: len(x)], 1, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)
    return _fan(Panel(panel.start, panel.months, panel.run_ids, {"x": r}), "x")


def _annual(panel: Panel, name: str, agg: str = "sum") -> tuple[list[int], np.ndarray]:
    """Calendar-year aggregates (complete years only): (years, runs x years)."""
    s = ym(panel.start)
    years = [y for y in range(s // 12, (s + panel.months) // 12 + 1)
             if ym(f"{y}-01") >= s and ym(f"{y}-12") < s + panel.months]
    vals = np.column_stack([period_value(panel, name, agg, f"{y}-01", f"{y}-12") for y in years]) if years \
        else np.zeros((len(panel.run_ids), 0))
    return years, vals


def _band_traces(fig, frame: pd.DataFrame, x, colour: str, name: str, row: int | None = None,
                 col: int | None = None, showlegend: bool = True) -> None:
    import plotly.graph_objects as go

    from experiments.analysis.figures import _rgba

    kw = dict(row=row, col=col) if row else {}
    for lo, hi, alpha, label in (("q10", "q90", 0.18, "10-90%"), ("q25", "q75", 0.35, "25-75%")):
        fig.add_trace(go.Scatter(x=x, y=frame[hi], mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip"), **kw)
        fig.add_trace(go.Scatter(x=x, y=frame[lo], mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor=_rgba(colour, alpha), name=f"{name} {label}", showlegend=showlegend,
                                 hoverinfo="skip"), **kw)
    fig.add_trace(go.Scatter(x=x, y=frame["q50"], mode="lines", line=dict(color=colour, width=2),
                             name=f"{name} median", showlegend=showlegend,
                             hovertemplate="%{x}: %{y:.3g}<extra>median</extra>"), **kw)


RECORD_COLOUR = "#d62728"
SIM_COLOUR = "#1f77b4"


def _record_marks(fig, table: pd.DataFrame, ids: Sequence[str], row: int | None = None, col: int | None = None,
                  transform: Callable[[Any], tuple[float, float, float]] | None = None) -> None:
    """Draw level records over their windows: a point as a red segment with a marker, a range as a
    red shaded box (open ends drawn to the plot edge with an arrow in the name)."""
    import plotly.graph_objects as go

    kw = dict(row=row, col=col) if row else {}
    for _, r in table[table["id"].isin(list(ids))].iterrows():
        x0, x1 = r["start"], r["end"]
        xs = [x0, x1] if x0 != x1 else [x0]
        name = f"record {r['id']}: {r['record']}"
        if transform is not None:
            value, low, high = transform(r)
        else:
            value, low, high = r["value"], r["low"], r["high"]
        if not math.isnan(value):
            fig.add_trace(go.Scatter(x=xs, y=[value] * len(xs), mode="lines+markers",
                                     line=dict(color=RECORD_COLOUR, width=3), marker=dict(size=9, symbol="diamond"),
                                     name=name, hovertemplate=f"{name}<extra></extra>"), **kw)
        else:
            lo = low if not math.isnan(low) else None
            hi = high if not math.isnan(high) else None
            ys = [v for v in (lo, hi) if v is not None]
            for y in ys:
                fig.add_trace(go.Scatter(x=[x0, x1], y=[y, y], mode="lines+markers",
                                         line=dict(color=RECORD_COLOUR, width=2, dash="dash"),
                                         marker=dict(size=8, symbol="triangle-up" if y == lo else "triangle-down"),
                                         name=name, hovertemplate=f"{name}<extra></extra>"), **kw)


def _figures(panel: Panel, table: pd.DataFrame) -> list[tuple[str, Any, str]]:
    """(title, figure, caption) per target, the record drawn over the simulated bands."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figs = []
    dates = panel.dates

    # 1. rental price path
    fig = go.Figure()
    _band_traces(fig, _fan(panel, "spot_usd_gpu_hour"), dates, SIM_COLOUR, "simulated")
    _record_marks(fig, table, ["1a", "1b", "1d"])
    rb = table[table["id"] == "1e"]
    if len(rb):
        r = rb.iloc[0]
        base = table[table["id"] == "1d"]
        if len(base) and not math.isnan(base.iloc[0]["value"]):
            y = base.iloc[0]["value"] * r["value"]
            fig.add_trace(go.Scatter(x=[r["start"], r["end"]], y=[y, y], mode="lines+markers",
                                     line=dict(color=RECORD_COLOUR, width=3), marker=dict(size=9, symbol="diamond"),
                                     name=f"record 1e: {r['record']} x the Oct 2025 trough = {y:.2f}"))
    fig.update_layout(title="Rental price, $ per H100-hour (spot price per EGW-month x 1e9 / (GPUs per GW x 730 h))",
                      yaxis_title="$/GPU-hour", height=460)
    figs.append(("1. Rental price path", fig,
                 "Simulated spot price at the start vintage's efficiency (an H100-hour) with its 10-90% and 25-75% "
                 "bands; red: the record (dashed with a triangle = a bound)."))

    # 2. chip supplier: fiscal-year revenue and gross margin
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Data-centre revenue by fiscal year (Feb-Jan), $B",
                                                        "Gross margin, trailing 3 months"))
    start = ym(panel.start)
    fys = [fy for fy in range(start // 12, (start + panel.months) // 12 + 2)
           if panel.window(*fiscal_year_window(fy)) is not None]
    rec = table[(table["variable"] == "chipmaker_revenue_busd") & (table["compare"] == "level")]
    scale = float(rec["sim_scale"].iloc[0]) if len(rec) and "sim_scale" in rec else 1.0
    if fys:
        vals = scale * np.column_stack([period_value(panel, "chipmaker_revenue_busd", "sum", *fiscal_year_window(fy))
                                        for fy in fys])
        q = np.nanquantile(vals, [0.1, 0.5, 0.9], axis=0)
        labels = [f"FY{fy % 100:02d}" for fy in fys]
        name = "simulated median" if scale == 1.0 else f"{scale:g} x simulated supplier, median"
        fig.add_trace(go.Bar(x=labels, y=q[1], marker_color=SIM_COLOUR, opacity=0.6, name=name,
                             error_y=dict(type="data", symmetric=False, array=q[2] - q[1], arrayminus=q[1] - q[0])),
                      row=1, col=1)
        fy_of = {fiscal_year_window(fy): f"FY{fy % 100:02d}" for fy in fys}
        xs = [fy_of.get((r["start"], r["end"])) for _, r in rec.iterrows()]
        fig.add_trace(go.Scatter(x=xs, y=list(rec["value"]), mode="markers", marker=dict(color=RECORD_COLOUR, size=12,
                                 symbol="diamond"), name="record (Nvidia data-centre revenue)"), row=1, col=1)
    _band_traces(fig, _ratio_fan(panel, "chipmaker_gross_margin", 3), dates, SIM_COLOUR, "margin", 1, 2,
                 showlegend=False)
    _record_marks(fig, table, ["2f"], 1, 2)
    fig.update_layout(height=440, title="Chip supplier")
    figs.append(("2. Chip supplier", fig, "Bars: simulated median with the 10-90% band as whiskers, scaled by the "
                 "record's sim_scale (Nvidia's share of the simulated accelerator supply); diamonds: the record. "
                 "Right: monthly gross margin (3-month trailing), record range dashed."))

    # 3. buyer capex: growth index and capex / internal cash flow by calendar year
    years, capex = _annual(panel, "hyperscaler_capex_busd")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Hyperscaler capex, index (first year = 1)",
                                                        "Capex / internal cash flow"))
    if years:
        with np.errstate(divide="ignore", invalid="ignore"):
            idx = capex / capex[:, [0]]
        q = np.nanquantile(idx, [0.1, 0.25, 0.5, 0.75, 0.9], axis=0)
        frame = pd.DataFrame({k: q[i] for i, k in enumerate(("q10", "q25", "q50", "q75", "q90"))})
        xs = [str(y) for y in years]
        _band_traces(fig, frame, xs, SIM_COLOUR, "capex index", 1, 1)
        rec = {2023: 1.0, 2024: 246 / 151, 2025: 405 / 151}
        fig.add_trace(go.Scatter(x=[str(y) for y in rec if y in years], y=[rec[y] for y in rec if y in years],
                                 mode="markers", marker=dict(color=RECORD_COLOUR, size=11, symbol="diamond"),
                                 name="record: Big-4 capex index (151, 246, 405, 630-725 $B)"), row=1, col=1)
        if 2026 in years:
            fig.add_trace(go.Scatter(x=["2026", "2026"], y=[630 / 151, 725 / 151], mode="lines+markers",
                                     line=dict(color=RECORD_COLOUR, width=4), marker=dict(size=8),
                                     name="record 2026 guidance"), row=1, col=1)
        ys, ratio = _annual(panel, "hyperscaler_capex_to_internal_cash")
        q = np.nanquantile(ratio, [0.1, 0.25, 0.5, 0.75, 0.9], axis=0)
        frame = pd.DataFrame({k: q[i] for i, k in enumerate(("q10", "q25", "q50", "q75", "q90"))})
        _band_traces(fig, frame, [str(y) for y in ys], SIM_COLOUR, "capex / internal cash", 1, 2, showlegend=False)
        fig.add_hline(y=1.0, line_dash="dash", line_color=RECORD_COLOUR, row=1, col=2)
    fig.update_layout(height=440, title="Buyer capex")
    figs.append(("3. Buyer capex", fig, "Left: simulated hyperscaler capex by calendar year as an index (first "
                 "year = 1) against the Big-4 record; right: capex over internal cash flow (other business + AI "
                 "revenue), the record says it crosses 1 (dashed)."))

    # 4. cost structure
    fig = make_subplots(rows=1, cols=2, subplot_titles=("All-in cost per GW started, $B", "Shell + power share"))
    for k, (var, rid) in enumerate((("all_in_busd_per_gw", "4a"), ("shell_share", "4b"))):
        ys, vals = _annual(panel, var)
        if ys:
            q = np.nanquantile(vals, [0.1, 0.25, 0.5, 0.75, 0.9], axis=0)
            frame = pd.DataFrame({c: q[i] for i, c in enumerate(("q10", "q25", "q50", "q75", "q90"))})
            _band_traces(fig, frame, [str(y) for y in ys], SIM_COLOUR, "simulated", 1, k + 1, showlegend=k == 0)
            r = table[table["id"] == rid]
            if len(r):
                r = r.iloc[0]
                for y in (r["low"], r["high"]):
                    if not math.isnan(y):
                        fig.add_hline(y=y, line_dash="dash", line_color=RECORD_COLOUR, row=1, col=k + 1)
    fig.update_layout(height=420, title="Cost structure (record range dashed)")
    figs.append(("4. Cost structure", fig, "Cost per GW of the projects that entered construction each year "
                 "(construction_start events); record range dashed."))

    # 5. demand and revenue
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Lab ARR per operational GW, $B",
                                                        "Token demand index (compute served x 10^years)"))
    _band_traces(fig, _ratio_fan(panel, "lab_arr_per_gw"), dates, SIM_COLOUR, "simulated", 1, 1)
    _record_marks(fig, table, ["5a", "5b", "5c"], 1, 1)
    _band_traces(fig, _fan(panel, "token_demand_index"), dates, SIM_COLOUR, "simulated", 1, 2, showlegend=False)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(height=440, title="Demand and revenue")
    figs.append(("5. Demand and revenue", fig, "Left: 12 x labs' monthly revenue over operational GW against "
                 "OpenAI's ~$10B ARR per GW; right: the token index whose growth per year is checked against 5-50x."))
    return figs


def report_html(panel: Panel, table: pd.DataFrame, title: str, meta: Sequence[tuple[str, str]] = ()) -> str:
    """The validation report: verdicts, the table, and one figure per target (self-contained)."""
    from experiments.analysis import html

    verdicts = target_verdicts(table)
    n_ok = int(verdicts["reproduced"].sum())
    body = [f"<p><b>{n_ok} of {len(verdicts)}</b> calibration targets reproduced over {len(panel.run_ids)} runs. "
            "A point record passes when it lies inside the simulated 10-90% band, a range record when it holds "
            "the simulated median; a target passes when all its checks pass. <i>info</i> rows are shown, not "
            "judged.</p>"]
    if meta:
        body.append(html.key_values(list(meta)))
    body.append("<h2>Targets</h2>")
    body.append(html.table(["target", "checks passed", "verdict", "outside", "no data"],
                           [[f"{v['target']}. {v['target_name']}", f"{v['passed']}/{v['checks']}",
                             "<span class='yes'>reproduced</span>" if v["reproduced"]
                             else f"<b>{target_word(v)}</b>", v["failed_checks"], v["no_data_checks"]]
                            for _, v in verdicts.iterrows()], raw_columns=(2,)))
    body.append("<h2>Checks</h2>")
    rows = []
    for _, r in table.iterrows():
        word = verdict_word(r)
        cls = "yes" if word in ("inside", "(in)") else ("no" if word in ("(out)", "not simulated", "no data") else "")
        record, median, band = _row_texts(r)
        rows.append([r["id"], r["check"], record, median, band, r["unit"],
                     f"<span class='{cls}'>{html.esc(word)}</span>" if cls else f"<b>{html.esc(word)}</b>",
                     r["source"]])
    body.append(html.table(["id", "check", "record", "sim median", "sim 10-90%", "unit", "verdict", "source"], rows,
                           raw_columns=(6,)))
    if panel.notes:
        body.append("<p class='muted'>" + "<br>".join(html.esc(n) for n in panel.notes) + "</p>")
    for name, fig, caption in _figures(panel, table):
        body.append(f"<h2>{html.esc(name)}</h2><p class='muted'>{html.esc(caption)}</p>{html.figure(fig)}")
    return html.page(title, body)


# =============================================================================== entry points
@dataclass
class ValidationResult:
    table: pd.DataFrame
    verdicts: pd.DataFrame
    text: str
    report: Path | None
    n_runs: int
    warnings: list[str] = field(default_factory=list)


def validate_dir(result_dir: str | Path, record: pd.DataFrame | str | Path | None = None,
                 report: bool = True) -> ValidationResult:
    """Compare a finished batch folder with the record; write validation.csv and validation.html."""
    from experiments.analysis.html import write_atomic

    result_dir = Path(result_dir)
    record = record if isinstance(record, pd.DataFrame) else load_record(record)
    panel = build_panel(result_dir)
    table = compare(panel, record)
    text = format_table(table, len(panel.run_ids))
    cols = ["id", "target", "target_name", "check", "role", "record", "median", "q10", "q90", "n", "inside", "unit",
            "source"]
    write_atomic(result_dir / TABLE_NAME, table[cols].to_csv(index=False))
    out = None
    if report:
        manifest = _read_manifest(result_dir)
        meta = [("scenario", manifest.get("scenario", "?")), ("runs", str(len(panel.run_ids))),
                ("batch seed", str(manifest.get("batch_seed", "?"))), ("start", panel.start),
                ("months", str(panel.months)), ("code version", str(manifest.get("code_version", "?"))),
                ("record", str(RECORD_CSV.name))]
        out = write_atomic(result_dir / REPORT_NAME,
                           report_html(panel, table, f"Validation: {manifest.get('scenario', '?')} vs the record",
                                       meta))
    return ValidationResult(table, target_verdicts(table), text, out, len(panel.run_ids),
                            coverage_warnings(panel, table))


def run_validation(*, runs: int | None = None, workers: int | None = None, backend: str = "local",
                   address: str | None = None, out: str | Path | None = None, resume: bool = False,
                   overwrite: bool = False, seed: int | None = None, scenario: str = DEFAULT_SCENARIO,
                   overrides: Sequence[str] = (), progress: bool = True, months: int | None = None,
                   run_fn: Callable[..., Any] | None = None) -> tuple[Any, ValidationResult]:
    """Run ``scenario`` as a batch (results in ``out``, default results/validate) and validate it."""
    from experiments.batch import run_batch
    from experiments.design import load_design

    sets = list(overrides) + ([f"meta.months={months}"] if months else [])
    design = load_design(scenario, runs=runs or DEFAULT_RUNS, seed=seed, name="validate", record_every=1,
                         set_overrides=sets)
    result = run_batch(design, out if out is not None else DEFAULT_OUT, backend=backend, workers=workers,
                       address=address, resume=resume, overwrite=overwrite, progress=progress, run_fn=run_fn)
    return result, validate_dir(result.out_dir)
