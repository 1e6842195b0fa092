"""The Mantel–Haenszel risk ratio over strata, with the Greenland–Robins variance.

Each stratum is (a, n1, c, n0): a of n1 ideas *with* the method reached the outcome, c of n0
ideas *without* it. With N = n1 + n0 per stratum::

    RR_MH = Σ a·n0/N ÷ Σ c·n1/N
    Var(ln RR_MH) = Σ (n1·n0·(a + c) − a·c·N)/N² ÷ (Σ a·n0/N · Σ c·n1/N)

(Greenland & Robins, *Biometrics* 41, 1985; Rothman, Greenland & Lash, *Modern Epidemiology*,
3rd ed., eq. 15-16). A stratum where either group is empty adds nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Z95 = 1.959963984540054


def mantel_haenszel_risk_ratio(
    strata: Iterable[tuple[int, int, int, int]], z: float = Z95
) -> tuple[float | None, float | None, float | None, float | None]:
    """(RR, low, high, Var(ln RR)) over strata of (a, n1, c, n0).

    RR is 0 when no idea with the method reached the outcome (then no interval), and None when
    no idea without it did (the ratio is infinite) or no stratum has both groups.
    """
    numerator = denominator = covariance = 0.0
    for a, n1, c, n0 in strata:
        total = n1 + n0
        if n1 <= 0 or n0 <= 0:
            continue
        numerator += a * n0 / total
        denominator += c * n1 / total
        covariance += (n1 * n0 * (a + c) - a * c * total) / (total * total)
    if denominator <= 0:
        return None, None, None, None
    ratio = numerator / denominator
    if numerator <= 0:
        return ratio, None, None, None
    variance = covariance / (numerator * denominator)
    se = math.sqrt(max(variance, 0.0))
    return ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se), variance
