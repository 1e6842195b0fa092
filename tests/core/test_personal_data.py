"""Data subjects' rights: one person's data exported whole and erased everywhere, core and plugins."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, Text, select

from innoplat.core.errors import ValidationError
from innoplat.core.hookspecs import hookimpl
from innoplat.core.models import AuditEvent, Base, Idea, Person, utcnow
from innoplat.core.services import accounts, actors, consent, ideas, persons
from innoplat.core.services.ideas import Submitter

EMAIL = "Asa.Lind@Example.org"
NAME = "Åsa Lind"
SECRET = "the instance secret of this test"
ACTOR = f"{NAME} <{EMAIL.lower()}>"

#: Columns named like personal data that hold none: names of cities, stages, organisations…
NOT_PERSONAL = {
    "city.name",
    "stage.name",
    "focus_area.name",
    "organisation.name",
    "method.name",
}
PERSONAL_COLUMN = re.compile(r"e_?mail|recipient|name|actor|supporter|author|hidden_by")


class Diary:
    """A city's own plugin keeping nothing of its own: it sees both hooks called, with the subject."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    @hookimpl
    def innoplat_export_personal_data(self, session, city, subject):
        self.calls.append(("export", subject.email, subject.names))
        return {"diary": [f"{city.slug} remembers nothing of {subject.email}"]}

    @hookimpl
    def innoplat_erase_personal_data(self, session, city, subject):
        self.calls.append(("erase", subject.email, subject.names))
        return {"diary_pages": 0}


def _text_columns():
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | JSON):
                yield table, column


def _mentions(session, needles: list[str]) -> dict[str, list[str]]:
    """Every ``table.column`` whose stored text holds one of the needles (case-insensitive)."""
    found: dict[str, list[str]] = {}
    for table, column in _text_columns():
        for (value,) in session.execute(select(column)):
            text = (
                json.dumps(value, ensure_ascii=False)
                if column.type.__class__ is JSON
                else str(value or "")
            ).lower()
            hits = [n for n in needles if n.lower() in text]
            if hits:
                found.setdefault(f"{table.name}.{column.name}", []).extend(hits)
    return found


def _needles(secret: str = SECRET) -> list[str]:
    from innoplat.plugins.voting import supports

    return [EMAIL, NAME, supports.email_supporter(EMAIL, secret), supports.legacy_supporter(EMAIL)]


def _leave_traces_everywhere(platform) -> str:
    """One person's data in every table that can hold it, written by the real use cases."""
    from innoplat.plugins.comments import discussion
    from innoplat.plugins.evaluation import matrix, scoring
    from innoplat.plugins.notifications import outbox
    from innoplat.plugins.voting import following, supports

    with platform.transaction() as session:
        city = platform.city_row(session)
        account = accounts.create_account(
            session, city, email=EMAIL, name=NAME, password="correct horse battery", role="admin"
        )
        idea = ideas.submit_idea(
            session,
            city,
            title="Uppvärmda busshållplatser",
            description=f"Skriv till mig på {EMAIL} om ni vill veta mer.",
            submitter=Submitter(name=NAME, email=EMAIL, consent=True, locale="sv"),
            actor=ACTOR,
        )
        person = actors.add_person(session, city, name=NAME, email=EMAIL, consent=True, actor=ACTOR)
        organisation = actors.list_organisations(session, city)[0]
        actors.add_membership(session, person, organisation, "working group", actor=ACTOR)
        follower = outbox.follow(session, idea, EMAIL, locale="sv")
        outbox.confirm_follower(session, follower)
        supports.support(session, idea, supports.email_supporter(EMAIL, SECRET))
        supports.support(session, idea, supports.account_supporter(account.id))
        following.remember(session, idea, EMAIL, locale="sv")  # a support link not yet opened
        signed = discussion.post_comment(session, idea, "Bra idé!", author_name=NAME)
        staff = discussion.post_comment(
            session,
            idea,
            f"Svar: mejla {EMAIL}",
            author_name="",
            account_id=account.id,
            actor=ACTOR,
        )
        other = discussion.post_comment(session, idea, "Spam", author_name="Någon annan")
        discussion.hide_comment(session, other, actor=ACTOR, reason="spam")
        settings = platform.city.config.plugins.settings("evaluation")
        scoring.record_scores(
            session,
            idea,
            account.id,
            {c.key: 3 for c in matrix.matrix(settings).criteria},
            matrix.matrix(settings),
            actor=ACTOR,
        )
        ideas.move_idea(session, idea, "bedomning", note=f"Kontakt: {EMAIL}", actor=ACTOR)
        del signed, staff
        return idea.reference


