"""The plugin toolkit: what every plugin gets without asking (rate limits, HTML pages, mail, titles)."""

from __future__ import annotations

import pytest
from flask import Blueprint

from innoplat.core import toolkit
from innoplat.core.errors import PluginError

EVALUATION = {
    "evaluation": {
        "criteria": [
            {"key": "citizen_value", "weight": 0.5, "name": {"sv": "Nytta", "en": "Citizen value"}},
            {
                "key": "feasibility",
                "weight": 0.5,
                "name": {"sv": "Genomförbarhet", "en": "Feasibility"},
            },
        ]
    }
}


class MailRecorder:
    """A plugin that sends mail by keeping it: stands in for an SMS gateway or a city's own mailer."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    @toolkit.hookimpl
    def innoplat_send_mail(self, city, recipient, locale, subject, body, kind, idea):
        self.sent.append(
            {"city": city.slug, "to": recipient, "kind": kind, "idea": idea.reference, "body": body}
        )
        return True


def test_another_plugin_mails_through_whichever_plugin_sends_mail(plugin_client, public_idea):
    """voting needs no notifications plugin of its own: any plugin sending mail will do."""
    recorder = MailRecorder()
    client, app = plugin_client(only=["catalogue", "voting"], extra_plugins=[recorder])
    reference = public_idea(app)
    assert 'name="email"' in client.get(f"/ideas/{reference}").get_data(as_text=True)
    response = client.post(f"/voting/support/{reference}", data={"email": "anna@example.org"})
    assert response.status_code == 303
    (mail,) = recorder.sent
    assert mail["to"] == "anna@example.org" and mail["kind"] == "voting_confirmation"
    assert mail["idea"] == reference and "/voting/confirm/" in mail["body"]


def test_sending_mail_without_a_plugin_that_sends_it_is_a_clear_error(make_platform, mail_anna):
    platform = make_platform(without=["notifications"])
    with pytest.raises(PluginError, match="sends e-mail"):
        mail_anna(platform)


def test_every_plugin_blueprint_is_rate_limited_without_asking(make_app, public_idea, sign_in):
    """evaluation never limited its form itself; a third-party blueprint is limited too."""
    extra = Blueprint("guestbook", __name__, url_prefix="/guestbook")
    extra.add_url_rule("/", "sign", lambda: "thanks", methods=["GET", "POST"])

    class Guestbook:
        @toolkit.hookimpl
        def innoplat_blueprints(self, app):
            return [extra]

    app = make_app(
        config={"WTF_CSRF_ENABLED": False, "INNOPLAT_PLUGIN_POST_LIMIT": "2 per hour"},
        plugins=["evaluation"],
        settings=EVALUATION,
        extra_plugins=[Guestbook()],
    )
    client = app.test_client()
    reference = public_idea(app)
    sign_in(client, "member")
    scores = {"criterion_citizen_value": "4", "criterion_feasibility": "2"}
    codes = [
        client.post(f"/evaluation/ideas/{reference}", data=scores).status_code for _ in range(3)
    ]
    assert codes == [303, 303, 429]
    assert [client.post("/guestbook/").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/guestbook/").status_code == 200  # reading is never limited


def test_plugin_pages_with_errors_are_html(plugin_client, public_idea):
    """A 400 page of a plugin is rendered as a page, not shown as its source."""
    client, app = plugin_client(["comments", "voting"])
    reference = public_idea(app)
    refused = client.post(f"/comments/idea/{reference}", data={"body": ""})
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    failed = client.get("/voting/confirm/not-a-token")
    assert failed.status_code == 400 and failed.mimetype == "text/html"


@pytest.mark.parametrize(
    ("plugins", "path"),
    [(["opendata"], "/opendata/"), (["voting"], "/voting/"), (["evaluation"], "/evaluation/")],
)
def test_plugin_pages_name_the_site_once_in_their_title(plugin_client, sign_in, plugins, path):
    client, app = plugin_client(plugins, EVALUATION if "evaluation" in plugins else None)
    sign_in(client, "coordinator")
    page = client.get(path + "?lang=en").get_data(as_text=True)
    title = page.split("<title>")[1].split("</title>")[0]
    site = app.extensions["innoplat"].city.config.name["en"]
    assert title.count(site) == 1, title


def test_a_test_app_can_leave_out_or_replace_the_city_s_plugins(make_client, make_platform):
    """make_client/make_platform take ``without`` and ``only`` beside ``plugins``."""
    assert make_platform().plugins.has_plugin("voting")  # Kiruna enables voting
    assert not make_platform(without=["voting"]).plugins.has_plugin("voting")
    only = make_platform(only=["catalogue"], plugins=["opendata"])
    assert only.city.config.plugins.enabled == ["catalogue", "opendata"]
    assert make_client(without=["voting"]).get("/voting/").status_code == 404


class ConfirmedFollowers:
    """Keeps followers and takes ``confirmed``: an address the caller has proven follows at once."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, bool]] = []

    @toolkit.hookimpl
    def innoplat_follow_idea(self, email, confirmed):
        self.asked.append((email, confirmed))
        return True


class FollowersOfOld:
    """Keeps followers, written before ``confirmed``: it confirms every address its own way."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    @toolkit.hookimpl
    def innoplat_follow_idea(self, email):
        self.asked.append(email)
        return True


def test_follow_idea_says_whether_the_address_follows_at_once(make_platform):
    from innoplat.core.services import ideas

    for keeper, at_once in ((ConfirmedFollowers(), True), (FollowersOfOld(), False)):
        platform = make_platform(only=["catalogue"], extra_plugins=[keeper])
        with platform.transaction() as session:
            idea = ideas.submit_idea(session, platform.city_row(session), title="Bänkar i parken")
            follow = {"email": "anna@example.org", "locale": "sv"}
            assert toolkit.follow_idea(session, idea, **follow, confirmed=True) is at_once
            assert toolkit.follow_idea(session, idea, **follow) is False  # a link goes out first
        assert len(keeper.asked) == 2  # called either way
    nobody = make_platform(only=["catalogue"])
    with nobody.transaction() as session:
        idea = ideas.submit_idea(session, nobody.city_row(session), title="Bänkar i parken")
        with pytest.raises(PluginError, match="lets people follow ideas"):
            toolkit.follow_idea(
                session, idea, email="anna@example.org", locale="sv", confirmed=True
            )
