"""Statistics for comparing batches of simulated worlds.

Pure functions over numpy arrays and pandas frames: no I/O, no model. Every
random procedure takes an explicit ``seed`` so a report is reproducible.

Methods, in the words a report states them:

- **Proportions** (how often a label occurred): percentile bootstrap of the
  share of runs. Resampling ``n`` Bernoulli outcomes with replacement is the
  same as drawing ``Binomial(n, p_hat)``, so the bootstrap is drawn that way
  (exact, vectorised). When a batch has no event or only events, the bootstrap
  distribution collapses to a point, so the Wilson score interval is used
  instead (and Newcombe's hybrid score interval for a difference).
- **Medians**: percentile bootstrap over runs; the interval of a difference of
  medians comes from independent resamples of the two batches.
- **Tests between batches** (independent runs): Fisher's exact test for a
  label, two-sample Kolmogorov-Smirnov for a continuous outcome, with Cliff's
  delta and the Hodges-Lehmann shift as effect sizes.
- **Paired per-seed deltas** (batches that share seeds, i.e. common random
  numbers): for a label Newcombe's score interval for paired proportions and
  the exact McNemar test; for a continuous outcome a bootstrap over seeds for
  the mean delta and the difference of medians, and the Wilcoxon signed-rank
  test (Pratt's treatment of zero deltas).
- **Many comparisons**: Holm's step-down adjustment of the p-values of a
  report's whole family of tests; a difference is called distinguishable from
  noise when its adjusted p-value is below ``alpha``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

CONF_LEVEL = 0.95
"""Confidence level of every interval unless a caller says otherwise."""
ALPHA = 0.05
"""Family-wise error rate for the distinguishable-from-noise verdict."""
N_BOOT = 2000
"""Bootstrap resamples per interval."""
SEED = 20250101
"""Default seed of the bootstrap generators (reports are reproducible)."""
_MAX_CELLS = 2_000_000
"""Resampled values held in memory at once (chunking of the bootstrap)."""
_DISCRETE_MAX = 256
"""Up to this many distinct values, resamples are drawn as multinomial counts of the values."""


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float
    method: str = ""

    def covers(self, value: float) -> bool:
        """True if ``value`` lies inside the closed interval."""
        return bool(self.low <= value <= self.high)

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class TestResult:
    """A two-sample or paired test: statistic, p-value and the test's name."""

    statistic: float
    p_value: float
    method: str


@dataclass(frozen=True)
class PairedSummary:
    """Per-seed deltas ``b - a`` of one outcome over the seeds two batches share."""

    n_pairs: int
    mean: Interval
    median: float
    share_up: float
    share_down: float
    share_same: float
    test: TestResult


# --------------------------------------------------------------------------- helpers


def _z(conf: float) -> float:
    """Two-sided standard-normal quantile for confidence ``conf`` (stdlib: no scipy import)."""
    return NormalDist().inv_cdf(0.5 + conf / 2.0)


def _clean(x) -> np.ndarray:
    """1-D float array without NaN (bools become 0/1)."""
    arr = np.asarray(x, dtype=float).ravel()
    return arr[~np.isnan(arr)]


def _percentiles(dist: np.ndarray, conf: float) -> tuple[float, float]:
    tail = (1.0 - conf) / 2.0 * 100.0
    lo, hi = np.percentile(dist, [tail, 100.0 - tail])
    return float(lo), float(hi)


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


# --------------------------------------------------------------------------- proportions


def wilson_interval(k: int, n: int, conf: float = CONF_LEVEL) -> Interval:
    """Wilson score interval for a proportion of ``k`` events in ``n`` trials.

    Keeps good coverage near 0 and 1 and for small ``n``, where the normal
    approximation and the bootstrap fail. ``n == 0`` gives a NaN interval.
    """
    if n <= 0:
        return Interval(math.nan, math.nan, math.nan, "wilson")
    if not 0 <= k <= n:
        raise ValueError(f"wilson_interval: need 0 <= k <= n, got k={k}, n={n}")
    z = _z(conf)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), "wilson")


