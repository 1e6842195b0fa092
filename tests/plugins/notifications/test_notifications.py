"""notifications: e-mails about stage changes go through the outbox to a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from innoplat.core.errors import PluginError
from innoplat.core.models import utcnow
from innoplat.core.services import ideas
from innoplat.core.services.ideas import Submitter
from innoplat.plugins.notifications import outbox
from innoplat.plugins.notifications.models import MessageStatus, OutboxMessage
from innoplat.plugins.notifications.smtp import SmtpTransport

SENDER = "innovation-kiruna@example.invalid"


def _settings(**extra):
    return {"notifications": {"sender": SENDER, **extra}}


@pytest.fixture
def notifying(make_platform):
    return make_platform(plugins=["notifications"], settings=_settings(retry_delay=0))


def _follow(session, idea, email, *, locale="sv"):
    """A follower who opened the confirmation link."""
    follower = outbox.follow(session, idea, email, locale=locale)
    outbox.confirm_follower(session, follower)
    return follower


def _stage_messages(session):
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "stage_changed")))


def _submit(session, platform, **fields):
    city = platform.city_row(session)
    fields.setdefault("title", "Uppvärmda busshållplatser")
    return ideas.submit_idea(session, city, **fields)


def _deliver(platform, smtp_server, **options):
    """One run of the outbox's sender, to the test's SMTP server."""
    send = SmtpTransport.from_url(smtp_server.url).send
    return outbox.deliver(platform.transaction, "kiruna", send, sender=SENDER, **options)


def _anna_hears_of_a_move(platform, locale: str | None = None) -> str:
    """Anna (consenting, writing in ``locale``) submits an idea that moves on: one e-mail to her."""
    with platform.transaction() as session:
        idea = _submit(
            session,
            platform,
            submitter=Submitter(email="anna@example.org", consent=True, locale=locale),
        )
        ideas.move_idea(session, idea, "bedomning")
        return idea.reference


def test_a_stage_change_queues_one_email_per_recipient_in_their_language(notifying):
    """The consenting submitter (English) and a follower (Swedish) each get the news in their language."""
    with notifying.transaction() as session:
        idea = _submit(
            session,
            notifying,
            submitter=Submitter(name="Anna", email="anna@example.org", consent=True, locale="en"),
        )
        _follow(session, idea, "olle@example.org", locale="sv")
        ideas.move_idea(session, idea, "bedomning", note="Bedöms nästa vecka")
    with notifying.transaction() as session:
        messages = {m.recipient: m for m in _stage_messages(session)}
    assert set(messages) == {"anna@example.org", "olle@example.org"}
    anna, olle = messages["anna@example.org"], messages["olle@example.org"]
    assert anna.locale == "en" and "is now in the stage “Assessment”" in anna.subject
    assert "because you submitted the idea" in anna.body
    assert olle.locale == "sv" and "är nu i steget ”Bedömning”" in olle.subject
    assert "eftersom du följer idén" in olle.body


def test_no_email_without_consent_or_after_the_move_is_rolled_back(notifying):
    """A submitter without an address gets nothing, and a failed move leaves no message behind."""
    with notifying.transaction() as session:
        idea = _submit(session, notifying)
        ideas.move_idea(session, idea, "bedomning")
        reference = idea.reference
    with pytest.raises(RuntimeError), notifying.transaction() as session:
        idea = ideas.get_idea(session, reference)
        _follow(session, idea, "olle@example.org", locale="sv")
        ideas.move_idea(session, idea, "utveckling")
        raise RuntimeError("the request failed after the move")
    with notifying.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_following_twice_keeps_one_follower_and_bad_addresses_are_refused(notifying):
    from innoplat.core.errors import ValidationError

    with notifying.transaction() as session:
        idea = _submit(session, notifying)
        _follow(session, idea, "olle@example.org", locale="sv")
        _follow(session, idea, "OLLE@example.org", locale="en")
        assert outbox.follower_count(session, idea) == 1
        with pytest.raises(ValidationError) as error:
            outbox.follow(session, idea, "not an address", locale="sv")
        assert error.value.field == "email"


def test_the_outbox_is_delivered_to_a_real_smtp_server(notifying, smtp_server):
    """End to end: move an idea, run the sender, the message arrives with subject and language."""
    reference = _anna_hears_of_a_move(notifying, locale="en")
    report = _deliver(notifying, smtp_server)
    assert report.sent == 1 and not report.errors
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "anna@example.org" and message["From"] == SENDER
    assert message["Subject"] == f"{reference} is now in the stage “Assessment”"
    assert message["Content-Language"] == "en"
    assert "Innovation Platform Kiruna" in message.get_content()
    with notifying.transaction() as session:
        stored = session.scalar(select(OutboxMessage))
        assert stored.status is MessageStatus.sent and stored.sent_at is not None
    again = _deliver(notifying, smtp_server)
    assert again.sent == 0 and len(smtp_server.messages) == 1


def test_a_message_is_retried_with_backoff_when_the_server_is_down(notifying, smtp_server):
    """First run: server down, the message waits; a later run delivers it; after max attempts it fails."""
    smtp_server.stop()
    send = SmtpTransport.from_url(smtp_server.url).send
    _anna_hears_of_a_move(notifying, locale="sv")
    start = utcnow()
    first = outbox.deliver(
        notifying.transaction, "kiruna", send, sender=SENDER, retry_delay=60, now=start
    )
    assert first.retrying == 1 and first.sent == 0
    with notifying.transaction() as session:
        waiting = session.scalar(select(OutboxMessage))
        assert waiting.status is MessageStatus.pending and waiting.attempts == 1
        assert waiting.next_attempt_at == start + timedelta(seconds=60)
        assert "Connection" in waiting.last_error or "refused" in waiting.last_error.lower()
    smtp_server.start()
    too_early = outbox.deliver(
        notifying.transaction, "kiruna", send, sender=SENDER, now=start + timedelta(seconds=30)
    )
    assert too_early.sent == 0 and not smtp_server.messages
    later = outbox.deliver(
        notifying.transaction, "kiruna", send, sender=SENDER, now=start + timedelta(seconds=61)
    )
    assert later.sent == 1
    assert smtp_server.wait_for(1)[0]["Content-Language"] == "sv"


def test_a_message_is_marked_failed_after_the_last_attempt(notifying, smtp_server):
    smtp_server.stop()
    send = SmtpTransport.from_url(smtp_server.url).send
    _anna_hears_of_a_move(notifying)
    for _ in range(2):
        report = outbox.deliver(
            notifying.transaction, "kiruna", send, sender=SENDER, max_attempts=2, retry_delay=0
        )
    assert report.failed == 1
    with notifying.transaction() as session:
        assert session.scalar(select(OutboxMessage)).status is MessageStatus.failed


def test_the_send_command_delivers_and_reports(
    platform, database_url, city_folder, smtp_server, run_cli, monkeypatch
):
    """``innoplat notifications send --city <folder>`` sends over INNOPLAT_SMTP_URL."""
    folder = city_folder(plugins=["notifications"], settings={"notifications": ["retry_delay = 0"]})
    code, out, err = run_cli(
        "ideas", "submit", "--city", str(folder), "--db", database_url, "--title", "Ny idé"
    )
    assert code == 0, err
    with platform.transaction() as session:
        idea = ideas.get_idea(session, f"KIR-{utcnow().year}-0001")
        _follow(session, idea, "olle@example.org", locale="sv")
        session.execute(delete(OutboxMessage))  # the confirmation e-mail is another test's
    code, out, err = run_cli(
        "ideas",
        "move",
        "--city",
        str(folder),
        "--db",
        database_url,
        idea.reference,
        "--to",
        "bedomning",
    )
    assert code == 0, err
    monkeypatch.setenv("INNOPLAT_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("INNOPLAT_BASE_URL", "https://idéer.kiruna.example")
    code, out, err = run_cli("notifications", "send", "--city", str(folder), "--db", database_url)
    assert code == 0, err
    assert "Sent 1" in out
    assert smtp_server.wait_for(1)[0]["Subject"].startswith(idea.reference)
    code, out, err = run_cli("notifications", "outbox", "--city", str(folder), "--db", database_url)
    assert "1 sent" in out


def test_the_send_command_says_when_the_plugin_is_not_enabled(platform, database_url, run_cli):
    code, _out, err = run_cli("notifications", "send", "--city", "lund", "--db", database_url)
    assert code == 1
    assert "plugin 'notifications': is not enabled for lund" in err


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({}, "sender"),
        ({"sender": "nobody"}, "sender"),
        ({"sender": SENDER, "smtp_url": "http://mail"}, "smtp_url"),
        ({"sender": SENDER, "max_attempts": 0}, "max_attempts"),
        ({"sender": SENDER, "retry_delay": "soon"}, "retry_delay"),
        ({"sender": SENDER, "smtp_host": "x"}, "smtp_host"),
        ({"sender": SENDER, "base_url": "kiruna.se"}, "base_url"),
        ({"sender": SENDER, "keep_days": 0}, "keep_days"),
    ],
)
def test_bad_settings_name_the_key(make_platform, settings, key):
    with pytest.raises(PluginError) as error:
        make_platform(plugins=["notifications"], settings={"notifications": settings})
    assert f"plugins.notifications.{key}" in str(error.value)


def test_a_visitor_follows_an_idea_from_its_page(plugin_client, public_idea):
    """The follow form on the idea page stores the follower in the visitor's language."""
    from innoplat.plugins.notifications.models import Follower

    client, app = plugin_client(["notifications"], _settings())
    reference = public_idea(app)
    page = client.get(f"/ideas/{reference}?lang=en").get_data(as_text=True)
    assert "Follow this idea" in page
    refused = client.post(f"/notifications/follow/{reference}", data={"email": "olle@example.org"})
    assert refused.status_code == 400
    response = client.post(
        f"/notifications/follow/{reference}?lang=en",
        data={"email": "olle@example.org", "consent": "y"},
    )
    assert response.status_code == 303
    with app.extensions["innoplat"].transaction() as session:
        (follower,) = session.scalars(select(Follower))
        assert follower.email == "olle@example.org" and follower.locale == "en"


