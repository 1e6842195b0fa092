"""``/api/v1/compare`` and ``/api/v1/exchange``: comparing methods across cities, and this
city's exchange bundle, in the JSON API (same errors, ETags and OpenAPI document as the rest).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...services import comparison, exchange
from ...services.comparison import ROW_KEYS
from ..compare import _compare, _selection
from ..federation import exchange_response
from ..languages import current_locale
from .blueprint import Arguments, blueprint, platform

#: ``cities``, ``methods`` and ``metric`` may be repeated or comma-separated.
COMPARE_PARAMETERS = ("cities", "methods", "metric", "since")


@blueprint.get("/compare")
def compare() -> Any:
    """How each method fared in each city: the tidy rows, with what the comparison covered."""
    Arguments(COMPARE_PARAMETERS)
    # The same selection as the /compare page, never its staff view: the API is public.
    selection = {**_selection(default_metric=None), "staff_view": False}
    locale = current_locale()
    with platform().transaction() as session:
        result = _compare(session, selection)
        return jsonify(
            {
                "cities": [
                    {"slug": c.slug, "name": c.label(locale), "peer": c.is_peer}
                    for c in result.cities
                ],
                "metrics": [
                    {
                        "key": m.key,
                        "label": m.label_for(locale),
                        "unit": m.unit,
                        "description": m.description_for(locale),
                    }
                    for m in result.metrics
                ],
                "small_sample_below": comparison.SMALL_SAMPLE,
                "rows": [{k: r[k] for k in ROW_KEYS} for r in result.rows],
            }
        )


@blueprint.get("/exchange")
def exchange_bundle() -> Response:
    """This city's signed exchange bundle (public ideas only, no personal data): docs/exchange.md.

    Its ETag and Last-Modified come from the bundle's version (see ``web.federation``);
    ``since`` asks for a partial bundle, only what changed since then.
    """
    args = Arguments(("since",))
    since = args.text("since", maximum=64)
    return exchange_response(exchange.parse_since(since) if since else None)
