"""Terminal summary of one batch: label frequencies and key outcome quantiles."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import stats, textfmt
from .loading import KEY_OUTCOMES, Batch, load_batch


def label_rows(batch: Batch, conf: float = stats.CONF_LEVEL) -> pd.DataFrame:
    """Per label: runs, events, share and its Wilson interval (successful runs only)."""
    ok = batch.ok
    rows = []
    for label in batch.labels:
        x = ok[label].dropna().astype(bool)
        iv = stats.wilson_interval(int(x.sum()), int(x.size), conf)
        rows.append({"label": label, "n": int(x.size), "events": int(x.sum()),
                     "share": iv.estimate, "low": iv.low, "high": iv.high})
    return pd.DataFrame(rows, columns=["label", "n", "events", "share", "low", "high"])


def outcome_rows(batch: Batch, outcomes: list[str] | None = None) -> pd.DataFrame:
    """Per outcome: runs with a value, median, 10th and 90th percentile."""
    ok = batch.ok
    names = outcomes if outcomes is not None else [o for o in KEY_OUTCOMES if o in batch.outcomes]
    rows = []
    for name in names:
        p10, p50, p90 = stats.quantiles(ok[name], (0.1, 0.5, 0.9))
        rows.append({"outcome": name, "n": int(ok[name].notna().sum()), "median": p50, "p10": p10, "p90": p90})
    return pd.DataFrame(rows, columns=["outcome", "n", "median", "p10", "p90"])


def summary_text(batch: Batch) -> str:
    """The summary table of an already loaded batch."""
    n_ok = len(batch.ok)
    head = f"batch {batch.name} (scenario {batch.scenario}): {len(batch.runs)} runs, {n_ok} ok, {batch.n_failed} failed"
    if not batch.complete:
        head += f"  [UNFINISHED: {len(batch.runs)} of {batch.n_planned or '?'} planned runs]"
    parts = [head, ""]
    labels = label_rows(batch)
    if len(labels):
        parts.append(textfmt.text_table(
            ["label", "occurred", "share", "95% CI (Wilson)"],
            [[r.label, f"{r.events}/{r.n}", textfmt.pct(r.share), textfmt.interval(r.low, r.high, textfmt.pct)]
             for r in labels.itertuples()]))
        parts.append("")
    outcomes = outcome_rows(batch)
    if len(outcomes) == 0 and batch.outcomes:  # no key outcome present: show what there is
        outcomes = outcome_rows(batch, batch.outcomes)
    if len(outcomes):
        parts.append(textfmt.text_table(
            ["outcome", "unit", "median", "P10", "P90"],
            [[r.outcome, textfmt.short_unit(batch.unit(r.outcome)), textfmt.num(r.median), textfmt.num(r.p10),
              textfmt.num(r.p90)] for r in outcomes.itertuples()], align="llrrr"))
    return "\n".join(parts).rstrip() + "\n"


def summary_table(result_dir: Path | str, *, allow_incomplete: bool = True) -> str:
    """Terminal table for a results directory: how often each label occurred
    (share with a 95% Wilson interval) and median / P10 / P90 of the key outcomes
    present, each with its unit (as recorded in runs.parquet, abbreviated by ``textfmt.short_unit``).
    Unfinished batches are summarised by default and marked as such."""
    return summary_text(load_batch(result_dir, allow_incomplete=allow_incomplete))
