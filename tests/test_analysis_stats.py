"""Statistics of experiments.analysis.stats on cases whose answers are worked out here."""

import math

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import stats


# --------------------------------------------------------------------------- proportions


def test_wilson_interval_matches_hand_computation():
    # k = 30, n = 100, z = 1.959964: centre = (0.3 + z^2/200) / (1 + z^2/100),
    # half = z / (1 + z^2/100) * sqrt(0.3*0.7/100 + z^2/40000)  ->  [0.2189, 0.3958]
    iv = stats.wilson_interval(30, 100)
    assert iv.estimate == pytest.approx(0.30)
    assert iv.low == pytest.approx(0.21886, abs=1e-4)
    assert iv.high == pytest.approx(0.39584, abs=1e-4)


def test_wilson_interval_with_no_events_is_not_degenerate():
    iv = stats.wilson_interval(0, 50)
    assert iv.low == 0.0
    # upper bound z^2 / (n + z^2) = 3.8415 / 53.8415
    assert iv.high == pytest.approx(3.8415 / 53.8415, abs=1e-4)


def test_proportion_interval_falls_back_to_wilson_without_events():
    iv = stats.proportion_interval(np.zeros(80, dtype=bool))
    assert iv.method == "wilson" and iv.high > 0.03


def test_bootstrap_proportion_interval_has_nominal_coverage():
    """Over 300 simulated batches of 200 runs with p = 0.3, about 95% of intervals cover 0.3."""
    rng = np.random.default_rng(11)
    covered = [stats.proportion_interval(rng.random(200) < 0.3, n_boot=1000, seed=i).covers(0.3) for i in range(300)]
    assert 0.91 <= np.mean(covered) <= 0.985


def test_difference_of_proportions_interval_covers_the_planted_difference():
    rng = np.random.default_rng(3)
    x, y = rng.random(2000) < 0.30, rng.random(2000) < 0.45
    d = stats.difference_of_proportions(x, y)
    assert d.estimate == pytest.approx(y.mean() - x.mean())
    assert d.covers(0.15)
    # normal-theory width 2 * 1.96 * sqrt(.3*.7/2000 + .45*.55/2000) = 0.0593
    assert d.width == pytest.approx(0.0593, rel=0.15)
    assert stats.fisher_test(x, y).p_value < 1e-10


def test_newcombe_interval_when_one_batch_has_no_events():
    d = stats.difference_of_proportions(np.zeros(100, bool), np.r_[np.ones(10, bool), np.zeros(90, bool)])
    assert d.method == "newcombe" and d.low > 0 and d.covers(0.10)


def test_min_detectable_difference_shrinks_with_sample_size():
    small, large = (stats.min_detectable_difference(0.3, n, n) for n in (200, 2000))
    # (1.96 + 0.8416) * sqrt(0.21 * 2 / 2000) = 0.0406
    assert large == pytest.approx(0.0406, abs=1e-3)
    assert small == pytest.approx(large * math.sqrt(10), rel=1e-6)


# --------------------------------------------------------------------------- medians and effect sizes


def test_median_interval_covers_the_true_median():
    rng = np.random.default_rng(5)
    x = rng.exponential(1.0, 2001)  # true median ln 2
    iv = stats.median_interval(x)
    assert iv.estimate == pytest.approx(np.median(x))
    assert iv.covers(math.log(2))
    assert 0.05 < iv.width < 0.2


def test_median_bootstrap_draws_match_a_plain_resampling_implementation():
    """The rank trick gives the same statistic as taking np.median of each resample."""
    x = np.random.default_rng(9).normal(size=301)
    fast = stats.bootstrap_median_draws(x, n_boot=400, seed=1)
    plain = stats.bootstrap_draws(x, np.median, n_boot=400, seed=1)
    # same generator and draw shapes -> the same resamples (index dtypes differ, values do not)
    assert np.percentile(fast, [2.5, 50, 97.5]) == pytest.approx(np.percentile(plain, [2.5, 50, 97.5]), abs=0.05)


