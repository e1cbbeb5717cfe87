"""Compare outcome distributions of two or more batches.

The first batch is the reference; every other batch is compared with it:

- per label, the share of runs with a bootstrap interval in each batch and the
  difference against the reference with its interval;
- per continuous outcome, medians with intervals, the difference of medians,
  a two-sample Kolmogorov-Smirnov test, Cliff's delta and the Hodges-Lehmann
  shift;
- when batches share seeds (same design point and seed: common random
  numbers), per-seed deltas, which are tested with paired tests (McNemar,
  Wilcoxon signed-rank); these are then the primary tests, since the runs of
  the two batches are not independent;
- one family of primary tests for the whole comparison, Holm-adjusted, and a
  plain verdict per difference: distinguishable from seed noise or not.

``compare_dirs`` is the entry point: it loads, computes, and writes the HTML
report; ``comparison_text`` renders the terminal table.
"""

from __future__ import annotations

import logging
import math
import os
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import stats, textfmt
from .loading import KEY_OUTCOMES, Batch, BatchError, load_batch

log = logging.getLogger(__name__)

PAIRING_SHARE = 0.5
"""Paired tests become the primary ones when at least this share of the smaller
batch's successful runs has a partner (same ``point`` and ``seed``) in the other."""
PAIR_KEYS = ("point", "seed")


@dataclass
class Pairing:
    """How a batch's runs match the reference's runs seed by seed."""

    n_pairs: int
    n_reference: int
    n_batch: int

    @property
    def used(self) -> bool:
        """Paired analysis is primary when enough runs match."""
        smaller = min(self.n_reference, self.n_batch)
        return smaller > 0 and self.n_pairs >= PAIRING_SHARE * smaller


@dataclass
class LabelRow:
    """One label in one batch, and its difference against the reference."""

    label: str
    batch: int
    n: int
    events: int
    share: stats.Interval
    diff: stats.Interval | None = None
    test: stats.TestResult | None = None
    paired: stats.PairedSummary | None = None
    min_detectable: float = math.nan
    p_adjusted: float = math.nan


@dataclass
class OutcomeRow:
    """One continuous outcome in one batch, and its comparison with the reference."""

    outcome: str
    batch: int
    n: int
    median: stats.Interval
    p10: float
    p90: float
    diff_median: stats.Interval | None = None
    ks: stats.TestResult | None = None
    cliffs_delta: float = math.nan
    hl_shift: float = math.nan
    paired: stats.PairedSummary | None = None
    test: stats.TestResult | None = None
    p_adjusted: float = math.nan


@dataclass
class Comparison:
    """Everything a compare report shows, computed from the batches' run tables."""

    batches: list[Batch]
    names: list[str]
    labels: list[str]
    outcomes: list[str]
    not_common: list[str]
    """Outcomes present in some batches only."""
    not_compared: list[str]
    """Common outcomes left out of the comparison (ask for them with ``outcomes``)."""
    label_rows: list[LabelRow]
    outcome_rows: list[OutcomeRow]
    pairings: dict[int, Pairing]
    deltas: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)
    alpha: float = stats.ALPHA
    conf: float = stats.CONF_LEVEL
    n_boot: int = stats.N_BOOT
    seed: int = stats.SEED

    @property
    def family_size(self) -> int:
        """Number of tests in the Holm family."""
        rows = [r for r in [*self.label_rows, *self.outcome_rows] if r.batch > 0]
        return sum(1 for r in rows if r.test is not None and not math.isnan(r.test.p_value))

    @property
    def incomplete(self) -> list[str]:
        return [self.names[i] for i, b in enumerate(self.batches) if not b.complete]

    def unit(self, name: str) -> str:
        """An outcome's unit as recorded with the reference's results, else with the first batch that records one
        ("" when none does; :func:`comparison_warnings` says when batches record different units)."""
        return next((b.unit(name) for b in self.batches if b.unit(name)), "")


# --------------------------------------------------------------------------- loading


