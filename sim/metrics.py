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
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

LABELS = ["label_glut", "label_scarcity", "label_cascade", "label_consolidation"]
OUTCOMES = LABELS + [
    "peak_spot_price", "trough_spot_price", "peak_usd_gpu_hour", "trough_usd_gpu_hour", "final_spot_price",
    "months_glut", "months_scarcity", "mean_utilisation", "cumulative_capex_busd", "gw_operational_end",
    "gw_operational_start", "stranded_gw", "liquidated_gw", "announced_to_construction_ratio",
    "chipmaker_revenue_busd", "chipmaker_margin", "in_house_chip_share", "labs_surviving", "largest_lab_share", "lab_hhi_end",
    "lab_hhi_rise", "total_debt_busd", "vendor_finance_losses_busd", "lender_losses_busd", "n_defaults",
    "n_cascade_defaults", "n_acquisitions", "n_moratoria", "final_sentiment", "final_demand_egw",
]
KEY_OUTCOMES = ["peak_spot_price", "trough_spot_price", "months_glut", "months_scarcity", "gw_operational_end",
                "cumulative_capex_busd", "stranded_gw", "labs_surviving", "n_defaults", "n_acquisitions",
                "largest_lab_share"]


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
    """Every outcome of DESIGN.md 4 for a model that has run (pure over its series, events and stats)."""
    s, ev, th = model.series, model.event_log, model.cfg.labels
    out: dict[str, Any] = dict(compute_labels(s, ev, th, model.initial_hhi))
    if not s:
        return {k: out.get(k, float("nan")) for k in OUTCOMES}
    price = np.asarray(s["spot_price"])
    gpu_h = np.asarray(s["spot_price_usd_gpu_hour"])
    n_def, n_trig = cascade_count(ev)
    labs = model.alive_labs()
    constructed = sum(e["gw"] for e in ev if e["kind"] == "construction_start")
    chip = model.chipmaker
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
        "lab_hhi_end": end_concentration(s["lab_hhi"]),
        "lab_hhi_rise": end_concentration(s["lab_hhi"]) - model.initial_hhi,
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
