"""Random-effects meta-analysis of per-city log risk ratios.

* τ² by Paule–Mandel: the τ² ≥ 0 at which the generalised Q statistic
  Σ wᵢ(yᵢ − μ)², wᵢ = 1/(vᵢ + τ²), equals k − 1 (0 when Q at τ² = 0 is already below).
* The pooled effect μ = Σ wᵢyᵢ/Σ wᵢ with the Hartung–Knapp(–Sidik–Jonkman) interval
  μ ∓ t₀.₉₇₅(k − 1)·√(Σ wᵢ(yᵢ − μ)² / ((k − 1)·Σ wᵢ)), which keeps its coverage with few
  studies (IntHout, Ioannidis & Borm, *BMC Med Res Methodol* 14:25, 2014).
* I² = max(0, (Q − (k − 1))/Q) with Cochran's Q of the fixed-effect weights 1/vᵢ.
* The 95 % prediction interval for a new city: μ ∓ t₀.₉₇₅(k − 2)·√(τ² + SE²), SE the
  Hartung–Knapp standard error (Higgins, Thompson & Spiegelhalter, *JRSS A* 172, 2009).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # NumPy and SciPy are imported on use: most of a web worker's memory
    import numpy as np

#: Methods applied in fewer cities than this are shown per city but not pooled.
MIN_CITIES = 3


@dataclass(frozen=True)
class Pooled:
    """A random-effects summary on the scale of the inputs (log risk ratios)."""

    k: int
    effect: float
    low: float
    high: float
    tau2: float
    i2: float
    prediction_low: float
    prediction_high: float


def paule_mandel_tau2(effects: np.ndarray, variances: np.ndarray) -> float:
    """The Paule–Mandel between-city variance τ²."""
    import numpy as np
    from scipy.optimize import brentq

    k = len(effects)

    def excess(tau2: float) -> float:
        w = 1 / (variances + tau2)
        mu = np.dot(w, effects) / w.sum()
        return float(np.dot(w, (effects - mu) ** 2)) - (k - 1)

    if excess(0.0) <= 0:
        return 0.0
    upper = max(float(np.var(effects)) * 2, 1e-8)
    while excess(upper) > 0:
        upper *= 2
    return float(brentq(excess, 0.0, upper, xtol=1e-14, rtol=1e-14, maxiter=500))


def random_effects(effects: Sequence[float], variances: Sequence[float]) -> Pooled | None:
    """Pool ``effects`` (log risk ratios) with their ``variances``; None below ``MIN_CITIES``."""
    import numpy as np
    from scipy.stats import t as student_t

    y = np.asarray(effects, dtype=float)
    v = np.asarray(variances, dtype=float)
    k = len(y)
    if k < MIN_CITIES:
        return None
    w_fixed = 1 / v
    mu_fixed = np.dot(w_fixed, y) / w_fixed.sum()
    q = float(np.dot(w_fixed, (y - mu_fixed) ** 2))
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    tau2 = paule_mandel_tau2(y, v)
    w = 1 / (v + tau2)
    mu = float(np.dot(w, y) / w.sum())
    var_hk = float(np.dot(w, (y - mu) ** 2) / ((k - 1) * w.sum()))
    half = float(student_t.ppf(0.975, k - 1)) * math.sqrt(var_hk)
    spread = float(student_t.ppf(0.975, k - 2)) * math.sqrt(tau2 + var_hk)
    return Pooled(k, mu, mu - half, mu + half, tau2, i2, mu - spread, mu + spread)
