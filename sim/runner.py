"""Run one world from a config and a seed, and return its tables.

The tables are built column by column as Arrow tables, the form the batch store
writes (a missing value, NaN, is a null there); pandas views of them are made on
first use. A run's tables hold ~16,000
rows, most of them repeats of a few hundred distinct texts (dates, variable and
agent names); those are written as indices into a short dictionary and decoded
in one step instead of as ~16,000 Python strings per column (a batch's workers keep
the time series' text columns as those indices: ``dictionary_text``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.config import ScenarioConfig
from sim.gctuning import few_collections
from sim.metrics import EVENT_COLUMNS   # the events table's columns (imported from here by callers)
from sim.model import ComputeMarketModel

TS_COLUMNS = ["tick", "date", "variable", "agent", "value"]
_EVENT_TYPES = {"tick": pa.int32(), "amount_busd": pa.float64(), "gw": pa.float64()}
"""Arrow types of the event columns that are not text."""


@dataclass
class RunResult:
    """Outcomes (flat dict), long-format time series and the event log of one run."""

    outcomes: dict[str, Any]
    timeseries_table: pa.Table
    events_table: pa.Table

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """The time series as a pandas frame (see :func:`timeseries_frame`)."""
        return self.timeseries_table.to_pandas()

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log as a pandas frame (see :func:`events_frame`)."""
        return self.events_table.to_pandas()


def simulate(cfg: ScenarioConfig, seed: int, months: int | None = None) -> ComputeMarketModel:
    """Build and run the model to its horizon; return it. Mesa's DataCollector stays empty: the
    model's own series hold every variable it would collect. The garbage collector runs rarely
    meanwhile (sim/gctuning.py)."""
    with few_collections():
        model = ComputeMarketModel(config=cfg, rng=int(seed), months=months, mesa_data=False)
        while model.running:
            model.step()
    return model


def model_dates(model: ComputeMarketModel, ticks: np.ndarray) -> list[str]:
    ym = model._start_ym + ticks
    return [f"{y:04d}-{m + 1:02d}" for y, m in zip(ym // 12, ym % 12)]


def recorded_ticks(months: int, every: int) -> np.ndarray:
    """The months kept in the time series: every ``every``-th one from 0, and always the last."""
    ticks = np.arange(0, months, every, dtype=np.int32)
    if months and ticks[-1] != months - 1:
        ticks = np.append(ticks, np.int32(months - 1))
    return ticks


def timeseries_table(model: ComputeMarketModel, every: int = 1, *, dictionary_text: bool = False) -> pa.Table:
    """Long-format time series (market and agents), one row per recorded month and variable.

    Rows go series by series (the market's first, then each agent's), months in order within each.
    With ``dictionary_text`` the date, variable and agent columns are Arrow dictionary arrays (indices
    into the few hundred distinct texts, not ~16,000 strings each): the form a batch carries from its
    workers to the store, which writes them as Parquet text columns without decoding them.
    """
    text = _encoded if dictionary_text else _decoded
    ticks = recorded_ticks(model.tick, every)
    keys = [("market", var) for var in model.series] + list(model.agent_series)
    history = [*model.series.values(), *model.agent_series.values()]
    n_series, n_ticks = len(keys), len(ticks)
    values = np.array(history, dtype=float).reshape(n_series, model.tick)[:, ticks].ravel()
    variables, agents = _codes([var for _, var in keys]), _codes([agent for agent, _ in keys])
    return pa.table({
        "tick": np.tile(ticks, n_series),
        "date": text(model_dates(model, ticks), np.tile(np.arange(n_ticks, dtype=np.int32), n_series)),
        "variable": text(variables[0], np.repeat(variables[1], n_ticks)),
        "agent": text(agents[0], np.repeat(agents[1], n_ticks)),
        "value": pa.array(values, from_pandas=True),  # NaN (not recorded, e.g. a dead firm) as null
    })


def events_table(model: ComputeMarketModel) -> pa.Table:
    """The event log, one row per event in the order they happened."""
    columns = list(zip(*model.event_rows)) or [()] * len(EVENT_COLUMNS)
    return pa.table({name: pa.array(column, _EVENT_TYPES.get(name, pa.string()),
                                    from_pandas=True)  # NaN as null, as the batch store keeps it
                     for name, column in zip(EVENT_COLUMNS, columns)})


def timeseries_frame(model: ComputeMarketModel, every: int = 1) -> pd.DataFrame:
    """:func:`timeseries_table` as a pandas frame."""
    return timeseries_table(model, every).to_pandas()


def events_frame(model: ComputeMarketModel) -> pd.DataFrame:
    """:func:`events_table` as a pandas frame."""
    return events_table(model).to_pandas()


def run_world(cfg: ScenarioConfig, seed: int, months: int | None = None, record_every: int | None = None,
              dictionary_text: bool = False) -> RunResult:
    """Run one world. The result depends only on ``cfg`` and ``seed``. (``dictionary_text``: the time
    series' text columns as Arrow dictionary arrays, see :func:`timeseries_table`; batch workers ask for it.)"""
    model = simulate(cfg, seed, months)
    every = record_every or cfg.record.every
    result = RunResult(model.outcomes(), timeseries_table(model, every, dictionary_text=dictionary_text),
                       events_table(model))
    model.release()   # its memory back now (and at all in the compiled build: ComputeMarketModel.release)
    return result


def _codes(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """(the distinct texts in order of first appearance, each text's index among them): a dictionary
    without repeats, the same for every run of a scenario."""
    index: dict[str, int] = {}
    codes = np.array([index.setdefault(t, len(index)) for t in texts], dtype=np.int32)
    return list(index), codes


def _encoded(labels: list[str], indices: np.ndarray) -> pa.Array:
    """``labels[i]`` for every i in ``indices``, as an Arrow dictionary array (int32 indices, text values)."""
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels, pa.string()))


def _decoded(labels: list[str], indices: np.ndarray) -> pa.Array:
    """``labels[i]`` for every i in ``indices``, as an Arrow text column."""
    return _encoded(labels, indices).dictionary_decode()
