"""Scoring ideas against the city's matrix, ranking them, and the comparison metric fed by scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Float, cast, distinct, func, select
from sqlalchemy.orm import Session

from innoplat.core.errors import ValidationError
from innoplat.core.models import City, Idea, Method, MethodApplication, utcnow
from innoplat.core.toolkit import N_, Metric, record_audit

from .matrix import Matrix
from .models import Score

METRIC_KEY = "evaluation_mean_score"
#: The plugin's catalogs, where the metric's label is translated outside a request too.
TRANSLATIONS = Path(__file__).parent / "translations"


def weighted_score():
    """The SQL expression of an idea's weighted score over all its evaluators and criteria."""
    return func.sum(Score.weight * Score.score) / func.nullif(func.sum(Score.weight), 0)


def record_scores(
    session: Session,
    idea: Idea,
    account_id: int,
    scores: dict[str, Any],
    matrix: Matrix,
    *,
    actor: str | None = None,
) -> list[Score]:
    """Store one evaluator's scores of an idea (every criterion, each within the scale); replaces theirs."""
    if idea.city.is_peer:
        raise ValidationError("idea", f"{idea.reference} belongs to a peer platform")
    unknown = sorted(set(scores) - {c.key for c in matrix.criteria})
    if unknown:
        raise ValidationError(unknown[0], "is not a criterion of this city's scoring matrix")
    values: dict[str, int] = {}
    for criterion in matrix.criteria:
        value = scores.get(criterion.key)
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(
                criterion.key, f"expected a score from {matrix.low} to {matrix.high}"
            ) from None
        if not matrix.low <= number <= matrix.high or str(number) != str(value).strip():
            raise ValidationError(
                criterion.key,
                f"expected a score from {matrix.low} to {matrix.high} (got {value!r})",
            )
        values[criterion.key] = number
    # The idea's row is locked first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
    # writers): two saves of the same scores at once queue, the second replacing the first.
    session.execute(select(Idea.id).where(Idea.id == idea.id).with_for_update())
    existing = {
        s.criterion: s
        for s in session.scalars(
            select(Score).where(Score.idea_id == idea.id, Score.account_id == account_id)
        )
    }
    before = {key: s.score for key, s in existing.items()}
    stored = []
    for criterion in matrix.criteria:
        row = existing.get(criterion.key) or Score(
            idea_id=idea.id, account_id=account_id, criterion=criterion.key
        )
        row.score = values[criterion.key]
        row.weight = criterion.weight
        row.updated_at = utcnow()
        session.add(row)
        stored.append(row)
    session.flush()
    record_audit(
        session,
        city_id=idea.city_id,
        entity_type="idea",
        entity_id=idea.id,
        action="evaluated",
        actor=actor,
        before=before or None,
        after=values,
    )
    return stored


def scores_by(session: Session, idea: Idea, account_id: int) -> dict[str, int]:
    rows = session.scalars(
        select(Score).where(Score.idea_id == idea.id, Score.account_id == account_id)
    )
    return {s.criterion: s.score for s in rows}


@dataclass(frozen=True)
class IdeaScore:
    score: float | None
    evaluators: int
    by_criterion: dict[str, float]


def idea_score(session: Session, idea: Idea) -> IdeaScore:
    total = session.execute(
        select(weighted_score(), func.count(distinct(Score.account_id))).where(
            Score.idea_id == idea.id
        )
    ).one()
    per_criterion = session.execute(
        select(Score.criterion, func.avg(cast(Score.score, Float)))
        .where(Score.idea_id == idea.id)
        .group_by(Score.criterion)
    ).all()
    return IdeaScore(
        score=float(total[0]) if total[0] is not None else None,
        evaluators=int(total[1] or 0),
        by_criterion={key: float(mean) for key, mean in per_criterion},
    )


@dataclass(frozen=True)
class RankedIdea:
    idea: Idea
    score: float
    evaluators: int


