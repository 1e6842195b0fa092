"""The working group's pages: dashboard, moving ideas, methods and outcomes, editing, actors, audit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import Field

from .. import validation
from ..errors import ConflictError, ValidationError
from ..models import Idea, OrganisationKind, Outcome, ParticipationRole, Visibility
from ..services import actors, audit
from ..services import ideas as idea_service
from ..services import methods as method_service
from . import auth, city_texts, labels
from .current import platform
from .forms import (
    ApplyMethodForm,
    ConfirmForm,
    EditIdeaForm,
    MembershipForm,
    MoveForm,
    OrganisationForm,
    OutcomeForm,
    ParticipationForm,
    PersonForm,
)
from .public import idea_or_404

blueprint = Blueprint("workgroup", __name__)


def _field_error(form: Any, error: ValidationError) -> None:
    """A service's verdict shown beside the field it names (or above the form)."""
    field = getattr(form, error.field, None)
    if isinstance(field, Field):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _status(form: Any) -> int:
    return 400 if form.errors or form.form_errors else 200


@blueprint.get("/dashboard")
@auth.staff_required
def dashboard() -> str:
    days = current_app.config["INNOPLAT_STUCK_DAYS"]
    with platform().transaction() as session:
        city = platform().city_row(session)
        first = city.stages[0]
        waiting = idea_service.IdeaFilter(stage=first.key, sort="oldest")
        return render_template(
            "work/dashboard.html",
            city=city,
            first_stage=first,
            waiting=idea_service.list_ideas(session, city, waiting, limit=20),
            waiting_count=idea_service.count_ideas(session, city, waiting),
            stuck=idea_service.stuck_ideas(session, city, days=days, limit=20),
            days=days,
            funnel=idea_service.funnel(session, city),
        )


@blueprint.route("/ideas/<reference>/move", methods=["GET", "POST"])
@auth.editor_required
def move(reference: str) -> ResponseReturnValue:
    with platform().transaction() as session:
        idea = idea_or_404(session, reference)
        allowed = idea_service.allowed_stages(session, idea)
        form = MoveForm()
        form.to.choices = [city_texts.choice(s.key, s) for s in allowed]
        if request.method == "GET":
            form.version.data = str(idea.version)
        elif form.version.data and form.version.data != str(idea.version):
            validation.integer(form.version.data, "version", minimum=0)  # else a 400
            # Checked before the form: the stage the other person chose changed the choices.
            return _conflict(
                session, idea, _("Someone else changed the idea while you were moving it.")
            )
        if form.validate_on_submit():
            try:
                with session.begin_nested():
                    transition = idea_service.move_idea(
                        session,
                        idea,
                        form.to.data,
                        note=form.note.data or "",
                        actor=auth.actor(),
                        expected_version=form.version.data,
                    )
            except ConflictError:
                return _conflict(
                    session, idea, _("Someone else changed the idea while you were moving it.")
                )
            except ValidationError as error:
                _field_error(form, error)
            else:
                flash(
                    _(
                        "%(reference)s moved to %(stage)s.",
                        reference=idea.reference,
                        stage=city_texts.name(transition.to_stage).text,
                    ),
                    "success",
                )
                return redirect(url_for("public.idea", reference=idea.reference))
        return render_template("work/move.html", city=idea.city, idea=idea, form=form), _status(
            form
        )


def _conflict(
    session: Any, idea: Idea, reason: str, yours: dict[str, Any] | None = None
) -> tuple[str, int]:
    """Both versions side by side; nothing was overwritten.

    An edit that lost keeps its text: the form below holds it, against the saved version, so
    the editor can merge by hand and send it again.
    """
    session.refresh(idea)
    form = None
    if yours is not None:
        form = EditIdeaForm(formdata=None, data={**yours, "version": str(idea.version)})
        form.visibility.choices = labels.choices(Visibility)
    return (
        render_template(
            "work/conflict.html",
            city=idea.city,
            idea=idea,
            reason=reason,
            theirs=idea_service.snapshot(idea),
            yours=yours,
            form=form,
        ),
        409,
    )


