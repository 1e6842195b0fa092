"""The figures' counts worked out directly from the stage history, links and participations.

This is how ``compare_methods`` and ``method_evidence`` computed their aggregates before the
per-idea facts (``core/services/facts.py``) existed: slow at national scale, but it reads the
source tables themselves, so the tests use it as the oracle the facts-based statements must
agree with after any sequence of writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement

from innoplat.core.models import (
    IMPLEMENTED_PHASES,
    City,
    FocusArea,
    Idea,
    IdeaFocusArea,
    Method,
    MethodApplication,
    Organisation,
    Participation,
    Phase,
    StageTransition,
    Visibility,
)
from innoplat.core.services.comparison import figures_statement
from innoplat.core.services.evidence.analysis import HORIZONS, RISK_WINDOW_DAYS, data_date
from innoplat.core.services.sqltime import days_between, whole_days, year_of
from innoplat.core.services.visibility import visible_ideas


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def direct_figures_statement(
    city_ids: Sequence[int],
    method_keys: Sequence[str] | None,
    since: datetime | None,
    visible: ColumnElement[bool] | None = None,
) -> Any:
    """The one SELECT computing every built-in figure's counts and sums per (city, method).

    :param visible: the ideas the reader may count (``visibility.visible_ideas``); None
        counts public ideas only.
    """
    scope_query = select(Idea.id.label("idea_id"), Idea.city_id, Idea.submitted_at).where(
        Idea.city_id.in_(city_ids), visible_ideas() if visible is None else visible
    )
    if since is not None:
        scope_query = scope_query.where(Idea.submitted_at >= since)
    scope = scope_query.cte("scope")

    implemented = (
        select(StageTransition.idea_id, func.min(StageTransition.at).label("implemented_at"))
        .where(StageTransition.to_phase.in_(IMPLEMENTED_PHASES))
        .group_by(StageTransition.idea_id)
        .cte("implemented")
    )
    # Each stay in pilot lasts until the idea's next transition (in the order of time, then
    # of recording); a stay still going on is left out, its length is not known yet. The next
    # transition is found through the (idea_id, at) index for pilot stays only, rather than
    # by a window over every transition.
    later = aliased(StageTransition)
    left_at = (
        select(func.min(later.at))
        .where(
            later.idea_id == StageTransition.idea_id,
            or_(
                later.at > StageTransition.at,
                and_(later.at == StageTransition.at, later.id > StageTransition.id),
            ),
        )
        .scalar_subquery()
    )
    stays = (
        select(StageTransition.idea_id, StageTransition.at, left_at.label("left_at"))
        .where(StageTransition.to_phase == Phase.pilot.value)
        .subquery("stays")
    )
    pilot = (
        select(stays.c.idea_id, func.sum(days_between(stays.c.left_at, stays.c.at)).label("days"))
        .where(stays.c.left_at.is_not(None))
        .group_by(stays.c.idea_id)
        .cte("pilot")
    )
    collaboration = (
        select(
            Participation.idea_id,
            func.count(distinct(Organisation.kind)).label("kinds"),
            func.count(distinct(Participation.organisation_id)).label("organisations"),
        )
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .group_by(Participation.idea_id)
        .cte("collaboration")
    )
    per_idea = (
        select(
            scope.c.idea_id,
            scope.c.city_id,
            _flag(implemented.c.implemented_at.is_not(None)).label("reached"),
            days_between(implemented.c.implemented_at, scope.c.submitted_at).label("days_to_impl"),
            pilot.c.days.label("pilot_days"),
            func.coalesce(collaboration.c.kinds, 0).label("kinds"),
            _flag(func.coalesce(collaboration.c.organisations, 0) > 1).label("crossing"),
        )
        .select_from(scope)
        .outerjoin(implemented, implemented.c.idea_id == scope.c.idea_id)
        .outerjoin(pilot, pilot.c.idea_id == scope.c.idea_id)
        .outerjoin(collaboration, collaboration.c.idea_id == scope.c.idea_id)
        .cte("per_idea")
    )
    # Not narrowed to the scope here: joining per_idea below does that once.
    applied_query = (
        select(MethodApplication.idea_id, Method.shared_key.label("method"))
        .join(Method, Method.id == MethodApplication.method_id)
        .distinct()
    )
    if method_keys is not None:
        applied_query = applied_query.where(Method.shared_key.in_(method_keys))
    applied = applied_query.cte("applied")

    with_method = (
        select(
            per_idea.c.city_id,
            applied.c.method,
            per_idea.c.reached,
            per_idea.c.days_to_impl,
            per_idea.c.pilot_days,
            per_idea.c.kinds,
            per_idea.c.crossing,
        )
        .join(applied, applied.c.idea_id == per_idea.c.idea_id)
        .cte("with_method")
    )
    city_totals = (
        select(
            per_idea.c.city_id,
            func.count().label("city_n"),
            func.sum(per_idea.c.reached).label("city_k"),
        )
        .group_by(per_idea.c.city_id)
        .cte("city_totals")
    )
    return figures_statement(with_method, city_totals)


def direct_evidence_statements(
    cities: list[City],
    method_keys: list[str] | None,
    since: datetime | None,
    as_of: datetime,
    public_only: bool,
) -> tuple[Any, Any]:
    city_ids = [c.id for c in cities]
    censor_at = case(
        *((Idea.city_id == c.id, literal(data_date(c, as_of))) for c in cities),
        else_=literal(as_of),
    )
    first = (
        select(
            StageTransition.idea_id,
            func.min(
                case((StageTransition.to_phase.in_(IMPLEMENTED_PHASES), StageTransition.at))
            ).label("implemented_at"),
            func.min(
                case((StageTransition.to_phase == Phase.closed.value, StageTransition.at))
            ).label("closed_at"),
        )
        .where(StageTransition.to_phase.in_((*IMPLEMENTED_PHASES, Phase.closed.value)))
        .group_by(StageTransition.idea_id)
        .cte("first_outcome")
    )
    focus = (
        select(IdeaFocusArea.idea_id, func.min(FocusArea.position).label("focus"))
        .join(FocusArea, FocusArea.id == IdeaFocusArea.focus_area_id)
        .group_by(IdeaFocusArea.idea_id)
        .cte("first_focus")
    )
    scope = (
        select(
            Idea.id.label("idea_id"),
            Idea.city_id,
            Idea.submitted_at,
            censor_at.label("censor_at"),
            first.c.implemented_at,
            first.c.closed_at,
            func.coalesce(focus.c.focus, -1).label("focus"),
        )
        .outerjoin(first, first.c.idea_id == Idea.id)
        .outerjoin(focus, focus.c.idea_id == Idea.id)
        .where(Idea.city_id.in_(city_ids))
    )
    if since is not None:
        scope = scope.where(Idea.submitted_at >= since)
    if public_only:
        scope = scope.where(Idea.visibility == Visibility.public)
    scoped = scope.subquery("scoped")
    implemented = and_(
        scoped.c.implemented_at.is_not(None),
        scoped.c.implemented_at <= scoped.c.censor_at,
        (scoped.c.closed_at.is_(None)) | (scoped.c.implemented_at <= scoped.c.closed_at),
    )
    closed = and_(scoped.c.closed_at.is_not(None), scoped.c.closed_at <= scoped.c.censor_at)
    kind = case((implemented, 1), (closed, 2), else_=0)
    ended_at = case(
        (implemented, scoped.c.implemented_at),
        (closed, scoped.c.closed_at),
        else_=scoped.c.censor_at,
    )
    per_idea = (
        select(
            scoped.c.idea_id,
            scoped.c.city_id,
            kind.label("kind"),
            whole_days(ended_at, scoped.c.submitted_at).label("day"),
            whole_days(scoped.c.censor_at, scoped.c.submitted_at).label("followed"),
            year_of(scoped.c.submitted_at).label("year"),
            scoped.c.focus,
        )
        .where(scoped.c.submitted_at <= scoped.c.censor_at)
        .cte("per_idea")
    )
    applied_query = (
        select(MethodApplication.idea_id, Method.shared_key.label("method"))
        .join(Method, Method.id == MethodApplication.method_id)
        .distinct()
    )
    if method_keys is not None:
        applied_query = applied_query.where(Method.shared_key.in_(method_keys))
    applied = applied_query.cte("applied")

    # Past the last horizon only the number at risk matters: those days fold into one.
    last = max(HORIZONS.values())
    day = case((per_idea.c.day > last, last + 1), else_=per_idea.c.day)
    event = case((and_(per_idea.c.kind == 1, per_idea.c.day <= last), 1), else_=0)
    competing = case((and_(per_idea.c.kind == 2, per_idea.c.day <= last), 1), else_=0)

    def curve(method: Any, joined: bool) -> Any:
        query = select(
            per_idea.c.city_id,
            method.label("method"),
            day.label("day"),
            func.sum(event).label("events"),
            func.sum(competing).label("competing"),
            func.count().label("removed"),
        )
        if joined:
            query = query.join(applied, applied.c.idea_id == per_idea.c.idea_id)
        return query.group_by(per_idea.c.city_id, method, day)

    curves = union_all(
        curve(applied.c.method, True), curve(literal(None, type_=Method.shared_key.type), False)
    )
    window = per_idea.c.followed >= RISK_WINDOW_DAYS
    within = case((and_(per_idea.c.kind == 1, per_idea.c.day <= RISK_WINDOW_DAYS), 1), else_=0)

    def strata(method: Any, joined: bool) -> Any:
        query = select(
            per_idea.c.city_id,
            method.label("method"),
            per_idea.c.year,
            per_idea.c.focus,
            func.count().label("n"),
            func.sum(within).label("k"),
        ).where(window)
        if joined:
            query = query.join(applied, applied.c.idea_id == per_idea.c.idea_id)
        return query.group_by(per_idea.c.city_id, method, per_idea.c.year, per_idea.c.focus)

    stratified = union_all(
        strata(applied.c.method, True), strata(literal(None, type_=Method.shared_key.type), False)
    )
    return curves, stratified
