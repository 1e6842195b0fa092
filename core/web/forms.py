"""The web forms (Flask-WTF: every form carries a CSRF token); labels and errors are translated."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
    ValidationError,
    widgets,
)
from wtforms.fields import DateField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp

from .. import validation
from ..services.actors import KEY_PATTERN
from ..services.ideas import DESCRIPTION_MAX, NOTE_MAX, SUMMARY_MAX, TITLE_MAX


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes: easier to use than a multiple select, with keyboard and screen reader."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def email_address(_form: Any, field: Any) -> None:
    """The one e-mail check of the services, worded for a form (plugins' forms use it too)."""
    value = (field.data or "").strip()
    if value and not validation.is_email(value):
        raise ValidationError(_l("Enter an e-mail address such as name@example.org."))


def web_address(_form: Any, field: Any) -> None:
    """An http or https address, as the services require."""
    value = (field.data or "").strip()
    if value and not validation.is_web_address(value):
        raise ValidationError(_l("Enter a web address starting with https:// or http://."))


def email_field(label: Any, **options: Any) -> EmailField:
    """An e-mail address field checked as everywhere: required, at most the longest address,
    and the one e-mail check (:func:`email_address`)."""
    return EmailField(
        label,
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=validation.EMAIL_MAX),
            email_address,
        ],
        **options,
    )


#: An organisation's key, by the rule the services apply (it appears in web addresses).
key_pattern = Regexp(
    f"^{KEY_PATTERN.pattern}$", message=_l("Use lower-case letters, digits, '-' or '_'.")
)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), email_address],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    submit = SubmitField(_l("Sign in"))


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your password."))]
    )
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password."))],
        description=_l("At least 10 characters."),
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new", _l("The two new passwords differ.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Sign out"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels with it."""

    submit = SubmitField(_l("Remove"))


class IdeaForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Give your idea a title.")),
            Length(max=TITLE_MAX, message=_l("At most %(max)d characters.")),
        ],
        description=_l("A short name for the idea."),
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=SUMMARY_MAX, message=_l("At most %(max)d characters."))],
        description=_l("One or two sentences: what should change, and for whom?"),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            Optional(),
            Length(max=DESCRIPTION_MAX, message=_l("At most %(max)d characters.")),
        ],
        description=_l(
            "As long as you like. You may use Markdown: *italic*, **bold**, lists and links."
        ),
    )
    focus_areas = MultiCheckboxField(_l("Focus areas"), choices=[], validators=[Optional()])
    initiator_kind = SelectField(_l("I am submitting as"), choices=[], default="citizen")
    name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=200)])
    email = EmailField(
        _l("Your e-mail address (optional)"),
        validators=[Optional(), Length(max=254), email_address],
        description=_l("Only used to tell you how your idea is doing."),
    )
    consent = BooleanField(
        _l("I agree that the municipality stores my name and e-mail address with the idea.")
    )
    preview = SubmitField(_l("Preview"))
    send = SubmitField(_l("Send idea"))

    def validate_consent(self, field: Any) -> None:
        if ((self.name.data or "").strip() or (self.email.data or "").strip()) and not field.data:
            raise ValidationError(
                _l(
                    "Tick this box to let us store your name or e-mail address, or leave both empty."
                )
            )


class EditIdeaForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the idea a title.")), Length(max=TITLE_MAX)],
    )
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=SUMMARY_MAX)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)]
    )
    visibility = SelectField(_l("Visibility"), choices=[])
    version = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Save changes"))


class MoveForm(FlaskForm):
    to = RadioField(
        _l("Move to stage"), choices=[], validators=[InputRequired(_l("Choose a stage."))]
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        description=_l("Why the idea moves: shown in the idea's history."),
    )
    version = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Move idea"))


class ApplyMethodForm(FlaskForm):
    method = SelectField(
        _l("Method"), choices=[], validators=[InputRequired(_l("Choose a method."))]
    )
    outcome = SelectField(_l("Outcome"), choices=[])
    started_on = DateField(_l("Started on"), validators=[Optional()])
    ended_on = DateField(_l("Ended on"), validators=[Optional()])
    facilitator = SelectField(_l("Facilitated by"), choices=[], validators=[Optional()])
    outcome_note = TextAreaField(_l("What came of it"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Record method"))


class OutcomeForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=[])
    ended_on = DateField(_l("Ended on"), validators=[Optional()])
    outcome_note = TextAreaField(_l("What came of it"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Record outcome"))


class ParticipationForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), choices=[], validators=[InputRequired()])
    role = SelectField(_l("Role"), choices=[])
    submit = SubmitField(_l("Add organisation"))


class OrganisationForm(FlaskForm):
    key = StringField(
        _l("Key"),
        validators=[DataRequired(_l("Give the organisation a key.")), Length(max=80), key_pattern],
        description=_l("Used in web addresses, e.g. tekniska-verken."),
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=200)]
    )
    kind = SelectField(_l("Kind"), choices=[])
    parent = SelectField(_l("Part of"), choices=[], validators=[Optional()])
    website = URLField(_l("Website"), validators=[Optional(), Length(max=300), web_address])
    submit = SubmitField(_l("Add organisation"))


class PersonForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=200)]
    )
    email = EmailField(
        _l("E-mail address"), validators=[Optional(), Length(max=254), email_address]
    )
    consent = BooleanField(
        _l("The person agrees that we store their name and e-mail address."),
        validators=[DataRequired(_l("We store people only with their consent."))],
    )
    submit = SubmitField(_l("Add person"))


class MembershipForm(FlaskForm):
    person = SelectField(_l("Person"), choices=[], validators=[InputRequired()])
    role = StringField(
        _l("Role"),
        validators=[DataRequired(_l("Enter the role.")), Length(max=80)],
        description=_l("E.g. working group member, innovation coordinator, project lead."),
    )
    start_date = DateField(_l("From"), validators=[Optional()])
    end_date = DateField(_l("Until"), validators=[Optional()])
    submit = SubmitField(_l("Add membership"))


class DataSubjectForm(FlaskForm):
    """A data subject's request, answered by an admin: export or erase everything about them."""

    email = EmailField(
        _l("The person's e-mail address"),
        validators=[DataRequired(_l("Enter the e-mail address.")), Length(max=254), email_address],
    )
    name = StringField(
        _l("A name they signed with (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Names on their records are found anyway; this finds comments signed by hand."
        ),
    )
    confirm = BooleanField(_l("I have checked the request: erase this person's data."))
    export = SubmitField(_l("Export as JSON"))
    erase = SubmitField(_l("Erase"))
