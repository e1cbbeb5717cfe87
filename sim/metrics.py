"""Outcomes and labels of one run, computed only from its own time series and events.

Labels (thresholds in the scenario's ``[labels]`` section, defaults in sim/config.py):

* ``glut``: at least ``min_months`` consecutive months with utilisation below ``glut_utilisation``
  and the spot price below ``glut_price_ratio`` x the full cost of new capacity;
* ``scarcity``: at least ``min_months`` consecutive months with unmet demand above
  ``scarcity_unmet_share`` of demand and the spot price above ``scarcity_price_ratio`` x full cost;
* ``cascade``: at least ``cascade_min_defaults`` defaults, at least one triggered by an earlier
  default's unpaid obligations or terminated contracts;
* ``consolidation``: at least one acquisition and lab HHI up by more than ``consolidation_hhi_rise``,
  the HHI at the end being that of the last month any lab was alive (``end_concentration``).

Every outcome's unit and definition: ``OUTCOME_DOCS`` (the outcome table of docs/interfaces.md is generated from
it; the labels are also described in docs/model.md, "Labels").
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

EVENT_COLUMNS = ["tick", "date", "kind", "party", "counterparty", "amount_busd", "gw", "detail"]
"""The fields of an event, in the order of a row of ``ComputeMarketModel.event_rows`` and of the events table.
(Here, not in sim.model: the batch's main process reads the outcomes' definitions without importing Mesa.)"""


def event_dict(row: Sequence[Any]) -> dict[str, Any]:
    """An event row as a dict keyed by EVENT_COLUMNS (the form of ``ComputeMarketModel.event_log``)."""
    return dict(zip(EVENT_COLUMNS, row))
LABELS = ["label_glut", "label_scarcity", "label_cascade", "label_consolidation"]
KEY_OUTCOMES = ["peak_spot_price", "trough_spot_price", "months_glut", "months_scarcity", "gw_operational_end",
                "cumulative_capex_busd", "stranded_gw", "labs_surviving", "n_defaults", "n_acquisitions",
                "largest_lab_share"]

OUTCOME_DOCS: dict[str, tuple[str, str]] = {
    # name: (unit, one-line definition), in the order of the outcome columns (OUTCOMES is its keys);
    # docs/interfaces.md's outcome table is generated from it (tests/test_docs.py checks both). "Last month" = the last month simulated.
    "label_glut": ("bool", "At least `labels.min_months` (6) consecutive months with utilisation below "
                   "`labels.glut_utilisation` (0.8) and the spot price below `labels.glut_price_ratio` (0.9) x the "
                   "full cost of new capacity."),
    "label_scarcity": ("bool", "At least `labels.min_months` (6) consecutive months with unmet demand above "
                       "`labels.scarcity_unmet_share` (0.05) of demand and the spot price above "
                       "`labels.scarcity_price_ratio` (1.5) x full cost."),
    "label_cascade": ("bool", "At least `labels.cascade_min_defaults` (2) defaults, at least one triggered by an "
                      "earlier default's unpaid obligations or terminated contracts."),
    "label_consolidation": ("bool", "At least one acquisition and the lab HHI up by more than "
                            "`labels.consolidation_hhi_rise` (0.05) from the start to lab_hhi_end."),
    "peak_spot_price": ("$B per EGW-month", "Highest monthly spot price of compute over the run (x 1.78 = $ per "
                        "GPU-hour at the default 770,000 GPUs per GW; see peak_usd_gpu_hour)."),
    "trough_spot_price": ("$B per EGW-month", "Lowest monthly spot price of compute over the run."),
    "peak_usd_gpu_hour": ("$ per GPU-hour", "peak_spot_price per GPU-hour of the start-year chip vintage "
                          "(efficiency 1; the H100 in `history`): $B per EGW-month x 1e9 / (`market.gpus_per_gw` x 730 h)."),
    "trough_usd_gpu_hour": ("$ per GPU-hour", "trough_spot_price in the same unit as peak_usd_gpu_hour."),
    "final_spot_price": ("$B per EGW-month", "Spot price of compute in the last month."),
    "months_glut": ("months", "Months (consecutive or not) in which the glut condition of label_glut held."),
    "months_scarcity": ("months", "Months (consecutive or not) in which the scarcity condition of label_scarcity held."),
    "mean_utilisation": ("share (0-1)", "Mean over the months of the share of operational effective capacity "
                         "in use (not idle)."),
    "cumulative_capex_busd": ("$B", "Chips (merchant and in-house) and construction paid by clouds over the run."),
    "gw_operational_end": ("GW", "Operational capacity in the last month: clouds' fleets plus labs' own clusters, "
                           "GW of IT load."),
    "gw_operational_start": ("GW", "Operational capacity in the first month (as gw_operational_end)."),
    "stranded_gw": ("GW", "Capacity of defaulted firms that found no buyer and was shut down (a cloud's fleet, "
                    "a lab's own clusters), summed over the run."),
    "liquidated_gw": ("GW", "Capacity of defaulted clouds sold at a discount to a rival cloud, summed over the run."),
    "announced_to_construction_ratio": ("ratio", "GW that entered construction / GW announced, both during the run "
                                        "(projects already under construction at the start count in neither; "
                                        "NaN if nothing was announced)."),
    "chipmaker_revenue_busd": ("$B", "The chipmaker's revenue from chip sales, summed over the run."),
    "chipmaker_margin": ("share (0-1)", "The chipmaker's gross margin over the run: (revenue - cost of goods) / "
                         "revenue (NaN without revenue)."),
    "in_house_chip_share": ("share (0-1)", "Share of the accelerator GW delivered over the run that were clouds' "
                            "own (in-house) chips; 0 without an in-house programme."),
    "labs_surviving": ("count", "Labs alive (not defaulted, not acquired) in the last month."),
    "largest_lab_share": ("share (0-1)", "Largest demand share of a surviving lab in the last month."),
    "lab_hhi_end": ("HHI (0-1)", "Herfindahl index of the alive labs' demand shares in the last month any lab was "
                    "alive (NaN if none ever was)."),
    "lab_hhi_rise": ("HHI (change)", "lab_hhi_end minus the lab HHI at the start."),
    "total_debt_busd": ("$B", "Loan principal outstanding (labs and clouds, corporate and project loans) in the "
                        "last month."),
    "vendor_finance_losses_busd": ("$B", "The chipmaker's vendor-finance losses over the run: its equity stakes in "
                                   "defaulted firms written off plus the loan guarantees it paid."),
    "lender_losses_busd": ("$B", "Loan principal lenders did not recover from defaulted borrowers (after "
                           "recoveries and guarantees), summed over the run."),
    "n_defaults": ("count", "Defaults over the run (labs and clouds)."),
    "n_cascade_defaults": ("count", "Defaults triggered by an earlier default's unpaid obligations or terminated "
                           "contracts."),
    "n_acquisitions": ("count", "Acquisitions of distressed labs by rival labs, licence-plus-hire deals included."),
    "n_moratoria": ("count", "Permitting moratoria imposed by regulators over the run."),
    "final_sentiment": ("index (0-1)", "Capital markets' sentiment in the last month (0 gloomiest, 1 most buoyant; it "
                        "rations credit and sets equity valuations)."),
    "final_demand_egw": ("EGW", "Compute demand labs face in the last month, at the current price (after price "
                         "rationing)."),
}
OUTCOMES = list(OUTCOME_DOCS)   # the columns of a run's outcomes, labels first
COUNTED_EVENTS = frozenset({"default", "acquisition", "construction_start", "moratorium"})
"""The kinds of event the outcomes and labels count (compute_outcomes reads only these)."""


def outcome_unit(name: str) -> str:
    """The unit of an outcome as in OUTCOME_DOCS ("$B per EGW-month"); "" for a name that is not an outcome."""
    doc = OUTCOME_DOCS.get(name)
    return doc[0] if doc else ""


def field_metadata(name: str) -> dict[bytes, bytes] | None:
    """Arrow/Parquet field metadata of an outcome column, ``{b"unit": ..., b"description": ...}``; None for a name
    that is not an outcome. The batch store puts it on runs.parquet's outcome columns, and the analysis code (which
    never imports sim) reads the units from there."""
    doc = OUTCOME_DOCS.get(name)
    return None if doc is None else {b"unit": doc[0].encode(), b"description": doc[1].encode()}


def with_field_metadata(table):
    """A pyarrow table whose outcome columns carry their unit and definition as field metadata
    (:func:`field_metadata`); other columns and the table's own metadata unchanged."""
    import pyarrow as pa

    schema = pa.schema([f.with_metadata(meta) if (meta := field_metadata(f.name)) else f for f in table.schema],
                       metadata=table.schema.metadata)
    return pa.Table.from_arrays(table.columns, schema=schema)


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest stretch of consecutive True values."""
    best = cur = 0
    for v in mask:
        cur = cur + 1 if v else 0
        best = max(best, cur)
    return best


def glut_mask(series: Mapping[str, Sequence[float]], th) -> np.ndarray:
    u = np.asarray(series["utilisation"], float)
    ratio = np.asarray(series["spot_price"], float) / np.asarray(series["full_cost"], float)
    return (u < th.glut_utilisation) & (ratio < th.glut_price_ratio)


def scarcity_mask(series: Mapping[str, Sequence[float]], th) -> np.ndarray:
    unmet = np.asarray(series["unmet_demand_egw"], float)
    demand = np.maximum(np.asarray(series["demand_egw"], float), 1e-9)
    ratio = np.asarray(series["spot_price"], float) / np.asarray(series["full_cost"], float)
    return (unmet / demand > th.scarcity_unmet_share) & (ratio > th.scarcity_price_ratio)


def cascade_count(events: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """(defaults, defaults triggered by an earlier default) from the event log."""
    defaults = [e for e in events if e["kind"] == "default"]
    triggered = [e for e in defaults if e["counterparty"]]
    return len(defaults), len(triggered)


def end_concentration(lab_hhi: Sequence[float]) -> float:
    """Lab concentration (HHI) at the end of the run: the last month any lab was alive. A market with no
    lab left has no concentration (its months are NaN in the series); a world whose last labs failed
    after acquisitions ends as concentrated as it was then. (Before session 9 an empty market counted
    as HHI 0, so such worlds, 15 % of ``progress_stall``'s, could never be labelled consolidated.)"""
    for v in reversed(lab_hhi):
        if v == v:   # not NaN
            return float(v)
    return float("nan")


def compute_labels(series: Mapping[str, Sequence[float]], events: Sequence[Mapping[str, Any]], th,
                   initial_hhi: float) -> dict[str, bool]:
    """The four labels over the months simulated so far."""
    if not series or not series.get("spot_price"):
        return {k: False for k in LABELS}
    n_def, n_trig = cascade_count(events)
    n_acq = sum(1 for e in events if e["kind"] == "acquisition")
    hhi_end = end_concentration(series["lab_hhi"])
    return {
        "label_glut": longest_run(glut_mask(series, th)) >= th.min_months,
        "label_scarcity": longest_run(scarcity_mask(series, th)) >= th.min_months,
        "label_cascade": n_def >= th.cascade_min_defaults and n_trig >= 1,
        "label_consolidation": n_acq >= 1 and hhi_end - initial_hhi > th.consolidation_hhi_rise,
    }


def compute_outcomes(model) -> dict[str, Any]:
    """Every outcome of OUTCOMES (units and definitions in OUTCOME_DOCS) for a model that has run (pure over its
    series, events and stats)."""
    s, th = model.series, model.cfg.labels
    # the events the outcomes count, as dicts (the model keeps its log as rows: making a dict of every
    # event would cost more than the rest of this function)
    kind = EVENT_COLUMNS.index("kind")
    ev = [event_dict(row) for row in model.event_rows if row[kind] in COUNTED_EVENTS]
    out: dict[str, Any] = dict(compute_labels(s, ev, th, model.initial_hhi))
    if not s:
        return {k: out.get(k, float("nan")) for k in OUTCOMES}
    price = np.asarray(s["spot_price"])
    gpu_h = np.asarray(s["spot_price_usd_gpu_hour"])
    n_def, n_trig = cascade_count(ev)
    labs = model.alive_labs()
    constructed = sum(e["gw"] for e in ev if e["kind"] == "construction_start")
    chip = model.chipmaker
    hhi_end = end_concentration(s["lab_hhi"])
    out.update({
        "peak_spot_price": float(price.max()),
        "trough_spot_price": float(price.min()),
        "peak_usd_gpu_hour": float(gpu_h.max()),
        "trough_usd_gpu_hour": float(gpu_h.min()),
        "final_spot_price": float(price[-1]),
        "months_glut": int(glut_mask(s, th).sum()),
        "months_scarcity": int(scarcity_mask(s, th).sum()),
        "mean_utilisation": float(np.mean(s["utilisation"])),
        "cumulative_capex_busd": float(model.cum_capex),
        "gw_operational_end": float(s["gw_operational"][-1]),
        "gw_operational_start": float(s["gw_operational"][0]),
        "stranded_gw": float(model.stats.stranded_gw),
        "liquidated_gw": float(model.stats.liquidated_gw),
        "announced_to_construction_ratio": float(constructed / model.announced_gw_total) if model.announced_gw_total > 0 else float("nan"),
        "chipmaker_revenue_busd": float(chip.cum_revenue_busd),
        "chipmaker_margin": float(chip.cum_gross_profit_busd / chip.cum_revenue_busd) if chip.cum_revenue_busd > 0 else float("nan"),
        "in_house_chip_share": (float(model.cum_custom_gw / (model.cum_custom_gw + model.cum_merchant_gw))
                                if model.cum_custom_gw > 0 else 0.0),
        "labs_surviving": len(labs),
        "largest_lab_share": float(max((l.share for l in labs), default=0.0)),
        "lab_hhi_end": hhi_end,
        "lab_hhi_rise": hhi_end - model.initial_hhi,
        "total_debt_busd": float(s["total_debt_busd"][-1]),
        "vendor_finance_losses_busd": float(model.stats.vendor_losses_busd),
        "lender_losses_busd": float(model.stats.lender_losses_busd),
        "n_defaults": n_def,
        "n_cascade_defaults": n_trig,
        "n_acquisitions": len(model.stats.acquisitions),
        "n_moratoria": sum(1 for e in ev if e["kind"] == "moratorium"),
        "final_sentiment": float(s["sentiment"][-1]),
        "final_demand_egw": float(s["demand_egw"][-1]),
    })
    return {k: out[k] for k in OUTCOMES}