def test_a_follower_stops_following_through_the_link_in_the_email(
    make_platform, smtp_server, make_app
):
    """The sender adds the link when base_url is set; opening it asks, confirming deletes the address."""
    from innoplat.core.web import create_app
    from innoplat.plugins.notifications.models import Follower

    platform = make_platform(
        plugins=["notifications"], settings=_settings(base_url="https://idéer.kiruna.example")
    )
    with platform.transaction() as session:
        idea = _submit(session, platform)
        _follow(session, idea, "olle@example.org", locale="en")
        session.execute(delete(OutboxMessage))
        ideas.move_idea(session, idea, "bedomning")
    _deliver(platform, smtp_server, base_url="https://idéer.kiruna.example")
    body = smtp_server.wait_for(1)[0].get_content()
    link = next(word for word in body.split() if "/notifications/unfollow/" in word)
    assert "To stop following this idea, open:" in body
    path = link.removeprefix("https://idéer.kiruna.example")

    client = create_app(
        platform=platform, config={"TESTING": True, "WTF_CSRF_ENABLED": False}
    ).test_client()
    assert client.get(path).status_code == 200
    with platform.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Follower)) == 1  # opening only asks
    assert client.post(path).status_code == 200
    with platform.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Follower)) == 0
    assert client.get(path).status_code == 404


