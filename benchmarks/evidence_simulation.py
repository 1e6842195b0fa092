"""Simulation study: do the evidence estimators recover planted effects, with honest intervals?

Each replicate draws six cities' ideas with a planted effect of a method, runs the estimators
of ``innoplat.core.services.evidence`` on the same grouped counts SQL would hand them, and
records the estimate and whether its 95 % interval holds the truth. Scenarios:

* ``plain``: one risk ratio (1.5) in every city, the method given to ideas at random.
* ``heterogeneous``: each city's log risk ratio drawn around log 1.5 with τ² = 0.04.
* ``confounded``: the method is used most in the years and focus areas where ideas fare best
  anyway; the ratio within each stratum is 1.5 (the crude ratio is biased, the
  Mantel–Haenszel one should not be).
* ``everything``: heterogeneity and confounding together.

Every scenario has staggered submissions over four years, so ideas still open are censored
at the data's date, and closure competes with implementation. The truths:

* the 12-month risk ratio within strata (per city) and its median across cities (pooled);
* the cumulative incidence of implementation at 6, 12 and 24 months among each city's ideas
  with the method in the focus area whose risk does not change over the years (known in
  closed form), censored by the staggered submissions.

Reported per scenario: relative bias of each estimator (the geometric mean of the ratio
estimates over the truth, minus 1; for the cumulative incidence the mean estimate over the
truth, minus 1) and the coverage of its 95 % interval. Run::

    .venv/bin/python benchmarks/evidence_simulation.py                  # 1,000 replicates each
    .venv/bin/python benchmarks/evidence_simulation.py --replicates 2000 --seed 7

and the Markdown table it prints is the one in docs/comparing.md ("Does it work?", run with
``--replicates 2000``; about five minutes).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field

import numpy as np

from innoplat.core.services.evidence.meta import random_effects
from innoplat.core.services.evidence.stratified import mantel_haenszel_risk_ratio
from innoplat.core.services.evidence.survival import cumulative_incidence

CITIES = 6
IDEAS_PER_CITY = 3000
YEARS = 4
FOCUS_AREAS = 3
RISK_RATIO = 1.5
#: 12-month risk of implementation without the method, per (year, focus area); year 0 holds
#: the most recent submissions. Focus area 0 has the same risk in every year, so the cumulative
#: incidence among its ideas has a known truth while staggered submissions censor them.
BASELINE = np.array(
    [[0.10, 0.20, 0.26], [0.10, 0.16, 0.20], [0.10, 0.12, 0.15], [0.10, 0.09, 0.10]]
)
#: Share of ideas with the method per (year, focus area) when confounded: most where ideas fare best.
CONFOUNDED_USE = np.array([[0.6, 0.7, 0.8], [0.4, 0.5, 0.6], [0.2, 0.3, 0.4], [0.1, 0.15, 0.2]])
CLOSED_WITHIN_YEAR = 0.15  # closure within 12 months, for every idea
LATER = 0.3  # of the ideas neither implemented nor closed within 12 months: implemented in year two
HORIZONS = (183, 365, 730)


@dataclass(frozen=True)
class Scenario:
    name: str
    tau2: float
    confounded: bool


SCENARIOS = (
    Scenario("plain", 0.0, False),
    Scenario("heterogeneous", 0.04, False),
    Scenario("confounded", 0.0, True),
    Scenario("everything", 0.04, True),
)


@dataclass
class Tally:
    """Estimates (on the scale they are averaged) and interval hits of one estimator."""

    log_scale: bool
    estimates: list[float] = field(default_factory=list)
    truths: list[float] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)

    def add(
        self, estimate: float | None, low: float | None, high: float | None, truth: float
    ) -> None:
        if estimate is None or low is None or high is None or estimate <= 0:
            return
        self.estimates.append(math.log(estimate) if self.log_scale else estimate)
        self.truths.append(math.log(truth) if self.log_scale else truth)
        self.hits.append(low <= truth <= high)

    def bias(self) -> float:
        if self.log_scale:
            return math.exp(np.mean(np.array(self.estimates) - np.array(self.truths))) - 1
        return float(np.mean(self.estimates) / np.mean(self.truths) - 1)

    def coverage(self) -> float:
        return float(np.mean(self.hits))


def true_incidence(p: float) -> list[float]:
    """F(t) for ideas whose 12-month risk is p: implementation days uniform on 0…364 within
    the first year, and on 366…730 for the share LATER of those left open after it."""
    open_after_year = 1 - p - CLOSED_WITHIN_YEAR
    return [p * 184 / 365, p, p + LATER * open_after_year]


def simulate_city(rng: np.random.Generator, scenario: Scenario, log_rr: float):
    """One city's ideas: (stratum, with method, observed day, kind, follow-up days)."""
    n = IDEAS_PER_CITY
    followed = rng.integers(0, YEARS * 365, size=n)  # days from submission to the data's date
    year = np.minimum(followed // 365, YEARS - 1)
    focus = rng.integers(0, FOCUS_AREAS, size=n)
    use = CONFOUNDED_USE[year, focus] if scenario.confounded else np.full(n, 0.35)
    exposed = rng.random(n) < use
    baseline = BASELINE[year, focus]
    risk = np.where(exposed, np.minimum(baseline * math.exp(log_rr), 0.8), baseline)
    draw = rng.random(n)
    within = draw < risk
    closed = (~within) & (draw < risk + CLOSED_WITHIN_YEAR)
    later = (~within) & (~closed) & (rng.random(n) < LATER)
    day = np.full(n, 10**6)
    day[within] = rng.integers(0, 365, size=int(within.sum()))
    day[closed] = rng.integers(0, 365, size=int(closed.sum()))
    day[later] = rng.integers(366, 731, size=int(later.sum()))
    kind = np.where(within | later, 1, np.where(closed, 2, 0))
    observed = day <= followed
    kind = np.where(observed, kind, 0)
    day = np.where(observed, day, followed)
    return year * FOCUS_AREAS + focus, exposed, day, kind, followed


def strata_counts(stratum, exposed, day, kind, followed):
    eligible = followed >= 365
    outcome = (kind == 1) & (day <= 365)
    size = YEARS * FOCUS_AREAS
    n1 = np.bincount(stratum[eligible & exposed], minlength=size)
    a = np.bincount(stratum[eligible & exposed & outcome], minlength=size)
    n0 = np.bincount(stratum[eligible & ~exposed], minlength=size)
    c = np.bincount(stratum[eligible & ~exposed & outcome], minlength=size)
    return [(int(a[s]), int(n1[s]), int(c[s]), int(n0[s])) for s in range(size)]


def grouped(day, kind):
    days, index = np.unique(day, return_inverse=True)
    events = np.bincount(index, weights=kind == 1)
    competing = np.bincount(index, weights=kind == 2)
    removed = np.bincount(index)
    return days, events, competing, removed


def run(scenario: Scenario, replicates: int, seed: int) -> dict[str, Tally]:
    rng = np.random.default_rng(seed)
    tallies = {
        "crude": Tally(True),
        "city": Tally(True),
        "pooled": Tally(True),
        **{f"incidence_{h}": Tally(False) for h in HORIZONS},
    }
    for _ in range(replicates):
        effects, variances = [], []
        for _city in range(CITIES):
            city_log_rr = math.log(RISK_RATIO) + rng.normal(0, math.sqrt(scenario.tau2))
            stratum, exposed, day, kind, followed = simulate_city(rng, scenario, city_log_rr)
            strata = strata_counts(stratum, exposed, day, kind, followed)
            truth = math.exp(city_log_rr)
            ratio, low, high, variance = mantel_haenszel_risk_ratio(strata)
            tallies["city"].add(ratio, low, high, truth)
            if ratio and variance:
                effects.append(math.log(ratio))
                variances.append(variance)
            a, n1, c, n0 = (sum(s[i] for s in strata) for i in range(4))
            crude = (a / n1) / (c / n0)
            tallies["crude"].estimates.append(math.log(crude))
            tallies["crude"].truths.append(math.log(truth))
            # cumulative incidence where the truth is known: focus area 0, with the method
            chosen = (stratum % FOCUS_AREAS == 0) & exposed
            truths = true_incidence(min(BASELINE[0, 0] * truth, 0.8))
            found = cumulative_incidence(*grouped(day[chosen], kind[chosen]), HORIZONS)
            for horizon, figure, true in zip(HORIZONS, found, truths, strict=True):
                tallies[f"incidence_{horizon}"].add(figure.value, figure.low, figure.high, true)
        pooled = random_effects(effects, variances)
        if pooled is not None:
            tallies["pooled"].add(
                math.exp(pooled.effect), math.exp(pooled.low), math.exp(pooled.high), RISK_RATIO
            )
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(
        f"{args.replicates} replicates per scenario; {CITIES} cities × {IDEAS_PER_CITY} ideas; "
        f"planted risk ratio {RISK_RATIO}; seed {args.seed}\n"
    )
    print("| scenario | estimator | relative bias | 95 % coverage |")
    print("|---|---|---|---|")
    labels = {
        "crude": "crude risk ratio, per city",
        "city": "Mantel–Haenszel risk ratio, per city",
        "pooled": "pooled risk ratio (Hartung–Knapp)",
        "incidence_183": "cumulative incidence, 6 months",
        "incidence_365": "cumulative incidence, 12 months",
        "incidence_730": "cumulative incidence, 24 months",
    }
    started = time.perf_counter()
    for number, scenario in enumerate(SCENARIOS):
        tallies = run(scenario, args.replicates, args.seed + number)
        for key, label in labels.items():
            tally = tallies[key]
            if not tally.estimates:
                continue
            coverage = "—" if key == "crude" else f"{tally.coverage() * 100:.1f} %"
            print(f"| {scenario.name} | {label} | {tally.bias() * 100:+.1f} % | {coverage} |")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
