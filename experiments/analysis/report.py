"""A batch's own report: ``results/<name>/report.html``.

Label frequencies with intervals, distributions of the key outcomes (each with
its unit as recorded in runs.parquet) and fan charts of the market-level
series; self-contained (plotly.js embedded) so it opens offline.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from . import figures, html, stats, textfmt
from .loading import FAN_VARIABLES, KEY_OUTCOMES, Batch, batch_fans, load_batch
from .summary import label_rows, outcome_rows

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"


def _header(batch: Batch) -> str:
    m = batch.manifest
    rows = [
        ["scenario", batch.scenario],
        ["runs", f"{len(batch.runs)} recorded ({len(batch.ok)} ok, {batch.n_failed} failed)"
                 + (f" of {batch.n_planned} planned" if batch.n_planned else "")],
        ["complete", "yes" if batch.complete else "NO (unfinished batch)"],
        ["varied parameters", ", ".join(m.get("parameters") or []) or "none (replications only)"],
        ["batch seed", m.get("batch_seed", "?")],
        ["code version", m.get("code_version", "?")],
        ["backend / workers", f"{m.get('backend', '?')} / {m.get('workers', '?')}"],
        ["started / finished", f"{m.get('started', '?')} / {m.get('finished', '?')}"],
        ["directory", str(batch.path)],
    ]
    return html.key_values(rows)


def _failures(batch: Batch) -> str:
    if batch.n_failed == 0 or "error" not in batch.runs.columns:
        return ""
    failed = batch.runs[batch.runs["status"] != "ok"]
    top = failed["error"].astype(str).str.split("\n").str[0].value_counts().head(5)
    return "<h2>Failed runs</h2>" + html.table(["first line of error", "runs"], [[e, n] for e, n in top.items()])


METHODS = (
    "<h2>Method</h2><p class='muted'>Shares of runs in which a label occurred, with 95% Wilson score intervals "
    "(successful runs only; a run is one seeded world). Medians of outcomes with 95% percentile-bootstrap intervals "
    f"({stats.N_BOOT} resamples, seed {stats.SEED}). Fan charts: at each recorded month, the median and the 25-75% "
    "and 10-90% ranges across runs (not confidence intervals: they show how much worlds differ).</p>"
)


def batch_report_html(batch: Batch) -> str:
    """The report page of an already loaded batch."""
    body = [_header(batch)]
    labels = label_rows(batch)
    if len(labels):
        tbl = labels.rename(columns={"share": "estimate"}).assign(batch=batch.name)
        body.append("<h2>How often each label occurred</h2>")
        body.append(html.figure(figures.interval_dots(tbl, "label", "batch", title="Share of runs (95% Wilson interval)",
                                                      axis_title="share of runs")))
        body.append(html.table(["label", "occurred", "share", "95% CI"],
                               [[r.label, f"{r.events}/{r.n}", textfmt.pct(r.share), textfmt.interval(r.low, r.high, textfmt.pct)]
                                for r in labels.itertuples()]))
    outcomes = outcome_rows(batch, batch.outcomes)
    if len(outcomes):
        ok = batch.ok
        body.append("<h2>Outcomes</h2>")
        rows = []
        for r in outcomes.itertuples():
            med = stats.median_interval(ok[r.outcome])
            rows.append([r.outcome, batch.unit(r.outcome), r.n, textfmt.num(r.median),
                         textfmt.interval(med.low, med.high), textfmt.num(r.p10), textfmt.num(r.p90)])
        body.append(html.table(["outcome", "unit", "runs", "median", "95% CI of median", "P10", "P90"], rows,
                               left_columns=(1,)))
        shown = [o for o in KEY_OUTCOMES if o in batch.outcomes] or batch.outcomes
        samples = {o: ok[o].dropna().to_numpy(float) for o in shown}
        constant = [o for o, v in samples.items() if v.size and np.ptp(v) == 0]
        samples = {o: v for o, v in samples.items() if v.size and o not in constant}
        if samples:
            units = {o: batch.unit(o) for o in samples if batch.unit(o)}
            body.append(html.figure(figures.histograms(samples, title="Distribution across runs (key outcomes)",
                                                       x_titles=units)))
        if constant:
            same = ", ".join(f"{o} = {textfmt.num(float(ok[o].dropna().iloc[0]))} {batch.unit(o)}".rstrip()
                             for o in constant)
            body.append(f"<p class='muted'>The same in every run (no histogram): {html.esc(same)}</p>")
    fans = batch_fans(batch, FAN_VARIABLES)
    if fans:
        body.append("<h2>Market over time</h2>")
        body.append(html.figure(figures.fan_charts({batch.name: fans}, FAN_VARIABLES,
                                                   title="Median with 25-75% and 10-90% ranges across runs")))
    else:
        body.append("<h2>Market over time</h2><p class='muted'>No market-level time series recorded.</p>")
    body.append(_failures(batch))
    body.append(METHODS)
    notice = None if batch.complete else (
        f"This batch is unfinished: {len(batch.runs)} of {batch.n_planned or '?'} planned runs are recorded. "
        "Shares and quantiles describe the finished runs only.")
    return html.page(f"Batch {batch.name}", body, notice)


def write_batch_report(result_dir: Path | str, out_path: Path | str | None = None) -> Path:
    """Write the batch's HTML report (default ``<result_dir>/report.html``) and return its path.

    Works on finished and unfinished batches (an unfinished one is flagged in
    the page). Raises :class:`loading.BatchError` if the directory is not a batch.
    """
    batch = load_batch(result_dir, allow_incomplete=True)
    out = Path(out_path) if out_path is not None else Path(result_dir) / REPORT_NAME
    return html.write_atomic(out, batch_report_html(batch))
