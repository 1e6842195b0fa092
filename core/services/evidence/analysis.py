"""Time to implementation, adjusted and pooled effects per city and method: the evidence table.

``method_evidence`` returns a tidy table, one dict per city × method × figure with exactly the
keys of ``EVIDENCE_KEYS``. Every count comes from two SQL statements of aggregates over the
per-idea facts (``facts.py``), grouped per (city, method, submission year, day) for the
cumulative incidence and per (city, method, year, focus area) for the stratified risk ratio,
kept per city and submission year until the facts of that year change; Python only adds up
those groups.

Definitions (docs/comparing.md, "Evidence", explains them for readers):

* Follow-up starts at submission and is counted in whole days. It ends at the first
  transition into implemented or scaled (the event), at the first transition into closed
  (the competing event) or, for ideas still open, at the data's date: for the instance's own
  city the start of the current day (UTC) unless asked for another moment, so that the
  figures stay the same all day and can be kept; the bundle's export date for a peer.
* Six, 12 and 24 months are 183, 365 and 730 days.
* The risk ratio within 12 months compares ideas with at least 365 days of follow-up; the
  outcome is implementation within 365 days. Strata: submission year × the idea's first focus
  area in the city's order (ideas without one form a stratum of their own).
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, case, func, literal, or_, select, text, true, union_all
from sqlalchemy.orm import Session

from ...models import City, IdeaFact, IdeaMethodFact, Method, utcnow
from .. import facts
from ..comparison import _cities, _method_keys, _since, risk_ratio
from ..spreadsheets import SafeDictWriter
from ..sqltime import whole_days
from ..visibility import visible_ideas
from .meta import random_effects
from .stratified import mantel_haenszel_risk_ratio
from .survival import cumulative_incidence

if TYPE_CHECKING:
    import numpy as np

#: Months reported for the cumulative incidence, and the whole days they stand for.
HORIZONS = {6: 183, 12: 365, 24: 730}
#: Follow-up needed for, and the window of, the risk ratio of implementation.
RISK_WINDOW_DAYS = 365
#: The keys of every row, in the order CSV columns are written.
EVIDENCE_KEYS = (
    "city",
    "method",
    "metric",
    "value",
    "low",
    "high",
    "n",
    "at_risk",
    "tau2",
    "i2",
    "prediction_low",
    "prediction_high",
)
#: The figures, in the order rows come.
EVIDENCE_METRICS = (
    *(f"incidence_{m}m" for m in HORIZONS),
    *(f"incidence_{m}m_without" for m in HORIZONS),
    "crude_risk_ratio_12m",
    "adjusted_risk_ratio_12m",
    "pooled_risk_ratio_12m",
)

Row = dict[str, Any]


@dataclass
class Evidence:
    """What an evidence table covered, for pages and commands that label it."""

    cities: list[City]
    methods: list[str]
    as_of: datetime
    rows: list[Row]


def start_of_today() -> datetime:
    """The default data's date of the instance's own city: today, 00:00 UTC (naive, as stored)."""
    return datetime.combine(utcnow().date(), datetime.min.time())


def data_date(city: City, as_of: datetime) -> datetime:
    """Where open ideas' follow-up ends: the bundle's export for a peer, else ``as_of``."""
    if city.is_peer:
        return city.peer_exported_at or city.synced_at
    return as_of


def _statements(
    cities: list[City],
    method_keys: list[str] | None,
    since: datetime | None,
    as_of: datetime,
    public_only: bool,
    years: dict[int, list[int]] | None = None,
) -> tuple[Any, Any]:
    """The two statements of counts: per (city, method, submission year, day) for the curves,
    per (city, method, year, focus area) for the strata.

    :param years: per city id, the submission years to count (None: every year).
    """
    visible = visible_ideas() if public_only else true()

    def followed_up(table: facts.Facts, city: City, *columns: Any) -> Any:
        """Per idea (and method) of one city: how its follow-up ended, on which day, and its
        stratum. One city at a time, so its data's date is a constant of the statement."""
        censor_at = literal(data_date(city, as_of))
        implemented = and_(
            table.implemented_at <= censor_at,
            or_(table.closed_at.is_(None), table.implemented_at <= table.closed_at),
        )
        closed = table.closed_at <= censor_at
        followed = whole_days(censor_at, table.submitted_at)
        query = select(
            table.city_id,
            *columns,
            case((implemented, 1), (closed, 2), else_=0).label("kind"),
            case(
                (implemented, table.implemented_day), (closed, table.closed_day), else_=followed
            ).label("day"),
            followed.label("followed"),
            table.year,
            table.focus,
        ).where(*facts.scope(table, [city.id], visible, since), table.submitted_at <= censor_at)
        if years is not None:
            query = query.where(table.year.in_(years[city.id]))
        if method_keys is not None and table is IdeaMethodFact:
            query = query.where(IdeaMethodFact.method.in_(method_keys))
        return query

    no_method = literal(None, type_=Method.shared_key.type).label("method")
    with_method = union_all(
        *(followed_up(IdeaMethodFact, c, IdeaMethodFact.method) for c in cities)
    ).subquery("with_method")
    everyone = union_all(*(followed_up(IdeaFact, c, no_method) for c in cities)).subquery(
        "everyone"
    )

    # Past the last horizon only the number at risk matters: those days fold into one.
    last = max(HORIZONS.values())

    def curve(per_idea: Any) -> Any:
        day = case((per_idea.c.day > last, last + 1), else_=per_idea.c.day)
        event = case((and_(per_idea.c.kind == 1, per_idea.c.day <= last), 1), else_=0)
        competing = case((and_(per_idea.c.kind == 2, per_idea.c.day <= last), 1), else_=0)
        return select(
            per_idea.c.city_id,
            per_idea.c.method,
            per_idea.c.year,
            day.label("day"),
            func.sum(event).label("events"),
            func.sum(competing).label("competing"),
            func.count().label("removed"),
        ).group_by(per_idea.c.city_id, per_idea.c.method, per_idea.c.year, day)

    def strata(per_idea: Any) -> Any:
        window = per_idea.c.followed >= RISK_WINDOW_DAYS
        within = case((and_(per_idea.c.kind == 1, per_idea.c.day <= RISK_WINDOW_DAYS), 1), else_=0)
        return (
            select(
                per_idea.c.city_id,
                per_idea.c.method,
                per_idea.c.year,
                per_idea.c.focus,
                func.count().label("n"),
                func.sum(within).label("k"),
            )
            .where(window)
            .group_by(per_idea.c.city_id, per_idea.c.method, per_idea.c.year, per_idea.c.focus)
        )

    curves = union_all(curve(with_method), curve(everyone))
    stratified = union_all(strata(with_method), strata(everyone))
    return curves, stratified


