"""The HTML page of a comparison (see :mod:`experiments.analysis.compare`)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures, html
from .compare import (LABEL_HEADERS, OUTCOME_HEADERS, PAIRED_HEADERS, PAIRING_SHARE, Comparison, _batch_lines,
                      label_table_rows, outcome_table_rows, paired_footnotes, paired_table_rows, statements)
from .loading import FAN_VARIABLES, batch_fans

log = logging.getLogger(__name__)


def _methods(comp: Comparison) -> str:
    return f"""<h2>Method</h2><div class="muted">
<p>Each batch is a set of independently seeded worlds; the first batch is the reference. Only successful runs count.</p>
<ul>
<li><b>Label probabilities</b>: share of runs with the label, 95% percentile-bootstrap interval ({comp.n_boot} resamples,
drawn exactly as Binomial(n, share)/n). With no or only events the bootstrap collapses, so the Wilson score interval is
shown instead (Newcombe's hybrid score interval for a difference).</li>
<li><b>Differences vs the reference</b>: independent batches: bootstrap interval of the difference of shares or of
medians from independent resamples, Fisher's exact test (labels) and the two-sample Kolmogorov-Smirnov test
(continuous outcomes; conservative for integer outcomes with ties). Effect sizes: Cliff's delta
(P(batch &gt; reference) - P(batch &lt; reference); |d| &lt; 0.147 negligible, &lt; 0.33 small, &lt; 0.474 medium, else large)
and the Hodges-Lehmann shift (median of all pairwise differences, in the outcome's units).</li>
<li><b>Shared seeds</b>: when at least {PAIRING_SHARE:.0%} of the smaller batch's runs have a partner with the same design
point and seed in the reference (common random numbers), each world is compared with its own counterfactual. Then the
paired tests replace the independent-sample ones as the primary test: exact McNemar for labels (with Newcombe's score
interval for paired proportions) and Wilcoxon signed-rank with Pratt's zero handling for continuous outcomes (with
bootstrap intervals that resample seeds, i.e. pairs, jointly). KS and Cliff's delta are still shown as descriptions of
the two distributions.</li>
<li><b>Many comparisons</b>: the primary tests of this report form one family of {comp.family_size} tests; p-values
are Holm-adjusted (family-wise error rate {comp.alpha}). "Distinguishable from seed noise" means adjusted p &lt;
{comp.alpha}; "within noise" means the data are consistent with no difference at these sample sizes, not that the
difference is zero: read the interval for what it rules out. Intervals are per-comparison 95% intervals (not
adjusted), so an interval that just excludes 0 next to "within noise" is a difference that does not survive the
correction for the number of comparisons.</li>
<li><b>Fan charts</b> show the spread of worlds (median, 25-75% and 10-90% of runs at each month), not the uncertainty
of a statistic.</li>
<li>Bootstrap seed {comp.seed}: the report is reproducible.</li>
</ul></div>"""


def _label_section(comp: Comparison) -> list[str]:
    if not comp.label_rows:
        return []
    shares = pd.DataFrame([{"label": r.label, "batch": comp.names[r.batch], "estimate": r.share.estimate,
                            "low": r.share.low, "high": r.share.high} for r in comp.label_rows])
    diffs = pd.DataFrame([{"label": r.label, "batch": comp.names[r.batch], "estimate": r.diff.estimate,
                           "low": r.diff.low, "high": r.diff.high} for r in comp.label_rows if r.batch > 0])
    out = ["<h2>Labels: how often each outcome occurred</h2>",
           html.figure(figures.interval_dots(shares, "label", "batch", title="Share of runs (95% CI)",
                                             axis_title="share of runs")),
           html.figure(figures.interval_dots(diffs, "label", "batch", zero_line=True, colour_offset=1,
                                             title=f"Difference vs {comp.names[0]} (95% CI)",
                                             axis_title="difference in share of runs"))]
    out.append(html.table(LABEL_HEADERS, label_table_rows(comp)))
    out += [f"<p class='muted'>{html.esc(note)}</p>" for note in paired_footnotes(comp)]
    return out


def _outcome_section(comp: Comparison) -> list[str]:
    if not comp.outcome_rows:
        return []
    samples = {o: {comp.names[i]: b.ok[o].dropna().to_numpy(float) for i, b in enumerate(comp.batches)}
               for o in comp.outcomes}
    return ["<h2>Continuous outcomes</h2>",
            html.figure(figures.distributions(
                samples, title="Distribution across runs (violin with box: median and quartiles)",
                y_titles={o: comp.unit(o) for o in comp.outcomes})),
            html.table(OUTCOME_HEADERS, outcome_table_rows(comp), left_columns=(1,)),
            *[f"<p class='muted'>{html.esc(note)}</p>" for note in paired_footnotes(comp)]]


def _paired_section(comp: Comparison) -> list[str]:
    rows = paired_table_rows(comp)
    if not rows:
        return []
    samples = {f"{o} ({comp.names[i].split()[0]} - {comp.names[0].split()[0]})": d
               for (i, o), d in comp.deltas.items() if np.any(d != 0)}
    units = {f"{o} ({comp.names[i].split()[0]} - {comp.names[0].split()[0]})": comp.unit(o)
             for (i, o) in comp.deltas if comp.unit(o)}
    same = [f"{o} ({comp.names[i].split()[0]})" for (i, o), d in comp.deltas.items() if not np.any(d != 0)]
    out = ["<h2>Paired per-seed deltas (common random numbers)</h2>",
           "<p class='muted'>For each seed and design point run in both batches: value in the batch minus value in the "
           "reference. A spike at 0 means most worlds are unaffected; the spread shows how differently worlds react.</p>",
           html.table(PAIRED_HEADERS, rows, left_columns=(1,))]
    if samples:
        out.append(html.figure(figures.histograms(samples, title="Distribution of per-seed deltas", zero_line=True,
                                                     x_titles=units)))
    if same:
        out.append(f"<p class='muted'>Identical in every shared seed (no histogram): {html.esc(', '.join(same))}</p>")
    return out


def _fan_section(comp: Comparison, fans: dict | None = None) -> list[str]:
    if fans is None:
        fans = {name: batch_fans(batch, FAN_VARIABLES) for name, batch in zip(comp.names, comp.batches)}
    if not any(fans.values()):
        return ["<h2>Market over time</h2><p class='muted'>No market-level time series recorded in these batches.</p>"]
    return ["<h2>Market over time</h2>",
            html.figure(figures.fan_charts(fans, FAN_VARIABLES, title="Median with 25-75% and 10-90% of runs, side by side"))]


def _verdict_section(comp: Comparison) -> list[str]:
    yes, no = statements(comp)
    out = [f"<h2>Verdict</h2><p>{comp.family_size} differences tested against {html.esc(comp.names[0])}, "
           f"Holm-adjusted at a family-wise error rate of {comp.alpha}.</p>"]
    out.append("<h3>Distinguishable from seed noise</h3>")
    out.append("<ul class='verdicts'>" + "".join(f"<li class='yes'>{html.esc(s)}</li>" for s in yes) + "</ul>" if yes
               else "<p>None of the differences is distinguishable from seed noise at these sample sizes.</p>")
    if no:
        out.append(f"<details><summary>Within seed noise ({len(no)})</summary><ul class='verdicts'>"
                   + "".join(f"<li class='no'>{html.esc(s)}</li>" for s in no) + "</ul></details>")
    return out


def compare_report_html(comp: Comparison, fans: dict | None = None) -> str:
    """The complete comparison page; ``fans`` (batch name -> variable -> quantile frame) when already computed."""
    body = [html.table(["batch", "scenario", "directory", "ok runs", "failed", "status", "seeds"], _batch_lines(comp))]
    body += _verdict_section(comp)
    body += _label_section(comp)
    body += _outcome_section(comp)
    body += _paired_section(comp)
    body += _fan_section(comp, fans)
    if comp.not_compared:
        body.append(f"<p class='muted'>Other outcomes, not compared here (ask with --outcomes NAME ... or "
                    f"--outcomes all): {html.esc(', '.join(comp.not_compared))}</p>")
    if comp.not_common:
        body.append(f"<p class='muted'>Not compared (not present in every batch): {html.esc(', '.join(comp.not_common))}</p>")
    body.append(_methods(comp))
    notice = None
    if comp.incomplete:
        notice = (f"Unfinished batch(es) included (--allow-incomplete): {', '.join(comp.incomplete)}. Their shares and "
                  "medians describe only the runs finished so far, which may not be a random subset of the design.")
    title = "Compare: " + " vs ".join(comp.names)
    return html.page(title, body, notice)


def write_compare_report(comp: Comparison, out: Path | str, fans: dict | None = None) -> Path:
    """Write the comparison page to ``out`` (atomically) and return the path."""
    return html.write_atomic(out, compare_report_html(comp, fans))