@blueprint.route("/ideas/<reference>/edit", methods=["GET", "POST"])
@auth.editor_required
def edit(reference: str) -> ResponseReturnValue:
    with platform().transaction() as session:
        idea = idea_or_404(session, reference)
        form = EditIdeaForm(obj=idea if request.method == "GET" else None)
        form.visibility.choices = labels.choices(Visibility)
        if request.method == "GET":
            form.visibility.data = idea.visibility.value
            form.version.data = str(idea.version)
        if form.validate_on_submit():
            yours = {
                "title": form.title.data,
                "summary": form.summary.data or "",
                "description": form.description.data or "",
                "visibility": form.visibility.data,
            }
            try:
                with session.begin_nested():
                    idea_service.update_idea(
                        session,
                        idea,
                        expected_version=form.version.data,
                        actor=auth.actor(),
                        **yours,
                    )
            except ConflictError:
                return _conflict(
                    session, idea, _("Someone else saved this idea after you opened it."), yours
                )
            except ValidationError as error:
                _field_error(form, error)
            else:
                flash(_("Your changes are saved."), "success")
                return redirect(url_for("public.idea", reference=idea.reference))
        return render_template("work/edit.html", city=idea.city, idea=idea, form=form), _status(
            form
        )


def _organisation_choices(
    city: Any, session: Any, empty: str | None = None
) -> list[tuple[str, str]]:
    options = [(o.key, o.name) for o in actors.list_organisations(session, city)]
    return ([("", empty)] if empty is not None else []) + options


@blueprint.route("/ideas/<reference>/methods/new", methods=["GET", "POST"])
@auth.editor_required
def apply_method(reference: str) -> ResponseReturnValue:
    with platform().transaction() as session:
        idea = idea_or_404(session, reference)
        form = ApplyMethodForm()
        form.method.choices = [
            city_texts.choice(m.key, m) for m in method_service.list_methods(session, idea.city)
        ]
        form.outcome.choices = labels.choices(Outcome)
        form.facilitator.choices = _organisation_choices(
            idea.city, session, empty=_("(nobody named)")
        )
        if request.method == "GET":
            form.outcome.data = Outcome.ongoing.value
            if request.args.get("method"):
                form.method.data = request.args["method"]
        if form.validate_on_submit():
            try:
                with session.begin_nested():
                    application = method_service.apply_method(
                        session,
                        idea,
                        form.method.data,
                        outcome=form.outcome.data,
                        started_on=form.started_on.data,
                        ended_on=form.ended_on.data,
                        facilitator=form.facilitator.data or None,
                        outcome_note=form.outcome_note.data or "",
                        actor=auth.actor(),
                    )
            except ValidationError as error:
                _field_error(form, error)
            else:
                flash(
                    _(
                        "%(method)s is recorded for %(reference)s.",
                        method=city_texts.name(application.method).text,
                        reference=idea.reference,
                    ),
                    "success",
                )
                return redirect(url_for("public.idea", reference=idea.reference))
        return render_template(
            "work/apply_method.html", city=idea.city, idea=idea, form=form
        ), _status(form)


@blueprint.route("/ideas/<reference>/methods/<int:application_id>", methods=["GET", "POST"])
@auth.editor_required
def outcome(reference: str, application_id: int) -> ResponseReturnValue:
    with platform().transaction() as session:
        idea = idea_or_404(session, reference)
        application = method_service.get_application(session, idea, application_id)
        form = OutcomeForm(obj=application if request.method == "GET" else None)
        form.outcome.choices = labels.choices(Outcome)
        if request.method == "GET":
            form.outcome.data = application.outcome.value
        if form.validate_on_submit():
            try:
                with session.begin_nested():
                    method_service.record_outcome(
                        session,
                        application,
                        form.outcome.data,
                        ended_on=form.ended_on.data,
                        outcome_note=form.outcome_note.data or "",
                        actor=auth.actor(),
                    )
            except ValidationError as error:
                _field_error(form, error)
            else:
                flash(_("The outcome is recorded."), "success")
                return redirect(url_for("public.idea", reference=idea.reference))
        return (
            render_template(
                "work/outcome.html", city=idea.city, idea=idea, application=application, form=form
            ),
            _status(form),
        )


@blueprint.route("/ideas/<reference>/participations", methods=["GET", "POST"])
@auth.editor_required
def participations(reference: str) -> ResponseReturnValue:
    with platform().transaction() as session:
        idea = idea_or_404(session, reference)
        form = ParticipationForm()
        form.organisation.choices = _organisation_choices(idea.city, session)
        form.role.choices = labels.choices(ParticipationRole)
        if form.validate_on_submit():
            try:
                with session.begin_nested():
                    actors.add_participation(
                        session, idea, form.organisation.data, form.role.data, actor=auth.actor()
                    )
            except ValidationError as error:
                _field_error(form, error)
            else:
                flash(_("The organisation takes part in the idea."), "success")
                return redirect(url_for("workgroup.participations", reference=idea.reference))
        return (
            render_template(
                "work/participations.html",
                city=idea.city,
                idea=idea,
                form=form,
                remove=ConfirmForm(),
            ),
            _status(form),
        )