def bootstrap_proportion_draws(k: int, n: int, n_boot: int = N_BOOT, seed=SEED) -> np.ndarray:
    """Bootstrap distribution of a proportion: ``Binomial(n, k/n) / n`` draws.

    Identical in law to resampling the ``n`` 0/1 outcomes with replacement.
    """
    if n <= 0:
        return np.full(n_boot, np.nan)
    return _rng(seed).binomial(n, k / n, size=n_boot) / n


def proportion_interval(x, conf: float = CONF_LEVEL, n_boot: int = N_BOOT, seed=SEED) -> Interval:
    """Share of true values in ``x`` with a percentile-bootstrap interval.

    Falls back to the Wilson interval when ``x`` has no or only true values
    (the bootstrap cannot see any variability there).
    """
    arr = _clean(x)
    n, k = arr.size, int(arr.sum())
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, "no runs")
    if k in (0, n):
        return wilson_interval(k, n, conf)
    lo, hi = _percentiles(bootstrap_proportion_draws(k, n, n_boot, seed), conf)
    return Interval(k / n, lo, hi, "bootstrap")


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, conf: float = CONF_LEVEL) -> Interval:
    """Newcombe's hybrid score interval for ``p2 - p1`` (from two Wilson intervals)."""
    a, b = wilson_interval(k1, n1, conf), wilson_interval(k2, n2, conf)
    d = b.estimate - a.estimate
    lo = d - math.sqrt((b.estimate - b.low) ** 2 + (a.high - a.estimate) ** 2)
    hi = d + math.sqrt((b.high - b.estimate) ** 2 + (a.estimate - a.low) ** 2)
    return Interval(d, lo, hi, "newcombe")


def difference_of_proportions(x, y, conf: float = CONF_LEVEL, n_boot: int = N_BOOT, seed=SEED) -> Interval:
    """``share(y) - share(x)`` for independent samples, percentile-bootstrap interval.

    Uses Newcombe's interval when either sample has no or only events.
    """
    xa, ya = _clean(x), _clean(y)
    n1, k1, n2, k2 = xa.size, int(xa.sum()), ya.size, int(ya.sum())
    if n1 == 0 or n2 == 0:
        return Interval(math.nan, math.nan, math.nan, "no runs")
    if k1 in (0, n1) or k2 in (0, n2):
        return newcombe_interval(k1, n1, k2, n2, conf)
    rng = _rng(seed)
    dist = bootstrap_proportion_draws(k2, n2, n_boot, rng) - bootstrap_proportion_draws(k1, n1, n_boot, rng)
    lo, hi = _percentiles(dist, conf)
    return Interval(k2 / n2 - k1 / n1, lo, hi, "bootstrap")


def paired_newcombe_interval(a, b, conf: float = CONF_LEVEL) -> Interval:
    """``share(b) - share(a)`` for paired 0/1 outcomes, Newcombe's score interval (1998, method 10).

    Combines the Wilson intervals of the two shares through their phi
    correlation. Unlike a bootstrap it stays honest when discordant pairs
    are few or all go one way (a bootstrap interval then ends at the estimate).
    """
    aa, bb = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n = aa.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, "no pairs")
    both, only_b = int((aa & bb).sum()), int((~aa & bb).sum())
    only_a, neither = int((aa & ~bb).sum()), int((~aa & ~bb).sum())
    p1, p2 = (both + only_b) / n, (both + only_a) / n
    w1 = wilson_interval(both + only_b, n, conf)
    w2 = wilson_interval(both + only_a, n, conf)
    denom = math.sqrt(float(both + only_b) * (only_a + neither) * (both + only_a) * (only_b + neither))
    phi = (both * neither - only_b * only_a) / denom if denom > 0 else 0.0
    d = p1 - p2
    lo1, hi1, lo2, hi2 = p1 - w1.low, w1.high - p1, p2 - w2.low, w2.high - p2
    delta = math.sqrt(max(0.0, lo1 ** 2 - 2 * phi * lo1 * hi2 + hi2 ** 2))
    eps = math.sqrt(max(0.0, hi1 ** 2 - 2 * phi * hi1 * lo2 + lo2 ** 2))
    return Interval(d, max(-1.0, d - delta), min(1.0, d + eps), "newcombe paired")


