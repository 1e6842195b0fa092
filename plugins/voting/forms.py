"""Forms of the voting plugin: support as staff (a button) or with an e-mail address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from innoplat.core.toolkit import email_field


class StaffSupportForm(FlaskForm):
    """Only the CSRF token: a signed-in account supports with one click."""


class ConfirmSupportForm(FlaskForm):
    """Only the CSRF token: the button of the page the confirmation link opens."""


class EmailSupportForm(FlaskForm):
    email = email_field(_l("Your e-mail address"))
    #: Shown only where a plugin lets people follow ideas (notifications): the same address
    #: then also follows the idea once the support's one confirmation link is opened.
    follow = BooleanField(
        _l(
            "Also follow this idea. I agree that my e-mail address is stored to tell me when this idea changes stage."
        )
    )
