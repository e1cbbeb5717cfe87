"""Global sensitivity analysis: which parameters drive which outcomes.

Two methods, both through SALib:

- **Sobol indices** (variance-based): a Saltelli design of ``N (d + 2)``
  parameter points (``N (2d + 2)`` with second-order indices) and
  ``SALib.analyze.sobol``. ``S1`` is the share of the outcome's variance due
  to a parameter alone, ``ST`` the share it takes part in, interactions
  included; a parameter with ``ST`` near 0 does not matter over the ranges
  given. Intervals are SALib's bootstrap confidence intervals.
- **Morris screening** (elementary effects): ``N (d + 1)`` points on a grid,
  ``SALib.analyze.morris``; ``mu*`` ranks parameters by mean absolute effect,
  ``sigma`` flags non-linearity and interactions. Cheap, for many parameters.

A sensitivity file is a batch file (``experiments/batches/sensitivity.toml``)
whose ``[sample]`` uses ``method = "saltelli"`` or ``"morris"``, plus an
optional ``[sensitivity]`` table::

    [sensitivity]
    outcomes = ["label_cascade", "n_defaults", "peak_spot_price"]   # default: labels + key outcomes
    conf_level = 0.95
    num_resamples = 1000

Everything here works on a results directory (``runs.parquet`` rows in design
order, the design in ``manifest.json``) or on arrays: running the model is the
caller's business (``experiments.cli_compare`` runs the batch), so the
analysis is tested on analytic functions.

Seeds: with ``seeds = "paired"`` (the batch default), replicate ``k`` uses the
same seed at every design point, so the outcome is a deterministic function of
the parameters given the seeds (common random numbers). With several
replicates the outcome per point is their mean (a label becomes a
probability). The indices describe the variation across parameters of that
mean; the seed-to-seed noise is not attributed to any parameter.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import textfmt
from .loading import KEY_OUTCOMES, Batch, BatchError, load_batch

log = logging.getLogger(__name__)

METHODS = {"sobol": "saltelli", "morris": "morris"}
"""Sensitivity method -> the batch design's sample method that feeds it."""
DESIGN_METHODS = {v: k for k, v in METHODS.items()}
CONF_LEVEL = 0.95
NUM_RESAMPLES = 1000
SEED = 20250101
DUMMY_TOLERANCE = 0.05
"""A total index whose upper confidence bound is below this counts as "no influence"."""
_SENSITIVITY_KEYS = ("outcomes", "conf_level", "num_resamples")


class SensitivityError(ValueError):
    """Bad sensitivity input. ``str(e)`` is one line: ``<file or dir>: <field>: <what is wrong>``."""


# --------------------------------------------------------------------------- the file


@dataclass
class SensitivityFile:
    """A sensitivity file: the batch tables (run by the batch machinery) and analysis settings."""

    path: Path
    batch_tables: dict[str, Any]
    outcomes: list[str] | None = None
    conf_level: float = CONF_LEVEL
    num_resamples: int = NUM_RESAMPLES

    @property
    def method(self) -> str:
        """``sobol`` or ``morris``."""
        design = self.batch_tables.get("sample", {}).get("method")
        return DESIGN_METHODS.get(design, str(design))


