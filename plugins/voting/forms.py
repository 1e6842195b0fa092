"""Forms of the voting plugin: support as staff (a button) or with an e-mail address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from innoplat.core.toolkit import email_address


class StaffSupportForm(FlaskForm):
    """Only the CSRF token: a signed-in account supports with one click."""


class EmailSupportForm(FlaskForm):
    email = EmailField(
        _l("Your e-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254),
            email_address,
        ],
    )
