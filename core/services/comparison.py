"""Comparing methods across cities: per city and shared method key, honest figures with intervals.

``compare_methods`` returns a *tidy table*: one dict per city × method × metric with exactly
the keys ``city``, ``method``, ``metric``, ``value``, ``low``, ``high``, ``n`` and
``small_sample``. Everything works on canonical phases and shared method keys, so cities that
name their stages and local methods differently compare like for like, and imported peer
cities are compared like the instance's own.

Definitions (docs/comparing.md explains them for readers):

* An idea *has* a method when at least one method application links it to a method whose
  ``shared_key`` is the method (a city's local method counts under the key it maps to).
* An idea *reached implementation* when it ever had a stage transition into a phase of
  ``IMPLEMENTED_PHASES`` (implemented or scaled) — so an idea implemented and later closed
  still counts, and one that only stands in such a stage without a recorded transition
  does not (every stage change records a transition, so this never happens in practice).
* ``since`` keeps ideas submitted on or after that moment.
* Only ideas the reader may see count: public ideas of every city, and — when a city's
  signed-in staff asks (``staff_of``) — that city's internal ideas too. Metrics meant for
  staff only (``audience="staff"``) are computed for that city alone, never for the public.

The built-in figures are computed by one SQL statement of aggregates (common table
expressions, window functions for medians) over the per-idea facts (``facts.py``: first
implementation, days in pilot, organisation kinds… kept current on every write), the same on
SQLite and PostgreSQL; only the per-group counts and sums come back to Python, which turns
them into intervals.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from ..errors import ValidationError
from ..i18n import N_, translate
from ..models import (
    City,
    IdeaFact,
    IdeaMethodFact,
    Method,
    localized,
)
from ..plugins import hooks_of
from . import facts
from .spreadsheets import SafeDictWriter
from .visibility import AUDIENCES, Audience, visible_ideas

#: A figure resting on fewer ideas than this is flagged ``small_sample``.
SMALL_SAMPLE = 30
#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054
#: Half the 95 % normal quantile, rounded as docs/comparing.md states it: the medians'
#: interval takes the order statistics at ranks n/2 ∓ 0.98·√n.
MEDIAN_RANK_SPREAD = 0.98
#: The keys of every row, in the order CSV columns are written.
ROW_KEYS = ("city", "method", "metric", "value", "low", "high", "n", "small_sample")

Row = dict[str, Any]
#: ``compute(session, city_ids, method_keys, since, *, visible)``: see ``Metric``.
Compute = Callable[..., Iterable[Row]]


@dataclass(frozen=True)
class Metric:
    """A figure computed per city and shared method key; plugins contribute more of them.

    A plugin returns a list of these from the ``innoplat_comparison_metrics`` hook::

        Metric(
            key="mean_score",
            label=N_("Mean score"),
            unit="points",
            compute=mean_score_rows,
            audience="staff",
            translations=Path(__file__).with_name("translations"),
        )

    :param key: stable identifier, used by ``--metric`` and in every row's ``metric``.
    :param label: what readers see: an English msgid (marked with ``N_`` for extraction),
        translated from ``translations`` (the plugin's catalogs), else core's, in each
        reader's language — as core's metrics are. (A ``{locale: text}`` dict still works,
        but the translators' catalogs never see it.)
    :param unit: the unit of ``value``: ``ideas``, ``share`` (0–1), ``ratio``, ``days``,
        ``kinds`` or any short word of the plugin's own.
    :param compute: ``compute(session, city_ids, method_keys, since, *, visible)`` returning
        rows. It gets the ids of the cities compared (peers included), the shared method keys
        (None: all methods), the earliest submission date (None: no limit) and ``visible``, a
        condition on ``Idea`` keeping the ideas the reader may count (add it to the query's
        WHERE: public ideas only for the public), and must aggregate in SQL rather than load
        every idea. ``visible`` is passed only to a function that takes a parameter of that
        name; a function without it cannot keep internal ideas out, so its metric is shown to
        staff only, whatever its ``audience``. Each row is a dict with ``city_id`` (or ``city``,
        the slug), ``method`` (a shared key), ``metric``, ``value``, ``low``, ``high``
        (None when no interval applies) and ``n`` (how many ideas the figure rests on);
        ``small_sample`` is added from ``n`` when the row leaves it out. One compute
        function may return rows of several metrics: it is called once per comparison, and
        rows of metrics that were not asked for are dropped.
    :param description: optional longer explanation, an English msgid like ``label``.
    :param audience: who may see the figures: ``"public"`` (the default: anyone, counting
        public ideas only) or ``"staff"`` (the signed-in staff of a city, for their own city
        alone — such as the evaluation plugin's mean score, the working group's judgement).
    """

    key: str
    label: Any
    unit: str
    compute: Compute
    description: Any = None
    audience: Audience = "public"
    #: The plugin's ``translations/`` folder, where ``label`` and ``description`` are translated.
    translations: Path | None = None

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValidationError(
                "audience",
                f"{self.key}: {self.audience!r} is not an audience; audiences: "
                + ", ".join(AUDIENCES),
            )

    @property
    def staff_only(self) -> bool:
        """Whether only a city's own signed-in staff may see this metric's figures."""
        return self.audience == "staff" or not _takes_visible(self.compute)

    def label_for(self, locale: str | None = None) -> str:
        return _text(self.label, locale, self.translations)

    def description_for(self, locale: str | None = None) -> str:
        return _text(self.description, locale, self.translations) if self.description else ""


@functools.cache
def _takes_visible(compute: Callable[..., Any]) -> bool:
    """Whether a compute function accepts the ``visible`` condition (an opt-in parameter)."""
    try:
        parameters = inspect.signature(compute).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "visible" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _text(value: Any, locale: str | None, translations: Path | None) -> str:
    """A label in ``locale``: an English msgid of the plugin's or core's catalogs, or a
    ``{locale: text}`` dict."""
    if isinstance(value, dict):
        return localized(value, locale, "sv")
    if isinstance(value, str):
        return translate(value, locale, translations=translations)
    return str(value)


# --------------------------------------------------------------------------- SQL helpers


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def median_ranks(n: int) -> tuple[int, int] | None:
    """Ranks (1-based) of the order statistics bounding the median's 95 % interval, or None.

    r = n/2 − 0.98·√n and s = 1 + n/2 + 0.98·√n, each rounded to the nearest whole number
    (Altman et al., *Statistics with Confidence*, 2nd ed., 2000, ch. 5); the interval exists
    when 1 ≤ r and s ≤ n, which is from n = 6 on. ``_median_cte`` picks the same ranks in SQL.
    """
    if n <= 0:
        return None
    spread = MEDIAN_RANK_SPREAD * math.sqrt(n)
    low = math.floor(n / 2 - spread + 0.5)
    high = math.floor(1 + n / 2 + spread + 0.5)
    if low < 1 or high > n:
        return None
    return low, high


def _median_cte(source: Any, value: Any, name: str) -> Any:
    """Median and its distribution-free 95 % interval of ``value`` per (city, method), in SQL.

    The median averages the middle one or two rows picked by ROW_NUMBER. The interval takes
    the order statistics at the ranks ``median_ranks`` defines; the square root is avoided by
    comparing squares (rank r is n/2 − d rounded, d = 0.98·√n, exactly when
    a − ½ < d ≤ a + ½ for a = n/2 − r), since SQLite may be built without math functions.
    """
    ranked = (
        select(
            source.c.city_id,
            source.c.method,
            value.label("v"),
            func.row_number()
            .over(partition_by=(source.c.city_id, source.c.method), order_by=value)
            .label("rn"),
            func.count().over(partition_by=(source.c.city_id, source.c.method)).label("cnt"),
        )
        .where(value.is_not(None))
        .subquery(f"{name}_ranked")
    )
    half = cast(ranked.c.cnt, Float) * 0.5
    spread_sq = cast(ranked.c.cnt, Float) * (MEDIAN_RANK_SPREAD * MEDIAN_RANK_SPREAD)
    below = half - ranked.c.rn  # a for the lower rank
    above = ranked.c.rn - 1 - half  # b = s − 1 − n/2 for the upper rank
    is_low = and_(
        below + 0.5 >= 0,
        (below + 0.5) * (below + 0.5) >= spread_sq,
        or_(below - 0.5 < 0, (below - 0.5) * (below - 0.5) < spread_sq),
    )
    is_high = and_(
        above + 0.5 > 0,
        (above + 0.5) * (above + 0.5) > spread_sq,
        or_(above - 0.5 <= 0, (above - 0.5) * (above - 0.5) <= spread_sq),
    )
    middle = ranked.c.rn.in_(((ranked.c.cnt + 1) // 2, (ranked.c.cnt + 2) // 2))
    return (
        select(
            ranked.c.city_id,
            ranked.c.method,
            func.avg(case((middle, ranked.c.v))).label("median"),
            func.max(case((is_low, ranked.c.v))).label("low"),
            func.max(case((is_high, ranked.c.v))).label("high"),
            func.max(ranked.c.cnt).label("n"),
        )
        .group_by(ranked.c.city_id, ranked.c.method)
        .cte(name)
    )


def core_figures_statement(
    city_ids: Sequence[int],
    method_keys: Sequence[str] | None,
    since: datetime | None,
    visible: ColumnElement[bool] | None = None,
) -> Any:
    """The one SELECT computing every built-in figure's counts and sums per (city, method).

    It reads the per-idea facts (``facts.py``), kept current on every write.

    :param visible: the ideas the reader may count (``visibility.visible_ideas``); None
        counts public ideas only.
    """
    condition = visible_ideas() if visible is None else visible
    with_method_query = select(
        IdeaMethodFact.city_id,
        IdeaMethodFact.method,
        _flag(IdeaMethodFact.implemented_at.is_not(None)).label("reached"),
        IdeaMethodFact.days_to_implemented.label("days_to_impl"),
        IdeaMethodFact.pilot_days,
        IdeaMethodFact.kinds,
        IdeaMethodFact.crossing,
    ).where(*facts.scope(IdeaMethodFact, city_ids, condition, since))
    if method_keys is not None:
        with_method_query = with_method_query.where(IdeaMethodFact.method.in_(method_keys))
    with_method = with_method_query.cte("with_method")
    city_totals = (
        select(
            IdeaFact.city_id,
            func.count().label("city_n"),
            func.sum(_flag(IdeaFact.implemented_at.is_not(None))).label("city_k"),
        )
        .where(*facts.scope(IdeaFact, city_ids, condition, since))
        .group_by(IdeaFact.city_id)
        .cte("city_totals")
    )
    return figures_statement(with_method, city_totals)


def figures_statement(with_method: Any, city_totals: Any) -> Any:
    """The built-in figures' counts, sums and medians per (city, method) from two CTEs.

    :param with_method: one row per idea and method counted: ``city_id``, ``method``,
        ``reached`` (0/1), ``days_to_impl``, ``pilot_days``, ``kinds``, ``crossing`` (0/1).
    :param city_totals: per ``city_id`` the ideas counted (``city_n``) and those of them that
        reached implementation (``city_k``).
    """
    to_impl = _median_cte(with_method, with_method.c.days_to_impl, "to_impl")
    in_pilot = _median_cte(with_method, with_method.c.pilot_days, "in_pilot")
    groups = (
        select(
            with_method.c.city_id,
            with_method.c.method,
            func.count().label("n"),
            func.sum(with_method.c.reached).label("k"),
            func.sum(with_method.c.kinds).label("kinds_sum"),
            func.sum(with_method.c.kinds * with_method.c.kinds).label("kinds_sq"),
            func.sum(with_method.c.crossing).label("crossing"),
        )
        .group_by(with_method.c.city_id, with_method.c.method)
        .cte("groups")
    )
    return (
        select(
            groups.c.city_id,
            groups.c.method,
            groups.c.n,
            groups.c.k,
            groups.c.kinds_sum,
            groups.c.kinds_sq,
            groups.c.crossing,
            city_totals.c.city_n,
            city_totals.c.city_k,
            to_impl.c.median.label("impl_median"),
            to_impl.c.low.label("impl_low"),
            to_impl.c.high.label("impl_high"),
            func.coalesce(to_impl.c.n, literal(0)).label("impl_n"),
            in_pilot.c.median.label("pilot_median"),
            in_pilot.c.low.label("pilot_low"),
            in_pilot.c.high.label("pilot_high"),
            func.coalesce(in_pilot.c.n, literal(0)).label("pilot_n"),
        )
        .join(city_totals, city_totals.c.city_id == groups.c.city_id)
        .outerjoin(
            to_impl,
            and_(to_impl.c.city_id == groups.c.city_id, to_impl.c.method == groups.c.method),
        )
        .outerjoin(
            in_pilot,
            and_(in_pilot.c.city_id == groups.c.city_id, in_pilot.c.method == groups.c.method),
        )
        .order_by(groups.c.city_id, groups.c.method)
    )


# --------------------------------------------------------------------------- statistics


def wilson(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None, float | None]:
    """Share k/n with its Wilson score interval (sound also for shares near 0 or 1)."""
    if n <= 0:
        return None, None, None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return p, max(0.0, centre - half), min(1.0, centre + half)


def risk_ratio(
    k1: int, n1: int, k0: int, n0: int, z: float = Z95
) -> tuple[float | None, float | None, float | None]:
    """Ratio of proportions (k1/n1)/(k0/n0) with the Katz log interval.

    The ratio itself is exact: 0 when k1 is 0, None (infinite) when only k0 is 0. When either
    group has no successes, the *interval* adds 0.5 to the successes and 1 to the size of both
    groups (Haldane's correction), so it stays finite. Nothing exists when both k are 0.
    """
    if n1 <= 0 or n0 <= 0:
        return None, None, None
    if k1 == 0 and k0 == 0:
        return None, None, None
    ratio = None if k0 == 0 else (k1 / n1) / (k0 / n0)
    a, m1, c, m0 = float(k1), float(n1), float(k0), float(n0)
    if k1 == 0 or k0 == 0:
        a, m1, c, m0 = a + 0.5, m1 + 1, c + 0.5, m0 + 1
    centre = math.log((a / m1) / (c / m0))
    se = math.sqrt(max(0.0, 1 / a - 1 / m1 + 1 / c - 1 / m0))
    return ratio, math.exp(centre - z * se), math.exp(centre + z * se)


def t95(df: int) -> float:
    """Two-sided 95 % quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t as student_t  # imported on use: SciPy is most of a worker's memory

    return float(student_t.ppf(0.975, df))


def mean_interval(
    total: float, squares: float, n: int
) -> tuple[float | None, float | None, float | None]:
    """Mean with a t interval, from the sum and the sum of squares."""
    if n <= 0:
        return None, None, None
    mean = total / n
    if n == 1:
        return mean, None, None
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    half = t95(n - 1) * math.sqrt(variance / n)
    return mean, max(0.0, mean - half), mean + half


# --------------------------------------------------------------------------- built-in metrics


def _core_rows(
    session: Session,
    city_ids: list[int],
    method_keys: list[str] | None,
    since: datetime | None,
    *,
    visible: ColumnElement[bool] | None = None,
) -> list[Row]:
    rows: list[Row] = []
    if not city_ids:
        return rows
    condition = visible_ideas() if visible is None else visible
    # Each city's counts depend on its own facts and on these parameters alone: cached per
    # city until its facts change (``facts.per_city``).
    parameters = (
        "core_figures",
        None if method_keys is None else tuple(method_keys),
        since,
        str(condition.compile(compile_kwargs={"literal_binds": True})),
    )

    def compute(ids: list[int]) -> dict[int, tuple[dict[str, Any], ...]]:
        if session.get_bind().dialect.name == "postgresql":
            # The planner overestimates the joined rows of this one-off query, and its JIT
            # then spends seconds compiling a statement that runs in milliseconds; this
            # transaction does without it.
            session.execute(text("SET LOCAL jit = off"))
        per_city: dict[int, list[dict[str, Any]]] = {}
        statement = core_figures_statement(ids, method_keys, since, condition)
        for found in session.execute(statement).mappings():
            per_city.setdefault(found["city_id"], []).append(dict(found))
        return {city_id: tuple(groups) for city_id, groups in per_city.items()}

    counted = facts.per_city(session, dict.fromkeys(city_ids, parameters), compute)
    for r in (r for city_id in sorted(city_ids) for r in counted[city_id] or ()):
        n, k = int(r["n"]), int(r["k"] or 0)
        without_n = int(r["city_n"]) - n
        without_k = int(r["city_k"] or 0) - k
        base = {"city_id": r["city_id"], "method": r["method"]}
        share = wilson(k, n)
        lift = risk_ratio(k, n, without_k, without_n)
        kinds = mean_interval(float(r["kinds_sum"] or 0), float(r["kinds_sq"] or 0), n)
        crossing = wilson(int(r["crossing"] or 0), n)
        rows += [
            {**base, "metric": "ideas_with_method", "value": n, "low": None, "high": None, "n": n},
            {**base, "metric": "implementation_share", **_vlh(share), "n": n},
            {
                **base,
                "metric": "lift",
                **_vlh(lift),
                "n": n,
                "small_sample": n < SMALL_SAMPLE or without_n < SMALL_SAMPLE,
            },
            {
                **base,
                "metric": "median_days_to_implemented",
                **_vlh(_median_interval(r["impl_median"], r["impl_low"], r["impl_high"])),
                "n": int(r["impl_n"]),
            },
            {
                **base,
                "metric": "median_days_in_pilot",
                **_vlh(_median_interval(r["pilot_median"], r["pilot_low"], r["pilot_high"])),
                "n": int(r["pilot_n"]),
            },
            {**base, "metric": "org_kinds_per_idea", **_vlh(kinds), "n": n},
            {**base, "metric": "cross_boundary_share", **_vlh(crossing), "n": n},
        ]
    return rows


def _median_interval(median: Any, low: Any, high: Any) -> tuple[Any, Any, Any]:
    """An interval needs both of its order statistics (they exist together: s = n + 1 − r)."""
    if low is None or high is None:
        return median, None, None
    return median, low, high


def _vlh(figures: tuple[Any, Any, Any]) -> dict[str, float | None]:
    value, low, high = (None if f is None else float(f) for f in figures)
    return {"value": value, "low": low, "high": high}


BUILTIN_METRICS: tuple[Metric, ...] = (
    Metric(
        "ideas_with_method",
        N_("Ideas with the method"),
        "ideas",
        _core_rows,
        N_("How many ideas the method was applied to."),
    ),
    Metric(
        "implementation_share",
        N_("Share implemented"),
        "share",
        _core_rows,
        N_(
            "Share of the ideas with the method that ever reached implemented or scaled "
            "(Wilson 95 % interval)."
        ),
    ),
    Metric(
        "lift",
        N_("Lift"),
        "ratio",
        _core_rows,
        N_(
            "Share implemented with the method divided by the share among the city's other "
            "ideas (95 % interval, Katz log method)."
        ),
    ),
    Metric(
        "median_days_to_implemented",
        N_("Median days to implemented"),
        "days",
        _core_rows,
        N_("Median days from submission to first implementation, among implemented ideas."),
    ),
    Metric(
        "median_days_in_pilot",
        N_("Median days in pilot"),
        "days",
        _core_rows,
        N_("Median days spent in the pilot phase, among ideas that have left it."),
    ),
    Metric(
        "org_kinds_per_idea",
        N_("Organisation kinds per idea"),
        "kinds",
        _core_rows,
        N_(
            "Mean number of distinct kinds of organisation taking part in an idea "
            "(95 % interval, t)."
        ),
    ),
    Metric(
        "cross_boundary_share",
        N_("Share crossing organisation boundaries"),
        "share",
        _core_rows,
        N_(
            "Share of ideas with at least two different participating organisations "
            "(Wilson 95 % interval)."
        ),
    ),
)


def available_metrics(session: Session, *, staff: bool = True) -> list[Metric]:
    """The built-in metrics, then those the city's plugins contribute, in that order.

    :param staff: whether the reader is a city's signed-in staff; False leaves out the
        metrics for staff only.
    """
    return [m for m in _all_metrics(session) if staff or not m.staff_only]


def _all_metrics(session: Session) -> list[Metric]:
    metrics = list(BUILTIN_METRICS)
    seen = {m.key for m in metrics}
    for contributed in hooks_of(session).innoplat_comparison_metrics():
        for metric in contributed or []:
            if not isinstance(metric, Metric):
                raise ValidationError(
                    "innoplat_comparison_metrics", f"expected Metric objects, got {metric!r}"
                )
            if metric.key not in seen:
                metrics.append(metric)
                seen.add(metric.key)
    return metrics


# --------------------------------------------------------------------------- the comparison


@dataclass
class Comparison:
    """What a comparison covered, for pages and commands that label their figures."""

    cities: list[City]
    methods: list[str]
    metrics: list[Metric]
    rows: list[Row] = field(default_factory=list)
    #: The city whose staff asked: its figures include its internal ideas (None: public only).
    staff_of: City | None = None


def _cities(session: Session, slugs: Iterable[str] | None) -> list[City]:
    all_cities = list(session.scalars(select(City).order_by(City.is_peer, City.slug)))
    if slugs is None:
        return all_cities
    by_slug = {c.slug: c for c in all_cities}
    wanted = [s.strip().lower() for s in slugs if s and s.strip()]
    unknown = [s for s in wanted if s not in by_slug]
    if unknown:
        raise ValidationError(
            "cities",
            f"{', '.join(unknown)} not in this database; cities: {', '.join(by_slug) or 'none'}",
        )
    return [by_slug[s] for s in dict.fromkeys(wanted)]


def _method_keys(session: Session, keys: Iterable[str] | None) -> list[str] | None:
    if keys is None:
        return None
    wanted = [k.strip() for k in keys if k and k.strip()]
    # The catalogue is small: read it whole. A local key may be given with or without the
    # "<city>:" prefix it is stored under.
    mapping: dict[str, str] = {}
    for key, shared_key in session.execute(select(Method.key, Method.shared_key)).tuples():
        mapping[key] = shared_key
        mapping.setdefault(key.split(":", 1)[-1], shared_key)
    shared = set(mapping.values())
    resolved = []
    for key in wanted:
        if key in shared:
            resolved.append(key)
        elif key in mapping:
            resolved.append(mapping[key])  # a city's local key counts under its shared key
        else:
            raise ValidationError(
                "methods", f"{key!r} is not a method key (see: innoplat methods list)"
            )
    return list(dict.fromkeys(resolved))


def _since(since: date | datetime | str | None) -> datetime | None:
    if since is None or since == "":
        return None
    if isinstance(since, datetime):
        return since
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day)
    try:
        return datetime.fromisoformat(str(since).strip())
    except ValueError:
        raise ValidationError("since", f"{since!r} is not a date (YYYY-MM-DD)") from None


def compare(
    session: Session,
    cities: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    since: date | datetime | str | None = None,
    metrics: Iterable[str] | None = None,
    *,
    staff_of: City | None = None,
) -> Comparison:
    """Like ``compare_methods``, also telling which cities, methods and metrics it covered."""
    chosen_cities = _cities(session, cities)
    method_keys = _method_keys(session, methods)
    start = _since(since)
    every = _all_metrics(session)
    known = [m for m in every if staff_of is not None or not m.staff_only]
    by_key = {m.key: m for m in known}
    if metrics is None:
        chosen = known
    else:
        wanted = [k.strip() for k in metrics if k and k.strip()]
        for_staff = [k for k in wanted if k not in by_key and k in {m.key for m in every}]
        if for_staff:
            raise ValidationError(
                "metrics",
                f"{', '.join(for_staff)} shown to a city's signed-in staff only; "
                f"metrics: {', '.join(by_key)}",
            )
        unknown = [k for k in wanted if k not in by_key]
        if unknown:
            raise ValidationError(
                "metrics", f"{', '.join(unknown)} unknown; metrics: {', '.join(by_key)}"
            )
        chosen = [by_key[k] for k in dict.fromkeys(wanted)]
    city_ids = [c.id for c in chosen_cities]
    slug_of = {c.id: c.slug for c in chosen_cities}
    order = {c.slug: i for i, c in enumerate(chosen_cities)}
    metric_order = {m.key: i for i, m in enumerate(chosen)}

    visible = visible_ideas(staff_of)
    # Figures for staff only are computed for the asking staff's own city alone.
    own = [staff_of.id] if staff_of is not None and staff_of.id in city_ids else []
    rows: list[Row] = []
    computed: set[tuple[int, bool]] = set()
    for metric in chosen:
        if (id(metric.compute), metric.staff_only) in computed:
            continue
        computed.add((id(metric.compute), metric.staff_only))
        wanted_here = {m.key for m in chosen if m.staff_only == metric.staff_only}
        ids = own if metric.staff_only else city_ids
        if not ids:
            continue
        if _takes_visible(metric.compute):
            found = metric.compute(session, ids, method_keys, start, visible=visible)
        else:
            found = metric.compute(session, ids, method_keys, start)
        for row in found or []:
            if row.get("metric") not in wanted_here:
                continue
            normalised = _normalise(row, slug_of)
            if metric.staff_only and normalised["city"] != slug_of[own[0]]:
                continue
            rows.append(normalised)
    rows = [r for r in rows if r["city"] in order]
    rows.sort(key=lambda r: (order[r["city"]], r["method"], metric_order[r["metric"]]))
    present = sorted({r["method"] for r in rows})
    return Comparison(
        cities=chosen_cities,
        methods=method_keys if method_keys is not None else present,
        metrics=chosen,
        rows=rows,
        staff_of=staff_of,
    )


def _normalise(row: Row, slug_of: dict[int, str]) -> Row:
    city = row.get("city")
    if city is None and "city_id" in row:
        city = slug_of.get(row["city_id"])
    n = int(row.get("n") or 0)
    small = row.get("small_sample")
    return {
        "city": city,
        "method": row["method"],
        "metric": row["metric"],
        "value": _number(row.get("value")),
        "low": _number(row.get("low")),
        "high": _number(row.get("high")),
        "n": n,
        "small_sample": bool(n < SMALL_SAMPLE if small is None else small),
    }


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def compare_methods(
    session: Session,
    cities: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    since: date | datetime | str | None = None,
    metrics: Iterable[str] | None = None,
    *,
    staff_of: City | None = None,
) -> list[Row]:
    """How each method fared in each city: a tidy table of rows, one per city × method × metric.

    :param cities: city slugs to compare (peers included); None compares every city in the
        database, the instance's own first.
    :param methods: shared method keys (a local key counts as the shared key it maps to);
        None takes every method applied anywhere.
    :param since: only ideas submitted on or after this date.
    :param metrics: metric keys (built-in ones and those plugins add); None takes all.
    :param staff_of: the city whose signed-in staff asks: its internal ideas count and the
        metrics for staff only are computed for it. None (the default) gives the public
        figures: public ideas only, no metric for staff only.
    :return: dicts with the keys ``city``, ``method``, ``metric``, ``value``, ``low``,
        ``high``, ``n`` and ``small_sample`` (True when ``n`` < ``SMALL_SAMPLE``), ordered by
        city, method and metric.
    """
    return compare(session, cities, methods, since, metrics, staff_of=staff_of).rows


def method_across_cities(
    session: Session,
    method_key: str,
    metrics: Sequence[str] | None = None,
    *,
    staff_of: City | None = None,
) -> dict[str, Any]:
    """One method in every city that applied it, for the method's own page (``staff_of``: as
    in ``compare_methods``).

    :return: ``{"method": shared key, "metrics": [Metric…], "cities": [City…],
        "table": {city slug: {metric key: row}}}``, cities in the comparison's order.
    """
    keys = list(metrics or ("ideas_with_method", "implementation_share", "lift"))
    result = compare(session, methods=[method_key], metrics=keys, staff_of=staff_of)
    table: dict[str, dict[str, Row]] = {}
    for row in result.rows:
        table.setdefault(row["city"], {})[row["metric"]] = row
    shown = [c for c in result.cities if c.slug in table]
    return {
        "method": result.methods[0] if result.methods else method_key,
        "metrics": result.metrics,
        "cities": shown,
        "table": table,
    }


def rows_as_csv(rows: Sequence[Row]) -> str:
    """The tidy rows as CSV: empty cells for missing figures, true/false for the flag."""
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=list(ROW_KEYS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **{k: "" if row[k] is None else row[k] for k in ROW_KEYS},
                "small_sample": "true" if row["small_sample"] else "false",
            }
        )
    return out.getvalue()


def rows_as_json(rows: Sequence[Row]) -> str:
    return json.dumps([{k: row[k] for k in ROW_KEYS} for row in rows], ensure_ascii=False, indent=2)