def test_delivered_messages_are_deleted_after_keep_days(notifying, smtp_server):
    _anna_hears_of_a_move(notifying)
    _deliver(notifying, smtp_server)
    with notifying.transaction() as session:
        city = notifying.city_row(session)
        assert outbox.purge_delivered(session, city, older_than_days=30) == 0
        later = utcnow() + timedelta(days=31)
        assert outbox.purge_delivered(session, city, older_than_days=30, now=later) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --------------------------------------------------------------------------- the outbox never jams


def _queue(platform, *recipients):
    from innoplat.plugins.notifications.outbox import queue_message

    with platform.transaction() as session:
        city = platform.city_row(session)
        for recipient in recipients:
            queue_message(
                session,
                city,
                recipient=recipient,
                locale="sv",
                subject="Hej",
                body="Hej!\n",
                kind="test",
            )


def test_a_message_that_cannot_be_written_fails_and_the_rest_go_out(notifying, smtp_server):
    """Issue 8: one address with ``\\r\\nBcc:`` stopped every later ``notifications send``."""
    _queue(notifying, "anna@example.org\r\nBcc: evil@example.org", "olle@example.org")
    report = _deliver(notifying, smtp_server)
    assert report.sent == 1 and report.failed == 1 and report.smtp_down is None
    assert smtp_server.wait_for(1)[0]["To"] == "olle@example.org"
    assert smtp_server.recipients == [["olle@example.org"]]
    with notifying.transaction() as session:
        bad = session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        assert bad.attempts == 1 and "cannot be written as an e-mail" in bad.last_error