def batch_names(batches: Sequence[Batch]) -> list[str]:
    """Display names ``A baseline``, ``B forward_bet``, ...: the batch name, or the
    directory name when batch names repeat; the letter keeps any remaining duplicates apart."""
    letters = string.ascii_uppercase
    names = [b.name for b in batches]
    if len(set(names)) < len(names):
        names = [b.path.name or b.name for b in batches]
    return [f"{letters[i % 26]}{'' if i < 26 else i // 26} {n}" for i, n in enumerate(names)]


def load_batches(dirs: Sequence[Path | str], allow_incomplete: bool = False) -> list[Batch]:
    """Load each results directory; :class:`BatchError` names the first bad one."""
    if len(dirs) < 2:
        raise BatchError(dirs[0] if dirs else ".", "compare needs at least two batch directories")
    return [load_batch(d, allow_incomplete=allow_incomplete) for d in dirs]


def common_columns(batches: Sequence[Batch]) -> tuple[list[str], list[str], list[str]]:
    """Labels and continuous outcomes present in every batch (reference order, key
    outcomes first), plus those present in some batches only. :class:`BatchError` if none is common."""
    ref = batches[0]
    labels, outcomes = list(ref.labels), list(ref.outcomes)
    everything = set(ref.labels) | set(ref.outcomes)
    for b in batches[1:]:
        everything |= set(b.labels) | set(b.outcomes)
        labels = [c for c in labels if c in b.labels]
        outcomes = [c for c in outcomes if c in b.outcomes]
        if not labels and not outcomes:
            mine = ", ".join((b.labels + b.outcomes)[:6]) or "none"
            raise BatchError(b.path, f"no outcome in common with {ref.path} (this batch has: {mine})")
    not_common = sorted(everything - set(labels) - set(outcomes))
    return labels, outcomes, not_common


# --------------------------------------------------------------------------- statistics


def _seed(base: int, *keys: int) -> np.random.Generator:
    """A generator for one quantity: reproducible and independent of the others."""
    return np.random.default_rng([base, *keys])


def _label_rows(batches, labels, pairings, conf, n_boot, seed) -> list[LabelRow]:
    """Rows for every (label, batch): share with its interval and, against the reference, the difference."""
    rows: list[LabelRow] = []
    ref = batches[0].ok
    for j, label in enumerate(labels):
        x_ref = ref[label].dropna().astype(bool).to_numpy()
        for i, batch in enumerate(batches):
            x = batch.ok[label].dropna().astype(bool).to_numpy()
            row = LabelRow(label, i, int(x.size), int(x.sum()),
                           stats.proportion_interval(x, conf, n_boot, _seed(seed, i, j, 0)))
            if i > 0:
                pairing = pairings[i]
                if pairing.used:
                    pairs = stats.paired_deltas(ref, batch.ok, label, PAIR_KEYS)
                    row.paired = stats.summarise_paired(pairs, binary=True, conf=conf, n_boot=n_boot,
                                                        seed=_seed(seed, i, j, 1))
                    row.diff, row.test = row.paired.mean, row.paired.test
                else:
                    row.diff = stats.difference_of_proportions(x_ref, x, conf, n_boot, _seed(seed, i, j, 1))
                    row.test = stats.fisher_test(x_ref, x)
                pooled = (x_ref.sum() + x.sum()) / max(1, x_ref.size + x.size)
                row.min_detectable = stats.min_detectable_difference(pooled, x_ref.size, x.size)
            rows.append(row)
    return rows


def _threads() -> int:
    """Worker threads for the bootstrap (numpy's partition and generators release the GIL)."""
    return max(1, min(4, os.cpu_count() or 1))


def _outcome_base(batch: Batch, i: int, j: int, outcome: str, conf, n_boot, seed) -> tuple[OutcomeRow, np.ndarray]:
    """An outcome's row in one batch (median with interval, P10, P90) and its median draws."""
    x = batch.ok[outcome].dropna().to_numpy(float)
    draws = stats.bootstrap_median_draws(x, n_boot, _seed(seed, i, j, 0))
    p10, p90 = stats.quantiles(x, (0.1, 0.9))
    median = stats.interval_from_draws(float(np.median(x)) if x.size else math.nan, draws, conf)
    return OutcomeRow(outcome, i, int(x.size), median, float(p10), float(p90)), draws


