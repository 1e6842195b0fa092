"""The production topology of docs/deploying.md, started for real: PostgreSQL, Redis for the
rate limits, two gunicorn instances with one secret, and two workers sending one outbox.

Shows what a city relies on when it runs more than one instance: a sign-in made on one
instance holds on the other, a rate limit counts across both, and every e-mail goes out
once although two workers send the outbox at the same moment.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from innoplat.core.platform import Platform
from innoplat.core.testing import PASSWORD, add_account, city_with_plugins, free_port

pytestmark = pytest.mark.slow

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"{what} exited: {process.stderr.read() if process.stderr else ''}"
            )
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port} within {seconds} s")


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (.ci/run installs Debian's redis-server)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "redis-server", 30)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def postgresql_url(postgresql_server) -> Iterator[str]:
    """A database of its own on the throw-away PostgreSQL server (production runs PostgreSQL)."""
    name = f"innoplat_topology_{os.getpid()}"
    postgresql_server.execute(f"CREATE DATABASE {name} TEMPLATE innoplat_template")
    yield postgresql_server.url(name)
    postgresql_server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _wait_for_page(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    """A gunicorn master listens before its worker has loaded the app: wait for a page."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"gunicorn exited: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if requests.get(url, timeout=60).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.fixture
def topology(postgresql_url, redis_url, smtp_server, tmp_path) -> Iterator[dict]:
    """Kiruna on PostgreSQL, served by two gunicorn instances sharing Redis and one secret."""
    database_url = postgresql_url
    platform = Platform.open(city_with_plugins("kiruna"), database_url)
    platform.init()
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "INNOPLAT_CITY": "kiruna",
        "INNOPLAT_DATABASE_URL": database_url,
        "INNOPLAT_SECRET_KEY": "the-same-secret-on-every-instance-0123456789",
        "INNOPLAT_RATELIMIT_STORAGE_URI": redis_url,
        "INNOPLAT_LOGIN_LIMIT": "4 per minute",
        "INNOPLAT_BASE_URL": f"http://127.0.0.1:{ports[0]}",
        "INNOPLAT_SMTP_URL": smtp_server.url,
        "INNOPLAT_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    servers = []
    log = (tmp_path / "gunicorn.log").open("w")
    try:
        for port in ports:
            servers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "--workers",
                        "1",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "innoplat.core.web:create_app()",
                    ],
                    env=env,
                    cwd=tmp_path,
                    stdout=log,
                    stderr=log,
                )
            )
        for port, server in zip(ports, servers, strict=True):
            _wait_for_page(f"http://127.0.0.1:{port}/", server)
        yield {
            "platform": platform,
            "instances": [f"http://127.0.0.1:{port}" for port in ports],
            "env": env,
            "smtp": smtp_server,
            "tmp": tmp_path,
        }
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        log.close()
        platform.dispose()


def _sign_in(browser: requests.Session, base: str, email: str, password: str) -> int:
    page = browser.get(f"{base}/login", timeout=30).text
    token = _TOKEN.search(page).group(1)
    response = browser.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code


def test_sign_in_and_rate_limits_hold_across_two_instances(topology):
    a, b = topology["instances"]
    platform = topology["platform"]
    add_account(
        platform, "coordinator", email="coordinator@kiruna.example", name="Kiruna coordinator"
    )
    browser = requests.Session()
    assert _sign_in(browser, a, "coordinator@kiruna.example", PASSWORD) == 302  # attempt 1
    dashboard = browser.get(f"{b}/dashboard", allow_redirects=False, timeout=30)
    assert dashboard.status_code == 200  # signed in on A, recognised by B

    # The limit is 4 sign-in attempts a minute per address, counted in Redis: attempts on
    # A and B add up (with per-instance counters, neither would reach 4 by the fifth).
    stranger = requests.Session()
    statuses = [
        _sign_in(stranger, base, "nobody@kiruna.example", "wrong")
        for base in (a, b, a, b)  # attempts 2, 3, 4, 5
    ]
    assert statuses == [400, 400, 400, 429]


def test_two_workers_send_each_message_once(topology):
    from innoplat.plugins.notifications import outbox

    platform = topology["platform"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        for n in range(12):
            outbox.queue_message(
                session,
                city,
                recipient=f"person{n}@example.org",
                locale="sv",
                subject=f"Message {n}",
                body="Hej!",
                kind="test",
            )
    command = [sys.executable, "-m", "innoplat.core.cli", "worker", "--once", "--city", "kiruna"]
    workers = [
        subprocess.Popen(
            command, env=topology["env"], cwd=topology["tmp"], stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    logs = [worker.communicate(timeout=180)[1] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), logs
    subjects = sorted(str(m["Subject"]) for m in topology["smtp"].messages)
    assert subjects == sorted(f"Message {n}" for n in range(12))  # twelve, none twice
    sent = [int(re.search(r"outbox kiruna: Sent (\d+)", log).group(1)) for log in logs]
    assert sum(sent) == 12