@pytest.fixture
def kiruna(make_platform):
    """Kiruna with every built-in plugin enabled, and a city plugin taking part."""
    diary = Diary()
    platform = make_platform(extra_plugins=[diary])
    platform.diary = diary  # type: ignore[attr-defined]
    return platform


def test_erasure_leaves_no_trace_of_the_person_in_any_table(kiruna):
    """The meta-test: every table holding an e-mail or a name column is covered by erasure.

    A plugin that adds a table with such a column fails here until its rows are written in
    ``_leave_traces_everywhere`` and its ``innoplat_erase_personal_data`` removes them.
    """
    reference = _leave_traces_everywhere(kiruna)
    personal = {
        f"{t.name}.{c.name}"
        for t, c in _text_columns()
        if PERSONAL_COLUMN.search(c.name) and f"{t.name}.{c.name}" not in NOT_PERSONAL
    }
    with kiruna.transaction() as session:
        before = _mentions(session, _needles())
    unfilled = sorted(
        c
        for c in personal
        if c not in before and c not in ("comments_comment.author_name", "account.name")
    )
    assert not unfilled, f"this test writes no row holding the person into: {unfilled}"

    with kiruna.transaction() as session:
        city = kiruna.city_row(session)
        subject = persons.data_subject(EMAIL, secret=SECRET)
        changed = persons.erase_personal_data(session, city, subject, actor="the DPO")
    assert changed["persons"] == 2 and changed["accounts"] == 1
    assert changed["followers"] == 1 and changed["supports_unlinked"] == 2
    assert changed["pending_follows_deleted"] == 1
    assert changed["pending_emails_dropped"] >= 2  # the confirmation and the stage change
    assert changed["comments_unsigned"] == 2

    with kiruna.transaction() as session:
        assert _mentions(session, _needles()) == {}
        idea = ideas.get_idea(session, reference)
        assert idea.submitter is not None and idea.submitter.anonymised_at is not None
        assert "[anonymised]" in idea.description  # the idea stays, the address goes
        erased = session.scalar(select(AuditEvent).where(AuditEvent.action == "erased"))
        assert erased.actor == "the DPO" and erased.after["subject"].startswith("hmac-sha256:")
    from innoplat.plugins.voting import supports

    with kiruna.transaction() as session:
        idea = ideas.get_idea(session, reference)
        assert supports.support_count(session, idea) == 2  # supports still count, unlinked
    assert [c[0] for c in kiruna.diary.calls] == ["erase"]
    assert kiruna.diary.calls[0][1:] == (EMAIL.lower(), (NAME,))


def test_the_export_holds_core_and_every_plugin_and_is_audited(kiruna):
    reference = _leave_traces_everywhere(kiruna)
    with kiruna.transaction() as session:
        city = kiruna.city_row(session)
        document = persons.export_personal_data(
            session, city, persons.data_subject(EMAIL, secret=SECRET), actor="the DPO"
        )
    json.dumps(document, default=str)  # one JSON document
    (submitter, registered) = document["persons"]
    assert submitter["ideas_submitted"][0]["reference"] == reference
    assert submitter["consent"]["version"] == consent.IDEA_SUBMISSION.version
    assert submitter["consent"]["text"] == consent.IDEA_SUBMISSION.text
    assert registered["memberships"][0]["role"] == "working group"
    assert document["accounts"][0]["role"] == "admin"
    plugins = document["plugins"]
    assert plugins["followed_ideas"][0]["idea"] == reference
    assert {m["kind"] for m in plugins["emails"]} == {"follow_confirmation", "stage_changed"}
    assert len(plugins["supports"]) == 2
    assert plugins["pending_follows"][0]["idea"] == reference
    assert {c["signed"] for c in plugins["comments"]} == {NAME, ""}
    assert plugins["evaluation_scores"] and plugins["diary"]
    assert any(e["actor"] == ACTOR for e in document["audit_trail"])
    with kiruna.transaction() as session:
        exported = session.scalar(select(AuditEvent).where(AuditEvent.action == "exported"))
        assert exported is not None and EMAIL.lower() not in json.dumps(exported.after)


def test_a_staff_account_with_a_role_in_another_city_keeps_that_role(make_platform):
    kiruna, lund = make_platform(), make_platform(city="lund")
    for platform in (kiruna, lund):
        with platform.transaction() as session:
            accounts.create_account(
                session,
                platform.city_row(session),
                email=EMAIL,
                name=NAME,
                password="correct horse battery",
            )
    with kiruna.transaction() as session:
        persons.erase_personal_data(
            session, kiruna.city_row(session), persons.data_subject(EMAIL, secret=SECRET)
        )
    with lund.transaction() as session:
        assert accounts.authenticate(session, EMAIL, "correct horse battery") is not None
        assert [
            a.email for a, _role in accounts.list_accounts(session, lund.city_row(session))
        ] == [EMAIL.lower()]
    with kiruna.transaction() as session:
        assert accounts.list_accounts(session, kiruna.city_row(session)) == []


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b@c", "anna@example.org\r\nBcc: x", " @x"])
def test_a_request_needs_one_real_address(email):
    with pytest.raises(ValidationError) as error:
        persons.data_subject(email)
    assert error.value.field == "email"