def ranking(session: Session, city: City, *, limit: int = 50, offset: int = 0) -> list[RankedIdea]:
    """The city's evaluated ideas, highest weighted score first."""
    per_idea = (
        select(
            Score.idea_id,
            weighted_score().label("score"),
            func.count(distinct(Score.account_id)).label("evaluators"),
        )
        .group_by(Score.idea_id)
        .subquery()
    )
    query = (
        select(Idea, per_idea.c.score, per_idea.c.evaluators)
        .join(per_idea, per_idea.c.idea_id == Idea.id)
        .where(Idea.city_id == city.id)
        .order_by(per_idea.c.score.desc(), Idea.submitted_at.desc(), Idea.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [RankedIdea(idea, float(score), int(n)) for idea, score, n in session.execute(query)]


def evaluated_count(session: Session, city: City) -> int:
    query = (
        select(func.count(distinct(Score.idea_id)))
        .join(Idea, Idea.id == Score.idea_id)
        .where(Idea.city_id == city.id)
    )
    return session.scalar(query) or 0


# --------------------------------------------------------------------------- comparison metric


def mean_score_rows(
    session: Session,
    city_ids: list[int],
    method_keys: list[str] | None,
    since: datetime | None,
    *,
    visible: Any = None,
) -> list[dict[str, Any]]:
    """Per city and shared method: the mean weighted score of the evaluated ideas with the method.

    Aggregated in SQL: one weighted score per idea, then the mean per (city, method) over the
    distinct ideas that had the method.
    """
    per_idea = (
        select(Score.idea_id, weighted_score().label("score")).group_by(Score.idea_id).subquery()
    )
    pairs = (
        select(Idea.id.label("idea_id"), Idea.city_id, Method.shared_key.label("method"))
        .join(MethodApplication, MethodApplication.idea_id == Idea.id)
        .join(Method, Method.id == MethodApplication.method_id)
        .where(Idea.city_id.in_(city_ids))
        .distinct()
    )
    if visible is not None:
        pairs = pairs.where(visible)
    if method_keys is not None:
        pairs = pairs.where(Method.shared_key.in_(method_keys))
    if since is not None:
        pairs = pairs.where(Idea.submitted_at >= since)
    with_method = pairs.subquery()
    query = (
        select(
            with_method.c.city_id,
            with_method.c.method,
            func.avg(per_idea.c.score),
            func.count(),
        )
        .join(per_idea, per_idea.c.idea_id == with_method.c.idea_id)
        .group_by(with_method.c.city_id, with_method.c.method)
    )
    return [
        {
            "city_id": city_id,
            "method": method,
            "metric": METRIC_KEY,
            "value": round(float(mean), 3),
            "low": None,
            "high": None,
            "n": int(n),
        }
        for city_id, method, mean, n in session.execute(query)
    ]


def comparison_metric() -> Metric:
    return Metric(
        key=METRIC_KEY,
        label=N_("Mean evaluation score"),
        unit="points",
        compute=mean_score_rows,
        # The working group's judgement of ideas: its own staff see it, the public does not.
        audience="staff",
        description=N_(
            "The mean weighted score (by the city's scoring matrix) of the evaluated ideas "
            "the method was applied to."
        ),
        translations=TRANSLATIONS,
    )


def scores_by_accounts(
    session: Session, city: City, account_ids: tuple[int, ...] | list[int]
) -> dict[str, Any]:
    """The scores these staff accounts gave in the city, for a data subject's export."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Idea.reference, Score.criterion, Score.score, Score.updated_at)
        .join(Idea, Idea.id == Score.idea_id)
        .where(Idea.city_id == city.id, Score.account_id.in_(list(account_ids)))
        .order_by(Idea.reference, Score.criterion)
    ).all()
    scores = [
        {"idea": ref, "criterion": criterion, "score": score, "updated_at": at}
        for ref, criterion, score, at in rows
    ]
    return {"evaluation_scores": scores} if scores else {}