def test_a_refused_recipient_fails_at_once_and_the_rest_go_out(notifying, smtp_server):
    smtp_server.refused.add("nobody@example.org")
    _queue(notifying, "nobody@example.org", "olle@example.org")
    report = _deliver(notifying, smtp_server)
    assert report.sent == 1 and report.failed == 1 and report.retrying == 0
    with notifying.transaction() as session:
        bad = session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        assert bad.recipient == "nobody@example.org" and "550" in bad.last_error


def test_the_send_command_exits_0_unless_smtp_itself_is_down(
    platform, database_url, city_folder, smtp_server, run_cli, monkeypatch
):
    folder = city_folder(plugins=["notifications"], settings={"notifications": ["retry_delay = 0"]})
    notifying = platform  # the same database
    _queue(notifying, "anna@example.org\nBcc: evil@example.org", "olle@example.org")
    monkeypatch.setenv("INNOPLAT_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("INNOPLAT_BASE_URL", "https://idéer.kiruna.example")
    code, out, err = run_cli("notifications", "send", "--city", str(folder), "--db", database_url)
    assert code == 0, err
    assert "Sent 1" in out and "gave up on 1" in out
    _queue(notifying, "pia@example.org")
    smtp_server.stop()
    code, out, err = run_cli("notifications", "send", "--city", str(folder), "--db", database_url)
    assert code == 1 and "the SMTP server cannot be reached" in err, (out, err)


def test_the_send_command_needs_the_site_address_for_links(
    platform, database_url, city_folder, run_cli, monkeypatch, smtp_server
):
    """An e-mail with a follower's link is never sent with a link guessed from somewhere else."""
    folder = city_folder(plugins=["notifications"])
    monkeypatch.delenv("INNOPLAT_BASE_URL", raising=False)
    monkeypatch.setenv("INNOPLAT_SMTP_URL", smtp_server.url)
    code, out, err = run_cli("notifications", "send", "--city", str(folder), "--db", database_url)
    assert code == 0 and "Sent 0" in out, err  # nothing needs a link yet
    with platform.transaction() as session:
        outbox.follow(session, _submit(session, platform), "olle@example.org", locale="sv")
    code, _out, err = run_cli("notifications", "send", "--city", str(folder), "--db", database_url)
    assert code == 1 and err.startswith("Error: INNOPLAT_BASE_URL: is not set")
    assert not smtp_server.messages


# --------------------------------------------------------------------------- double opt-in


def test_following_needs_a_confirmed_address(plugin_client, public_idea, smtp_server):
    """Issue 8: anyone could make any address follow an idea; now only its owner can confirm."""
    from innoplat.plugins.notifications.models import Follower

    client, app = plugin_client(["notifications"], _settings())
    reference = public_idea(app)
    platform = app.extensions["innoplat"]
    response = client.post(
        f"/notifications/follow/{reference}?lang=en",
        data={"email": "olle@example.org", "consent": "y"},
    )
    assert response.status_code == 303
    with platform.transaction() as session:
        (follower,) = session.scalars(select(Follower))
        assert follower.confirmed_at is None
        ideas.move_idea(session, ideas.get_idea(session, reference), "bedomning")
        assert _stage_messages(session) == []  # not confirmed: no news
    _deliver(platform, smtp_server, base_url="http://localhost")
    (mail,) = smtp_server.wait_for(1)
    assert mail["Subject"] == f"Confirm that you follow {reference}"
    link = next(w for w in mail.get_content().split() if "/notifications/confirm/" in w)
    assert client.get(link).status_code == 200  # opening only asks (mail scanners open links)
    with platform.transaction() as session:
        assert session.scalar(select(Follower.confirmed_at)) is None
    assert client.post(link).status_code == 303
    with platform.transaction() as session:
        assert session.scalar(select(Follower.confirmed_at)) is not None
        ideas.move_idea(session, ideas.get_idea(session, reference), "utveckling")
        assert [m.recipient for m in _stage_messages(session)] == ["olle@example.org"]


def test_an_address_another_plugin_has_proven_follows_without_a_link_of_its_own(notifying):
    """The voting plugin's one link: ``confirmed`` records a confirmed follower, mailing nothing."""
    from innoplat.plugins.notifications.models import Follower

    with notifying.transaction() as session:
        idea = _submit(session, notifying)
        outbox.follow(session, idea, "olle@example.org", locale="sv")  # the form: a link goes out
        outbox.follow(session, idea, "Olle@example.org", locale="en", confirmed=True)
        outbox.follow(session, idea, "pia@example.org", locale="sv", confirmed=True)
        outbox.follow(session, idea, "pia@example.org", locale="sv", confirmed=True)
        followers = session.scalars(select(Follower).order_by(Follower.id)).all()
        assert [(f.email, f.locale) for f in followers] == [
            ("olle@example.org", "en"),
            ("pia@example.org", "sv"),
        ]
        assert all(f.confirmed_at is not None for f in followers)
        mailed = session.scalars(select(OutboxMessage.recipient)).all()
        assert mailed == ["olle@example.org"]  # only the link the form asked for
        ideas.move_idea(session, idea, "bedomning")
        assert sorted(m.recipient for m in _stage_messages(session)) == [
            "olle@example.org",
            "pia@example.org",
        ]
        assert all(m.follower_token for m in _stage_messages(session))  # the way out


def test_unconfirmed_followers_are_deleted_after_a_week(notifying):
    from innoplat.plugins.notifications.models import Follower

    with notifying.transaction() as session:
        idea = _submit(session, notifying)
        outbox.follow(session, idea, "olle@example.org", locale="sv")
        _follow(session, idea, "pia@example.org")
        city = notifying.city_row(session)
        assert outbox.purge_unconfirmed(session, city) == 0
        later = utcnow() + timedelta(days=8)
        assert outbox.purge_unconfirmed(session, city, now=later) == 1
        assert list(session.scalars(select(Follower.email))) == ["pia@example.org"]


def test_followers_get_only_public_text(notifying):
    """Issue 8: the working group's transition note (it may name people) stayed in followers' mail."""
    with notifying.transaction() as session:
        idea = _submit(
            session,
            notifying,
            summary="Värme vid hållplatserna",
            submitter=Submitter(email="anna@example.org", consent=True),
        )
        _follow(session, idea, "olle@example.org")
        ideas.move_idea(session, idea, "bedomning", note="Kalle Karlsson på gatukontoret tar den")
        bodies = [m.body for m in _stage_messages(session)]
    assert len(bodies) == 2
    assert all("Kalle" not in b and "Värme vid hållplatserna" in b for b in bodies)


def test_a_stage_without_a_name_in_the_readers_language_is_named_in_the_citys_default():
    from innoplat.core.models import City, Idea, Stage, StageTransition

    city = City(slug="exempel", name={"fi": "Esimerkki"}, default_locale="fi")
    idea = Idea(reference="EX-2026-0001", title="Bänkar", summary="", city=city)
    moved = StageTransition(
        from_stage=Stage(key="saapunut", name={"fi": "Saapunut", "en": "Received"}),
        to_stage=Stage(key="arviointi", name={"fi": "Arviointi", "en": "Assessment"}),
    )
    subject, body = outbox.stage_changed_message(idea, moved, "se", "follower")
    # Northern Sami has no name: the city's default language (Finnish), as on its pages.
    assert "Arviointi" in subject and "Saapunut" in body
    assert "Assessment" not in subject + body
