"""A run's tables: the long-format time series and the event log hold exactly what the model recorded."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from sim.runner import (EVENT_COLUMNS, TS_COLUMNS, events_frame, model_dates, recorded_ticks, run_world, simulate,
                        timeseries_frame, timeseries_table)
from sim import runner
from sim.gctuning import YOUNG_COLLECTION_EVERY, few_collections
from sim.model import ComputeMarketModel


@pytest.fixture(scope="module")
def world(baseline):
    return simulate(baseline, seed=3, months=14)


@pytest.mark.parametrize("months, every, kept", [(14, 1, list(range(14))), (14, 5, [0, 5, 10, 13]),
                                                 (10, 5, [0, 5, 9]), (1, 3, [0]), (0, 1, [])])
def test_recorded_ticks_keep_every_nth_month_and_the_last(months, every, kept):
    assert recorded_ticks(months, every).tolist() == kept


@pytest.mark.parametrize("every", [1, 4])
def test_timeseries_is_every_series_at_the_recorded_months(world, every):
    ts = timeseries_frame(world, every)
    ticks = recorded_ticks(world.tick, every)
    recorded = {("market", var): vals for var, vals in world.series.items()} | dict(world.agent_series)
    assert list(ts.columns) == TS_COLUMNS
    assert len(ts) == len(recorded) * len(ticks)
    assert ts["tick"].dtype == np.int32 and ts["value"].dtype == np.float64
    dates = model_dates(world, ticks)
    for (agent, var), rows in ts.groupby(["agent", "variable"], sort=False):
        assert rows["tick"].tolist() == ticks.tolist() and rows["date"].tolist() == dates
        assert np.array_equal(rows["value"], np.asarray(recorded[(agent, var)], float)[ticks], equal_nan=True)
    assert ts["agent"].iloc[0] == "market"  # the market's series first, then the agents' in recording order
    assert list(dict.fromkeys(zip(ts["agent"], ts["variable"]))) == list(recorded)

def test_events_are_the_log_in_order(world):
    ev = events_frame(world)
    assert list(ev.columns) == EVENT_COLUMNS
    assert ev.to_dict("records") == world.event_log
    assert ev["tick"].dtype == np.int32 and ev["gw"].dtype == np.float64 and ev["amount_busd"].dtype == np.float64
    assert isinstance(ev["kind"].dtype, pd.StringDtype)


def test_an_empty_event_log_keeps_the_columns(world, monkeypatch):
    monkeypatch.setattr(world, "event_rows", [])
    ev = events_frame(world)
    assert list(ev.columns) == EVENT_COLUMNS and len(ev) == 0 and ev["tick"].dtype == np.int32


def test_a_run_result_holds_arrow_tables_with_pandas_views(baseline):
    result = run_world(baseline, 5, months=6)
    assert result.timeseries_table.column_names == TS_COLUMNS
    assert result.events_table.column_names == EVENT_COLUMNS
    pd.testing.assert_frame_equal(result.timeseries, result.timeseries_table.to_pandas())
    assert result.events is result.events  # made once, on first use


def test_a_missing_value_is_null_in_the_table_and_nan_in_the_frame(world):
    """As the batch store keeps it: a value never recorded (e.g. a cloud's model quality) is a null."""
    table, frame = timeseries_table(world), timeseries_frame(world)
    assert frame["value"].isna().any()
    assert table["value"].null_count == frame["value"].isna().sum()


def test_a_run_collects_garbage_rarely_and_restores_the_callers_setting(baseline):
    """simulate() raises the collector's first threshold only while the world runs (sim/gctuning.py)."""
    seen = []

    class Probe(ComputeMarketModel):
        def step(self):
            seen.append(gc.get_threshold()[0])
            super().step()

    before = gc.get_threshold()
    gc.set_threshold(123, *before[1:])
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(runner, "ComputeMarketModel", Probe)
            runner.simulate(baseline, 1, months=3)
        assert seen == [YOUNG_COLLECTION_EVERY] * 3
        assert gc.get_threshold()[0] == 123
        with few_collections():
            with few_collections():
                pass
            assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY
        assert gc.get_threshold()[0] == 123
    finally:
        gc.set_threshold(*before)
