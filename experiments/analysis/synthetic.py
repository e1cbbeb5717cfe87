"""Synthetic batch results directories with known answers.

Writes ``runs.parquet``, ``timeseries.parquet`` and ``manifest.json`` in the
store format of ``docs/interfaces.md`` without running the model. Tests use it
to plant differences whose size is known; the benchmark uses it to time a
compare of realistic size.

Each outcome of a run is drawn from a generator seeded by the run's ``seed``
alone, so two batches with the same seeds have the same noise (common random
numbers) and differ only by the planted effects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

MARKET_VARIABLES = (
    "spot_price", "spot_price_usd_gpu_hour", "offtake_price", "utilisation", "unmet_demand_egw",
    "demand_egw", "served_egw", "gw_announced", "gw_permitting", "gw_interconnection",
    "gw_construction", "gw_operational", "chip_backlog_gw", "chipmaker_revenue_busd",
    "chipmaker_margin", "sentiment", "full_cost", "lab_hhi",
)
AGENT_VARIABLES = ("cash_busd", "debt_busd", "revenue_busd", "capacity_gw", "quality", "share")

DEFAULT_LABELS = {"label_glut": 0.30, "label_scarcity": 0.20, "label_cascade": 0.05, "label_consolidation": 0.40}
"""Probability of each label per run."""

DEFAULT_OUTCOMES = {
    # name: (location, scale); integer outcomes are rounded and clipped at 0
    "peak_spot_price": (3.0, 0.8),
    "trough_spot_price": (0.9, 0.2),
    "months_glut": (8.0, 6.0),
    "months_scarcity": (5.0, 4.0),
    "gw_operational_end": (60.0, 12.0),
    "cumulative_capex_busd": (2500.0, 400.0),
    "stranded_gw": (4.0, 3.0),
    "labs_surviving": (9.0, 1.5),
    "n_defaults": (1.0, 1.2),
    "n_acquisitions": (1.0, 1.0),
    "largest_lab_share": (0.35, 0.06),
}
INTEGER_OUTCOMES = {"months_glut", "months_scarcity", "labs_surviving", "n_defaults", "n_acquisitions"}
UNITS = {
    **{label: "bool" for label in DEFAULT_LABELS}, "peak_spot_price": "$B per EGW-month",
    "trough_spot_price": "$B per EGW-month", "months_glut": "months", "months_scarcity": "months",
    "gw_operational_end": "GW", "cumulative_capex_busd": "$B", "stranded_gw": "GW", "labs_surviving": "count",
    "n_defaults": "count", "n_acquisitions": "count", "largest_lab_share": "share (0-1)",
}
"""The units of these outcomes as sim.metrics.OUTCOME_DOCS gives them (this package does not import sim; a test
checks they agree), recorded in runs.parquet's field metadata as the batch store does."""


def batch_seeds(n_runs: int, batch_seed: int) -> np.ndarray:
    """Per-run seeds spawned from one batch seed (as the batch runner does)."""
    children = np.random.SeedSequence(batch_seed).spawn(n_runs)
    return np.array([int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children], dtype=np.int64)


