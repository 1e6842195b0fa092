"""Personal data kept only for a while expires on schedule, in core and every plugin, whether or
not anyone uses the platform: ``innoplat persons expire-contacts`` and ``innoplat worker``."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from innoplat.core.errors import PluginError
from innoplat.core.hookspecs import hookimpl
from innoplat.core.models import Person, utcnow
from innoplat.core.services import ideas, persons
from innoplat.core.services.ideas import Submitter
from innoplat.plugins.notifications import outbox
from innoplat.plugins.notifications.models import Follower, OutboxMessage
from innoplat.plugins.voting import following
from innoplat.plugins.voting.models import PendingFollow

LONG_AGO = timedelta(
    days=8
)  # past the week of a follow wish's link and of a follower's confirmation


class Refusing:
    """A city's own plugin whose expiry fails."""

    @hookimpl
    def innoplat_expire_personal_data(self, session, city, now):
        raise RuntimeError("the archive is read-only")


class Counting:
    """A city's own plugin that keeps nothing of its own and says so."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    @hookimpl
    def innoplat_expire_personal_data(self, city, now):  # a plugin takes only what it uses
        self.calls.append((city.slug, now))


def _keep_for_a_while(platform) -> None:
    """A submitter of an idea closed 400 days ago, and one old and one fresh of each plugin's
    short-lived rows: wishes to follow waiting for their link, unconfirmed followers."""
    old = utcnow() - LONG_AGO
    with platform.transaction() as session:
        city = platform.city_row(session)
        closed = ideas.submit_idea(
            session,
            city,
            title="Stängd",
            submitter=Submitter(name="Gunnar", email="g@x.se", consent=True),
            submitted_at=utcnow() - timedelta(days=500),
        )
        ideas.move_idea(session, closed, "avslutad", at=utcnow() - timedelta(days=400))
        idea = ideas.submit_idea(session, city, title="Öppen")
        following.remember(session, idea, "old-wish@x.se", locale="sv")
        following.remember(session, idea, "new-wish@x.se", locale="sv")
        outbox.follow(session, idea, "old-follower@x.se", locale="sv").created_at = old
        outbox.follow(session, idea, "new-follower@x.se", locale="sv")
        confirmed = outbox.follow(session, idea, "confirmed@x.se", locale="sv", confirmed=True)
        confirmed.created_at = old  # confirmed followers stay as long as they follow
        session.execute(
            PendingFollow.__table__.update()
            .where(PendingFollow.email == "old-wish@x.se")
            .values(created_at=old)
        )
        # Confirmation mails waiting in the outbox are not what this test is about.
        session.execute(delete(OutboxMessage))


def _remaining(platform) -> dict[str, set]:
    with platform.transaction() as session:
        return {
            "wishes": set(session.scalars(select(PendingFollow.email))),
            "followers": set(session.scalars(select(Follower.email))),
            "submitters": set(session.scalars(select(Person.name).where(Person.name.is_not(None)))),
        }


KEPT = {
    "wishes": {"new-wish@x.se"},
    "followers": {"new-follower@x.se", "confirmed@x.se"},
    "submitters": set(),
}
UNTOUCHED = {
    "wishes": {"old-wish@x.se", "new-wish@x.se"},
    "followers": {"old-follower@x.se", "new-follower@x.se", "confirmed@x.se"},
    "submitters": {"Gunnar"},
}


def test_expire_contacts_removes_what_every_part_keeps_past_its_time(
    make_platform, run_cli, database_url
):
    """A quiet city: nobody supports or sends the outbox, and the promises are kept anyway."""
    platform = make_platform()
    assert {"voting", "notifications"} <= set(platform.city.config.plugins.enabled)
    _keep_for_a_while(platform)
    assert _remaining(platform) == UNTOUCHED

    code, out, err = run_cli("persons", "expire-contacts", "--db", database_url)
    assert code == 0, err
    assert out.splitlines() == [
        "Removed the contact details of 1 submitters of ideas closed over 365 days ago.",
        "voting: 1 expired record removed.",
        "notifications: 1 expired record removed.",
    ]
    assert _remaining(platform) == KEPT

    code, out, err = run_cli("persons", "expire-contacts", "--db", database_url)
    assert code == 0, err
    assert "voting: 0 expired records removed." in out.splitlines()
    assert _remaining(platform) == KEPT


def test_the_hook_is_called_on_each_plugin_with_the_moment_to_measure_against(make_platform):
    counting = Counting()
    platform = make_platform(extra_plugins=[counting])
    _keep_for_a_while(platform)
    later = utcnow() + timedelta(days=1)
    with platform.transaction() as session:
        city = platform.city_row(session)
        expiry = persons.expire_personal_data(session, city, retention_days=365, now=later)
    assert counting.calls == [("kiruna", later)]
    assert expiry.contacts == 1
    parts = dict(expiry.plugins)
    assert parts["voting"] == 1 and parts["notifications"] == 1
    assert parts["Counting"] == 0  # None: nothing of its own expires
    names = [name for name, _n in expiry.plugins]
    assert names.index("voting") < names.index("notifications")  # as the city lists them
    # A week on, the fresh ones have had their week too; a confirmed follower stays.
    with platform.transaction() as session:
        city = platform.city_row(session)
        expiry = persons.expire_personal_data(
            session, city, retention_days=365, now=utcnow() + LONG_AGO
        )
    assert dict(expiry.plugins)["voting"] == 1
    assert _remaining(platform)["followers"] == {"confirmed@x.se"}


def test_a_failing_plugin_leaves_nothing_half_expired(make_platform):
    platform = make_platform(extra_plugins=[Refusing()])
    _keep_for_a_while(platform)
    with pytest.raises(PluginError) as raised, platform.transaction() as session:
        persons.expire_personal_data(session, platform.city_row(session), retention_days=365)
    assert str(raised.value) == (
        "plugin 'Refusing': failed in innoplat_expire_personal_data: "
        "RuntimeError: the archive is read-only"
    )
    assert _remaining(platform) == UNTOUCHED


def test_the_command_says_which_plugin_failed_in_one_line_and_changes_nothing(
    make_platform, run_cli, database_url, monkeypatch
):
    """notifications comes after voting and core: their deletions are rolled back with it."""
    platform = make_platform()
    _keep_for_a_while(platform)

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outbox, "purge_unconfirmed", fail)
    code, out, err = run_cli("persons", "expire-contacts", "--db", database_url)
    assert code == 1
    assert out == ""
    assert err == (
        "Error: plugin 'notifications': failed in innoplat_expire_personal_data: "
        "OSError: disk full\n"
    )
    assert _remaining(platform) == UNTOUCHED


def test_the_worker_expires_personal_data_of_each_city(make_platform, database_url):
    """``innoplat worker --once`` runs the expiry: the rows go, one log line says so, and a city
    that cannot be expired is logged without stopping the worker."""
    platform = make_platform()
    _keep_for_a_while(platform)
    done = subprocess.run(
        [sys.executable, "-m", "innoplat.core.cli", "worker", "--once", "--db", database_url]
        + ["--city", "nowhere", "--city", "kiruna"],
        capture_output=True,
        text=True,
        timeout=600,  # several Python processes start: slow on a busy machine
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert any(" expire nowhere: problem: Error: " in line for line in lines), lines
    expired = [line for line in lines if " expire kiruna: " in line]
    assert len(expired) == 1, lines
    # The outbox runs first, and `notifications send` deletes unconfirmed followers too.
    assert expired[0].endswith(
        " expire kiruna: Removed the contact details of 1 submitters of ideas closed over "
        "365 days ago. | voting: 1 expired record removed. | notifications: 0 expired records "
        "removed."
    ), expired
    assert _remaining(platform) == KEPT