@blueprint.post("/ideas/<reference>/participations/<int:participation_id>/remove")
@auth.editor_required
def remove_participation(reference: str, participation_id: int) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with platform().transaction() as session:
        idea = idea_or_404(session, reference)
        actors.remove_participation(
            session, actors.get_participation(session, idea, participation_id), actor=auth.actor()
        )
    flash(_("The organisation no longer takes part in the idea."), "success")
    return redirect(url_for("workgroup.participations", reference=reference))


@blueprint.get("/ideas/<reference>/audit")
@auth.staff_required
def audit_trail(reference: str) -> str:
    with platform().transaction() as session:
        idea = idea_or_404(session, reference)
        return render_template(
            "work/audit.html",
            city=idea.city,
            idea=idea,
            events=audit.history(session, "idea", idea.id),
            audit_actions=labels.AUDIT_ACTIONS,
        )


@blueprint.route("/organisations/new", methods=["GET", "POST"])
@auth.editor_required
def new_organisation() -> ResponseReturnValue:
    with platform().transaction() as session:
        city = platform().city_row(session)
        form = OrganisationForm()
        form.kind.choices = labels.choices(OrganisationKind)
        form.parent.choices = _organisation_choices(city, session, empty=_("(none)"))
        if form.validate_on_submit():
            try:
                with session.begin_nested():
                    org = actors.add_organisation(
                        session,
                        city,
                        key=form.key.data or "",
                        name=form.name.data or "",
                        kind=form.kind.data,
                        parent=form.parent.data or None,
                        website=form.website.data,
                        actor=auth.actor(),
                    )
            except ValidationError as error:
                _field_error(form, error)
            else:
                flash(_("%(name)s is added.", name=org.name), "success")
                return redirect(url_for("public.organisation", key=org.key))
        return render_template("work/organisation_new.html", city=city, form=form), _status(form)


@blueprint.route("/people", methods=["GET", "POST"])
@auth.staff_required
def people() -> ResponseReturnValue:
    with platform().transaction() as session:
        city = platform().city_row(session)
        form = PersonForm()
        if request.method == "POST":
            if not auth.can_edit():
                abort(403)
            if form.validate_on_submit():
                try:
                    with session.begin_nested():
                        person = actors.add_person(
                            session,
                            city,
                            name=form.name.data or "",
                            email=form.email.data,
                            consent=bool(form.consent.data),
                            actor=auth.actor(),
                        )
                except ValidationError as error:
                    _field_error(form, error)
                else:
                    flash(_("%(name)s is added.", name=person.name), "success")
                    return redirect(url_for("workgroup.people"))
        return render_template(
            "work/people.html", city=city, people=actors.list_people(session, city), form=form
        ), _status(form)


@blueprint.route("/organisations/<key>/memberships", methods=["GET", "POST"])
@auth.editor_required
def memberships(key: str) -> ResponseReturnValue:
    with platform().transaction() as session:
        city = platform().city_row(session)
        org = actors.get_organisation(session, city, key)
        form = MembershipForm()
        form.person.choices = [(str(p.id), p.name or "") for p in actors.list_people(session, city)]
        if form.validate_on_submit():
            try:
                with session.begin_nested():
                    person = actors.get_person(session, city, int(form.person.data))
                    actors.add_membership(
                        session,
                        person,
                        org,
                        form.role.data or "",
                        start_date=form.start_date.data,
                        end_date=form.end_date.data,
                        actor=auth.actor(),
                    )
            except ValidationError as error:
                _field_error(form, error)
            else:
                flash(_("The membership is added."), "success")
                return redirect(url_for("workgroup.memberships", key=org.key))
        return (
            render_template(
                "work/memberships.html",
                city=city,
                organisation=org,
                memberships=actors.memberships(session, org),
                form=form,
                remove=ConfirmForm(),
            ),
            _status(form),
        )


@blueprint.post("/organisations/<key>/memberships/<int:membership_id>/remove")
@auth.editor_required
def remove_membership(key: str, membership_id: int) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with platform().transaction() as session:
        org = actors.get_organisation(session, platform().city_row(session), key)
        actors.remove_membership(
            session, actors.get_membership(session, org, membership_id), actor=auth.actor()
        )
    flash(_("The membership is removed."), "success")
    return redirect(url_for("workgroup.memberships", key=key))
