"""Run one world from a config and a seed, and return its tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ScenarioConfig
from sim.model import ComputeMarketModel

EVENT_COLUMNS = ["tick", "date", "kind", "party", "counterparty", "amount_busd", "gw", "detail"]
TS_COLUMNS = ["tick", "date", "variable", "agent", "value"]


@dataclass
class RunResult:
    """Outcomes (flat dict), long-format time series and the event log of one run."""

    outcomes: dict[str, Any]
    timeseries: pd.DataFrame
    events: pd.DataFrame


def simulate(cfg: ScenarioConfig, seed: int, months: int | None = None) -> ComputeMarketModel:
    """Build and run the model to its horizon; return it."""
    model = ComputeMarketModel(config=cfg, rng=int(seed), months=months)
    while model.running:
        model.step()
    return model


def model_dates(model: ComputeMarketModel, ticks: np.ndarray) -> list[str]:
    ym = model._start_ym + ticks
    return [f"{y:04d}-{m + 1:02d}" for y, m in zip(ym // 12, ym % 12)]


def timeseries_frame(model: ComputeMarketModel, every: int = 1) -> pd.DataFrame:
    """Long-format time series (market and agents), one row per recorded month and variable."""
    n = model.tick
    ticks = np.arange(0, n, every, dtype=np.int32)
    if n and ticks[-1] != n - 1:
        ticks = np.append(ticks, np.int32(n - 1))
    dates = model_dates(model, ticks)
    parts = []
    items = [(("market", k), v) for k, v in model.series.items()] + list(model.agent_series.items())
    for (agent, var), vals in items:
        parts.append((agent, var, np.asarray(vals, float)[ticks]))
    m = len(ticks)
    return pd.DataFrame({
        "tick": np.tile(ticks, len(parts)),
        "date": np.tile(np.array(dates, dtype=object), len(parts)),
        "variable": np.repeat([p[1] for p in parts], m),
        "agent": np.repeat([p[0] for p in parts], m),
        "value": np.concatenate([p[2] for p in parts]) if parts else np.zeros(0),
    })


def events_frame(model: ComputeMarketModel) -> pd.DataFrame:
    df = pd.DataFrame(model.event_log, columns=EVENT_COLUMNS)
    return df.astype({"tick": "int32", "amount_busd": "float64", "gw": "float64"})


def run_world(cfg: ScenarioConfig, seed: int, months: int | None = None, record_every: int | None = None) -> RunResult:
    """Run one world. The result depends only on ``cfg`` and ``seed``."""
    model = simulate(cfg, seed, months)
    every = record_every or cfg.record.every
    return RunResult(model.outcomes(), timeseries_frame(model, every), events_frame(model))
