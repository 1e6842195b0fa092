"""Forms of the comments plugin."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .discussion import BODY_MAX, NAME_MAX, REASON_MAX


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        validators=[DataRequired(_l("Write a comment first.")), Length(max=BODY_MAX)],
    )
    author_name = StringField(
        _l("Your name (optional, shown with the comment)"), validators=[Length(max=NAME_MAX)]
    )


class ReportForm(FlaskForm):
    reason = StringField(
        _l("Why should the working group look at it? (optional)"),
        validators=[Length(max=REASON_MAX)],
    )


class ModerationForm(FlaskForm):
    reason = StringField(_l("Reason (kept with the comment)"), validators=[Length(max=REASON_MAX)])
