"""The scoring form, built from the city's matrix: one choice of score per criterion."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from innoplat.core.toolkit import city

from .matrix import Matrix

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms < 3.3
    SelectChoice = None


class ScoreForm(FlaskForm):
    """Subclassed per request with one field per criterion (see ``score_form``)."""


def score_form(matrix: Matrix, locale: str, current: dict[str, int] | None = None) -> ScoreForm:
    values = [str(n) for n in range(matrix.low, matrix.high + 1)]
    choices = [SelectChoice(v, v) for v in values] if SelectChoice else [(v, v) for v in values]
    fields = {
        f"criterion_{c.key}": RadioField(
            c.label(locale, city().config.default_locale),
            choices=choices,
            validators=[InputRequired()],
            default=str((current or {}).get(c.key, "")) or None,
        )
        for c in matrix.criteria
    }
    form_class = type("CityScoreForm", (ScoreForm,), fields)
    return form_class()


def submitted_scores(form: ScoreForm, matrix: Matrix) -> dict[str, str]:
    return {c.key: getattr(form, f"criterion_{c.key}").data for c in matrix.criteria}