# --------------------------------------------------------------------------- command line


def test_the_commands_export_and_erase(kiruna, database_url, run_cli, monkeypatch, tmp_path):
    _leave_traces_everywhere(kiruna)
    monkeypatch.setenv("INNOPLAT_SECRET_KEY", SECRET)
    target = tmp_path / "asa.json"
    code, _out, err = run_cli(
        "persons", "export", "--db", database_url, "--email", EMAIL, "-o", str(target)
    )
    assert code == 0, err
    assert json.loads(target.read_text())["persons"][0]["name"] == NAME

    code, out, err = run_cli(
        "persons", "erase", "--db", database_url, "--email", EMAIL, input="n\n"
    )
    assert code == 1 and "Aborted" in err
    with kiruna.transaction() as session:
        assert session.scalar(select(Person).where(Person.name == NAME)) is not None

    code, out, err = run_cli("persons", "erase", "--db", database_url, "--email", EMAIL, "--yes")
    assert code == 0, err
    assert out.startswith(f"Erased {EMAIL.lower()} in kiruna:") and "2 persons" in out
    code, out, err = run_cli("persons", "erase", "--db", database_url, "--email", EMAIL, "--yes")
    assert "Nothing was stored" in out, err


def test_the_commands_explain_mistakes_in_one_line(kiruna, database_url, run_cli, monkeypatch):
    monkeypatch.delenv("INNOPLAT_SECRET_KEY", raising=False)
    code, _out, err = run_cli("persons", "export", "--db", database_url, "--email", EMAIL)
    assert code == 2 and "INNOPLAT_SECRET_KEY" in err and "Traceback" not in err
    monkeypatch.setenv("INNOPLAT_SECRET_KEY", SECRET)
    code, _out, err = run_cli("persons", "erase", "--db", database_url, "--email", "x", "--yes")
    assert code == 1 and err.strip() == "Error: email: 'x' is not an e-mail address"


# --------------------------------------------------------------------------- retention


def test_contact_details_expire_after_the_idea_is_closed_for_the_period(
    kiruna, run_cli, database_url
):
    """Closed long enough: the details go; still open, or closed recently: they stay."""
    with kiruna.transaction() as session:
        city = kiruna.city_row(session)
        old = ideas.submit_idea(
            session,
            city,
            title="Gammal",
            submitter=Submitter(name=NAME, email=EMAIL, consent=True),
            submitted_at=utcnow() - timedelta(days=500),
        )
        ideas.move_idea(session, old, "avslutad", at=utcnow() - timedelta(days=400))
        recent = ideas.submit_idea(
            session,
            city,
            title="Ny",
            submitter=Submitter(name="Olle", email="o@x.se", consent=True),
        )
        ideas.move_idea(session, recent, "avslutad")
        ideas.submit_idea(
            session,
            city,
            title="Öppen",
            submitter=Submitter(name="Pia", email="p@x.se", consent=True),
        )
    assert kiruna.city.config.privacy.contact_retention_days == 365
    code, out, err = run_cli("persons", "expire-contacts", "--db", database_url)
    assert code == 0, err
    assert "Removed the contact details of 1 submitters" in out
    with kiruna.transaction() as session:
        names = set(session.scalars(select(Person.name).where(Person.name.is_not(None))))
        assert names == {"Olle", "Pia"}
        assert session.scalar(select(Idea).where(Idea.title == "Gammal")) is not None
        city = kiruna.city_row(session)
        assert persons.expire_contact_details(session, city, retention_days=365) == 0
        later = utcnow() + timedelta(days=366)
        assert persons.expire_contact_details(session, city, retention_days=365, now=later) == 1


def test_consent_records_the_text_agreed_to(kiruna):
    """The idea form shows the versioned text; the person's record keeps its version."""
    from innoplat.core.web.forms import IdeaForm, PersonForm

    assert IdeaForm.consent.args[0]._args[0] == consent.IDEA_SUBMISSION.text
    assert PersonForm.consent.args[0]._args[0] == consent.REGISTERED_BY_STAFF.text
    with kiruna.transaction() as session:
        city = kiruna.city_row(session)
        idea = ideas.submit_idea(
            session, city, title="X", submitter=Submitter(email="a@x.se", consent=True)
        )
        assert idea.submitter.consent_version == consent.IDEA_SUBMISSION.version
        assert idea.submitter.consent_at is not None
