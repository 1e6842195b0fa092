"""Requests at the same moment end in a page a person can act on, never an outage page."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from sqlalchemy import event, text
from web_helpers import add_idea, csrf_token, edit_form, make_account, sign_in

from innoplat.core.services import ideas as idea_service

ROUNDS = 4


def _at_once(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_staff_saving_the_same_idea_at_once_get_saved_and_conflict_never_503(app):
    """One save wins; the other person sees the conflict page (409) with both versions."""
    anna, bertil = app.test_client(), app.test_client()
    sign_in(anna, make_account(app, "coordinator", "anna@kiruna.example"))
    sign_in(bertil, make_account(app, "coordinator", "bertil@kiruna.example"))
    for round_ in range(ROUNDS):
        reference = add_idea(app, title=f"Runda {round_}")
        url = f"/ideas/{reference}/edit"
        forms = {
            client: edit_form(title=f"{name}s rubrik", csrf_token=csrf_token(client, url))
            for client, name in ((anna, "Anna"), (bertil, "Bertil"))
        }
        responses = _at_once([partial(c.post, url, data=f) for c, f in forms.items()])
        assert sorted(r.status_code for r in responses) == [302, 409]
        conflict = next(r for r in responses if r.status_code == 409).get_data(as_text=True)
        with app.extensions["innoplat"].transaction() as session:
            saved = idea_service.get_idea(session, reference)
            assert saved.version == 2
            assert saved.title in conflict  # the winner's text is shown to the loser


def test_two_staff_moving_the_same_idea_at_once_get_moved_and_conflict(app):
    anna, bertil = app.test_client(), app.test_client()
    sign_in(anna, make_account(app, "coordinator", "anna@kiruna.example"))
    sign_in(bertil, make_account(app, "admin", "bertil@kiruna.example"))
    for _round in range(ROUNDS):
        reference = add_idea(app)
        url = f"/ideas/{reference}/move"
        forms = [
            {"to": "bedomning", "note": "", "version": "1", "csrf_token": csrf_token(c, url)}
            for c in (anna, bertil)
        ]
        responses = _at_once(
            [partial(anna.post, url, data=forms[0]), partial(bertil.post, url, data=forms[1])]
        )
        assert sorted(r.status_code for r in responses) == [302, 409]


def test_supporting_twice_at_the_same_moment_counts_once(make_client, sign_in):
    """A double click on "Support" stores one support and shows no error."""
    client = make_client(plugins=["voting"])
    app = client.application
    sign_in(client, role="member")
    reference = add_idea(app)
    url = f"/voting/support/{reference}"
    token = csrf_token(client, f"/ideas/{reference}")
    responses = _at_once([lambda: client.post(url, data={"csrf_token": token})] * 4)
    assert [r.status_code for r in responses] == [303] * 4
    with app.extensions["innoplat"].transaction() as session:
        count = session.scalar(text("SELECT count(*) FROM voting_support"))
    assert count == 1


def test_writes_recover_once_a_read_only_sqlite_file_is_writable_again(app, database_url):
    """A connection opened while the file was read-only is dropped, not kept for ever."""
    if not database_url.startswith("sqlite"):
        return
    platform = app.extensions["innoplat"]
    client = app.test_client()
    read_only = {"now": True}

    # What opening a read-only file does to a connection, without needing a non-root user.
    @event.listens_for(platform.engine, "connect")
    def open_read_only(dbapi_connection, _record):
        if read_only["now"]:
            dbapi_connection.execute("PRAGMA query_only=ON")

    platform.engine.dispose()
    body = {"title": "Skrivskyddad", "consent": False}
    assert client.post("/api/v1/ideas", json=body).status_code == 503
    read_only["now"] = False
    assert client.post("/api/v1/ideas", json=body).status_code == 201
    assert client.get("/ideas").status_code == 200


def test_requests_recover_after_postgresql_drops_every_connection(app, database_url):
    """A server restart or failover is not an outage: the next request reconnects."""
    if not database_url.startswith("postgresql"):
        return
    platform = app.extensions["innoplat"]
    client = app.test_client()
    assert client.get("/ideas").status_code == 200
    with platform.engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert client.get("/ideas").status_code == 200
    assert client.post("/api/v1/ideas", json={"title": "Efter omstarten"}).status_code == 201


def test_any_lost_race_for_a_unique_value_gets_the_409_page_not_500(make_app):
    """Whatever use case loses such a race, the person reads that nothing was stored."""
    from innoplat.core.models import Organisation

    app = make_app()
    platform = app.extensions["innoplat"]

    def same_key_twice():
        with platform.transaction() as session:
            city = platform.city_row(session)
            for name in ("Först", "Sedan"):  # as two requests would, each unaware of the other
                session.add(Organisation(city_id=city.id, key="samma", name=name, kind="business"))
                session.flush()
        return "stored"

    app.add_url_rule("/race", "race", same_key_twice, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/race")
    assert response.status_code == 409
    assert "Någon annan hann före" in response.get_data(as_text=True)
    with platform.transaction() as session:
        assert session.scalar(text("SELECT count(*) FROM organisation WHERE key = 'samma'")) == 0