def read_sensitivity_file(path: Path | str) -> SensitivityFile:
    """Read a sensitivity (batch) file and split off its ``[sensitivity]`` table.

    Checks only what the analysis needs (a ``[sample]`` with ranges, a
    Saltelli or Morris method, no ``[grid]``); the batch machinery validates
    the rest (scenario, parameter paths, bounds) when the batch is loaded.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SensitivityError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SensitivityError(f"{path}: not valid TOML: {exc}") from None
    settings = data.pop("sensitivity", {})
    if not isinstance(settings, dict):
        raise SensitivityError(f"{path}: sensitivity: must be a table")
    for key in settings:
        if key not in _SENSITIVITY_KEYS:
            raise SensitivityError(f"{path}: sensitivity.{key}: unknown field; allowed: {', '.join(_SENSITIVITY_KEYS)}")
    if "batch" not in data:
        raise SensitivityError(f"{path}: batch: missing; a sensitivity file is a batch file with a [batch] table "
                               "and a [sample] of method \"saltelli\" or \"morris\"")
    sample = data.get("sample")
    if not isinstance(sample, dict) or not sample.get("ranges"):
        raise SensitivityError(f"{path}: sample.ranges: required: the parameters to vary, \"dotted.path\" = [low, high]")
    if data.get("grid"):
        raise SensitivityError(f"{path}: grid: not allowed in a sensitivity design; vary parameters in [sample.ranges]")
    outcomes = settings.get("outcomes")
    if outcomes is not None and (not isinstance(outcomes, list) or not outcomes
                                 or not all(isinstance(o, str) for o in outcomes)):
        raise SensitivityError(f"{path}: sensitivity.outcomes: must be a non-empty list of outcome names")
    conf = settings.get("conf_level", CONF_LEVEL)
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0 < conf < 1:
        raise SensitivityError(f"{path}: sensitivity.conf_level: must be a number between 0 and 1 (got {conf!r})")
    resamples = settings.get("num_resamples", NUM_RESAMPLES)
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 10:
        raise SensitivityError(f"{path}: sensitivity.num_resamples: must be an integer >= 10 (got {resamples!r})")
    spec = SensitivityFile(path, data, outcomes, float(conf), resamples)
    if sample.get("method") not in DESIGN_METHODS:
        log.info("%s: sample.method %r is not a sensitivity design; pass --method sobol|morris", path, sample.get("method"))
    return spec


def with_method(tables: Mapping[str, Any], method: str) -> dict[str, Any]:
    """Batch tables with the sample switched to the design ``method`` (sobol|morris) needs.

    Drops the options of the other design (``second_order`` / ``levels``);
    a Sobol design defaults to first-order and total indices only.
    """
    if method not in METHODS:
        raise SensitivityError(f"--method: must be one of {', '.join(METHODS)} (got {method!r})")
    sample = dict(tables["sample"])
    before = sample.get("method")
    sample["method"] = METHODS[method]
    if method == "sobol":
        sample.pop("levels", None)
        if before != "saltelli":
            sample["second_order"] = False
    else:
        sample.pop("second_order", None)
    return {**tables, "sample": sample}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(tables: Mapping[str, Any]) -> str:
    """Write batch tables (scalars, lists, nested tables) as TOML with quoted dotted keys."""
    lines: list[str] = []

    def emit(name: str, table: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in table.items() if isinstance(v, dict)}
        lines.append(f"[{name}]")
        lines.extend(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in scalars.items())
        lines.append("")
        for k, v in subs.items():
            emit(f"{name}.{k}", v)

    for name, table in tables.items():
        emit(name, table)
    return "\n".join(lines)


# --------------------------------------------------------------------------- pure analysis


def problem(ranges: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """SALib problem definition from ``{dotted.path: [low, high]}`` (order kept)."""
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [[float(lo), float(hi)] for lo, hi in ranges.values()]}


def sample(prob: Mapping[str, Any], method: str, n: int, *, seed: int = SEED, second_order: bool = False,
           levels: int = 4) -> np.ndarray:
    """The parameter points of a Sobol (Saltelli) or Morris design, one row per point.

    The same SALib calls as the batch design, in the parameters' own units.
    """
    if method == "sobol":
        from SALib.sample import sobol as saltelli

        return saltelli.sample(dict(prob), n, calc_second_order=second_order, seed=seed)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(dict(prob), n, num_levels=levels, seed=seed)
    raise SensitivityError(f"method: must be one of {', '.join(METHODS)} (got {method!r})")


def sobol_indices(prob: Mapping[str, Any], y: np.ndarray, *, second_order: bool = False,
                  conf_level: float = CONF_LEVEL, num_resamples: int = NUM_RESAMPLES, seed: int = SEED) -> pd.DataFrame:
    """First-order and total Sobol indices with confidence half-widths.

    ``y`` holds the outcome at the Saltelli points, in design order. Returns
    columns ``parameter, S1, S1_conf, ST, ST_conf`` (``*_conf`` is the
    half-width of SALib's bootstrap interval at ``conf_level``). A constant
    outcome has no variance to apportion: every index is 0.
    """
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    names = list(prob["names"])
    if np.isnan(y).any():
        raise SensitivityError(f"outcome has {int(np.isnan(y).sum())} missing values at design points; "
                               "Sobol indices need every point (re-run failed runs with --resume)")
    if np.ptp(y) == 0:
        zeros = np.zeros(len(names))
        return pd.DataFrame({"parameter": names, "S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros})
    res = sobol.analyze(dict(prob), y, calc_second_order=second_order, num_resamples=num_resamples,
                        conf_level=conf_level, seed=seed)
    return pd.DataFrame({"parameter": names, "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]})


def morris_indices(prob: Mapping[str, Any], x: np.ndarray, y: np.ndarray, *, levels: int = 4,
                   conf_level: float = CONF_LEVEL, num_resamples: int = NUM_RESAMPLES, seed: int = SEED) -> pd.DataFrame:
    """Morris elementary-effect statistics: ``parameter, mu, mu_star, mu_star_conf, sigma``.

    ``x`` are the design points (rows) and ``y`` the outcome at each, in design order.
    """
    from SALib.analyze import morris

    y = np.asarray(y, dtype=float)
    if np.isnan(y).any():
        raise SensitivityError(f"outcome has {int(np.isnan(y).sum())} missing values at design points; "
                               "Morris effects need every point (re-run failed runs with --resume)")
    res = morris.analyze(dict(prob), np.asarray(x, dtype=float), y, num_resamples=num_resamples,
                         conf_level=conf_level, num_levels=levels, seed=seed)
    return pd.DataFrame({"parameter": list(prob["names"]), "mu": res["mu"], "mu_star": res["mu_star"],
                         "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"]})


def design_of(manifest: Mapping[str, Any], where: str = "manifest.json") -> dict[str, Any]:
    """The sensitivity design recorded in a batch manifest: method, n, ranges, options.

    Raises :class:`SensitivityError` if the batch is not a Saltelli or Morris design.
    """
    design = manifest.get("design") or {}
    sample = design.get("sample") or {}
    method = DESIGN_METHODS.get(sample.get("method"))
    if method is None:
        raise SensitivityError(f"{where}: design.sample.method: is {sample.get('method')!r}; sensitivity indices need "
                               "a \"saltelli\" (Sobol) or \"morris\" design")
    if int(design.get("n_grid_points", 1)) != 1:
        raise SensitivityError(f"{where}: design.grid: a sensitivity design cannot have a [grid]")
    return {"method": method, "n": int(sample["n"]), "ranges": dict(sample["ranges"]),
            "second_order": bool(sample.get("second_order", True)), "levels": int(sample.get("levels", 4)),
            "replications": int(design.get("replications", 1))}


def point_table(runs: pd.DataFrame, parameters: Sequence[str], outcomes: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Parameter values and mean outcome per design point, in point order.

    Averages replicates (successful runs only); a label's mean is the share of
    seeds in which it occurred. Points with no successful run get NaN.
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    n_points = int(runs["point"].max()) + 1
    cols = [f"param.{p}" for p in parameters]
    missing = [c for c in cols if c not in runs.columns]
    if missing:
        raise SensitivityError(f"runs.parquet: {missing[0]}: column missing; the batch does not vary that parameter")
    x = runs.groupby("point")[cols].first().reindex(range(n_points)).to_numpy(dtype=float)
    means = ok[["point", *outcomes]].astype({o: float for o in outcomes}).groupby("point").mean()
    return x, means.reindex(range(n_points))


@dataclass
class SensitivityResult:
    """Indices per outcome and parameter, with what produced them."""

    method: str
    design: dict[str, Any]
    table: pd.DataFrame
    """Long table: ``outcome, parameter`` and the method's index columns."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Outcomes not analysed, with the reason."""
    source: str = ""
    n_runs: int = 0
    n_failed: int = 0
    conf_level: float = CONF_LEVEL
    num_resamples: int = NUM_RESAMPLES


def default_outcomes(batch: Batch) -> list[str]:
    """Labels and key outcomes present in the batch."""
    return batch.labels + [o for o in KEY_OUTCOMES if o in batch.outcomes]


def analyze_runs(runs: pd.DataFrame, design: Mapping[str, Any], outcomes: Sequence[str], *,
                 conf_level: float = CONF_LEVEL, num_resamples: int = NUM_RESAMPLES, seed: int = SEED) -> SensitivityResult:
    """Sensitivity indices of ``outcomes`` from a run table in design order."""
    prob = problem(design["ranges"])
    x, y = point_table(runs, prob["names"], outcomes)
    frames, skipped = [], {}
    for outcome in outcomes:
        values = y[outcome].to_numpy(dtype=float)
        if np.isnan(values).any():
            skipped[outcome] = f"{int(np.isnan(values).sum())} design points without a successful run"
            continue
        if np.ptp(values) == 0:
            skipped[outcome] = f"constant ({textfmt.num(values[0])}) at every design point: nothing to apportion"
            continue
        if design["method"] == "sobol":
            frame = sobol_indices(prob, values, second_order=design["second_order"], conf_level=conf_level,
                                  num_resamples=num_resamples, seed=seed)
        else:
            frame = morris_indices(prob, x, values, levels=design["levels"], conf_level=conf_level,
                                   num_resamples=num_resamples, seed=seed)
        frames.append(frame.assign(outcome=outcome))
    cols = ["outcome", "parameter"]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    table = table[cols + [c for c in table.columns if c not in cols]]
    for outcome, why in skipped.items():
        log.info("sensitivity: %s skipped: %s", outcome, why)
    return SensitivityResult(design["method"], dict(design), table, skipped, conf_level=conf_level,
                             num_resamples=num_resamples)


def analyze_results(result_dir: Path | str, outcomes: Sequence[str] | None = None, *,
                    conf_level: float = CONF_LEVEL, num_resamples: int = NUM_RESAMPLES,
                    seed: int = SEED) -> SensitivityResult:
    """Sensitivity indices from a finished Saltelli or Morris batch directory."""
    batch = load_batch(result_dir)
    design = design_of(batch.manifest, str(Path(result_dir) / "manifest.json"))
    chosen = list(outcomes) if outcomes else default_outcomes(batch)
    known = set(batch.labels) | set(batch.outcomes)
    unknown = [o for o in chosen if o not in known]
    if unknown:
        raise BatchError(result_dir, f"unknown outcome {unknown[0]!r}; available: {', '.join(sorted(known))}")
    result = analyze_runs(batch.runs, design, chosen, conf_level=conf_level, num_resamples=num_resamples, seed=seed)
    result.source, result.n_runs, result.n_failed = str(result_dir), len(batch.runs), batch.n_failed
    return result


# --------------------------------------------------------------------------- output


def influential(result: SensitivityResult) -> pd.DataFrame:
    """Rows whose influence is clearly above zero (Sobol: ``ST - ST_conf > DUMMY_TOLERANCE``;
    Morris: ``mu* - conf > 0``)."""
    t = result.table
    if t.empty:
        return t
    if result.method == "sobol":
        return t[t["ST"] - t["ST_conf"] > DUMMY_TOLERANCE]
    return t[t["mu_star"] - t["mu_star_conf"] > 0]


def sensitivity_text(result: SensitivityResult) -> str:
    """Terminal table of the indices, one block per outcome, most influential first."""
    d = result.design
    ci = f"{result.conf_level:.0%} CI"
    if result.method == "sobol":
        head = (f"Sobol indices (Saltelli design, N = {d['n']}, {len(d['ranges'])} parameters, "
                f"{d.get('replications', 1)} seed(s) per point; +- is the {ci} half-width)")
        headers, sort = ["outcome", "parameter", "S1 (alone)", "+-", "ST (total)", "+-"], "ST"
    else:
        head = (f"Morris elementary effects ({d['n']} trajectories, {d['levels']} levels, {len(d['ranges'])} parameters, "
                f"{d.get('replications', 1)} seed(s) per point; mu* in the outcome's units)")
        headers, sort = ["outcome", "parameter", "mu*", "+-", "sigma", "mu"], "mu_star"
    rows = []
    for outcome, grp in result.table.groupby("outcome", sort=False):
        for k, r in enumerate(grp.sort_values(sort, ascending=False).itertuples()):
            if result.method == "sobol":
                vals = [f"{r.S1:.3f}", f"{r.S1_conf:.3f}", f"{r.ST:.3f}", f"{r.ST_conf:.3f}"]
            else:
                vals = [textfmt.num(r.mu_star), textfmt.num(r.mu_star_conf), textfmt.num(r.sigma), textfmt.num(r.mu)]
            rows.append([outcome if k == 0 else "", r.parameter, *vals])
    out = [head, ""]
    if rows:
        out.append(textfmt.text_table(headers, rows, align="llrrrr"))
    for outcome, why in result.skipped.items():
        out.append(f"skipped {outcome}: {why}")
    strong = influential(result)
    sort = "ST" if result.method == "sobol" else "mu_star"
    rule = (f"ST minus its half-width above {DUMMY_TOLERANCE}" if result.method == "sobol"
            else "mu* above its interval")
    out += ["", f"Parameters that clearly matter ({rule}), strongest first:"]
    for outcome, grp in strong.groupby("outcome", sort=False):
        out.append(f"  {outcome}: {', '.join(grp.sort_values(sort, ascending=False)['parameter'])}")
    quiet = [o for o in result.table["outcome"].unique() if o not in set(strong["outcome"])]
    if quiet:
        out.append(f"  none for: {', '.join(quiet)}")
    if result.n_failed:
        out.append(f"warning: {result.n_failed} of {result.n_runs} runs failed; points average the successful seeds")
    return "\n".join(out) + "\n"


def _method_note(result: SensitivityResult) -> str:
    if result.method == "sobol":
        return ("<p class='muted'>Variance-based (Sobol) indices estimated with SALib from a Saltelli design "
                "(Saltelli 2010 / Jansen estimators in <code>SALib.analyze.sobol</code>). S1: share of the outcome's "
                "variance explained by the parameter alone; ST: share it takes part in, interactions included "
                f"(ST near 0: no influence over these ranges). Whiskers: {result.conf_level:.0%} bootstrap intervals "
                f"({result.num_resamples} resamples). With few design points the estimates can fall slightly below 0 "
                "or S1 above ST; read them with their intervals. Seeds are common to all design points (paired): the "
                "indices apportion the variance across parameters of the mean outcome over those seeds; the seed "
                "noise itself is not attributed to any parameter.</p>")
    return ("<p class='muted'>Morris screening with SALib (<code>SALib.analyze.morris</code>): mu* is the mean "
            "absolute elementary effect of moving one parameter by one grid step, in the outcome's units (a ranking, "
            "not a share of variance); sigma is their standard deviation (large sigma: non-linear or interacting). "
            f"Whiskers: {result.conf_level:.0%} bootstrap intervals of mu* ({result.num_resamples} resamples).</p>")


def write_sensitivity_report(result: SensitivityResult, out: Path | str) -> Path:
    """HTML page with bar charts of the indices (with interval whiskers) and the table."""
    from . import figures, html

    d = result.design
    body = [html.key_values([
        ["source", result.source or "arrays"], ["method", result.method],
        ["parameters", ", ".join(f"{p} [{textfmt.num(lo)}, {textfmt.num(hi)}]" for p, (lo, hi) in d["ranges"].items())],
        ["base sample N", d["n"]], ["seeds per point", d.get("replications", 1)],
        ["runs", f"{result.n_runs} ({result.n_failed} failed)"],
    ])]
    if not result.table.empty:
        if result.method == "sobol":
            fig = figures.index_bars(result.table, title="Sobol indices: S1 (alone) and ST (total), with intervals")
        else:
            fig = figures.index_bars(result.table.assign(_zero=0.0), title="Morris: mu* (mean absolute effect) and sigma",
                                     indices=(("mu_star", "mu_star_conf"), ("sigma", "_zero")), axis_title="effect")
        body.append(html.figure(fig))
    text = sensitivity_text(result)
    body.append(f"<pre>{html.esc(text)}</pre>")
    body.append("<h2>Method</h2>" + _method_note(result))
    return html.write_atomic(out, html.page(f"Sensitivity: {Path(result.source).name or 'analysis'}", body))
