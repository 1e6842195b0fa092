"""A campaign day in miniature: 20 clients at once against a live server, and not one error."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from web_helpers import PASSWORD, add_idea
from werkzeug.serving import make_server

from innoplat.core.models import Idea
from innoplat.core.services import accounts

API_CLIENTS, FORM_CLIENTS, READERS, STAFF = 8, 4, 5, 3  # 20 clients
API_IDEAS, FORM_IDEAS, READS, MOVES = 6, 3, 8, 3  # per client
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


@pytest.fixture
def live_url(make_app) -> Iterator[tuple[str, object]]:
    """The app served by werkzeug's threaded server in a thread, as in production with threads."""
    app = make_app(config={"RATELIMIT_ENABLED": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join()


def _token(page: str) -> str:
    match = TOKEN.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_twenty_clients_submit_read_and_move_at_once_without_one_error(live_url):
    """Every submitted idea is stored exactly once with a reference of its own; no 4xx, no 5xx."""
    base, app = live_url
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        for n in range(STAFF):
            accounts.create_account(
                session,
                city,
                email=f"staff{n}@kiruna.example",
                name=f"Handläggare {n}",
                password=PASSWORD,
                role="coordinator",
            )
    to_move = [
        [add_idea(app, title=f"Att flytta {s}-{m}") for m in range(MOVES)] for s in range(STAFF)
    ]
    unexpected: list[str] = []
    sent: list[str] = []
    barrier = threading.Barrier(API_CLIENTS + FORM_CLIENTS + READERS + STAFF)

    def check(response: requests.Response, *expected: int) -> requests.Response:
        if response.status_code not in expected:
            unexpected.append(f"{response.request.method} {response.url}: {response.status_code}")
        return response

    def api_client(n: int) -> None:
        with requests.Session() as http:
            barrier.wait()
            for i in range(API_IDEAS):
                title = f"API-idé {n}-{i}"
                check(http.post(f"{base}/api/v1/ideas", json={"title": title}), 201)
                sent.append(title)

    def form_client(n: int) -> None:
        with requests.Session() as http:
            barrier.wait()
            for i in range(FORM_IDEAS):
                title = f"Formulärsidé {n}-{i}"
                token = _token(check(http.get(f"{base}/ideas/new"), 200).text)
                form = {
                    "title": title,
                    "initiator_kind": "citizen",
                    "send": "1",
                    "csrf_token": token,
                }
                response = check(http.post(f"{base}/ideas/new", data=form), 200)
                if "/receipt" in response.url:
                    sent.append(title)
                else:
                    unexpected.append(f"form {title}: ended on {response.url}")

    def reader(n: int) -> None:
        pages = ["/", "/ideas", "/api/v1/ideas", f"/ideas/{to_move[0][0]}", "/methods"]
        with requests.Session() as http:
            barrier.wait()
            for i in range(READS):
                check(http.get(base + pages[(n + i) % len(pages)]), 200)

    def staff(n: int) -> None:
        with requests.Session() as http:
            token = _token(http.get(f"{base}/login").text)
            login = {"email": f"staff{n}@kiruna.example", "password": PASSWORD, "csrf_token": token}
            check(http.post(f"{base}/login", data=login), 200)
            barrier.wait()
            for reference in to_move[n]:
                page = check(http.get(f"{base}/ideas/{reference}/move"), 200).text
                form = {
                    "to": "bedomning",
                    "note": "Vi tittar på den",
                    "version": VERSION.search(page).group(1),
                    "csrf_token": _token(page),
                }
                check(http.post(f"{base}/ideas/{reference}/move", data=form), 200)

    work: list[Callable[[], None]] = (
        [lambda n=n: api_client(n) for n in range(API_CLIENTS)]
        + [lambda n=n: form_client(n) for n in range(FORM_CLIENTS)]
        + [lambda n=n: reader(n) for n in range(READERS)]
        + [lambda n=n: staff(n) for n in range(STAFF)]
    )
    with ThreadPoolExecutor(len(work)) as pool:
        for future in [pool.submit(job) for job in work]:
            future.result()

    assert unexpected == []
    assert len(sent) == API_CLIENTS * API_IDEAS + FORM_CLIENTS * FORM_IDEAS
    with platform.transaction() as session:
        titles = Counter(session.scalars(select(Idea.title).where(Idea.title.in_(sent))))
        references = list(session.scalars(select(Idea.reference)))
        moved = session.scalar(
            select(func.count()).where(Idea.title.like("Att flytta%"), Idea.phase == "screening")
        )
    assert titles == Counter(sent)  # each exactly once
    assert len(references) == len(set(references)) == len(sent) + STAFF * MOVES
    assert moved == STAFF * MOVES
