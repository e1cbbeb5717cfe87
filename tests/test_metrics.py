"""The labels and outcomes of sim/metrics.py on hand-made series and events."""

import math

import pytest

from sim.config import Labels
from sim.metrics import LABELS, OUTCOMES, compute_labels, end_concentration, longest_run

TH = Labels()   # min 6 months; glut: utilisation < 0.8 and spot < 0.9 x full cost; scarcity: unmet > 5 %
                # of demand and spot > 1.5 x full cost; cascade: 2 defaults, one triggered; HHI rise > 0.05


def _series(n=12, spot=1.0, util=0.95, unmet=0.0, hhi=0.3):
    return {"spot_price": [spot] * n, "full_cost": [1.0] * n, "utilisation": [util] * n,
            "unmet_demand_egw": [unmet] * n, "demand_egw": [10.0] * n, "lab_hhi": [hhi] * n}


def test_longest_run():
    assert longest_run([True, True, False, True, True, True, False]) == 3
    assert longest_run([]) == 0


def test_glut_needs_six_months_of_low_use_and_a_price_below_full_cost():
    s = _series(spot=0.8, util=0.7)
    assert compute_labels(s, [], TH, 0.3)["label_glut"]
    s["utilisation"][6] = 0.9          # two runs of 6 and 5 months: still a glut (the first)
    assert compute_labels(s, [], TH, 0.3)["label_glut"]
    s["utilisation"][5] = 0.9          # runs of 5 and 5: none long enough
    assert not compute_labels(s, [], TH, 0.3)["label_glut"]
    assert not compute_labels(_series(spot=0.95, util=0.7), [], TH, 0.3)["label_glut"]   # price not low enough


def test_scarcity_needs_unmet_demand_and_a_price_well_above_full_cost():
    assert compute_labels(_series(spot=1.6, unmet=1.0), [], TH, 0.3)["label_scarcity"]
    assert not compute_labels(_series(spot=1.4, unmet=1.0), [], TH, 0.3)["label_scarcity"]
    assert not compute_labels(_series(spot=1.6, unmet=0.4), [], TH, 0.3)["label_scarcity"]   # 4 % unmet


def test_cascade_needs_a_default_triggered_by_another():
    first = {"kind": "default", "counterparty": ""}
    second = {"kind": "default", "counterparty": "cloud_a"}
    assert compute_labels(_series(), [first, second], TH, 0.3)["label_cascade"]
    assert not compute_labels(_series(), [first, dict(first)], TH, 0.3)["label_cascade"]
    assert not compute_labels(_series(), [second], TH, 0.3)["label_cascade"]


def test_consolidation_needs_an_acquisition_and_a_rise_in_concentration():
    acq = [{"kind": "acquisition", "counterparty": ""}]
    assert compute_labels(_series(hhi=0.36), acq, TH, 0.3)["label_consolidation"]
    assert not compute_labels(_series(hhi=0.34), acq, TH, 0.3)["label_consolidation"]   # +0.04
    assert not compute_labels(_series(hhi=0.5), [], TH, 0.3)["label_consolidation"]     # no acquisition


def test_a_world_whose_last_labs_fail_ends_as_concentrated_as_it_was_then():
    """No lab left: the market has no concentration (NaN months); the end HHI is the last month with a lab,
    so a world consolidated by acquisitions before its last lab failed is labelled consolidated."""
    s = _series(hhi=0.3)
    s["lab_hhi"][8:] = [0.7, 1.0, math.nan, math.nan]
    assert end_concentration(s["lab_hhi"]) == 1.0
    assert compute_labels(s, [{"kind": "acquisition", "counterparty": ""}], TH, 0.3)["label_consolidation"]
    assert math.isnan(end_concentration([math.nan, math.nan]))
    assert end_concentration([]) != end_concentration([])   # NaN: no month had a lab


def test_the_outcome_columns_start_with_the_labels():
    assert OUTCOMES[:len(LABELS)] == LABELS


def test_the_outcomes_read_every_kind_of_event_they_count():
    """compute_outcomes passes on only the events of COUNTED_EVENTS: every kind the metrics compare
    with must be one of them, or its count would silently be zero."""
    import re
    from pathlib import Path

    from sim.metrics import COUNTED_EVENTS
    source = (Path(__file__).resolve().parent.parent / "sim" / "metrics.py").read_text()
    compared = set(re.findall(r"""\["kind"\] == "(\w+)\"""", source))
    assert compared and compared <= COUNTED_EVENTS


def test_the_outcomes_equal_those_over_the_whole_event_log(baseline):
    """The outcomes from the counted events equal the labels computed over every event as dicts."""
    from sim.metrics import compute_labels
    from sim.runner import simulate
    m = simulate(baseline, 11, months=60)
    out = m.outcomes()
    full = compute_labels(m.series, m.event_log, m.cfg.labels, m.initial_hhi)
    assert {k: out[k] for k in LABELS} == full
    assert out["n_moratoria"] == sum(1 for e in m.event_log if e["kind"] == "moratorium")
    assert len(m.event_log) == len(m.event_rows) and m.event_log[-1]["tick"] == m.event_rows[-1][0]