def _outcome_versus(row: OutcomeRow, draws: np.ndarray, ref_draws: np.ndarray, ref: pd.DataFrame, batch: Batch,
                    j: int, pairing: Pairing, conf, n_boot, seed) -> np.ndarray | None:
    """Fill in ``row``'s comparison with the reference; return the per-seed deltas if paired."""
    i, outcome = row.batch, row.outcome
    x_ref = ref[outcome].dropna().to_numpy(float)
    x = batch.ok[outcome].dropna().to_numpy(float)
    row.ks = stats.ks_test(x_ref, x)
    row.cliffs_delta = stats.cliffs_delta(x_ref, x)
    row.hl_shift = stats.hodges_lehmann_shift(x_ref, x, seed=_seed(seed, i, j, 2))
    if pairing.used:
        pairs = stats.paired_deltas(ref, batch.ok, outcome, PAIR_KEYS)
        row.paired = stats.summarise_paired(pairs, binary=False, conf=conf, n_boot=n_boot, seed=_seed(seed, i, j, 1))
        row.diff_median = stats.paired_difference_of_medians(pairs["a"], pairs["b"], conf, n_boot, _seed(seed, i, j, 3))
        row.test = row.paired.test
        return pairs["delta"].to_numpy()
    est = float(np.median(x) - np.median(x_ref)) if x.size and x_ref.size else math.nan
    row.diff_median = stats.interval_from_draws(est, draws - ref_draws, conf)
    row.test = row.ks
    return None


def _outcome_rows(batches, outcomes, pairings, conf, n_boot, seed, deltas) -> list[OutcomeRow]:
    """Rows for every (outcome, batch), computed in threads; results do not depend on scheduling
    because every quantity has its own seeded generator."""
    from concurrent.futures import ThreadPoolExecutor

    ref = batches[0].ok
    keys = [(j, outcome, i) for j, outcome in enumerate(outcomes, start=1000) for i in range(len(batches))]
    with ThreadPoolExecutor(_threads()) as pool:
        base = dict(zip(keys, pool.map(lambda k: _outcome_base(batches[k[2]], k[2], k[0], k[1], conf, n_boot, seed),
                                       keys)))
        versus = [k for k in keys if k[2] > 0]
        results = pool.map(lambda k: _outcome_versus(base[k][0], base[k][1], base[(k[0], k[1], 0)][1], ref,
                                                     batches[k[2]], k[0], pairings[k[2]], conf, n_boot, seed), versus)
        for (j, outcome, i), delta in zip(versus, results):
            if delta is not None:
                deltas[(i, outcome)] = delta
    return [base[k][0] for k in keys]


def choose_outcomes(batches: Sequence[Batch], common: list[str], wanted: Sequence[str] | None) -> list[str]:
    """The continuous outcomes to compare (they form the test family with the labels).

    ``None``: the key outcomes present in every batch (all common ones if none
    is a key outcome); ``["all"]``: every common outcome; otherwise the names
    given, each of which must be common (:class:`BatchError` names a batch lacking it).
    """
    if wanted is None:
        keys = [o for o in common if o in KEY_OUTCOMES]
        return keys or list(common)
    if list(wanted) == ["all"]:
        return list(common)
    for name in wanted:
        if name not in common:
            lacking = next((b for b in batches if name not in b.outcomes), batches[0])
            have = ", ".join(lacking.outcomes[:8]) + (", ..." if len(lacking.outcomes) > 8 else "")
            raise BatchError(lacking.path, f"no continuous outcome {name!r} (it has: {have or 'none'})")
    return list(dict.fromkeys(wanted))


