"""Experiment designs: which worlds a batch runs, and with which seeds.

A *batch file* (TOML, see ``experiments/batches/``) names a scenario and a
design; :func:`load_design` validates it and expands it into a deterministic
list of runs. A bare scenario (``computemarket batch baseline --runs 200``) is
the simplest design: one design point, N seeds.

Batch file layout (every table but ``[batch]`` is optional)::

    [batch]
    scenario = "baseline"        # scenario name, or a path relative to this file
    seed = 2025                  # batch seed: every run seed is spawned from it
    replications = 300           # seeds per design point (--runs overrides)
    seeds = "paired"             # "paired" (default) or "independent", see below
    record_every = 1             # time-series period in months (record.every)
    name = "baseline"            # result folder name (default: the file stem)
    description = "..."

    [overrides]                  # fixed for every run: dotted path = value
    "financier.base_rate" = 0.05

    [grid]                       # full factorial sweep: dotted path = [values]
    "chipmaker.vendor_financing" = [true, false]

    [sample]                     # random or quasi-random sample over ranges
    method = "lhs"               # lhs | sobol | saltelli | morris
    n = 64                       # points (saltelli: base N; morris: trajectories)
    seed = 7                     # optional; default: the batch seed
    [sample.ranges]              # dotted path = [low, high]
    "scale.lab_aggressiveness" = [0.5, 2.0]

Dotted keys must be quoted in TOML (``"meta.months" = 24``); unquoted keys
(``meta.months = 24``) create nested tables, which are flattened back to the
same dotted paths, so both spellings work.

Design points are the Cartesian product of the grid and the sample (grid
outer, sample inner): ``point = grid_index * n_sample_points + sample_index``.
Runs are point-major: ``run index = point * replications + replicate``.

Seeds. Run seeds come from ``numpy.random.SeedSequence(batch_seed)``: child
``k`` of ``SeedSequence(batch_seed).spawn(...)`` gives the int seed
``child.generate_state(1, dtype=uint64)[0] >> 1`` (so ``0 <= seed < 2**63``).
With ``seeds = "paired"`` (common random numbers, the default) child ``k`` is
the replicate number, so replicate ``k`` of every design point, and of every
batch with the same batch seed, meets the same random draws; this makes
per-seed comparisons across parameters or scenarios meaningful. With
``seeds = "independent"`` child ``k`` is the run index, so every run has its
own stream. A run's result depends only on its configuration and seed.

Samplers: ``lhs`` is ``scipy.stats.qmc.LatinHypercube``; ``sobol`` is a
scrambled ``scipy.stats.qmc.Sobol`` sequence (``n`` must be a power of two);
``saltelli`` is SALib's Sobol'-index design (``n`` a power of two too;
``n * (2d + 2)`` points, or ``n * (d + 2)`` with ``second_order = false``); ``morris`` is SALib's Morris
design (``n * (d + 1)`` points, ``levels`` grid levels, default 4). Integer
parameters get rounded sample values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
from pydantic import BaseModel

from sim.config import ConfigError, ScenarioConfig, load_scenario, scenario_names

log = logging.getLogger(__name__)

DEFAULT_BATCH_SEED = 2025
"""Batch seed when neither the batch file nor ``--seed`` gives one."""

DEFAULT_SCENARIO_RUNS = 100
"""Seeds run for a bare scenario when ``--runs`` is not given."""

SAMPLE_METHODS = ("lhs", "sobol", "saltelli", "morris")
SEED_MODES = ("paired", "independent")
_BATCH_KEYS = ("scenario", "seed", "replications", "seeds", "record_every", "name", "description")
_TOP_KEYS = ("batch", "overrides", "grid", "sample")
_SAMPLE_KEYS = {"method", "n", "seed", "ranges", "second_order", "levels"}
_MAX_SEED = 2**63


@dataclass(frozen=True)
class RunSpec:
    """One world to simulate: its place in the design and its seed."""

    index: int
    run_id: str
    point: int
    replicate: int
    seed: int
    params: Mapping[str, Any]
    """Values of the varied parameters at this run's design point (dotted path -> value)."""


