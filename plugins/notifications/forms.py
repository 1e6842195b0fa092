"""The follow form shown on an idea's page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from innoplat.core.toolkit import email_field


class FollowForm(FlaskForm):
    email = email_field(_l("Your e-mail address"))
    consent = BooleanField(
        _l("I agree that my e-mail address is stored to tell me when this idea changes stage."),
        validators=[DataRequired(_l("We need your consent to store your e-mail address."))],
    )


class UnfollowForm(FlaskForm):
    """Only the CSRF token: the confirmation button of the "stop following" link."""