def compare_batches(batches: Sequence[Batch], *, outcomes: Sequence[str] | None = None,
                    conf: float = stats.CONF_LEVEL, n_boot: int = stats.N_BOOT,
                    seed: int = stats.SEED, alpha: float = stats.ALPHA) -> Comparison:
    """Compare every batch with the first one (see the module docstring for the methods).

    Every common label is compared; ``outcomes`` chooses the continuous
    outcomes (see :func:`choose_outcomes`). Those comparisons form the Holm family.
    """
    batches = list(batches)
    labels, common, not_common = common_columns(batches)
    outcomes = choose_outcomes(batches, common, outcomes)
    not_compared = [o for o in common if o not in outcomes]
    ref = batches[0].ok
    pairings = {i: Pairing(stats.count_shared_pairs(ref, b.ok, PAIR_KEYS), len(ref), len(b.ok))
                for i, b in enumerate(batches) if i > 0}
    for i, p in pairings.items():
        log.info("batch %d shares %d (point, seed) pairs with the reference; paired analysis %s",
                 i, p.n_pairs, "used" if p.used else "not used")
    deltas: dict[tuple[int, str], np.ndarray] = {}
    label_rows = _label_rows(batches, labels, pairings, conf, n_boot, seed)
    outcome_rows = _outcome_rows(batches, outcomes, pairings, conf, n_boot, seed, deltas)
    tested = [r for r in [*label_rows, *outcome_rows] if r.batch > 0 and r.test is not None]
    adjusted = stats.holm_adjust([r.test.p_value for r in tested])
    for r, p in zip(tested, adjusted):
        r.p_adjusted = float(p)
    return Comparison(batches=batches, names=batch_names(batches), labels=labels, outcomes=outcomes,
                      not_common=not_common, not_compared=not_compared, label_rows=label_rows, outcome_rows=outcome_rows,
                      pairings=pairings, deltas=deltas, alpha=alpha, conf=conf, n_boot=n_boot, seed=seed)


# --------------------------------------------------------------------------- plain statements


def _points(x: float) -> str:
    """A difference of shares in percentage points."""
    return "n/a" if math.isnan(x) else f"{x * 100:+.1f}"


def label_statement(comp: Comparison, row: LabelRow) -> str:
    """One sentence: the change of a label's probability and whether it is noise."""
    ref = next(r for r in comp.label_rows if r.label == row.label and r.batch == 0)
    d = row.diff
    where = (f"{row.label}: {textfmt.pct(row.share.estimate)} in {comp.names[row.batch]} vs "
             f"{textfmt.pct(ref.share.estimate)} in {comp.names[0]}, {_points(d.estimate)} points "
             f"(95% CI {_points(d.low)} to {_points(d.high)}")
    paired = f", paired on {row.paired.n_pairs} shared seeds" if row.paired else ""
    p = f"Holm-adjusted p {textfmt.p_value(row.p_adjusted)}, {row.test.method}"
    if stats.is_distinguishable(row.p_adjusted, comp.alpha):
        return f"{where}{paired}): distinguishable from seed noise ({p})."
    tail = ""
    if not row.paired and not math.isnan(row.min_detectable):
        tail = (f"; at n = {ref.n}/{row.n} only differences of about {row.min_detectable * 100:.1f} points or more "
                "would have been detected reliably (80% power)")
    return f"{where}{paired}): not distinguishable from seed noise ({p}){tail}."


def outcome_statement(comp: Comparison, row: OutcomeRow) -> str:
    """One sentence: the shift of an outcome's distribution and whether it is noise."""
    ref = next(r for r in comp.outcome_rows if r.outcome == row.outcome and r.batch == 0)
    d = row.diff_median
    unit = textfmt.short_unit(comp.unit(row.outcome))
    unit = f" ({unit})" if unit else ""
    text = (f"{row.outcome}{unit}: median {textfmt.num(row.median.estimate)} in {comp.names[row.batch]} vs "
            f"{textfmt.num(ref.median.estimate)} in {comp.names[0]} (difference {textfmt.signed(d.estimate)}, "
            f"95% CI {textfmt.signed(d.low)} to {textfmt.signed(d.high)}); Cliff's delta "
            f"{row.cliffs_delta:+.2f} ({stats.describe_cliffs_delta(row.cliffs_delta)})")
    if row.paired:
        text += (f"; per seed {comp.names[row.batch].split()[0]} is higher in {textfmt.pct(row.paired.share_up, 0)}"
                 f" and lower in {textfmt.pct(row.paired.share_down, 0)} of {row.paired.n_pairs} shared seeds")
    p = f"Holm-adjusted p {textfmt.p_value(row.p_adjusted)}, {row.test.method}"
    if stats.is_distinguishable(row.p_adjusted, comp.alpha):
        return f"{text}: distinguishable from seed noise ({p})."
    return f"{text}: not distinguishable from seed noise ({p})."


