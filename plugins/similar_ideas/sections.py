"""The fragments this plugin adds: similar ideas beside a draft, duplicate hints for the working group."""

from __future__ import annotations

from flask import Blueprint
from markupsafe import Markup

from innoplat.core.models import City, Idea
from innoplat.core.toolkit import IdeaSection, idea_section, section

from . import settings, similarity

#: No pages of its own: the blueprint only makes the plugin's templates findable.
blueprint = Blueprint("similar_ideas", __name__, template_folder="templates")


def similar_section(session, city: City, draft: dict) -> Markup | None:
    options = settings.current()
    if not any((draft.get(field) or "").strip() for field in ("title", "summary", "description")):
        return None
    matches = similarity.similar_to_draft(
        session,
        city,
        draft,
        limit=options["limit"],
        candidates=options["candidates"],
        include_peers=options["include_peers"],
    )
    return section("similar_ideas/similar_section.html", city=city, matches=matches)


def duplicate_section(session, idea: Idea) -> IdeaSection | None:
    options = settings.current()
    matches = similarity.possible_duplicates(
        session, idea, threshold=options["duplicate_threshold"], candidates=options["candidates"]
    )
    if not matches:
        return None
    return idea_section(
        "similar_ideas/duplicate_section.html",
        region="staff",
        order=20,
        idea=idea,
        matches=matches,
    )
