"""evaluation: the working group scores ideas against the city's weighted criteria; a ranked list.

The scores also feed the cross-city comparison as the metric ``evaluation_mean_score``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from innoplat.core import toolkit
from innoplat.core.toolkit import hookimpl

from . import scoring, views
from .matrix import problems

innoplat_migration_locations = toolkit.migrations_beside(__file__)
innoplat_blueprints = toolkit.blueprints(views.blueprint)
# Asked while a page renders: the scores are the working group's, not the public's.
innoplat_navigation = toolkit.navigation_entry(
    "evaluation.ranked", _l("Evaluation"), 70, audience="staff", shown=toolkit.is_staff
)


@hookimpl
def innoplat_validate_settings(settings: dict[str, Any]) -> list[str]:
    return problems(settings)


@hookimpl
def innoplat_idea_sections(session, idea) -> list[Any]:
    section = views.score_section(session, idea)
    return [section] if section is not None else []


@hookimpl
def innoplat_comparison_metrics() -> list[Any]:
    return [scoring.comparison_metric()]


@hookimpl
def innoplat_export_personal_data(session, city, subject) -> dict[str, Any]:
    """An evaluator's scores are theirs; erasure leaves them to the anonymised account."""
    return scoring.scores_by_accounts(session, city, subject.account_ids)