def statements(comp: Comparison) -> tuple[list[str], list[str]]:
    """Plain sentences, split into (distinguishable, not distinguishable)."""
    yes, no = [], []
    for row in comp.label_rows:
        if row.batch > 0 and row.test is not None:
            (yes if stats.is_distinguishable(row.p_adjusted, comp.alpha) else no).append(label_statement(comp, row))
    for row in comp.outcome_rows:
        if row.batch > 0 and row.test is not None:
            (yes if stats.is_distinguishable(row.p_adjusted, comp.alpha) else no).append(outcome_statement(comp, row))
    return yes, no


# --------------------------------------------------------------------------- terminal table


def _within_noise_names(comp: Comparison) -> list[str]:
    """``name (B, C)`` for each label/outcome whose difference is within noise in some batches."""
    names: dict[str, list[str]] = {}
    for row in [*comp.label_rows, *comp.outcome_rows]:
        if row.batch > 0 and row.test is not None and not stats.is_distinguishable(row.p_adjusted, comp.alpha):
            key = row.label if isinstance(row, LabelRow) else row.outcome
            names.setdefault(key, []).append(comp.names[row.batch].split()[0])
    return [f"{k} ({', '.join(v)})" for k, v in names.items()]


def _batch_lines(comp: Comparison) -> list[list[str]]:
    rows = []
    for i, (b, name) in enumerate(zip(comp.batches, comp.names)):
        pairing = comp.pairings.get(i)
        note = "reference" if i == 0 else (
            f"paired with {comp.names[0].split()[0]} on {pairing.n_pairs} seeds" if pairing.used
            else (f"{pairing.n_pairs} shared seeds (too few to pair)" if pairing.n_pairs else "independent seeds"))
        status = "complete" if b.complete else "UNFINISHED"
        rows.append([name, b.scenario, str(b.path), f"{len(b.ok)}", f"{b.n_failed}", status, note])
    return rows


PAIRED_MARK = " *"
"""Marks a diff computed over the paired seeds only, when they are not all the runs of both batches."""


def _partly_paired(comp: Comparison, batch: int) -> bool:
    """True when batch ``batch``'s diffs are paired but over fewer seeds than one of the two batches has runs:
    then the diff is not the difference of the shares/medians printed beside it."""
    p = comp.pairings.get(batch)
    return bool(p and p.used and (p.n_pairs != p.n_reference or p.n_pairs != p.n_batch))


def paired_footnotes(comp: Comparison) -> list[str]:
    """One footnote per partly paired batch (see :func:`_partly_paired`)."""
    out = []
    for i, p in sorted(comp.pairings.items()):
        if _partly_paired(comp, i):
            out.append(f"{PAIRED_MARK.strip()} {comp.names[i].split()[0]}: diff over the {p.n_pairs} paired seeds "
                       f"only ({comp.names[0].split()[0]} has {p.n_reference} runs, {comp.names[i].split()[0]} "
                       f"{p.n_batch}); the shares and medians beside it are over all runs of each batch")
    return out


def label_table_rows(comp: Comparison) -> list[list[str]]:
    rows = []
    for r in comp.label_rows:
        cells = [r.label if r.batch == 0 else "", comp.names[r.batch], f"{r.events}/{r.n}",
                 textfmt.pct(r.share.estimate), textfmt.interval(r.share.low, r.share.high, textfmt.pct)]
        if r.batch == 0:
            cells += ["", "", "", ""]
        else:
            mark = PAIRED_MARK if r.paired and _partly_paired(comp, r.batch) else ""
            cells += [_points(r.diff.estimate) + mark, f"[{_points(r.diff.low)}, {_points(r.diff.high)}]",
                      textfmt.p_value(r.p_adjusted), stats.verdict(r.p_adjusted, comp.alpha)]
        rows.append(cells)
    return rows


