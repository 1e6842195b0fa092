"""Comparing methods across cities on the web: the /compare page, its chart and CSV, and the JSON API.

``/compare`` is a GET form (works without JavaScript): pick cities, methods and a metric; the
page shows a chart drawn server-side by pygal as SVG (served from ``/compare/chart.svg``, no
script), with the same figures in an accessible table beside it and a CSV download.
The same selection as JSON is ``/api/v1/compare`` (in :mod:`innoplat.core.web.api.comparison`).
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    Flask,
    Response,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, format_percent, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..models import City, Idea, Method
from ..services import cities as city_service
from ..services import comparison
from ..services.comparison import Comparison, Metric, Row, rows_as_csv
from . import auth, city_texts
from .current import platform
from .languages import current_locale

if TYPE_CHECKING:  # pygal is imported on use: a worker that draws no chart does without it
    import pygal
    from pygal.style import Style

blueprint = Blueprint("compare", __name__)

DEFAULT_METRIC = "implementation_share"
#: Series colours for the chart, each at least 3:1 against white (WCAG 1.4.11).
CHART_COLOURS = ("#0b5a8a", "#a3361a", "#2e6b30", "#6b3fa0", "#8a5a00", "#4a4a4a", "#00707a")
#: The chart is its own document with pygal's inline style sheet, and no script at all.
SCRIPT = re.compile(r"<script\b[^>]*?(/>|>.*?</script>)", re.DOTALL)
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.context_processor(lambda: {"method_across_cities": _method_across_cities})


def _listed(name: str) -> list[str] | None:
    """Values of a repeated or comma-separated query parameter; None when absent (all)."""
    found = [
        v.strip() for value in request.args.getlist(name) for v in value.split(",") if v.strip()
    ]
    return found or None


def _selection(default_metric: str | None = DEFAULT_METRIC) -> dict[str, Any]:
    metrics = _listed("metric")
    return {
        "cities": _listed("cities"),
        "methods": _listed("methods"),
        "since": request.args.get("since", "").strip() or None,
        "metrics": metrics
        if metrics is not None
        else ([default_metric] if default_metric else None),
        # Asked for by ticking "staff view"; granted to the city's signed-in staff only.
        "staff_view": request.args.get("internal") == "1" and auth.is_staff(),
    }


def _staff_of(session: Session, selection: dict[str, Any]) -> City | None:
    """The city whose internal ideas and staff metrics count: only in its own staff's view."""
    return platform().city_row(session) if selection["staff_view"] else None


def _query_args(selection: dict[str, Any], **override: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "cities": selection["cities"] or [],
        "methods": selection["methods"] or [],
        "metric": selection["metrics"] or [],
    }
    if selection["since"]:
        args["since"] = selection["since"]
    if selection["staff_view"]:
        args["internal"] = "1"
    args.update(override)
    return {k: v for k, v in args.items() if v not in (None, [], "")}


def _method_labels(session: Session, keys: list[str], locale: str) -> dict[str, str]:
    methods = session.scalars(select(Method).where(Method.key.in_(keys), Method.city_id.is_(None)))
    default = platform().city.config.default_locale
    labels = {m.key: m.label(locale, default) for m in methods}
    return {key: labels.get(key, key) for key in keys}


def figure(value: Any, unit: str) -> str:
    """A figure as a reader of this language expects it."""
    if value is None:
        return "–"
    if unit == "share":
        return format_percent(
            value
        )  # the language's own pattern: "22 %" in Swedish, "22%" in English
    if unit in ("ideas", "days"):
        return format_decimal(value, format="#,##0")
    return format_decimal(value, format="#,##0.00")


def interval(row: Row, unit: str) -> str:
    if row["low"] is None or row["high"] is None:
        return ""
    return f"{figure(row['low'], unit)}–{figure(row['high'], unit)}"


def _unit_label(unit: str) -> str:
    return {
        "share": gettext("share of ideas"),
        "ratio": gettext("ratio"),
        "days": gettext("days"),
        "ideas": gettext("ideas"),
        "kinds": gettext("organisation kinds"),
    }.get(unit, unit)


def chart_style() -> Style:
    """The charts' look: the site's colours and fonts, dark text that meets AA contrast on white."""
    from pygal.style import Style

    return Style(
        colors=CHART_COLOURS,
        background="white",
        plot_background="white",
        foreground="#1a1a1a",
        foreground_strong="#1a1a1a",
        foreground_subtle="#595959",
        font_family="system-ui, sans-serif",
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=14,
        title_font_size=16,
    )


def drawn(chart: Any) -> str:
    """The chart's SVG document, without the configuration script pygal always writes."""
    return SCRIPT.sub("", chart.render(is_unicode=True))


