"""Evidence on the web: which methods go with implementation, allowing for time, strata and cities.

``/compare/evidence`` ranks the methods by their pooled risk ratio of implementation within 12
months, with intervals and heterogeneity, and says in plain words what such figures can and
cannot tell. ``/compare/evidence/<method>`` shows one method: a forest plot (each city's
adjusted ratio, the pooled diamond and the prediction interval) and each city's cumulative
incidence of implementation with and without the method, every chart drawn server-side by
pygal with an accessible table beside it. Public pages: public ideas only.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, request, url_for
from flask_babel import format_decimal, format_percent, gettext
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..services.evidence.analysis import (
    HORIZONS,
    Evidence,
    Row,
    evidence_as_csv,
    method_evidence,
)
from . import city_texts
from .compare import (
    CHART_POLICY,
    _listed,
    _method_labels,
    chart_style,
    data_uri,
    drawn,
    platform,
)
from .languages import current_locale

blueprint = Blueprint("evidence", __name__)

#: Ratios marked on the forest plot's (logarithmic) axis.
TICKS = (0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)


def ratio(value: float | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0.00")


def share(value: float | None) -> str:
    return "–" if value is None else format_percent(value)


def variance(value: float | None) -> str:
    """τ², on the log scale: three decimals, with the language's decimal separator."""
    return "–" if value is None else format_decimal(value, format="#,##0.000")


