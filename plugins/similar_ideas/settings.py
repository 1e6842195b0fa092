"""``[plugins.similar_ideas]`` in city.toml: how many ideas to index and show, when to hint a duplicate."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from innoplat.core import toolkit

from .similarity import DEFAULT_CANDIDATES, DEFAULT_DUPLICATE_THRESHOLD, DEFAULT_LIMIT

PLUGIN = "similar_ideas"
DEFAULTS: dict[str, Any] = {
    "candidates": DEFAULT_CANDIDATES,
    "limit": DEFAULT_LIMIT,
    "duplicate_threshold": DEFAULT_DUPLICATE_THRESHOLD,
    "include_peers": True,
}


def problems(settings: dict[str, Any]) -> list[str]:
    found = [
        f"{key}: unknown setting (known: {', '.join(DEFAULTS)})"
        for key in settings
        if key not in DEFAULTS
    ]
    candidates = settings.get("candidates", DEFAULT_CANDIDATES)
    if (
        not isinstance(candidates, int)
        or isinstance(candidates, bool)
        or not 10 <= candidates <= 100_000
    ):
        found.append(f"candidates: expected a whole number from 10 to 100000 (got {candidates!r})")
    limit = settings.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 20:
        found.append(f"limit: expected a whole number from 1 to 20 (got {limit!r})")
    threshold = settings.get("duplicate_threshold", DEFAULT_DUPLICATE_THRESHOLD)
    if (
        not isinstance(threshold, int | float)
        or isinstance(threshold, bool)
        or not 0 < threshold <= 1
    ):
        found.append(
            f"duplicate_threshold: expected a number above 0 and at most 1 (got {threshold!r})"
        )
    if not isinstance(settings.get("include_peers", True), bool):
        found.append("include_peers: expected true or false")
    return found


def current() -> dict[str, Any]:
    """The running city's settings with defaults filled in (defaults outside an app)."""
    if not has_app_context() or "innoplat" not in current_app.extensions:
        return dict(DEFAULTS)
    return {**DEFAULTS, **toolkit.settings(PLUGIN)}
