"""The estimators agree with reference implementations to 1e-6 on fixed data sets.

lifelines' ``AalenJohansenFitter`` for the cumulative incidence, statsmodels'
``StratifiedTable`` for the Mantel–Haenszel risk ratio and ``combine_effects`` for the
random-effects meta-analysis (Paule–Mandel τ², Hartung–Knapp interval).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from lifelines import AalenJohansenFitter
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.meta_analysis import combine_effects

from innoplat.core.services.evidence.meta import random_effects
from innoplat.core.services.evidence.stratified import mantel_haenszel_risk_ratio
from innoplat.core.services.evidence.survival import cumulative_incidence


def _grouped(durations, kinds):
    times = sorted(set(durations))
    events = [
        sum(1 for d, e in zip(durations, kinds, strict=True) if d == t and e == 1) for t in times
    ]
    competing = [
        sum(1 for d, e in zip(durations, kinds, strict=True) if d == t and e == 2) for t in times
    ]
    removed = [durations.count(t) for t in times]
    return times, events, competing, removed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cumulative_incidence_matches_lifelines(seed):
    rng = np.random.default_rng(seed)
    n = 300
    # Whole days; ties within a kind and with censorings, none between the two event kinds
    # (lifelines would jitter those).
    durations = [int(d) for d in rng.integers(1, 900, size=n)]
    kinds = [int(k) for k in rng.choice([0, 1, 2], size=n, p=[0.4, 0.35, 0.25])]
    first_kind: dict[int, int] = {}
    for i, (d, e) in enumerate(zip(durations, kinds, strict=True)):
        if e:
            kinds[i] = first_kind.setdefault(d, e)
    reference = AalenJohansenFitter(calculate_variance=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a jitter would warn
        reference.fit(durations, kinds, event_of_interest=1)
    horizons = [183, 365, 730]
    ours = cumulative_incidence(*_grouped(durations, kinds), horizons)
    curve = reference.cumulative_density_.iloc[:, 0]
    bounds = reference.confidence_interval_
    for horizon, got in zip(horizons, ours, strict=True):
        at = curve.index[curve.index <= horizon].max()
        assert got.value == pytest.approx(curve.loc[at], abs=1e-6)
        assert got.low == pytest.approx(bounds.loc[at].min(), abs=1e-6)
        assert got.high == pytest.approx(bounds.loc[at].max(), abs=1e-6)
        assert got.at_risk == sum(1 for d in durations if d >= horizon)


def test_cumulative_incidence_by_hand():
    """Five ideas: implemented at 2 and 4, closed at 3, censored at 3 and 5."""
    (at4,) = cumulative_incidence([2, 3, 4, 5], [1, 0, 1, 0], [0, 1, 0, 0], [1, 2, 1, 1], [4])
    # S: 4/5 after t=2, 4/5·3/4 = 3/5 after t=3; F(4) = 1/5 + 3/5 · 1/2 = 0.5
    assert at4.value == pytest.approx(0.5)
    assert at4.at_risk == 2
    (beyond,) = cumulative_incidence([2, 3], [1, 0], [0, 0], [1, 1], [10])
    assert beyond.value is None and beyond.at_risk == 0  # nobody followed that long


STRATA = [(12, 40, 5, 60), (7, 25, 9, 80), (20, 50, 11, 45), (3, 10, 0, 15), (0, 8, 4, 30)]


def test_mantel_haenszel_matches_statsmodels():
    tables = [np.array([[a, n1 - a], [c, n0 - c]]) for a, n1, c, n0 in STRATA]
    ratio, low, high, variance = mantel_haenszel_risk_ratio(STRATA)
    assert ratio == pytest.approx(StratifiedTable(tables).riskratio_pooled, abs=1e-6)


def test_greenland_robins_variance_by_hand():
    """Two strata: (3 of 10 vs 2 of 10) and (5 of 10 vs 1 of 10)."""
    ratio, low, high, variance = mantel_haenszel_risk_ratio([(3, 10, 2, 10), (5, 10, 1, 10)])
    # R = 3·10/20 + 5·10/20 = 4, S = 2·10/20 + 1·10/20 = 1.5
    # P = (100·5 − 6·20)/400 + (100·6 − 5·20)/400 = 0.95 + 1.25 = 2.2
    assert ratio == pytest.approx(4 / 1.5)
    assert variance == pytest.approx(2.2 / (4 * 1.5))
    se = math.sqrt(2.2 / 6)
    assert (low, high) == pytest.approx(
        (ratio * math.exp(-1.959964 * se), ratio * math.exp(1.959964 * se))
    )


def test_mantel_haenszel_edges():
    assert mantel_haenszel_risk_ratio([(0, 10, 3, 10)])[:3] == (0.0, None, None)
    assert mantel_haenszel_risk_ratio([(3, 10, 0, 10)]) == (None, None, None, None)
    assert mantel_haenszel_risk_ratio([(3, 10, 2, 0)]) == (None, None, None, None)


@pytest.mark.parametrize(
    ("effects", "variances"),
    [
        ([0.2, 0.5, -0.1, 0.4, 0.9, 0.3], [0.04, 0.09, 0.05, 0.02, 0.1, 0.03]),  # heterogeneous
        ([0.30, 0.35, 0.28, 0.33], [0.05, 0.04, 0.06, 0.05]),  # τ² = 0
        ([0.7, -0.2, 0.1], [0.01, 0.02, 0.015]),  # three cities, strongly heterogeneous
    ],
)
def test_random_effects_match_statsmodels(effects, variances):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns that single studies' intervals use z
        reference = combine_effects(
            np.array(effects), np.array(variances), method_re="iterated", use_t=True,
            atol=1e-12, maxiter=10_000,
        )  # fmt: skip
        frame = reference.summary_frame(use_t=True)
    ours = random_effects(effects, variances)
    assert ours.tau2 == pytest.approx(reference.tau2, abs=1e-6)
    assert ours.effect == pytest.approx(reference.mean_effect_re, abs=1e-6)
    assert ours.i2 == pytest.approx(max(0.0, reference.i2), abs=1e-6)  # I² is never below 0
    assert ours.low == pytest.approx(frame.loc["random effect wls", "ci_low"], abs=1e-6)
    assert ours.high == pytest.approx(frame.loc["random effect wls", "ci_upp"], abs=1e-6)
    # Prediction interval (not in statsmodels) from its parts: t(k − 2), τ² + SE²
    k = len(effects)
    from scipy.stats import t

    se2 = reference.var_hksj_re if hasattr(reference, "var_hksj_re") else None
    se2 = frame.loc["random effect wls", "sd_eff"] ** 2 if se2 is None else se2
    spread = t.ppf(0.975, k - 2) * math.sqrt(reference.tau2 + se2)
    assert ours.prediction_low == pytest.approx(reference.mean_effect_re - spread, abs=1e-6)
    assert ours.prediction_high == pytest.approx(reference.mean_effect_re + spread, abs=1e-6)


def test_fewer_than_three_cities_are_not_pooled():
    assert random_effects([0.1, 0.2], [0.01, 0.02]) is None