def synthetic_runs(seeds: Sequence[int], scenario: str = "baseline",
                   label_probs: Mapping[str, float] | None = None,
                   outcome_shifts: Mapping[str, float] | None = None,
                   params: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """A ``runs.parquet`` table: one row per seed, outcomes from seed-keyed noise.

    ``label_probs`` overrides label probabilities; ``outcome_shifts`` adds a
    constant to an outcome's location; ``params`` adds ``param.<path>`` columns.
    """
    probs = {**DEFAULT_LABELS, **(label_probs or {})}
    shifts = dict(outcome_shifts or {})
    seeds = np.asarray(seeds, dtype=np.int64)
    n = seeds.size
    n_draws = len(probs) + len(DEFAULT_OUTCOMES)
    noise = np.empty((n, n_draws))
    for i, s in enumerate(seeds):
        noise[i] = np.random.default_rng(int(s)).random(n_draws)
    from scipy.stats import norm

    table: dict[str, object] = {
        "run_id": [f"r{i:06d}" for i in range(n)],
        "scenario": [scenario] * n,
        "point": np.zeros(n, dtype=np.int64),
        "replicate": np.arange(n, dtype=np.int64),
        "seed": seeds,
    }
    for name, values in (params or {}).items():
        table[f"param.{name}"] = np.asarray(values, dtype=float)
    for j, (name, (loc, scale)) in enumerate(DEFAULT_OUTCOMES.items()):
        value = loc + shifts.get(name, 0.0) + scale * norm.ppf(noise[:, len(probs) + j])
        if name in INTEGER_OUTCOMES:
            value = np.clip(np.round(value), 0, None)
        table[name] = value
    for j, (name, p) in enumerate(probs.items()):
        table[name] = noise[:, j] < p
    table["status"] = ["ok"] * n
    table["error"] = [""] * n
    return pd.DataFrame(table)


def synthetic_timeseries(runs: pd.DataFrame, months: int = 120, n_agents: int = 10,
                         level: float = 1.0) -> "pyarrow.Table":  # noqa: F821
    """Long-format time series for every run: market and agent variables.

    ``months + 1`` ticks per run, ``len(MARKET_VARIABLES) + n_agents *
    len(AGENT_VARIABLES)`` variables per tick, values a seeded random walk
    scaled by ``level``. Strings are dictionary-encoded like a real store.
    """
    import pyarrow as pa

    n_runs, n_ticks = len(runs), months + 1
    agents = ["market"] * len(MARKET_VARIABLES) + [f"agent_{a:02d}" for a in range(n_agents) for _ in AGENT_VARIABLES]
    variables = list(MARKET_VARIABLES) + [v for _ in range(n_agents) for v in AGENT_VARIABLES]
    n_vars = len(variables)
    rng = np.random.default_rng(int(runs["seed"].iloc[0]) if n_runs else 0)
    steps = rng.normal(0.0, 0.05, size=(n_runs, n_vars, n_ticks))
    values = level * np.exp(np.cumsum(steps, axis=2))  # run x variable x tick
    # row order: run, tick, variable (how a recorder appends a month at a time)
    values = values.transpose(0, 2, 1).reshape(-1)
    run_idx = np.repeat(np.arange(n_runs, dtype=np.int32), n_ticks * n_vars)
    tick = np.tile(np.repeat(np.arange(n_ticks, dtype=np.int32), n_vars), n_runs)
    var_idx = np.tile(np.arange(n_vars, dtype=np.int32), n_runs * n_ticks)
    uniq_vars = list(dict.fromkeys(variables))
    var_code = np.array([uniq_vars.index(v) for v in variables], dtype=np.int32)
    uniq_agents = list(dict.fromkeys(agents))
    agent_code = np.array([uniq_agents.index(a) for a in agents], dtype=np.int32)
    dates = [f"{2025 + t // 12:04d}-{t % 12 + 1:02d}" for t in range(n_ticks)]
    return pa.table({
        "run_id": pa.DictionaryArray.from_arrays(run_idx, pa.array(runs["run_id"].tolist())),
        "tick": tick,
        "date": pa.DictionaryArray.from_arrays(tick, pa.array(dates)),
        "variable": pa.DictionaryArray.from_arrays(var_code[var_idx], pa.array(uniq_vars)),
        "agent": pa.DictionaryArray.from_arrays(agent_code[var_idx], pa.array(uniq_agents)),
        "value": values,
    })


def write_synthetic_batch(path: Path | str, n_runs: int = 200, *, batch_seed: int = 1,
                          seeds: Sequence[int] | None = None, scenario: str = "baseline",
                          label_probs: Mapping[str, float] | None = None,
                          outcome_shifts: Mapping[str, float] | None = None,
                          params: Mapping[str, np.ndarray] | None = None,
                          timeseries: bool = True, months: int = 120, n_agents: int = 10,
                          level: float = 1.0, complete: bool = True,
                          runs: pd.DataFrame | None = None, units: bool = True) -> Path:
    """Write a complete synthetic results directory and return its path.

    ``runs`` (a ready table) bypasses the generator, e.g. to copy a batch. ``units``: record each outcome's unit
    (:data:`UNITS`) in runs.parquet's field metadata as the batch store does; False writes results as they were
    before units were recorded.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if runs is None:
        seeds = batch_seeds(n_runs, batch_seed) if seeds is None else np.asarray(seeds, dtype=np.int64)
        runs = synthetic_runs(seeds, scenario, label_probs, outcome_shifts, params)
    table = pa.Table.from_pandas(runs, preserve_index=False)
    if units:
        table = pa.Table.from_arrays(table.columns, schema=pa.schema(
            [f.with_metadata({"unit": UNITS[f.name]}) if f.name in UNITS else f for f in table.schema],
            metadata=table.schema.metadata))
    pq.write_table(table, path / "runs.parquet")
    if timeseries:  # as the batch store writes it: plain strings, zstd, row groups of about 500,000 rows
        table = synthetic_timeseries(runs, months, n_agents, level)
        plain = pa.schema([(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in table.schema])
        pq.write_table(table.cast(plain), path / "timeseries.parquet", row_group_size=500_000, compression="zstd")
    labels = [c for c in runs.columns if c.startswith("label_")]
    outcomes = [c for c in runs.columns
                if c not in ("run_id", "scenario", "point", "replicate", "seed", "status", "error")
                and not c.startswith("param.") and c not in labels]
    n_ok = int((runs["status"] == "ok").sum())
    manifest = {
        "name": path.name, "scenario": scenario, "batch_file": None, "batch_seed": batch_seed,
        "design": {"replications": len(runs)}, "n_runs": len(runs), "n_ok": n_ok,
        "n_failed": len(runs) - n_ok, "complete": complete, "outcomes": outcomes + labels,
        "labels": labels, "parameters": [c[len("param."):] for c in runs.columns if c.startswith("param.")],
        "record_every": 1, "versions": {"computemarket": "synthetic"}, "code_version": "synthetic",
        "started": "2025-01-01T00:00:00", "finished": "2025-01-01T00:01:00" if complete else None,
        "backend": "synthetic", "workers": 1,
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- sensitivity designs with known answers


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami function of the first three columns of ``x`` (each on [-pi, pi]).

    Known Sobol indices (a=7, b=0.1): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244.
    Further columns do not enter: their indices are 0.
    """
    x = np.asarray(x, dtype=float)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def write_synthetic_sensitivity_batch(path: Path | str, ranges: Mapping[str, Sequence[float]], outcome_fn,
                                      *, method: str = "saltelli", n: int = 256, seed: int = 7,
                                      second_order: bool = False, levels: int = 4,
                                      outcome: str = "peak_spot_price") -> Path:
    """A finished results directory of a Saltelli or Morris design, without the model.

    Draws the design with SALib exactly as the batch runner does (rows in
    design order, one seed per point), evaluates ``outcome_fn(X)`` on the
    parameter values and writes runs.parquet and manifest.json.
    """
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    prob = {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(map(float, b)) for b in ranges.values()]}
    if method == "saltelli":
        x = sobol_sample.sample(prob, n, calc_second_order=second_order, seed=seed)
    else:
        x = morris_sample.sample(prob, n, num_levels=levels, seed=seed)
    y = np.asarray(outcome_fn(x), dtype=float)
    n_points = x.shape[0]
    runs = pd.DataFrame({"run_id": [f"r{i:06d}" for i in range(n_points)], "scenario": "synthetic",
                         "point": np.arange(n_points, dtype=np.int64), "replicate": np.zeros(n_points, dtype=np.int64),
                         "seed": np.full(n_points, 12345, dtype=np.int64)})
    for j, name in enumerate(ranges):
        runs[f"param.{name}"] = x[:, j]
    runs[outcome] = y
    runs["status"], runs["error"] = "ok", ""
    path = write_synthetic_batch(path, runs=runs, timeseries=False, scenario="synthetic")
    manifest = json.loads((path / "manifest.json").read_text())
    sample = {"method": method, "n": n, "seed": seed, "ranges": {k: list(v) for k, v in ranges.items()}}
    sample.update({"second_order": second_order} if method == "saltelli" else {"levels": levels})
    manifest["design"] = {"replications": 1, "seeds": "paired", "sample": sample, "grid": {},
                          "n_grid_points": 1, "n_sample_points": n_points, "n_points": n_points}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


class LinearWorld:
    """A stand-in for ``sim.runner.run_world``: outcomes are a linear function of
    scenario parameters, so sensitivity indices are known.

    ``outcome = sum(weight * (value - low) / (high - low))`` over ``weights``
    (dotted path -> (weight, low, high)); a varied parameter absent from
    ``weights`` is a dummy whose indices must be 0. With equal ranges the
    first-order Sobol index of parameter i is ``w_i^2 / sum(w^2)``.
    Picklable, so it runs in the batch machinery's worker processes.
    """

    def __init__(self, weights: Mapping[str, tuple[float, float, float]], outcome: str = "peak_spot_price"):
        self.weights = dict(weights)
        self.outcome = outcome

    def __call__(self, cfg, seed: int, months: int | None = None):
        from types import SimpleNamespace

        value = sum(w * (float(cfg.get_path(p)) - lo) / (hi - lo) for p, (w, lo, hi) in self.weights.items())
        return SimpleNamespace(outcomes={self.outcome: value, "label_glut": value > 0.5 * sum(
            w for w, _, _ in self.weights.values())}, timeseries=None, events=None)