def _row(city: str | None, method: str, metric: str, **figures: Any) -> Row:
    row: Row = dict.fromkeys(EVIDENCE_KEYS)
    row.update(city=city, method=method, metric=metric, **figures)
    return row


def method_evidence(
    session: Session,
    cities: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    since: date | datetime | str | None = None,
    as_of: datetime | None = None,
    public_only: bool = False,
) -> Evidence:
    """Cumulative incidence, crude and adjusted risk ratios per city, pooled per method.

    :param cities: city slugs (peers included); None takes every city in the database.
    :param methods: shared method keys (a local key counts as its shared key); None: all.
    :param since: only ideas submitted on or after this date.
    :param as_of: the data's date for the instance's own cities (default: the start of
        today, UTC; ideas submitted later are left out until tomorrow).
    :param public_only: count public ideas only (for figures shown to the public).
    :return: rows with the keys of ``EVIDENCE_KEYS``: per city and method the metrics
        ``incidence_6m`` … ``incidence_24m`` (with the method) and ``…_without`` (the city's
        other ideas), ``crude_risk_ratio_12m`` and ``adjusted_risk_ratio_12m``; then per
        method one ``pooled_risk_ratio_12m`` row with ``city`` None.
    """
    chosen = _cities(session, cities)
    method_keys = _method_keys(session, methods)
    start = _since(since)
    moment = as_of or start_of_today()
    if not chosen:
        return Evidence([], method_keys or [], moment, [])

    # Each city's counts depend on its own facts, its data's date and these parameters
    # alone, and add up over the submission years: kept per city and year until the facts
    # of that year change (``facts.per_city_year``); the instance's own city's data's date
    # is the start of the day, so its counts serve the whole day too.
    years_of = facts.years_of(session, [c.id for c in chosen])
    parameters = ("evidence per year", None if method_keys is None else tuple(method_keys), start)
    parts: dict[facts.Part, Hashable | None] = {
        (c.id, year): (*parameters, public_only, data_date(c, moment))
        for c in chosen
        for year in years_of.get(c.id, [])
    }

    def compute(wanted: list[facts.Part]) -> dict[facts.Part, tuple[list[Any], list[Any]]]:
        """Per (city, year): the curves' counts per method (None: all the city's ideas) as
        columns — days, events, competing events, ideas leaving — and the strata's rows."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL jit = off"))
        years: dict[int, list[int]] = defaultdict(list)
        for city_id, year in wanted:
            years[city_id].append(cast(int, year))
        subset = [c for c in chosen if c.id in years]
        curves_sql, strata_sql = _statements(
            subset, method_keys, start, moment, public_only, dict(years)
        )
        columns: dict[facts.Part, dict[str | None, list[list[int]]]] = {p: {} for p in wanted}
        for city_id, method, year, day, events, competing, removed in session.execute(curves_sql):
            found = columns[(city_id, year)].setdefault(method, [[], [], [], []])
            for column, value in zip(found, (day, events, competing, removed), strict=True):
                column.append(int(value or 0))
        strata: dict[facts.Part, list[Any]] = {p: [] for p in wanted}
        for row in session.execute(strata_sql):
            strata[(row[0], row[2])].append(tuple(row))
        return {
            p: ([[method, *found] for method, found in columns[p].items()], strata[p])
            for p in wanted
        }

    counted = facts.per_city_year(session, parts, compute)

    # Per city (and method) and day: events, competing events, ideas leaving follow-up, as
    # dense arrays over the days (follow-up past the last horizon folds into one day), added
    # up over the submission years.
    import numpy  # imported on use: a web worker that shows no evidence does without it

    curves = [(p[0], c) for p in parts for c in counted[p][0]]
    offset = min((day for _city, curve in curves for day in curve[1] if day < 0), default=0)
    width = max(HORIZONS.values()) + 2 - offset

    def empty() -> np.ndarray:
        return numpy.zeros((3, width), dtype=numpy.int64)

    with_curve: dict[tuple[int, str], np.ndarray] = defaultdict(empty)
    all_curve: dict[int, np.ndarray] = defaultdict(empty)
    for city_id, (method, days, events, competing, removed) in curves:
        counts = all_curve[city_id] if method is None else with_curve[(city_id, method)]
        at = numpy.asarray(days, dtype=numpy.int64) - offset
        for i, column in enumerate((events, competing, removed)):
            numpy.add.at(counts[i], at, numpy.asarray(column, dtype=numpy.int64))
    with_strata: dict[tuple[int, str], dict[tuple[int, int], tuple[int, int]]] = defaultdict(dict)
    all_strata: dict[int, dict[tuple[int, int], tuple[int, int]]] = defaultdict(dict)
    for city_id, method, year, focus, n, k in (r for part in parts for r in counted[part][1]):
        key = (int(year), int(focus))
        if method is None:
            all_strata[city_id][key] = (int(n), int(k or 0))
        else:
            with_strata[(city_id, method)][key] = (int(n), int(k or 0))

    rows: list[Row] = []
    per_method: dict[str, list[tuple[float, float]]] = defaultdict(list)
    cities_of: dict[str, int] = defaultdict(int)
    for city in chosen:
        for method in sorted(m for c, m in with_curve if c == city.id):
            rows += _incidence_rows(
                city.slug, method, with_curve[(city.id, method)], all_curve[city.id], offset
            )
            adjusted = _risk_ratio_rows(
                city.slug, method, with_strata.get((city.id, method), {}), all_strata[city.id]
            )
            rows += adjusted[:2]
            cities_of[method] += 1
            if adjusted[2] is not None:
                per_method[method].append(adjusted[2])
    for method in sorted(cities_of):
        effects = [effect for effect, _variance in per_method[method]]
        variances = [variance for _effect, variance in per_method[method]]
        pooled = random_effects(effects, variances)
        if pooled is None:
            rows.append(_row(None, method, "pooled_risk_ratio_12m", n=len(per_method[method])))
            continue
        rows.append(
            _row(
                None,
                method,
                "pooled_risk_ratio_12m",
                value=math.exp(pooled.effect),
                low=math.exp(pooled.low),
                high=math.exp(pooled.high),
                n=pooled.k,
                tau2=pooled.tau2,
                i2=pooled.i2,
                prediction_low=math.exp(pooled.prediction_low),
                prediction_high=math.exp(pooled.prediction_high),
            )
        )
    present = sorted(cities_of)
    return Evidence(chosen, method_keys if method_keys is not None else present, moment, rows)


def _incidence_rows(
    city: str, method: str, mine: np.ndarray, everyone: np.ndarray, offset: int
) -> list[Row]:
    """The incidence with the method (``mine``) and among the city's other ideas.

    :param mine: events, competing events and ideas leaving follow-up per day, shape (3, days),
        day ``i`` standing for follow-up day ``i + offset``; ``everyone`` the same for all ideas.
    """
    rows: list[Row] = []
    for suffix, curve in (("", mine), ("_without", everyone - mine)):
        days = curve[2].nonzero()[0]
        n = int(curve[2].sum())
        found = cumulative_incidence(
            days + offset, curve[0, days], curve[1, days], curve[2, days], list(HORIZONS.values())
        )
        for months, figure in zip(HORIZONS, found, strict=True):
            rows.append(
                _row(
                    city,
                    method,
                    f"incidence_{months}m{suffix}",
                    value=figure.value,
                    low=figure.low,
                    high=figure.high,
                    n=n,
                    at_risk=figure.at_risk,
                )
            )
    return rows


def _risk_ratio_rows(
    city: str,
    method: str,
    mine: dict[tuple[int, int], tuple[int, int]],
    everyone: dict[tuple[int, int], tuple[int, int]],
) -> tuple[Row, Row, tuple[float, float] | None]:
    strata = []
    for key, (total_n, total_k) in everyone.items():
        n1, a = mine.get(key, (0, 0))
        strata.append((a, n1, total_k - a, total_n - n1))
    a_all = sum(s[0] for s in strata)
    n1_all = sum(s[1] for s in strata)
    c_all = sum(s[2] for s in strata)
    n0_all = sum(s[3] for s in strata)
    crude = risk_ratio(a_all, n1_all, c_all, n0_all)
    ratio, low, high, variance = mantel_haenszel_risk_ratio(strata)
    crude_row = _row(
        city, method, "crude_risk_ratio_12m", value=crude[0], low=crude[1], high=crude[2], n=n1_all
    )
    adjusted_row = _row(
        city, method, "adjusted_risk_ratio_12m", value=ratio, low=low, high=high, n=n1_all
    )
    if ratio is None or ratio <= 0 or variance is None or variance <= 0:
        return crude_row, adjusted_row, None
    return crude_row, adjusted_row, (math.log(ratio), variance)


def evidence_as_csv(rows: Sequence[Row]) -> str:
    """The evidence rows as CSV: empty cells for missing figures (the pooled rows' city too)."""
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=list(EVIDENCE_KEYS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in EVIDENCE_KEYS})
    return out.getvalue()


def evidence_as_json(rows: Sequence[Row]) -> str:
    return json.dumps(
        [{k: row[k] for k in EVIDENCE_KEYS} for row in rows], ensure_ascii=False, indent=2
    )
