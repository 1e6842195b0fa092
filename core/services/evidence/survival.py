"""Cumulative incidence with a competing event: the Aalen–Johansen estimator on grouped counts.

The input is what SQL aggregates per group: for each distinct follow-up time (whole days), how
many ideas reached the event of interest (implementation), how many the competing event
(closure), and how many left follow-up in any way (events and censorings together). Ties are
handled as usual: at time t every idea still under observation is at risk, and ideas
censored at t count as at risk at t.

The variance is Greenwood-like (Collett, *Modelling Survival Data in Medical Research*, 3rd
ed., p. 411 — the formula lifelines' ``AalenJohansenFitter`` uses) and the 95 % interval is
built on log(−log F), so it stays inside (0, 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Incidence:
    """The cumulative incidence at one time: estimate, 95 % interval and number at risk."""

    value: float | None
    low: float | None
    high: float | None
    at_risk: int


def cumulative_incidence(
    times: ArrayLike,
    events: ArrayLike,
    competing: ArrayLike,
    removed: ArrayLike,
    horizons: Sequence[float],
    z: float = Z95,
) -> list[Incidence]:
    """Aalen–Johansen cumulative incidence of ``events`` at each horizon.

    :param times: distinct follow-up times, ascending.
    :param events: ideas reaching the event of interest at each time.
    :param competing: ideas reaching the competing event at each time.
    :param removed: ideas leaving follow-up at each time (events, competing events and
        censorings together).
    :param horizons: the times to report; an estimate exists while someone is still at risk
        at the horizon (the curve is not defined past the last follow-up).
    :return: one ``Incidence`` per horizon.
    """
    import numpy as np  # imported on use: a web worker that draws no curve does without it

    t = np.asarray(times, dtype=float)
    if len(t) == 0:
        return [Incidence(None, None, None, 0) for _ in horizons]
    d1 = np.asarray(events, dtype=float)
    d = d1 + np.asarray(competing, dtype=float)
    out = np.asarray(removed, dtype=float)
    total = out.sum()
    at_risk = total - np.concatenate(([0.0], np.cumsum(out)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, d / at_risk, 0.0)
        survival = np.cumprod(1 - hazard)
        lag_survival = np.concatenate(([1.0], survival[:-1]))
        increments = np.where(at_risk > 0, lag_survival * d1 / at_risk, 0.0)
        incidence = np.cumsum(increments)
        # Greenwood-like terms; a time where every idea at risk has an event ends the curve.
        greenwood = np.where(at_risk > d, d / (at_risk * (at_risk - d)), 0.0)
        own = np.where(at_risk > 0, lag_survival**2 * d1 * (at_risk - d1) / at_risk**3, 0.0)
        cross = np.where(at_risk > 0, lag_survival * d1 / at_risk**2, 0.0)
    results = []
    for horizon in horizons:
        risk_now = int(total - out[t < horizon].sum())
        upto = int(np.searchsorted(t, horizon, side="right"))
        if risk_now <= 0 or total <= 0:
            results.append(Incidence(None, None, None, max(risk_now, 0)))
            continue
        value = float(incidence[upto - 1]) if upto else 0.0
        gap = value - incidence[:upto]
        variance = float(
            np.sum(gap**2 * greenwood[:upto]) + np.sum(own[:upto]) - 2 * np.sum(gap * cross[:upto])
        )
        low, high = _log_log_interval(value, variance, z)
        results.append(Incidence(value, low, high, risk_now))
    return results


def _log_log_interval(value: float, variance: float, z: float) -> tuple[float | None, float | None]:
    """exp(−exp(log(−log F) ± z·SE(F)/(F·|log F|))); none at F = 0 or 1."""
    if not 0 < value < 1 or variance <= 0:
        return None, None
    log_f = math.log(value)
    centre = math.log(-log_f)
    se = math.sqrt(variance) / (value * abs(log_f))
    return math.exp(-math.exp(centre + z * se)), math.exp(-math.exp(centre - z * se))