@dataclass
class Design:
    """A validated, resolved batch design: base configuration, design points and seed rule."""

    name: str
    scenario: str
    """The scenario as written in the batch file or on the command line."""
    scenario_name: str
    """``meta.name`` of the loaded scenario (the ``scenario`` column of runs.parquet)."""
    base_config: ScenarioConfig
    """The scenario with every fixed override applied (shared by all runs)."""
    batch_seed: int
    replications: int
    seeds: str
    overrides: dict[str, Any]
    grid: dict[str, list[Any]]
    sample: dict[str, Any] | None
    points: list[dict[str, Any]]
    n_grid_points: int
    n_sample_points: int
    source: str | None = None
    """The batch file, or None for a bare scenario."""
    description: str = ""
    parameters: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = list(self.grid) + list((self.sample or {}).get("ranges", {}))

    @property
    def n_points(self) -> int:
        """Number of design points (parameter combinations)."""
        return len(self.points)

    @property
    def n_runs(self) -> int:
        """Number of worlds the batch simulates."""
        return self.n_points * self.replications

    @property
    def record_every(self) -> int:
        """Time-series recording period in months."""
        return self.base_config.record.every

    def run_id(self, index: int) -> str:
        """Zero-padded run id (``r000042``); the width fits the batch, so ids sort numerically."""
        width = max(6, len(str(max(self.n_runs - 1, 0))))
        return f"r{index:0{width}d}"

    def seed_of(self, point: int, replicate: int) -> int:
        """The int seed of one run (see the module docstring for the rule)."""
        child = replicate if self.seeds == "paired" else point * self.replications + replicate
        return spawned_seed(self.batch_seed, child)

    def runs(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[RunSpec]:
        """The runs in index order (point-major), lazily, leaving out indices in ``skip``."""
        for point, params in enumerate(self.points):
            for replicate in range(self.replications):
                index = point * self.replications + replicate
                if index in skip:
                    continue
                yield RunSpec(index, self.run_id(index), point, replicate, self.seed_of(point, replicate), params)

    def to_record(self) -> dict[str, Any]:
        """The resolved design as plain JSON-able data (the manifest's ``design``)."""
        return {
            "source": self.source,
            "scenario": self.scenario,
            "scenario_name": self.scenario_name,
            "batch_seed": self.batch_seed,
            "replications": self.replications,
            "seeds": self.seeds,
            "seed_rule": ("int(SeedSequence(batch_seed).spawn(k+1)[k].generate_state(1, uint64)[0] >> 1), "
                          "k = replicate" if self.seeds == "paired" else "k = run index"),
            "overrides": self.overrides,
            "grid": self.grid,
            "sample": self.sample,
            "parameters": self.parameters,
            "n_points": self.n_points,
            "n_grid_points": self.n_grid_points,
            "n_sample_points": self.n_sample_points,
            "n_runs": self.n_runs,
            "order": "run index = point * replications + replicate; "
                     "point = grid_index * n_sample_points + sample_index",
        }

    def seed_list(self) -> list[int]:
        """Seeds by replicate (paired) or by run index (independent)."""
        n = self.replications if self.seeds == "paired" else self.n_runs
        return [spawned_seed(self.batch_seed, k) for k in range(n)]

    def fingerprint(self) -> str:
        """Hash of everything that determines the runs' results (used to check ``--resume``)."""
        blob = json.dumps({"design": self.to_record(), "config": self.base_config.model_dump(mode="json")},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def spawned_seed(batch_seed: int, k: int) -> int:
    """Seed of child ``k`` of ``SeedSequence(batch_seed)``, as a non-negative int below 2**63.

    ``SeedSequence(batch_seed, spawn_key=(k,))`` is exactly the ``k``-th child that
    ``SeedSequence(batch_seed).spawn`` returns, computed without spawning the others.
    """
    child = np.random.SeedSequence(batch_seed, spawn_key=(k,))
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


# --------------------------------------------------------------------------- entry points
def load_design(target: str | Path, *, runs: int | None = None, seed: int | None = None,
                name: str | None = None, record_every: int | None = None,
                set_overrides: list[str] | None = None) -> Design:
    """Validate a batch file or a bare scenario (with command-line options) into a :class:`Design`.

    ``target`` is a batch file (a TOML with a ``[batch]`` table), a scenario file,
    a scenario name, or the name of a batch in ``experiments/batches/``.
    ``runs`` overrides the replications per design point. Errors are
    :class:`ConfigError` with a one-line ``<file>: <field path>: <what is allowed>``.
    """
    if runs is not None:
        _check_positive_int("command line", "--runs", runs)
    if seed is not None:
        check_seed("command line", "--seed", seed)
    if record_every is not None:
        _check_positive_int("command line", "--record-every", record_every)
    batch_file = _find_batch_file(target)
    if batch_file is not None:
        spec = _read_batch_file(batch_file)
    else:
        spec = {"batch": {"scenario": str(target)}}
        if runs is None:
            log.info("bare scenario %s: %d seeds (use --runs N to change)", target, DEFAULT_SCENARIO_RUNS)
            runs = DEFAULT_SCENARIO_RUNS
    return _resolve(spec, batch_file, runs=runs, seed=seed, name=name, record_every=record_every,
                    set_overrides=set_overrides or [])


def parse_set_overrides(items: list[str]) -> dict[str, Any]:
    """``["path=value", ...]`` from ``--set`` into a dict; values are TOML literals, else strings."""
    out: dict[str, Any] = {}
    for item in items:
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            raise ConfigError("--set", item, "expected path=value, e.g. scale.lab_aggressiveness=2.0")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[path.strip()] = value
    return out


def apply_set_overrides(config: ScenarioConfig, items: list[str]) -> ScenarioConfig:
    """``config`` with ``--set path=value`` items applied, checked as ``batch --set`` checks them: an
    unknown path names what is allowed where it went wrong (fields, or the scenario's agent ids)."""
    return _apply_fixed(config, parse_set_overrides(items), "--set", "")


# --------------------------------------------------------------------------- reading
BATCH_DIR = Path(__file__).resolve().parent / "batches"


def _find_batch_file(target: str | Path) -> Path | None:
    """The batch file ``target`` names, or None when it names a scenario."""
    path = Path(target)
    if path.is_file():
        return path if "batch" in _read_toml(path) else None
    if path.suffix == ".toml":
        raise ConfigError(str(path), "", "no such file")
    shipped = BATCH_DIR / f"{target}.toml"
    if str(target) not in scenario_names() and shipped.is_file():
        return shipped
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None


def _read_batch_file(path: Path) -> dict[str, Any]:
    """The batch file's tables, with top-level keys checked."""
    data = _read_toml(path)
    if not isinstance(data["batch"], dict):
        raise ConfigError(str(path), "batch", "must be a table: [batch] with scenario = ...")
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(str(path), key, f"unknown table; allowed: {', '.join(_TOP_KEYS)}")
    for key in data["batch"]:
        if key not in _BATCH_KEYS:
            raise ConfigError(str(path), f"batch.{key}", f"unknown field; allowed: {', '.join(_BATCH_KEYS)}")
    return data


# --------------------------------------------------------------------------- resolving
def _resolve(spec: dict[str, Any], batch_file: Path | None, *, runs: int | None, seed: int | None,
             name: str | None, record_every: int | None, set_overrides: list[str]) -> Design:
    """Check every field, load the scenario, apply fixed overrides and expand the design points."""
    src = str(batch_file) if batch_file else "command line"
    batch = spec["batch"]

    scenario = batch.get("scenario")
    config = _load_scenario(scenario, batch_file, src)

    batch_seed = seed if seed is not None else batch.get("seed", DEFAULT_BATCH_SEED)
    check_seed(src, "batch.seed", batch_seed)
    replications = runs if runs is not None else batch.get("replications", 1)
    _check_positive_int(src, "batch.replications", replications)
    seeds = batch.get("seeds", "paired")
    if seeds not in SEED_MODES:
        raise ConfigError(src, "batch.seeds", f"must be one of {', '.join(SEED_MODES)} (got {seeds!r})")

    overrides = _flatten(spec.get("overrides", {}), src, "overrides")
    grid = _flatten(spec.get("grid", {}), src, "grid")
    sample = spec.get("sample")
    file_record_every = batch.get("record_every")
    if file_record_every is not None:
        _check_positive_int(src, "batch.record_every", file_record_every)
        overrides["record.every"] = file_record_every

    config = _apply_fixed(config, overrides, src, "overrides")
    cli_overrides = parse_set_overrides(set_overrides)
    if record_every is not None:
        cli_overrides["record.every"] = record_every
    config = _apply_fixed(config, cli_overrides, "--set", "")
    overrides.update(cli_overrides)

    grid_points = _grid_points(config, grid, src)
    sample_record, sample_points = None, [{}]
    if sample is not None:
        sample_record, sample_points = _sample_points(config, sample, src, batch_seed)
    _check_varied_once(overrides, cli_overrides, grid, sample_record["ranges"] if sample_record else {}, src)

    points = [{**g, **s} for g in grid_points for s in sample_points]
    default_name = batch_file.stem if batch_file else Path(scenario).stem
    return Design(
        name=_check_name(name or batch.get("name") or default_name, src),
        scenario=scenario, scenario_name=config.meta.name, base_config=config,
        batch_seed=int(batch_seed), replications=int(replications), seeds=seeds,
        overrides=overrides, grid=grid, sample=sample_record, points=points,
        n_grid_points=len(grid_points), n_sample_points=len(sample_points),
        source=str(batch_file) if batch_file else None, description=str(batch.get("description", "")),
    )


def _load_scenario(scenario: Any, batch_file: Path | None, src: str) -> ScenarioConfig:
    """The scenario a batch names (a path is relative to the batch file); errors say what exists."""
    if not isinstance(scenario, str) or not scenario:
        raise ConfigError(src, "batch.scenario", "required: a scenario name or a path to a scenario .toml")
    ref = scenario
    if batch_file is not None and scenario.endswith(".toml") and not Path(scenario).is_absolute():
        ref = str(batch_file.parent / scenario)
    try:
        return load_scenario(ref)
    except ConfigError as exc:
        if exc.path:  # the scenario file exists but is invalid: report it where it is
            raise
        if batch_file is not None:
            raise ConfigError(src, "batch.scenario", f"{scenario!r}: {exc.message}") from None
        batches = sorted(p.stem for p in BATCH_DIR.glob("*.toml"))
        raise ConfigError(src, "BATCH_OR_SCENARIO", f"{scenario!r} is neither a batch file nor a scenario; "
                          f"scenarios: {', '.join(scenario_names())}; batches: {', '.join(batches)}") from None


def _check_varied_once(overrides: dict[str, Any], cli_overrides: dict[str, Any], grid: dict[str, Any],
                       ranges: dict[str, Any], src: str) -> None:
    """A parameter is either fixed or varied, and varied in one place only."""
    for path in overrides:
        if path in grid or path in ranges:
            where = "--set" if path in cli_overrides else src
            raise ConfigError(where, path, "is both fixed (override) and varied (grid/sample); choose one")
    for path in ranges:
        if path in grid:
            raise ConfigError(src, f"sample.ranges.{path}", "is also in [grid]; vary a parameter in one place")


def _check_positive_int(src: str, where: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(src, where, f"must be a positive integer (got {value!r})")


def check_seed(src: str, where: str, value: Any) -> None:
    """A seed: an integer in [0, 2**63) (numpy's SeedSequence and the int64 seed column take it)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_SEED:
        raise ConfigError(src, where, f"must be an integer in [0, 2**63) (got {value!r})")


def _check_name(name: str, src: str) -> str:
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ConfigError(src, "batch.name", f"must be a plain folder name (got {name!r})")
    return name


def _flatten(table: Any, src: str, section: str) -> dict[str, Any]:
    """Nested TOML tables into dotted paths: ``{"meta": {"months": 24}}`` -> ``{"meta.months": 24}``."""
    if not isinstance(table, dict):
        raise ConfigError(src, section, "must be a table of dotted.path = value")
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            for sub, leaf in _flatten(value, src, f"{section}.{key}").items():
                flat[f"{key}.{sub}"] = leaf
        else:
            flat[key] = value
    return flat


def _parameter(config: ScenarioConfig, path: str, src: str, where: str) -> Any:
    """The scenario's current value at ``path``; it must be a single parameter, not a table."""
    try:
        value = config.get_path(path)
    except ConfigError:
        raise ConfigError(src, where, _unknown_path(config, path)) from None
    if isinstance(value, (dict, list, BaseModel)):   # a table of the scenario (a section or an agent)
        raise ConfigError(src, where, f"{path!r} is a table, not a single parameter; name a field inside it")
    return value


def _unknown_path(config: ScenarioConfig, path: str) -> str:
    """Why ``path`` names no parameter of the scenario, and what is allowed where it went wrong."""
    node: Any = config.model_dump()
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict):
            return f"unknown parameter path: {'.'.join(parts[:i])} is a single value, not a table"
        if part not in node:
            under = ".".join(parts[:i]) or "the top level"
            return (f"unknown parameter path in scenario {config.meta.name!r}: no {part!r} under {under}; "
                    f"allowed: {', '.join(map(str, node)) or 'none'}")
        node = node[part]
    return "unknown parameter path"


def _apply_fixed(config: ScenarioConfig, overrides: dict[str, Any], src: str, section: str) -> ScenarioConfig:
    """The config with fixed overrides applied; errors name the override's place in the batch file."""
    if not overrides:
        return config
    prefix = f"{section}." if section else ""
    for path in overrides:
        _parameter(config, path, src, f"{prefix}{path}")
    try:
        return config.with_overrides(overrides, source=src)
    except ConfigError as exc:
        raise ConfigError(src, f"{prefix}{exc.path}", exc.message) from None


def _grid_points(config: ScenarioConfig, grid: dict[str, Any], src: str) -> list[dict[str, Any]]:
    """All combinations of the grid values (first parameter outermost)."""
    for path, values in grid.items():
        where = f"grid.{path}"
        _parameter(config, path, src, where)
        if not isinstance(values, list) or not values:
            raise ConfigError(src, where, "must be a non-empty list of values, e.g. [0.5, 1.0, 2.0]")
        if len(set(map(repr, values))) != len(values):
            raise ConfigError(src, where, f"values must be distinct (got {values!r})")
        for value in values:
            _check_value(config, path, value, src, where)
    return [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]


def _check_value(config: ScenarioConfig, path: str, value: Any, src: str, where: str) -> None:
    """A single value must pass the scenario's own validation at ``path``."""
    try:
        config.with_overrides({path: value}, source=src)
    except ConfigError as exc:
        raise ConfigError(src, where, f"{value!r} not allowed: {exc.message}") from None


def _sample_points(config: ScenarioConfig, sample: Any, src: str,
                   batch_seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate ``[sample]`` and draw its points; returns (resolved sample record, points)."""
    if not isinstance(sample, dict):
        raise ConfigError(src, "sample", "must be a table with method, n and ranges")
    for key in sample:
        if key not in _SAMPLE_KEYS:
            raise ConfigError(src, f"sample.{key}", f"unknown field; allowed: {', '.join(sorted(_SAMPLE_KEYS))}")
    method = sample.get("method")
    if method not in SAMPLE_METHODS:
        raise ConfigError(src, "sample.method", f"must be one of {', '.join(SAMPLE_METHODS)} (got {method!r})")
    n = sample.get("n")
    _check_positive_int(src, "sample.n", n)
    if method == "sobol" and n & (n - 1):
        raise ConfigError(src, "sample.n", f"Sobol points need a power of two, e.g. 64 or 128 (got {n})")
    if method == "saltelli" and n & (n - 1):   # SALib only warns; its Sobol' sequence loses its balance
        raise ConfigError(src, "sample.n", f"a Saltelli design needs a power of two, e.g. 64 or 128 (got {n})")
    sample_seed = sample.get("seed", batch_seed)
    check_seed(src, "sample.seed", sample_seed)
    if "second_order" in sample and method != "saltelli":
        raise ConfigError(src, "sample.second_order", "only for method = \"saltelli\"")
    if "levels" in sample and method != "morris":
        raise ConfigError(src, "sample.levels", "only for method = \"morris\"")
    second_order = sample.get("second_order", True)
    if not isinstance(second_order, bool):
        raise ConfigError(src, "sample.second_order", f"must be true or false (got {second_order!r})")
    levels = sample.get("levels", 4)
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        raise ConfigError(src, "sample.levels", f"must be an even integer >= 2 (got {levels!r})")

    ranges = _flatten(sample.get("ranges", {}), src, "sample.ranges")
    if not ranges:
        raise ConfigError(src, "sample.ranges", "required: at least one \"dotted.path\" = [low, high]")
    integer = {path: _check_range(config, path, bounds, src) for path, bounds in ranges.items()}

    unit = _unit_sample(method, n, len(ranges), sample_seed, second_order, levels)
    lows = np.array([ranges[p][0] for p in ranges], dtype=float)
    highs = np.array([ranges[p][1] for p in ranges], dtype=float)
    values = lows + unit * (highs - lows)
    points = []
    for row in values:
        point = {}
        for path, v in zip(ranges, row):
            point[path] = int(round(float(v))) if integer[path] else float(v)
        points.append(point)
    record = {"method": method, "n": n, "seed": sample_seed,
              "ranges": {p: [ranges[p][0], ranges[p][1]] for p in ranges}}
    if method == "saltelli":
        record["second_order"] = second_order
    if method == "morris":
        record["levels"] = levels
    return record, points


def _check_range(config: ScenarioConfig, path: str, bounds: Any, src: str) -> bool:
    """A range is [low, high] with low < high over a numeric parameter; returns True if it is an integer one."""
    where = f"sample.ranges.{path}"
    current = _parameter(config, path, src, where)
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise ConfigError(src, where, f"a range needs a numeric parameter ({path} is "
                          f"{type(current).__name__}); put its values in [grid] instead")
    ok = (isinstance(bounds, list) and len(bounds) == 2
          and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds))
    if not ok:
        raise ConfigError(src, where, f"must be [low, high] with two finite numbers (got {bounds!r})")
    low, high = bounds
    if not low < high:
        raise ConfigError(src, where, f"empty range [{low}, {high}]; need low < high")
    for b in bounds:
        _check_value(config, path, int(round(b)) if isinstance(current, int) else float(b), src, where)
    return isinstance(current, int)


def _unit_sample(method: str, n: int, d: int, seed: int, second_order: bool, levels: int) -> np.ndarray:
    """Sample points in the unit hypercube [0, 1]^d, one row per point."""
    rng = np.random.default_rng(seed)
    if method == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d, rng=rng).random(n)
    if method == "sobol":
        from scipy.stats import qmc

        return qmc.Sobol(d, scramble=True, rng=rng).random_base2(int(math.log2(n)))
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    if method == "saltelli":
        from SALib.sample import sobol as saltelli

        return saltelli.sample(problem, n, calc_second_order=second_order, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, n, num_levels=levels, seed=seed)