def data_uri(chart: Any) -> str:
    """The chart as an image inside the page, drawn from the figures the page computed.

    The page then needs no second request, and no second computation, per chart; as an
    image it runs no script.
    """
    return "data:image/svg+xml;base64," + base64.b64encode(drawn(chart).encode()).decode()


#: The method's name heads its group of bars (pygal's "major" labels), in bold.
HEADING_CSS = "inline:.axis.y text.major { font-weight: bold }"


def _legend_columns(legend: list[str], labels: list[str], width: int = 900) -> int:
    """As many legend columns as fit under the plot without names running into each other.

    pygal puts the legend under the plot, which starts right of the longest label; a
    character takes about 8 px at the charts' font sizes, a legend box and gap about 40 px.
    """
    plot = width - 8 * max(map(len, labels), default=0) - 60
    column = 40 + 8 * max(map(len, legend), default=1)
    return max(1, min(len(legend), plot // column))


def _chart(
    result: Comparison, metric: Metric, methods: dict[str, str], cities: dict[str, str]
) -> pygal.HorizontalStackedBar:
    """A group per method, headed by its name: a bar per city that has a figure, whiskers
    for the 95 % interval; a city without a figure for a method has no bar there and leaves
    no empty slot (the table beside says "–").

    Drawn as a stacked chart in which each row holds one city's value only: every bar has
    its own row, coloured by its city (the legend), so no row is kept for a missing city as
    in grouped bars. Bars resting on a small sample are drawn pale and dashed; the table
    marks them too.
    """
    import pygal

    rows = {
        (r["city"], r["method"]): r
        for r in result.rows
        if r["metric"] == metric.key and r["value"] is not None
    }
    groups = [(m, [c for c in cities if (c, m) in rows]) for m in methods]
    groups = [(m, shown) for m, shown in groups if shown]
    # Top to bottom: a method's name, then its cities. pygal draws the first label lowest.
    lines: list[tuple[str, str | None]] = []
    for method, shown in groups:
        lines += [(method, None), *((method, c) for c in shown)]
    lines.reverse()
    highs = [r["high"] if r["high"] is not None else r["value"] for r in rows.values()]
    legend = [name for slug, name in cities.items() if any(c == slug for _m, c in lines)]
    chart_labels = [methods[m] if c is None else cities[c] for m, c in lines]
    columns = _legend_columns(legend, chart_labels)
    # Horizontal bars: method names are long, and read best on the left, unrotated.
    chart = pygal.HorizontalStackedBar(
        style=chart_style(),
        js=[],  # no script: the page's CSP allows none, and the table carries the figures
        css=[*pygal.Config().css, HEADING_CSS],
        width=900,
        height=max(260, 110 + 26 * len(lines) + 22 * -(-len(legend) // columns)),
        truncate_label=-1,
        truncate_legend=-1,
        legend_at_bottom=True,
        legend_at_bottom_columns=columns,
        show_y_guides=True,
        range=(0, max(highs) * 1.08) if highs and max(highs) > 0 else None,
        value_formatter=lambda v: figure(v, metric.unit),
        # No title: the page's heading above the picture already names the metric.
        x_title=_unit_label(metric.unit),
        print_values=False,
    )
    chart.x_labels = chart_labels
    chart.x_labels_major = [methods[m] for m, _shown in groups]
    for slug, name in cities.items():
        if name not in legend:
            continue  # a city without figures would only add an empty legend entry
        values: list[Any] = []
        for method, city in lines:
            if city != slug:
                values.append(None)
                continue
            row = rows[(slug, method)]
            value: dict[str, Any] = {"value": row["value"]}
            if row["low"] is not None and row["high"] is not None:
                value["ci"] = {"low": row["low"], "high": row["high"]}
            if row["small_sample"]:
                value["style"] = "fill-opacity: 0.35; stroke-dasharray: 4 3; stroke-width: 2"
            values.append(value)
        chart.add(name, values)
    return chart


def _compare(session: Session, selection: dict[str, Any]) -> Comparison:
    """The comparison a selection asks for: the page, its chart, its CSV and the API share it."""
    return comparison.compare(
        session,
        cities=selection["cities"],
        methods=selection["methods"],
        since=selection["since"],
        metrics=selection["metrics"],
        staff_of=_staff_of(session, selection),
    )


def _page_context(session: Session, selection: dict[str, Any]) -> dict[str, Any]:
    locale = current_locale()
    all_cities = city_service.list_cities(session)
    available = comparison.available_metrics(session, staff=selection["staff_view"])
    catalogue = sorted(
        session.scalars(select(Method).where(Method.city_id.is_(None))),
        key=lambda m: m.label(locale, platform().city.config.default_locale).lower(),
    )
    context: dict[str, Any] = {
        "all_cities": all_cities,
        "catalogue": catalogue,
        "available_metrics": available,
        "selected_cities": set(selection["cities"] or []),
        "selected_methods": set(selection["methods"] or []),
        "selected_metric": (selection["metrics"] or [DEFAULT_METRIC])[0],
        "since": selection["since"] or "",
        "staff_view": selection["staff_view"],
        "may_see_staff_view": auth.is_staff(),
        "error": None,
        "result": None,
    }
    try:
        result = _compare(session, selection)
    except ValidationError as exc:
        context["error"] = exc
        return context
    cities = {c.slug: c.label(locale) for c in result.cities}  # plain text, for the charts
    named = {c.slug: city_texts.name(c) for c in result.cities}  # marked when it fell back
    method_keys = sorted({r["method"] for r in result.rows})
    methods = _method_labels(session, method_keys, locale)
    methods = dict(sorted(methods.items(), key=lambda kv: kv[1].lower()))
    tables = []
    for metric in result.metrics:
        rows = {(r["method"], r["city"]): r for r in result.rows if r["metric"] == metric.key}
        shown_cities = {s: named[s] for s in cities if any(c == s for _m, c in rows)}
        tables.append(
            {
                "metric": metric,
                "cities": shown_cities,
                "methods": {k: v for k, v in methods.items() if any(m == k for m, _c in rows)},
                "rows": rows,
                "chart": data_uri(_chart(result, metric, methods, cities)),
            }
        )
    context.update(
        result=result,
        tables=tables,
        peers=[c for c in result.cities if c.is_peer],
        synthetic=[city_texts.name(c) for c in _synthetic_cities(session, result.cities)],
        csv_url=url_for("compare.csv", **_query_args(selection)),
        csv_all_url=url_for("compare.csv", **_query_args(selection, metric=[])),
        json_url=url_for("api.compare", **_query_args(selection)),
    )
    return context


def _synthetic_cities(session: Session, cities: list[Any]) -> list[Any]:
    """The compared cities whose ideas include synthetic demo data: the page says so."""
    ids = {c.id for c in cities}
    found = set(
        session.scalars(
            select(Idea.city_id)
            .where(Idea.is_synthetic.is_(True), Idea.city_id.in_(ids))
            .distinct()
        )
    )
    return [c for c in cities if c.id in found]


@blueprint.get("/compare")
def page() -> Any:
    selection = _selection()
    with platform().transaction() as session:
        context = _page_context(session, selection)
        html = render_template(
            "compare/page.html",
            figure=figure,
            interval=interval,
            small_sample=comparison.SMALL_SAMPLE,
            unit_label=_unit_label,
            **context,
        )
    return html, 400 if context["error"] else 200


@blueprint.get("/compare/chart.svg")
def chart() -> Response:
    selection = _selection()
    locale = current_locale()
    with platform().transaction() as session:
        try:
            result = _compare(session, selection)
        except ValidationError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
        cities = {c.slug: c.label(locale) for c in result.cities}
        keys = sorted({r["method"] for r in result.rows})
        methods = dict(
            sorted(_method_labels(session, keys, locale).items(), key=lambda kv: kv[1].lower())
        )
    response = Response(
        drawn(_chart(result, result.metrics[0], methods, cities)), mimetype="image/svg+xml"
    )
    response.headers["Content-Security-Policy"] = CHART_POLICY
    return response


@blueprint.get("/compare.csv")
def csv() -> Response:
    selection = _selection(default_metric=None)
    with platform().transaction() as session:
        try:
            rows = _compare(session, selection).rows
        except ValidationError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
    response = Response(rows_as_csv(rows), mimetype="text/csv")
    # A staff view's file says so in its name: it must not be published as it is.
    name = "innoplat-comparison-staff-view" if selection["staff_view"] else "innoplat-comparison"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _method_across_cities(method_key: str) -> dict[str, Any]:
    """For the method page's partial: the method's figures in every city that applied it.

    The city's staff see its internal ideas counted, as on the rest of the method page.
    """
    locale = current_locale()
    with platform().transaction() as session:
        staff_of = platform().city_row(session) if auth.is_staff() else None
        found = comparison.method_across_cities(session, method_key, staff_of=staff_of)
        found["staff_view"] = staff_of is not None
        found["city_labels"] = {c.slug: c.label(locale) for c in found["cities"]}
        found["compare_url"] = url_for(
            "compare.page", methods=found["method"], metric=DEFAULT_METRIC
        )
    found["figure"] = figure
    found["interval"] = interval
    return found
