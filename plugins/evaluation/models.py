"""The evaluation plugin's table: each evaluator's score of an idea on each criterion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from innoplat.core.models import Base, utcnow


class Score(Base):
    """One evaluator's score of one idea on one criterion of the city's scoring matrix.

    The criterion's weight is stored with the score, so an idea's weighted score is one SQL
    aggregate (``sum(weight * score) / sum(weight)``) and stays what it was when a city later
    changes its weights.
    """

    __tablename__ = "evaluation_score"
    __table_args__ = (UniqueConstraint("idea_id", "account_id", "criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(60))
    score: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
