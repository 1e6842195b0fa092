"""similar_ideas: similar ideas of the city and its peers while an idea is written; duplicate hints.

Ranked by BM25 over Swedish-stemmed words (see similarity.py for how it stays fast).
"""

from __future__ import annotations

from typing import Any

from innoplat.core.toolkit import hookimpl, is_staff

from . import sections, similarity
from .settings import problems


@hookimpl
def innoplat_validate_settings(settings: dict[str, Any]) -> list[str]:
    return problems(settings)


@hookimpl
def innoplat_blueprints(app) -> list[Any]:
    return [sections.blueprint]


@hookimpl
def innoplat_submission_sections(session, city, draft) -> list[Any]:
    section = sections.similar_section(session, city, draft)
    return [section] if section is not None else []


@hookimpl
def innoplat_idea_sections(session, idea) -> list[Any]:
    # The duplicate hint is for the working group only: the public page stays about the idea.
    if not is_staff():
        return []
    section = sections.duplicate_section(session, idea)
    return [section] if section is not None else []


@hookimpl
def innoplat_idea_submitted(session, idea) -> None:
    similarity.forget(idea.city_id)