def count(value: int | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0")


def span(row: Row | None, fmt: Any, low: str = "low", high: str = "high") -> str:
    if row is None or row[low] is None or row[high] is None:
        return ""
    return f"{fmt(row[low])}–{fmt(row[high])}"


def _evidence(session: Session, methods: list[str] | None = None) -> Evidence:
    return method_evidence(
        session,
        cities=_listed("cities"),
        methods=methods if methods is not None else _listed("methods"),
        since=request.args.get("since", "").strip() or None,
        public_only=True,
    )


def _svg(chart: Any) -> Response:
    response = Response(drawn(chart), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_POLICY
    return response


def _ranking(found: Evidence) -> list[Row]:
    pooled = [r for r in found.rows if r["metric"] == "pooled_risk_ratio_12m"]
    return sorted(pooled, key=lambda r: (r["value"] is None, -(r["value"] or 0), r["method"]))


def _city_rows(found: Evidence, method: str) -> dict[str, dict[str, Row]]:
    table: dict[str, dict[str, Row]] = {}
    for row in found.rows:
        if row["method"] == method and row["city"] is not None:
            table.setdefault(row["city"], {})[row["metric"]] = row
    return table


@blueprint.get("/compare/evidence")
def overview() -> Any:
    locale = current_locale()
    with platform().transaction() as session:
        try:
            found = _evidence(session)
        except ValidationError as exc:
            return render_template("compare/evidence.html", error=exc, ranking=[]), 400
        ranking = _ranking(found)
        query: dict[str, Any] = request.args.to_dict(flat=False)
        labels = _method_labels(session, [r["method"] for r in ranking], locale)
        return render_template(
            "compare/evidence.html",
            error=None,
            found=found,
            ranking=ranking,
            labels=labels,
            cities=[city_texts.name(c) for c in found.cities],
            ratio=ratio,
            share=share,
            variance=variance,
            count=count,
            span=span,
            csv_url=url_for("evidence.csv", **query),
            json_url=url_for("api.evidence", **query),
        )


@blueprint.get("/compare/evidence.csv")
def csv() -> Response:
    with platform().transaction() as session:
        try:
            rows = _evidence(session).rows
        except ValidationError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
    response = Response(evidence_as_csv(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="innoplat-evidence.csv"'
    return response


def _one_method(session: Session, method: str) -> Evidence:
    try:
        found = _evidence(session, [method])
    except ValidationError:
        abort(404)
    if not found.rows:
        abort(404)
    return found


@blueprint.get("/compare/evidence/<method>")
def method_page(method: str) -> Any:
    locale = current_locale()
    with platform().transaction() as session:
        found = _one_method(session, method)
        key = found.rows[0]["method"]
        label = _method_labels(session, [key], locale)[key]
        names = {c.slug: city_texts.name(c) for c in found.cities}
        table = _city_rows(found, key)
        (pooled,) = [r for r in found.rows if r["metric"] == "pooled_risk_ratio_12m"]
        return render_template(
            "compare/evidence_method.html",
            method=key,
            label=label,
            names=names,
            table=table,
            pooled=pooled,
            horizons=list(HORIZONS),
            ratio=ratio,
            share=share,
            variance=variance,
            count=count,
            span=span,
            # The charts are drawn here from the one computation instead of being fetched,
            # and computed again, one request per chart (their own addresses remain).
            forest=data_uri(_forest_chart(found, {s: str(n) for s, n in names.items()})),
            incidences={slug: data_uri(_incidence_chart(m)) for slug, m in table.items()},
        )


def _forest_chart(found: Evidence, names: dict[str, str]) -> Any:
    """Each city's adjusted ratio with its interval, the pooled diamond, the prediction interval."""
    import pygal  # imported on use: a worker that draws no chart does without it

    key = found.rows[0]["method"]
    cities = [
        (slug, row)
        for slug, metrics in _city_rows(found, key).items()
        if (row := metrics.get("adjusted_risk_ratio_12m")) and row["value"]
    ]
    (pooled,) = [r for r in found.rows if r["metric"] == "pooled_risk_ratio_12m"]
    top = len(cities) + 2
    points: list[Any] = []
    estimates = []
    y_labels = []
    xs: list[float] = [0.0]
    for index, (slug, row) in enumerate(cities):
        y = top - index
        y_labels.append({"label": names.get(slug, slug), "value": y})
        estimates.append((math.log(row["value"]), y))
        xs.append(math.log(row["value"]))
        if row["low"] and row["high"]:
            points += [(math.log(row["low"]), y), (math.log(row["high"]), y), None]
            xs += [math.log(row["low"]), math.log(row["high"])]
    chart = pygal.XY(
        style=chart_style(),
        js=[],
        truncate_label=-1,  # the axis and legend labels are whole (pygal cuts them at 4-8 characters)
        truncate_legend=-1,
        width=760,
        height=140 + 44 * (len(cities) + 2),
        allow_interruptions=True,
        show_legend=True,
        legend_at_bottom=True,
        title=gettext("Risk ratio of implementation within 12 months"),
        x_title=gettext("risk ratio (logarithmic scale); right of 1: more often implemented"),
        show_y_guides=False,
        dots_size=4,
        value_formatter=lambda v: ratio(math.exp(v)) if isinstance(v, float) else str(v),
    )
    chart.add(gettext("Cities: interval (95 %)"), points, dots_size=2)
    chart.add(gettext("Cities: adjusted ratio"), estimates, stroke=False, dots_size=5)
    if pooled["value"] is not None:
        centre, low, high = (math.log(pooled[k]) for k in ("value", "low", "high"))
        chart.add(
            gettext("Pooled (random effects): interval (95 %)"),
            [(low, 1), (centre, 1.3), (high, 1), (centre, 0.7), (low, 1)],
            dots_size=0,
        )
        pl, ph = math.log(pooled["prediction_low"]), math.log(pooled["prediction_high"])
        chart.add(
            gettext("Prediction interval for a further city"),
            [(pl, 0.3), (ph, 0.3)],
            stroke_style={"dasharray": "6, 4", "width": 2},
            dots_size=0,
        )
        xs += [low, high, pl, ph]
        y_labels.append({"label": gettext("Pooled"), "value": 1})
    chart.add(
        gettext("No difference (ratio 1)"),
        [(0.0, 0.0), (0.0, top + 0.5)],
        stroke_style={"dasharray": "2, 3", "width": 1},
        dots_size=0,
    )
    span_x = (min(xs) - 0.15, max(xs) + 0.15)
    chart.xrange = span_x
    chart.range = (0.0, top + 0.5)
    chart.x_labels = [
        {"label": ratio(t), "value": math.log(t)}
        for t in TICKS
        if span_x[0] <= math.log(t) <= span_x[1]
    ]
    chart.y_labels = y_labels
    return chart


@blueprint.get("/compare/evidence/<method>/forest.svg")
def forest(method: str) -> Response:
    """The forest plot alone (the method's page shows it beside its table)."""
    locale = current_locale()
    with platform().transaction() as session:
        found = _one_method(session, method)
        names = {c.slug: c.label(locale) for c in found.cities}
    return _svg(_forest_chart(found, names))


def _incidence_chart(metrics: dict[str, Row]) -> Any:
    """One city's cumulative incidence of implementation, with and without the method."""
    import pygal  # imported on use: a worker that draws no chart does without it

    chart = pygal.XY(
        style=chart_style(),
        js=[],
        truncate_label=-1,  # the axis and legend labels are whole (pygal cuts them at 4-8 characters)
        truncate_legend=-1,
        width=560,
        height=360,
        allow_interruptions=True,
        legend_at_bottom=True,
        title=gettext("Cumulative incidence of implementation"),
        x_title=gettext("months since submission"),
        range=(0, 1),
        xrange=(0, 24),
        value_formatter=lambda v: share(v),
        x_value_formatter=lambda v: format_decimal(v, format="#,##0"),
    )
    for suffix, title in (
        ("", gettext("With the method")),
        ("_without", gettext("Without the method")),
    ):
        values: list[Any] = [(0, 0.0)]
        for months in HORIZONS:
            row = metrics.get(f"incidence_{months}m{suffix}")
            values.append((months, row["value"]) if row and row["value"] is not None else None)
        chart.add(title, values)
    chart.x_labels = [0, *HORIZONS]
    chart.y_labels = [0, 0.25, 0.5, 0.75, 1]
    return chart


@blueprint.get("/compare/evidence/<method>/incidence.svg")
def incidence(method: str) -> Response:
    """One city's curves alone (the method's page shows them beside their tables)."""
    city = request.args.get("city", "").strip()
    with platform().transaction() as session:
        found = _one_method(session, method)
    metrics = _city_rows(found, found.rows[0]["method"]).get(city)
    if metrics is None:
        abort(404)
    return _svg(_incidence_chart(metrics))
