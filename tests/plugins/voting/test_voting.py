"""voting: one support per staff account or confirmed e-mail address, counts and a ranked list."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from innoplat.core import validation
from innoplat.core.errors import ValidationError
from innoplat.core.hookspecs import hookimpl
from innoplat.core.services import ideas
from innoplat.plugins.notifications.models import OutboxMessage
from innoplat.plugins.voting import supports
from innoplat.plugins.voting.models import Support

NOTIFY = {"notifications": {"sender": "innovation-kiruna@example.invalid"}}


def _count(app) -> int:
    with app.extensions["innoplat"].transaction() as session:
        return session.scalar(select(func.count()).select_from(Support))


def test_a_staff_member_supports_an_idea_once(plugin_client, sign_in, public_idea):
    client, app = plugin_client(["voting"])
    reference = public_idea(app)
    sign_in(client, "member")
    for _ in range(2):
        response = client.post(f"/voting/support/{reference}")
        assert response.status_code == 303
    assert _count(app) == 1
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    assert "1 person supports this idea." in page or "1 person stöder idén." in page


def test_a_resident_supports_through_a_confirmation_link(plugin_client, public_idea):
    """The e-mail goes to the outbox; only opening its link counts the support, once."""
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    response = client.post(f"/voting/support/{reference}", data={"email": "Anna@Example.org"})
    assert response.status_code == 303
    assert _count(app) == 0
    with app.extensions["innoplat"].transaction() as session:
        mail = session.scalar(select(OutboxMessage))
        assert mail.recipient == "Anna@Example.org" and mail.kind == "voting_confirmation"
    link = re.search(r"http://localhost(/voting/confirm/\S+)", mail.body).group(1)
    assert client.get(link).status_code == 200  # opening only asks (mail scanners open links)
    assert _count(app) == 0
    assert client.post(link).status_code == 303
    assert client.post(link).status_code == 303
    assert _count(app) == 1
    with app.extensions["innoplat"].transaction() as session:
        stored = session.scalar(select(Support))
        # A keyed hash: the plain SHA-256 of a known address does not find it (issue 8).
        key = supports.email_supporter("anna@example.org", app.config["SECRET_KEY"])
        assert stored.supporter == key and key.startswith("email-hmac:")
        assert hashlib.sha256(b"anna@example.org").hexdigest() not in stored.supporter
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    assert re.search(r"1 (person supports this idea|person stöder idén)", page)


def test_a_forged_or_foreign_link_counts_nothing(plugin_client, public_idea):
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    public_idea(app)
    assert client.get("/voting/confirm/not-a-token").status_code == 400
    assert client.post("/voting/confirm/not-a-token").status_code == 400
    forged = supports.confirmation_token("another secret", "KIR-2026-0001", "anna@example.org")
    assert client.get(f"/voting/confirm/{forged}").status_code == 400
    assert client.post(f"/voting/confirm/{forged}").status_code == 400
    assert _count(app) == 0


def test_without_notifications_only_staff_can_support(plugin_client, public_idea):
    """No mail can confirm an address, so residents see the count but no e-mail form.

    Stockholm enables voting without notifications.
    """
    client, app = plugin_client(["voting"], city="stockholm")
    reference = public_idea(app)
    page = client.get(f"/ideas/{reference}").get_data(as_text=True)
    assert 'name="email"' not in page
    assert (
        client.post(f"/voting/support/{reference}", data={"email": "a@example.org"}).status_code
        == 404
    )
    assert _count(app) == 0


def test_the_ranking_lists_the_most_supported_first_and_sorts_by_newest(plugin_client, public_idea):
    client, app = plugin_client(["voting"])
    first = public_idea(app, title="Första idén")
    second = public_idea(app, title="Andra idén")
    public_idea(app, title="Intern idé", visibility="internal")
    with app.extensions["innoplat"].transaction() as session:
        idea = ideas.get_idea(session, first)
        for n in range(3):
            supports.support(session, idea, supports.account_supporter(1000 + n))
    page = client.get("/voting/").get_data(as_text=True)
    assert page.index("Första idén") < page.index("Andra idén")
    assert "Intern idé" not in page
    newest = client.get("/voting/?sort=newest").get_data(as_text=True)
    assert newest.index("Andra idén") < newest.index("Första idén")
    assert second in newest


def test_internal_ideas_cannot_be_supported(make_platform):
    platform = make_platform(plugins=["voting"])
    with platform.transaction() as session:
        idea = ideas.submit_idea(
            session, platform.city_row(session), title="Intern", visibility="internal"
        )
        with pytest.raises(ValidationError) as error:
            supports.support(session, idea, supports.account_supporter(1))
    assert error.value.field == "idea"


def test_voting_has_no_settings(make_platform):
    from innoplat.core.errors import PluginError

    with pytest.raises(PluginError, match="plugins.voting.max"):
        make_platform(plugins=["voting"], settings={"voting": {"max": 3}})


def test_support_requests_are_rate_limited_per_visitor(make_app, public_idea):
    """Each e-mail support sends a mail: a visitor gets a limited number of tries."""
    app = make_app(
        config={"WTF_CSRF_ENABLED": False, "INNOPLAT_PLUGIN_POST_LIMIT": "2 per hour"},
        plugins=["voting", "notifications"],
        settings=NOTIFY,
    )
    client = app.test_client()
    reference = public_idea(app)
    codes = [
        client.post(f"/voting/support/{reference}", data={"email": f"a{n}@example.org"}).status_code
        for n in range(3)
    ]
    assert codes == [303, 303, 429]
    assert client.get("/voting/").status_code == 200  # reading is never limited


def test_supports_of_0_1_0_are_rekeyed_without_the_addresses(
    plugin_client, public_idea, run_cli, monkeypatch
):
    """The migration strategy for unsalted SHA-256 keys: HMAC over the stored digest, counted once."""
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    secret = app.config["SECRET_KEY"]
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        idea = ideas.get_idea(session, reference)
        supports.support(session, idea, supports.legacy_supporter("anna@example.org"))
        supports.support(session, idea, supports.legacy_supporter("olle@example.org"))
        supports.support(session, idea, supports.email_supporter("olle@example.org", secret))
    database_url = str(platform.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("INNOPLAT_SECRET_KEY", raising=False)
    code, _out, err = run_cli("voting", "rekey-supports", "--db", database_url)
    assert code == 2 and "INNOPLAT_SECRET_KEY" in err
    monkeypatch.setenv("INNOPLAT_SECRET_KEY", secret)
    code, out, err = run_cli("voting", "rekey-supports", "--db", database_url)
    assert code == 0 and "Converted 2 supports" in out, err
    with platform.transaction() as session:
        keys = sorted(session.scalars(select(Support.supporter)))
    assert keys == sorted(
        supports.email_supporter(a, secret) for a in ("anna@example.org", "olle@example.org")
    )
    code, out, _err = run_cli("voting", "rekey-supports", "--db", database_url)
    assert "Converted 0 supports" in out


# --------------------------------------------------------------------------- support and follow at once


def _outbox(app) -> list[tuple[str, str]]:
    with app.extensions["innoplat"].transaction() as session:
        return [
            (m.kind, m.recipient) for m in session.scalars(select(OutboxMessage).order_by("id"))
        ]


def _followers(app) -> list[tuple[str, object]]:
    from innoplat.plugins.notifications.models import Follower

    with app.extensions["innoplat"].transaction() as session:
        return [(f.email, f.confirmed_at) for f in session.scalars(select(Follower))]


def _visible_email_fields(page: str) -> int:
    """E-mail fields a visitor sees without opening anything (folded <details> left out)."""
    return len(re.findall(r'type="email"', re.sub(r"(?s)<details>.*?</details>", "", page)))


def _deliver(app, smtp_server) -> int:
    """One run of the notifications plugin's sender to the test's SMTP server: how many went."""
    from innoplat.plugins.notifications import outbox
    from innoplat.plugins.notifications.smtp import SmtpTransport

    send = SmtpTransport.from_url(smtp_server.url).send
    platform = app.extensions["innoplat"]
    sender = NOTIFY["notifications"]["sender"]
    report = outbox.deliver(
        platform.transaction, "kiruna", send, sender=sender, base_url="http://localhost"
    )
    assert not report.errors, report.errors
    return report.sent


def _link(mail, path: str) -> str:
    return next(w for w in mail.get_content().split() if path in w)


def _move(app, reference: str, stage: str) -> None:
    with app.extensions["innoplat"].transaction() as session:
        ideas.move_idea(session, ideas.get_idea(session, reference), stage)


def test_supporting_and_following_takes_one_email_and_one_link(
    plugin_client, public_idea, smtp_server
):
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    page = client.get(f"/ideas/{reference}?lang=en").get_data(as_text=True)
    assert "Also follow this idea. I agree that my e-mail address is stored" in page
    assert _visible_email_fields(page) == 1  # following alone is folded under "Follow by e-mail"
    response = client.post(
        f"/voting/support/{reference}?lang=en",
        data={"email": "Anna@Example.org", "follow": "y"},
        follow_redirects=True,
    )
    flashed = response.get_data(as_text=True)
    assert "we sent a link to Anna@Example.org" in flashed and "two links" not in flashed
    assert _deliver(app, smtp_server) == 1
    (mail,) = smtp_server.wait_for(1)
    assert mail["To"] == "Anna@Example.org"
    assert mail["Subject"] == f"Confirm your support for {reference} and follow it"
    body = mail.get_content()
    assert "your support is counted and you follow the idea, both at once" in body
    assert body.count("http://localhost/") == 1  # one link
    assert _count(app) == 0 and _followers(app) == []

    link = _link(mail, "/voting/confirm/")
    asked = client.get(link + "?lang=en").get_data(as_text=True)
    assert "Yes, support and follow this idea" in asked
    assert _count(app) == 0 and _followers(app) == []  # opening only asks
    confirmed = client.post(link + "?lang=en", follow_redirects=True).get_data(as_text=True)
    assert f"your support is counted, and you now follow {reference}" in confirmed
    assert _count(app) == 1
    ((email, confirmed_at),) = _followers(app)
    assert email == "Anna@example.org" and confirmed_at is not None
    assert _deliver(app, smtp_server) == 0  # no second link was queued

    # Opening the link again counts nothing twice and follows nothing twice.
    again = client.post(link + "?lang=en", follow_redirects=True).get_data(as_text=True)
    assert "You already support this idea." in again
    assert _count(app) == 1 and len(_followers(app)) == 1

    # A confirmed follower: the next stage change reaches the address, with its way out.
    _move(app, reference, "bedomning")
    assert _deliver(app, smtp_server) == 1
    _first, news = smtp_server.wait_for(2)
    assert news["To"] == "Anna@example.org" and news["Subject"].startswith(reference)
    assert "/notifications/unfollow/" in news.get_content()


def test_supporting_without_the_box_sends_one_link_that_follows_nothing(
    plugin_client, public_idea, smtp_server
):
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    client.post(f"/voting/support/{reference}?lang=en", data={"email": "anna@example.org"})
    assert _deliver(app, smtp_server) == 1
    (mail,) = smtp_server.wait_for(1)
    assert mail["Subject"] == f"Confirm your support for {reference}"
    link = _link(mail, "/voting/confirm/")
    assert "Yes, support this idea" in client.get(link + "?lang=en").get_data(as_text=True)
    done = client.post(link + "?lang=en", follow_redirects=True).get_data(as_text=True)
    assert "Thank you: your support is counted." in done and "you now follow" not in done
    assert _count(app) == 1 and _followers(app) == []
    _move(app, reference, "bedomning")
    assert _deliver(app, smtp_server) == 0  # nobody hears of the move


def test_an_address_that_already_follows_is_not_followed_twice(plugin_client, public_idea):
    """Following by the notifications form (unconfirmed), then supporting with the box ticked."""
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    client.post(
        f"/notifications/follow/{reference}", data={"email": "anna@example.org", "consent": "y"}
    )
    client.post(
        f"/voting/support/{reference}?lang=en", data={"email": "anna@example.org", "follow": "y"}
    )
    with app.extensions["innoplat"].transaction() as session:
        body = session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.kind == "voting_confirmation")
        ).one()
    client.post(re.search(r"http://localhost(/voting/confirm/\S+)", body).group(1))
    ((email, confirmed_at),) = _followers(app)
    assert email == "anna@example.org" and confirmed_at is not None


def test_confirming_is_one_transaction(plugin_client, public_idea):
    """A plugin failing while the follower is recorded: the support is not counted either,
    and the link still works afterwards."""
    keeper = MailAndConfirmedFollowers(fail=True)
    client, app = plugin_client(only=["catalogue", "voting"], extra_plugins=[keeper])
    reference = public_idea(app)
    client.post(
        f"/voting/support/{reference}?lang=en", data={"email": "anna@example.org", "follow": "y"}
    )
    (link,) = keeper.links
    assert client.post(link).status_code == 500
    assert _count(app) == 0 and _wishes(app) == 1
    keeper.fail = False
    assert client.post(link).status_code == 303
    assert _count(app) == 1 and _wishes(app) == 0
    assert keeper.follows == [(reference, "anna@example.org", "en", True)]


def test_a_wish_to_follow_is_deleted_when_its_link_has_expired(plugin_client, public_idea):
    from datetime import timedelta

    from innoplat.core.models import utcnow
    from innoplat.plugins.voting import following

    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    with app.extensions["innoplat"].transaction() as session:
        idea = ideas.get_idea(session, reference)
        key = following.remember(session, idea, "anna@example.org", locale="sv")
        assert following.purge_expired(session, idea.city) == 0
        assert following.purge_expired(session, idea.city, now=utcnow() + timedelta(days=8)) == 1
        assert following.take(session, idea, key) is None


def test_supporting_without_the_box_ticked_follows_nothing(plugin_client, public_idea):
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    response = client.post(
        f"/voting/support/{reference}?lang=en", data={"email": "anna@example.org"}
    )
    assert response.status_code == 303
    assert _outbox(app) == [("voting_confirmation", "anna@example.org")]
    assert _followers(app) == []


def test_a_bad_address_with_the_box_ticked_is_a_400_and_stores_nothing(plugin_client, public_idea):
    client, app = plugin_client(["voting", "notifications"], NOTIFY)
    reference = public_idea(app)
    response = client.post(
        f"/voting/support/{reference}?lang=en", data={"email": "anna@", "follow": "y"}
    )
    assert response.status_code == 400
    assert "e-mail" in response.get_data(as_text=True)
    assert _outbox(app) == [] and _followers(app) == []


class MailOnly:
    """A plugin that sends mail but keeps no followers: supporting by e-mail, no follow box."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.links: list[str] = []

    @hookimpl
    def innoplat_send_mail(self, recipient, kind, body):
        self.sent.append(kind)
        self.links += re.findall(r"http://localhost(/voting/confirm/\S+)", body)
        return True