LABEL_HEADERS = ["label", "batch", "runs", "P", "95% CI", "diff (pts)", "95% CI (pts)", "p Holm", "verdict"]
OUTCOME_HEADERS = ["outcome", "unit", "batch", "median", "95% CI", "P10", "P90", "diff median", "95% CI",
                   "KS D", "Cliff d", "p Holm", "verdict"]
PAIRED_HEADERS = ["outcome", "unit", "batch", "pairs", "mean delta", "95% CI", "median delta", "up / down / same",
                  "test", "p Holm"]


def outcome_table_rows(comp: Comparison) -> list[list[str]]:
    rows = []
    for r in comp.outcome_rows:
        cells = [r.outcome if r.batch == 0 else "", textfmt.short_unit(comp.unit(r.outcome)) if r.batch == 0 else "",
                 comp.names[r.batch], textfmt.num(r.median.estimate),
                 textfmt.interval(r.median.low, r.median.high), textfmt.num(r.p10), textfmt.num(r.p90)]
        if r.batch == 0:
            cells += ["", "", "", "", "", ""]
        else:
            d = r.diff_median
            mark = PAIRED_MARK if r.paired and _partly_paired(comp, r.batch) else ""
            cells += [textfmt.signed(d.estimate) + mark, textfmt.interval(d.low, d.high, textfmt.signed),
                      f"{r.ks.statistic:.3f}", f"{r.cliffs_delta:+.3f}", textfmt.p_value(r.p_adjusted),
                      stats.verdict(r.p_adjusted, comp.alpha)]
        rows.append(cells)
    return rows


def paired_table_rows(comp: Comparison) -> list[list[str]]:
    rows = []
    for r in [*comp.label_rows, *comp.outcome_rows]:
        if r.batch == 0 or r.paired is None:
            continue
        name = r.label if isinstance(r, LabelRow) else r.outcome
        fmt = (lambda v: _points(v)) if isinstance(r, LabelRow) else textfmt.signed
        unit = "pts" if isinstance(r, LabelRow) else textfmt.short_unit(comp.unit(name))
        pr = r.paired
        rows.append([name, unit, comp.names[r.batch], str(pr.n_pairs), fmt(pr.mean.estimate),
                     f"[{fmt(pr.mean.low)}, {fmt(pr.mean.high)}]",
                     fmt(pr.median),
                     f"{textfmt.pct(pr.share_up, 0)} / {textfmt.pct(pr.share_down, 0)} / {textfmt.pct(pr.share_same, 0)}",
                     pr.test.method, textfmt.p_value(r.p_adjusted)])
    return rows


def comparison_text(comp: Comparison, report_path: Path | None = None) -> str:
    """The terminal table: batches, labels, outcomes, paired deltas, verdicts."""
    out = [f"Comparing {len(comp.batches)} batches against {comp.names[0]}", ""]
    out.append(textfmt.text_table(["batch", "scenario", "directory", "ok runs", "failed", "status", "seeds"],
                                  _batch_lines(comp), align="lllrrll"))
    if comp.incomplete:
        out += ["", f"WARNING: unfinished batch(es) compared: {', '.join(comp.incomplete)} "
                    "(shares and medians describe the finished runs only)"]
    if comp.label_rows:
        out += ["", "Labels: share of runs (bootstrap 95% CI) and difference vs the reference in percentage points"]
        out.append(textfmt.text_table(LABEL_HEADERS, label_table_rows(comp), align="llrrrrrrl"))
        out += paired_footnotes(comp)
    if comp.outcome_rows:
        out += ["", "Outcomes: median (bootstrap 95% CI), P10/P90, difference of medians vs the reference, in the "
                "outcome's unit"]
        out.append(textfmt.text_table(OUTCOME_HEADERS, outcome_table_rows(comp), align="lllrrrrrrrrrl"))
        out += paired_footnotes(comp)
    paired = paired_table_rows(comp)
    if paired:
        out += ["", "Paired per-seed deltas (batch minus reference on the same point and seed; labels in "
                    "percentage points)"]
        out.append(textfmt.text_table(PAIRED_HEADERS, paired, align="lllrrrrrlr"))
    yes, no = statements(comp)
    out += ["", f"Verdict ({comp.family_size} tests, Holm-adjusted at alpha = {comp.alpha}):"]
    out += [f"  * {s}" for s in yes] or ["  No difference is distinguishable from seed noise."]
    quiet = _within_noise_names(comp)
    if quiet:
        out.append("  Within seed noise (see the tables for what the intervals rule out): " + "; ".join(quiet))
    if comp.not_compared:
        out += ["", f"Other outcomes (compare them with --outcomes NAME ... or --outcomes all): "
                    f"{', '.join(comp.not_compared)}"]
    if comp.not_common:
        out += ["", f"Not compared (not in every batch): {', '.join(comp.not_common)}"]
    if report_path is not None:
        out += ["", f"report: {report_path}"]
    return "\n".join(out) + "\n"