def test_discrete_median_bootstrap_has_the_law_of_plain_resampling():
    """Integer outcomes take the multinomial-counts path; its draws must follow the same
    distribution as np.median of resampled runs (frequencies of each value agree)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, 2000).astype(float)
    fast = stats.bootstrap_median_draws(x, n_boot=4000, seed=1)
    plain = stats.bootstrap_draws(x, np.median, n_boot=4000, seed=2)
    for v in np.union1d(fast, plain):
        assert np.mean(fast == v) == pytest.approx(np.mean(plain == v), abs=0.015)
    y = x + rng.integers(0, 3, 2000)
    fast_d = stats.paired_median_difference_draws(x, y, n_boot=4000, seed=1)
    idx = rng.integers(0, 2000, (4000, 2000))
    plain_d = np.median(y[idx], axis=1) - np.median(x[idx], axis=1)
    for v in np.union1d(fast_d, plain_d):
        assert np.mean(fast_d == v) == pytest.approx(np.mean(plain_d == v), abs=0.015)


def test_paired_median_difference_of_an_exact_shift_is_exact():
    x = np.random.default_rng(2).normal(size=500)
    iv = stats.paired_difference_of_medians(x, x + 0.25)
    assert iv.estimate == pytest.approx(0.25) and iv.low == pytest.approx(0.25) and iv.high == pytest.approx(0.25)


def test_cliffs_delta_hand_example():
    # pairs (y - x): (2-1)>, (2-2)=, (3-1)>, (3-2)>  ->  (3 - 0) / 4
    assert stats.cliffs_delta([1, 2], [2, 3]) == pytest.approx(0.75)
    assert stats.cliffs_delta([1, 2, 3], [1, 2, 3]) == pytest.approx(0.0)
    assert stats.cliffs_delta([5, 6], [1, 2]) == pytest.approx(-1.0)
    assert stats.describe_cliffs_delta(0.2) == "small"


def test_hodges_lehmann_recovers_a_location_shift():
    rng = np.random.default_rng(4)
    x = rng.normal(size=800)
    y = rng.normal(size=800) + 0.5
    assert stats.hodges_lehmann_shift(x, y) == pytest.approx(0.5, abs=0.1)
    assert stats.hodges_lehmann_shift(x, y, max_pairs=10_000) == pytest.approx(0.5, abs=0.12)


def test_ks_test_identical_and_shifted_samples():
    x = np.random.default_rng(6).normal(size=1000)
    same = stats.ks_test(x, x.copy())
    assert same.statistic == 0.0 and same.p_value == 1.0
    assert stats.ks_test(x, x + 0.3).p_value < 1e-6


# --------------------------------------------------------------------------- paired deltas


def _runs(values, seeds, points=None):
    return pd.DataFrame({"point": points if points is not None else np.zeros(len(seeds), int),
                         "seed": seeds, "v": values})


def test_paired_deltas_match_on_point_and_seed_not_on_row_order():
    a = _runs([1.0, 2.0, 3.0], [10, 20, 30])
    b = _runs([3.5, 1.5, 9.0], [30, 10, 40])  # seed 20 missing, 40 extra, order shuffled
    pairs = stats.paired_deltas(a, b, "v")
    got = dict(zip(pairs["seed"], pairs["delta"]))
    assert got == {10: 0.5, 30: 0.5}
    assert stats.count_shared_pairs(a, b) == 2


def test_paired_deltas_do_not_match_same_seed_at_another_design_point():
    a = _runs([1.0], [10], points=[0])
    b = _runs([5.0], [10], points=[1])
    assert stats.paired_deltas(a, b, "v").empty


def test_mcnemar_counts_only_discordant_pairs():
    a = np.array([0] * 50 + [1] * 50, bool)
    b = np.array([0] * 40 + [1] * 10 + [1] * 50, bool)  # 10 switched on, none off
    res = stats.mcnemar_test(a, b)
    assert res.statistic == 10
    assert res.p_value == pytest.approx(2 * 0.5 ** 10)


def test_summarise_paired_all_zero_deltas_is_no_difference():
    pairs = pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0)})
    pairs["delta"] = 0.0
    s = stats.summarise_paired(pairs)
    assert s.test.p_value == 1.0 and s.mean.low == 0 and s.mean.high == 0 and s.share_same == 1.0


def test_paired_newcombe_interval_hand_example():
    """100 shared seeds: 10 with the label in both, 2 only in the reference, 88 in neither.
    Wilson(10/100) = [.0552, .1744], Wilson(12/100) = [.0700, .1981], phi = 880 / sqrt(10*90*12*88) = .9027;
    delta = sqrt(.0448^2 - 2*.9027*.0448*.0781 + .0781^2) = .0423, eps = sqrt(.0744^2 - 2*.9027*.0744*.05 + .05^2) = .0363."""
    a = np.array([1] * 10 + [1] * 2 + [0] * 88, bool)
    b = np.array([1] * 10 + [0] * 2 + [0] * 88, bool)
    iv = stats.paired_newcombe_interval(a, b)
    assert iv.estimate == pytest.approx(-0.02)
    assert iv.low == pytest.approx(-0.02 - 0.0423, abs=2e-3) and iv.high == pytest.approx(-0.02 + 0.0363, abs=2e-3)
    assert iv.covers(0.0)  # two discordant seeds are no evidence (a bootstrap would end at 0)


def test_paired_newcombe_interval_coverage_with_changes_both_ways():
    """b keeps the reference's seed draw 80% of the time and redraws otherwise: P(b) = 0.45, P(a) = 0.30,
    so the truth is +0.15 with changes in both directions."""
    rng = np.random.default_rng(21)
    covered = []
    for _ in range(300):
        u = rng.random(400)
        v = np.where(rng.random(400) < 0.8, u, rng.random(400))
        covered.append(stats.paired_newcombe_interval(u < 0.30, v < 0.45).covers(0.15))
    assert 0.92 <= np.mean(covered) <= 0.985


def test_summarise_paired_binary_interval_has_nominal_coverage():
    """Common random numbers: a label switches on for seeds with 0.30 <= u < 0.45.
    Over 200 simulated pairs of batches the interval covers the planted +0.15 about 95% of the time."""
    rng = np.random.default_rng(8)
    covered, widths = [], []
    for i in range(200):
        u = rng.random(500)
        pairs = pd.DataFrame({"a": (u < 0.30).astype(float), "b": (u < 0.45).astype(float)})
        pairs["delta"] = pairs["b"] - pairs["a"]
        s = stats.summarise_paired(pairs, binary=True)
        covered.append(s.mean.covers(0.15))
        widths.append(s.mean.width)
    assert 0.92 <= np.mean(covered) <= 0.995
    # every change goes one way: sd of the share switched on is sqrt(.15*.85/500) = 0.016
    assert np.mean(widths) == pytest.approx(2 * 1.96 * 0.016, rel=0.15)


def test_paired_test_detects_what_independent_batches_of_the_same_size_cannot():
    """With shared seeds a +2 point change in 500 runs is clear; the same change between
    independent batches of 500 is within noise (Fisher)."""
    rng = np.random.default_rng(12)
    u, v = rng.random(500), rng.random(500)
    pairs = pd.DataFrame({"a": (u < 0.30).astype(float), "b": (u < 0.32).astype(float)})
    pairs["delta"] = pairs["b"] - pairs["a"]
    assert stats.summarise_paired(pairs, binary=True).test.p_value < 0.01
    assert stats.fisher_test(u < 0.30, v < 0.32).p_value > 0.05


# --------------------------------------------------------------------------- many comparisons


def test_holm_adjustment_hand_example():
    # sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, 0.04 -> monotone 0.03, 0.06, 0.06
    adj = stats.holm_adjust([0.01, 0.04, 0.03])
    assert adj == pytest.approx([0.03, 0.06, 0.06])


def test_holm_ignores_nan_and_caps_at_one():
    adj = stats.holm_adjust([0.5, float("nan"), 0.6])
    assert np.isnan(adj[1])
    assert adj[0] == pytest.approx(1.0) and adj[2] == pytest.approx(1.0)


def test_verdict_words():
    assert stats.verdict(0.001) == "distinguishable"
    assert stats.verdict(0.2) == "within noise"
    assert stats.verdict(float("nan")) == "n/a"