class MailAndFollowers(MailOnly):
    """A plugin keeping followers, written before ``confirmed`` was added to the hook: it is
    asked all the same and confirms the address its own way."""

    def __init__(self) -> None:
        super().__init__()
        self.follows: list[tuple[str, str, str]] = []

    @hookimpl
    def innoplat_follow_idea(self, idea, email, locale):
        self.follows.append((idea.reference, email, locale))
        return True


class MailAndConfirmedFollowers(MailOnly):
    """A plugin keeping followers that takes ``confirmed``; ``fail`` makes it raise."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.follows: list[tuple[str, str, str, bool]] = []

    @hookimpl
    def innoplat_follow_idea(self, idea, email, locale, confirmed):
        if self.fail:
            raise RuntimeError("the follower store is down")
        self.follows.append((idea.reference, email, locale, confirmed))
        return True


def _wishes(app) -> int:
    from innoplat.plugins.voting.models import PendingFollow

    with app.extensions["innoplat"].transaction() as session:
        return session.scalar(select(func.count()).select_from(PendingFollow))


def test_the_follow_box_is_offered_only_where_a_plugin_keeps_followers(plugin_client, public_idea):
    mail_only = MailOnly()
    client, app = plugin_client(only=["catalogue", "voting"], extra_plugins=[mail_only])
    reference = public_idea(app)
    page = client.get(f"/ideas/{reference}?lang=en").get_data(as_text=True)
    assert 'type="email"' in page and "Also follow this idea" not in page
    # A forged "follow" field is ignored where nobody keeps followers: support goes ahead.
    response = client.post(
        f"/voting/support/{reference}?lang=en", data={"email": "anna@example.org", "follow": "y"}
    )
    assert response.status_code == 303 and mail_only.sent == ["voting_confirmation"]


def test_voting_asks_whichever_plugin_keeps_followers(plugin_client, public_idea):
    """A plugin of the new kind is told the address is proven; one of the old kind (without
    ``confirmed``) is still asked, once the support's link is opened, and sends its own link."""
    keeper = MailAndConfirmedFollowers()
    client, app = plugin_client(only=["catalogue", "voting"], extra_plugins=[keeper])
    reference = public_idea(app)
    assert "Also follow this idea" in client.get(f"/ideas/{reference}?lang=en").get_data(
        as_text=True
    )
    client.post(
        f"/voting/support/{reference}?lang=sv", data={"email": "anna@example.org", "follow": "y"}
    )
    assert keeper.sent == ["voting_confirmation"] and keeper.follows == []
    (link,) = keeper.links
    done = client.post(link + "?lang=en", follow_redirects=True).get_data(as_text=True)
    assert keeper.follows == [(reference, "anna@example.org", "sv", True)]
    assert "you now follow" in done

    old = MailAndFollowers()
    client, app = plugin_client(only=["catalogue", "voting"], extra_plugins=[old])
    reference = public_idea(app)
    client.post(
        f"/voting/support/{reference}?lang=sv", data={"email": "olle@example.org", "follow": "y"}
    )
    assert old.follows == []
    (link,) = old.links
    done = client.post(link + "?lang=en", follow_redirects=True).get_data(as_text=True)
    assert old.follows == [(reference, "olle@example.org", "sv")]
    # It sends its own link: the page does not claim that the address follows already.
    assert "Thank you: your support is counted." in done and "you now follow" not in done


def test_a_ranking_page_past_the_end_shows_the_last_page_with_its_links(plugin_client, public_idea):
    client, app = plugin_client(["voting"])
    for n in range(21):  # two pages of 20
        public_idea(app, title=f"Idé nummer {n}")
    page = client.get("/voting/?page=99").get_data(as_text=True)
    assert "Idé nummer" in page and 'rel="prev"' in page and 'rel="next"' not in page
    last = client.get("/voting/?page=2").get_data(as_text=True)
    assert page.split("<main", 1)[1] == last.split("<main", 1)[1]


def test_pages_are_clamped_to_the_last():
    assert validation.page_of("99", total=41, size=20) == validation.Page(3, 3, 40)
    assert validation.page_of(None, total=0, size=20) == validation.Page(1, 1, 0)
    with pytest.raises(ValidationError):
        validation.page_of("0", total=41, size=20)
