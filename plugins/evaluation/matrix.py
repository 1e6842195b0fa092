"""The city's scoring matrix from ``[plugins.evaluation]``: criteria with weights, checked strictly."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from innoplat.core.models import localized

KEYS = ("criteria", "scale")
DEFAULT_SCALE = (1, 5)
REQUIRED_LOCALES = ("sv", "en")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass(frozen=True)
class Criterion:
    key: str
    weight: float
    name: dict[str, str]

    def label(self, locale: str | None = None, default_locale: str = "sv") -> str:
        """Its name by the platform's one rule for texts by language (``localized``)."""
        return localized(self.name, locale, default_locale) or self.key


@dataclass(frozen=True)
class Matrix:
    criteria: tuple[Criterion, ...]
    low: int = DEFAULT_SCALE[0]
    high: int = DEFAULT_SCALE[1]

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)


def problems(settings: dict[str, Any]) -> list[str]:
    """Every problem with the settings, each naming its key (weights must sum to 1, keys unique…)."""
    found = [
        f"{key}: unknown setting (known: {', '.join(KEYS)})" for key in settings if key not in KEYS
    ]
    scale = settings.get("scale", list(DEFAULT_SCALE))
    if (
        not isinstance(scale, list)
        or len(scale) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
        or scale[0] >= scale[1]
    ):
        found.append(
            f"scale: expected [lowest, highest] whole numbers, e.g. [1, 5] (got {scale!r})"
        )
    criteria = settings.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        found.append("criteria: expected a list of {key, weight, name} tables (at least one)")
        return found
    seen: set[str] = set()
    total = 0.0
    for i, criterion in enumerate(criteria):
        where = f"criteria[{i}]"
        if not isinstance(criterion, dict):
            found.append(f"{where}: expected a table with key, weight and name")
            continue
        extra = sorted(set(criterion) - {"key", "weight", "name"})
        if extra:
            found.append(f"{where}.{extra[0]}: unknown field (known: key, weight, name)")
        key = criterion.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            found.append(f"{where}.key: expected lower-case letters, digits and _ (got {key!r})")
        elif key in seen:
            found.append(f"{where}.key: {key!r} is used twice; keys must be unique")
        else:
            seen.add(key)
        weight = criterion.get("weight")
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= 1:
            found.append(f"{where}.weight: expected a number between 0 and 1 (got {weight!r})")
        else:
            total += float(weight)
        name = criterion.get("name")
        if not isinstance(name, dict):
            found.append(
                f'{where}.name: expected a table of names by language, e.g. {{ sv = "…", en = "…" }}'
            )
        else:
            for locale in REQUIRED_LOCALES:
                if not isinstance(name.get(locale), str) or not name[locale].strip():
                    found.append(
                        f"{where}.name.{locale}: missing; every criterion needs a name in sv and en"
                    )
    if not any(p.startswith("criteria[") and ".weight" in p for p in found) and not math.isclose(
        total, 1.0, abs_tol=1e-6
    ):
        found.append(f"criteria: the weights sum to {total:g}; they must sum to 1")
    return found


def matrix(settings: dict[str, Any]) -> Matrix:
    """The matrix of settings that passed ``problems`` (the plugin manager checks at start)."""
    low, high = settings.get("scale", list(DEFAULT_SCALE))
    return Matrix(
        criteria=tuple(
            Criterion(key=c["key"], weight=float(c["weight"]), name=dict(c["name"]))
            for c in settings["criteria"]
        ),
        low=low,
        high=high,
    )