def fisher_test(x, y) -> TestResult:
    """Fisher's exact test that two independent samples share one event rate."""
    from scipy.stats import fisher_exact

    xa, ya = _clean(x), _clean(y)
    k1, k2 = int(xa.sum()), int(ya.sum())
    table = [[k1, xa.size - k1], [k2, ya.size - k2]]
    if xa.size == 0 or ya.size == 0:
        return TestResult(math.nan, math.nan, "fisher exact")
    odds, p = fisher_exact(table)
    return TestResult(float(odds), float(min(1.0, p)), "fisher exact")


def min_detectable_difference(p: float, n1: int, n2: int, alpha: float = ALPHA, power: float = 0.8) -> float:
    """Smallest difference of proportions around ``p`` a two-sided test detects.

    Normal approximation: ``(z_{1-alpha/2} + z_power) * sqrt(p (1-p) (1/n1 + 1/n2))``.
    It tells a reader what "not distinguishable" means at the sample sizes used.
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan
    p = min(max(p, 1.0 / (n1 + n2)), 1.0 - 1.0 / (n1 + n2))
    z = _z(1 - alpha) + NormalDist().inv_cdf(power)
    return z * math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


# --------------------------------------------------------------------------- medians and other statistics


def _index_dtype(n: int):
    return np.int16 if n < 2**15 else np.int32 if n < 2**31 else np.int64


def _medians_of_ranks(sorted_values: np.ndarray, rank_rows: np.ndarray) -> np.ndarray:
    """Medians of resamples given as rows of ranks into ``sorted_values``.

    The median of a resample is the value at the median of its ranks, and
    partitioning small integers is much faster than partitioning floats.
    ``rank_rows`` is partitioned in place.
    """
    n = rank_rows.shape[1]
    lo_k, hi_k = (n - 1) // 2, n // 2
    rank_rows.partition((lo_k, hi_k) if lo_k != hi_k else lo_k, axis=1)
    return 0.5 * (sorted_values[rank_rows[:, lo_k]] + sorted_values[rank_rows[:, hi_k]])


def _chunks(n_boot: int, n: int):
    chunk = max(1, _MAX_CELLS // max(n, 1))
    for start in range(0, n_boot, chunk):
        yield start, min(n_boot, start + chunk)


def _median_from_counts(sorted_values: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Medians of resamples given as counts ``(n_boot, K)`` of each of ``K`` sorted values."""
    cum = np.cumsum(counts, axis=1)
    lo = np.argmax(cum > (n - 1) // 2, axis=1)
    hi = np.argmax(cum > n // 2, axis=1)
    return 0.5 * (sorted_values[lo] + sorted_values[hi])


def bootstrap_median_draws(x, n_boot: int = N_BOOT, seed=SEED) -> np.ndarray:
    """Bootstrap distribution of the median of ``x`` (NaN dropped), vectorised and chunked.

    With few distinct values (integer outcomes) a resample is drawn as
    multinomial counts of the distinct values, the same law as resampling
    runs with replacement, at a fraction of the cost.
    """
    xs = np.sort(_clean(x))
    n = xs.size
    if n == 0:
        return np.full(n_boot, np.nan)
    rng = _rng(seed)
    values, freq = np.unique(xs, return_counts=True)
    if values.size <= _DISCRETE_MAX:
        return _median_from_counts(values, rng.multinomial(n, freq / n, size=n_boot), n)
    out = np.empty(n_boot)
    for start, stop in _chunks(n_boot, n):
        ranks = rng.integers(0, n, size=(stop - start, n), dtype=_index_dtype(n))
        out[start:stop] = _medians_of_ranks(xs, ranks)
    return out


def paired_median_difference_draws(a, b, n_boot: int = N_BOOT, seed=SEED) -> np.ndarray:
    """Bootstrap of ``median(b) - median(a)`` resampling pairs ``(a_i, b_i)`` jointly.

    The right interval for a difference of medians when the two samples are
    matched per seed (their noise is shared, so independent resamples would
    overstate the uncertainty). Pairs with a NaN are dropped.
    """
    aa, bb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = ~(np.isnan(aa) | np.isnan(bb))
    aa, bb = aa[keep], bb[keep]
    n = aa.size
    if n == 0:
        return np.full(n_boot, np.nan)
    rng = _rng(seed)
    pairs, freq = np.unique(np.column_stack([aa, bb]), axis=0, return_counts=True)
    if len(pairs) <= _DISCRETE_MAX:  # few distinct pairs: multinomial counts of the pairs
        counts = rng.multinomial(n, freq / n, size=n_boot)
        oa, ob = np.argsort(pairs[:, 0], kind="stable"), np.argsort(pairs[:, 1], kind="stable")
        return (_median_from_counts(pairs[ob, 1], counts[:, ob], n)
                - _median_from_counts(pairs[oa, 0], counts[:, oa], n))
    dtype = _index_dtype(n)
    rank_a = np.empty(n, dtype=dtype)
    rank_a[np.argsort(aa, kind="stable")] = np.arange(n, dtype=dtype)
    rank_b = np.empty(n, dtype=dtype)
    rank_b[np.argsort(bb, kind="stable")] = np.arange(n, dtype=dtype)
    sa, sb = np.sort(aa), np.sort(bb)
    out = np.empty(n_boot)
    for start, stop in _chunks(n_boot, n):
        idx = rng.integers(0, n, size=(stop - start, n), dtype=dtype)
        out[start:stop] = _medians_of_ranks(sb, rank_b[idx]) - _medians_of_ranks(sa, rank_a[idx])
    return out


def bootstrap_draws(x, statistic: Callable[..., np.ndarray], n_boot: int = N_BOOT, seed=SEED) -> np.ndarray:
    """Bootstrap distribution of any ``statistic(sample_2d, axis=1)`` of ``x``."""
    arr = _clean(x)
    n = arr.size
    if n == 0:
        return np.full(n_boot, np.nan)
    rng = _rng(seed)
    out = np.empty(n_boot)
    for start, stop in _chunks(n_boot, n):
        out[start:stop] = statistic(arr[rng.integers(0, n, size=(stop - start, n))], axis=1)
    return out


def median_interval(x, conf: float = CONF_LEVEL, n_boot: int = N_BOOT, seed=SEED) -> Interval:
    """Median of ``x`` with a percentile-bootstrap interval."""
    arr = _clean(x)
    if arr.size == 0:
        return Interval(math.nan, math.nan, math.nan, "no runs")
    lo, hi = _percentiles(bootstrap_median_draws(arr, n_boot, seed), conf)
    return Interval(float(np.median(arr)), lo, hi, "bootstrap")


def interval_from_draws(estimate: float, draws: np.ndarray, conf: float = CONF_LEVEL) -> Interval:
    """Percentile interval of a precomputed bootstrap distribution."""
    if np.isnan(draws).all():
        return Interval(estimate, math.nan, math.nan, "bootstrap")
    lo, hi = _percentiles(draws, conf)
    return Interval(float(estimate), lo, hi, "bootstrap")


def difference_of_medians(x, y, conf: float = CONF_LEVEL, n_boot: int = N_BOOT, seed=SEED) -> Interval:
    """``median(y) - median(x)`` for independent samples, percentile-bootstrap interval."""
    xa, ya = _clean(x), _clean(y)
    if xa.size == 0 or ya.size == 0:
        return Interval(math.nan, math.nan, math.nan, "no runs")
    rng = _rng(seed)
    dist = bootstrap_median_draws(ya, n_boot, rng) - bootstrap_median_draws(xa, n_boot, rng)
    return interval_from_draws(float(np.median(ya) - np.median(xa)), dist, conf)


def paired_difference_of_medians(a, b, conf: float = CONF_LEVEL, n_boot: int = N_BOOT, seed=SEED) -> Interval:
    """``median(b) - median(a)`` over matched pairs, resampling pairs jointly."""
    aa, bb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = ~(np.isnan(aa) | np.isnan(bb))
    if not keep.any():
        return Interval(math.nan, math.nan, math.nan, "no pairs")
    est = float(np.median(bb[keep]) - np.median(aa[keep]))
    return interval_from_draws(est, paired_median_difference_draws(aa, bb, n_boot, seed), conf)


def quantiles(x, qs: Sequence[float] = (0.1, 0.5, 0.9)) -> np.ndarray:
    """Quantiles of ``x`` ignoring NaN (NaN when ``x`` is empty)."""
    arr = _clean(x)
    if arr.size == 0:
        return np.full(len(qs), np.nan)
    return np.quantile(arr, qs)


# --------------------------------------------------------------------------- two-sample tests and effect sizes


def ks_test(x, y) -> TestResult:
    """Two-sample Kolmogorov-Smirnov test (scipy, exact p-value for small samples).

    With many ties (integer outcomes such as defaults) the test is conservative.
    """
    from scipy.stats import ks_2samp

    xa, ya = _clean(x), _clean(y)
    if xa.size == 0 or ya.size == 0:
        return TestResult(math.nan, math.nan, "kolmogorov-smirnov")
    if np.array_equal(np.sort(xa), np.sort(ya)):
        return TestResult(0.0, 1.0, "kolmogorov-smirnov")
    res = ks_2samp(xa, ya)
    return TestResult(float(res.statistic), float(res.pvalue), "kolmogorov-smirnov")


def cliffs_delta(x, y) -> float:
    """Cliff's delta ``P(Y > X) - P(Y < X)`` for one draw from each sample.

    In [-1, 1]; 0 means neither batch tends to give larger values. Computed
    from mid-ranks (ties count half), so it costs ``O((n+m) log(n+m))``.
    """
    from scipy.stats import rankdata

    xa, ya = _clean(x), _clean(y)
    n, m = xa.size, ya.size
    if n == 0 or m == 0:
        return math.nan
    ranks = rankdata(np.concatenate([xa, ya]))
    u_y = ranks[n:].sum() - m * (m + 1) / 2.0  # = #(y > x) + 0.5 #(y == x)
    return float(2.0 * u_y / (n * m) - 1.0)


def describe_cliffs_delta(delta: float) -> str:
    """Conventional size of Cliff's delta (Romano et al. 2006 thresholds)."""
    d = abs(delta)
    if math.isnan(d):
        return "n/a"
    if d < 0.147:
        return "negligible"
    if d < 0.33:
        return "small"
    if d < 0.474:
        return "medium"
    return "large"


def hodges_lehmann_shift(x, y, max_pairs: int = 1_000_000, seed=SEED) -> float:
    """Hodges-Lehmann shift: median of all differences ``y_j - x_i``.

    A robust "how much larger is Y" in the outcome's units. Above
    ``max_pairs`` pairs, a seeded random subset of pairs is used.
    """
    xa, ya = _clean(x), _clean(y)
    n, m = xa.size, ya.size
    if n == 0 or m == 0:
        return math.nan
    if n * m <= max_pairs:
        return float(np.median(np.subtract.outer(ya, xa)))
    rng = _rng(seed)
    i, j = rng.integers(0, n, max_pairs), rng.integers(0, m, max_pairs)
    return float(np.median(ya[j] - xa[i]))


# --------------------------------------------------------------------------- paired per-seed deltas


def paired_deltas(a: pd.DataFrame, b: pd.DataFrame, column: str, keys: Sequence[str] = ("point", "seed")) -> pd.DataFrame:
    """Match runs of two batches on ``keys`` and return ``b - a`` per match.

    Result columns: the keys, ``a``, ``b``, ``delta``; rows where either value
    is missing are dropped. Batches that share seeds (common random numbers)
    thereby compare each world with its own counterfactual.
    """
    keys = list(keys)
    left = a[keys + [column]].drop_duplicates(subset=keys).rename(columns={column: "a"})
    right = b[keys + [column]].drop_duplicates(subset=keys).rename(columns={column: "b"})
    merged = left.merge(right, on=keys, how="inner", validate="one_to_one")
    merged["a"] = merged["a"].astype(float)
    merged["b"] = merged["b"].astype(float)
    merged = merged.dropna(subset=["a", "b"])
    merged["delta"] = merged["b"] - merged["a"]
    return merged.reset_index(drop=True)


def count_shared_pairs(a: pd.DataFrame, b: pd.DataFrame, keys: Sequence[str] = ("point", "seed")) -> int:
    """How many runs of ``a`` have a run of ``b`` with the same ``keys``."""
    keys = list(keys)
    if any(k not in a.columns or k not in b.columns for k in keys):
        return 0
    return int(a[keys].drop_duplicates().merge(b[keys].drop_duplicates(), on=keys).shape[0])


def mcnemar_test(a, b) -> TestResult:
    """Exact McNemar test on paired 0/1 outcomes: do the discordant pairs split 50/50?"""
    from scipy.stats import binomtest

    aa, bb = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    up, down = int((~aa & bb).sum()), int((aa & ~bb).sum())
    if up + down == 0:
        return TestResult(0.0, 1.0, "mcnemar exact")
    return TestResult(float(up - down), float(binomtest(up, up + down, 0.5).pvalue), "mcnemar exact")


def wilcoxon_test(delta) -> TestResult:
    """Wilcoxon signed-rank test that per-seed deltas are centred on zero (Pratt)."""
    from scipy.stats import wilcoxon

    d = _clean(delta)
    if d.size == 0 or not np.any(d != 0):
        return TestResult(0.0, 1.0, "wilcoxon signed-rank")
    res = wilcoxon(d, zero_method="pratt")
    return TestResult(float(res.statistic), float(res.pvalue), "wilcoxon signed-rank")


def summarise_paired(pairs: pd.DataFrame, binary: bool = False, conf: float = CONF_LEVEL,
                     n_boot: int = N_BOOT, seed=SEED) -> PairedSummary:
    """Mean per-seed delta with an interval, median delta, and the paired test.

    ``pairs`` is the output of :func:`paired_deltas`. ``binary`` marks a label
    (deltas in {-1, 0, 1}): its mean delta is the change in probability on the
    shared seeds, with Newcombe's paired score interval and McNemar's exact
    test; otherwise a percentile-bootstrap interval over seeds and the
    Wilcoxon signed-rank test.
    """
    d = pairs["delta"].to_numpy(dtype=float)
    n = d.size
    if n == 0:
        nan = Interval(math.nan, math.nan, math.nan, "no pairs")
        return PairedSummary(0, nan, math.nan, math.nan, math.nan, math.nan, TestResult(math.nan, math.nan, "none"))
    rng = _rng(seed)
    if binary:
        a, b = pairs["a"].to_numpy() > 0.5, pairs["b"].to_numpy() > 0.5
        mean = paired_newcombe_interval(a, b, conf)
        test = mcnemar_test(a, b)
    else:
        mean = interval_from_draws(float(d.mean()), bootstrap_draws(d, np.mean, n_boot, rng), conf)
        test = wilcoxon_test(d)
    return PairedSummary(
        n_pairs=n, mean=mean, median=float(np.median(d)),
        share_up=float(np.mean(d > 0)), share_down=float(np.mean(d < 0)), share_same=float(np.mean(d == 0)),
        test=test,
    )


# --------------------------------------------------------------------------- many comparisons and verdicts


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control).

    NaN entries stay NaN and do not count towards the family size.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def is_distinguishable(p_adjusted: float, alpha: float = ALPHA) -> bool:
    """True if a difference is unlikely to be seed noise (adjusted p below ``alpha``)."""
    return bool(not math.isnan(p_adjusted) and p_adjusted < alpha)


def verdict(p_adjusted: float, alpha: float = ALPHA) -> str:
    """Plain verdict for a table cell."""
    if math.isnan(p_adjusted):
        return "n/a"
    return "distinguishable" if is_distinguishable(p_adjusted, alpha) else "within noise"