def comparison_warnings(batches: Sequence[Batch]) -> list[str]:
    """One-line warnings about batches that are not like for like: a folder given twice, a batch with
    another start date or horizon than the reference (totals and counts over the horizon then differ), or one
    that records an outcome in another unit."""
    out = []
    seen: dict[Path, Path] = {}
    for b in batches:
        key = b.path.resolve()
        if key in seen:
            also = f" (also as {seen[key]})" if str(seen[key]) != str(b.path) else ""
            out.append(f"{b.path} is given twice{also}: it is compared with itself, so its differences are zero "
                       "by construction")
        seen.setdefault(key, b.path)

    def horizon(b: Batch) -> tuple[Any, Any]:
        meta = (b.manifest.get("config") or {}).get("meta") or {}
        return meta.get("start"), meta.get("months")

    ref_start, ref_months = horizon(batches[0])
    for b in batches[1:]:
        start, months = horizon(b)
        if None in (start, months, ref_start, ref_months) or (start, months) == (ref_start, ref_months):
            continue
        out.append(f"{b.path} runs {months} months from {start}, the reference {batches[0].path} {ref_months} "
                   f"months from {ref_start}: outcomes counted or summed over the horizon are not like for like")
    for b in batches[1:]:   # units recorded in both that differ (results of another code version)
        other = sorted(o for o, u in b.units.items() if batches[0].units.get(o, u) != u)
        if other:
            o = other[0]
            out.append(f"{b.path} records {o} in {b.units[o]!r}, the reference {batches[0].path} in "
                       f"{batches[0].units[o]!r}" + (f" (and {len(other) - 1} more outcomes)" if len(other) > 1 else "")
                       + ": compare like with like")
    return out


# --------------------------------------------------------------------------- entry point


def default_report_path(batches: Sequence[Batch]) -> Path:
    """``results/compare_<a>_vs_<b>.html`` next to the first batch's directory."""
    names = "_vs_".join(b.path.name for b in batches[:4]) + ("_etc" if len(batches) > 4 else "")
    return batches[0].path.parent / f"compare_{names}.html"


def compare_dirs(dirs: Sequence[Path | str], out: Path | str | None = None, *, allow_incomplete: bool = False,
                 outcomes: Sequence[str] | None = None, n_boot: int = stats.N_BOOT, seed: int = stats.SEED,
                 alpha: float = stats.ALPHA) -> tuple[Comparison, Path]:
    """Load the batches, compare them with the first, write the HTML report.

    Returns the comparison and the report's path. Raises :class:`BatchError`
    (one line, naming the directory) on bad input. The fan-chart quantiles
    (reading the time series) are computed in background threads while the
    statistics run: both spend their time in pyarrow and numpy, outside the GIL.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .compare_report import write_compare_report
    from .loading import FAN_VARIABLES, batch_fans

    batches = load_batches(dirs, allow_incomplete=allow_incomplete)
    common_columns(batches)  # fail fast, before any reading starts
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(batch_fans, b, FAN_VARIABLES) for b in batches]
        comp = compare_batches(batches, outcomes=outcomes, n_boot=n_boot, seed=seed, alpha=alpha)
        fans = {name: job.result() for name, job in zip(comp.names, pending)}
    path = write_compare_report(comp, Path(out) if out is not None else default_report_path(batches), fans=fans)
    return comp, path
