"""``innoplat peers``, ``pull``, ``sync`` and ``worker``: an instance keeping in sync with its siblings."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from typing import Any

import click

from .. import db
from ..config import load_city
from ..errors import InnoplatError
from ..plugins import build_manager
from ..services import download, peers
from ..services.serialisation import timestamp
from .common import count_option, json_option, print_json, print_table
from .exchange import _db_option, _sessions

log = logging.getLogger("innoplat.worker")


def _limit_options(func: Any) -> Any:
    func = click.option(
        "--allow-network",
        "allowed",
        multiple=True,
        envvar="INNOPLAT_ALLOW_NETWORKS",
        metavar="CIDR",
        help="A loopback, link-local or private network redirects may lead to (repeatable; "
        "INNOPLAT_ALLOW_NETWORKS, space-separated). By default only public addresses.",
    )(func)
    func = click.option(
        "--max-bytes",
        default=download.MAX_BYTES,
        show_default=True,
        envvar="INNOPLAT_PULL_MAX_BYTES",
        type=click.IntRange(min=1),
        help="The largest bundle accepted (after decompression).",
    )(func)
    func = click.option(
        "--timeout",
        default=60.0,
        show_default=True,
        type=click.FloatRange(min=0.1),
        help="Seconds one download may take in all, however slowly the sibling sends.",
    )(func)
    return func


def _limits(timeout: float, max_bytes: int, allowed: tuple[str, ...]) -> peers.Limits:
    return peers.Limits(
        timeout=timeout,
        max_bytes=max_bytes,
        allowed_networks=tuple(download.parse_networks(allowed)),
    )


@click.command("pull")
@click.argument("url")
@_db_option
@_limit_options
@click.option(
    "--unsigned",
    is_flag=True,
    help="Import from an address that is not a peer, without checking who signed the bundle.",
)
def pull(
    url: str,
    database_url: str | None,
    timeout: float,
    max_bytes: int,
    allowed: tuple[str, ...],
    unsigned: bool,
) -> None:
    """Fetch a sibling's bundle from URL (its /api/v1/exchange) and import it as a peer.

    A peer added with `innoplat peers add` is checked against its pinned key; any other
    address needs --unsigned.
    """
    engine, sessions = _sessions(database_url)
    try:
        result = peers.pull(
            sessions, url, limits=_limits(timeout, max_bytes, allowed), unsigned=unsigned
        )
    finally:
        engine.dispose()
    click.echo(f"{result.line()} from {result.url}")


@click.group("peers")
def peers_group() -> None:
    """The siblings this instance keeps in sync with (each one's signing key pinned)."""


@peers_group.command("add")
@click.argument("url")
@_db_option
@_limit_options
@click.option(
    "--key",
    "public_key",
    metavar="BASE64",
    help="The key you were given by the sibling: refuse the peer if it serves another one.",
)
def add(
    url: str,
    database_url: str | None,
    timeout: float,
    max_bytes: int,
    allowed: tuple[str, ...],
    public_key: str | None,
) -> None:
    """Add a sibling by its address: fetch its public key and pin it."""
    engine, sessions = _sessions(database_url)
    try:
        with db.transaction(sessions) as session:
            peer = peers.add_peer(
                session, url, limits=_limits(timeout, max_bytes, allowed), public_key=public_key
            )
            click.echo(
                f"Added {peer.city_slug} ({peer.url}) with key {peer.public_key}; "
                "run innoplat sync to fetch its bundle."
            )
    finally:
        engine.dispose()


@peers_group.command("list")
@_db_option
@json_option
def list_(database_url: str | None, as_json: bool) -> None:
    """The peers, their pinned keys and what their last sync did."""
    engine, sessions = _sessions(database_url)
    try:
        with db.transaction(sessions) as session:
            rows = [
                {
                    "city": p.city_slug,
                    "url": p.url,
                    "public_key": p.public_key,
                    "synced_at": timestamp(p.synced_at),
                    "last_result": p.last_result,
                    "changes_since": p.changes_since,
                }
                for p in peers.list_peers(session)
            ]
    finally:
        engine.dispose()
    if as_json:
        print_json(rows)
        return
    print_table(
        ["city", "url", "synced", "last result"],
        [[r["city"], r["url"], r["synced_at"] or "never", r["last_result"] or ""] for r in rows],
    )


@peers_group.command("remove")
@click.argument("peer")
@_db_option
def remove(peer: str, database_url: str | None) -> None:
    """Stop syncing with PEER (its city slug or address); its imported data stays read-only."""
    engine, sessions = _sessions(database_url)
    try:
        with db.transaction(sessions) as session:
            removed = peers.remove_peer(session, peer)
            click.echo(
                f"Removed {removed.city_slug} ({removed.url}); the data imported from it stays, "
                "read-only, in comparisons."
            )
    finally:
        engine.dispose()


@click.command("sync")
@_db_option
@_limit_options
@json_option
def sync(
    database_url: str | None,
    timeout: float,
    max_bytes: int,
    allowed: tuple[str, ...],
    as_json: bool,
) -> None:
    """Pull every peer's bundle (only what changed since the last sync) and import it.

    Exits 1 when a peer could not be synced; the others are synced all the same.
    """
    engine, sessions = _sessions(database_url)
    try:
        results = peers.sync(
            sessions,
            limits=_limits(timeout, max_bytes, allowed),
            report=None if as_json else lambda r: click.echo(r.line()),
        )
    finally:
        engine.dispose()
    if as_json:
        print_json([r.__dict__ for r in results])
    elif not results:
        click.echo("No peers yet (add one with: innoplat peers add URL).")
    if any(r.action == "failed" for r in results):
        raise click.exceptions.Exit(1)


def _run(args: list[str]) -> tuple[int, str]:
    """Run one innoplat command in a child process: its memory goes back when it ends."""
    done = subprocess.run(
        [sys.executable, "-m", "innoplat.core.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    return done.returncode, (done.stdout + done.stderr).strip()


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


@click.command("worker")
@click.option(
    "--city",
    "cities",
    multiple=True,
    envvar="INNOPLAT_CITY",
    default=("kiruna",),
    show_default=True,
    metavar="SLUG",
    help="A city to serve (repeatable): its notification outbox, and the expiry of the "
    "personal data it keeps only for a while.",
)
@_db_option
@count_option(
    "--outbox-every",
    default=60,
    minimum=1,
    help="Seconds between runs of the notification outbox.",
)
@count_option("--sync-every", default=900, minimum=1, help="Seconds between syncs with the peers.")
@count_option(
    "--expire-every",
    default=86400,
    minimum=1,
    help="Seconds between runs of innoplat persons expire-contacts for each city.",
)
@click.option("--once", is_flag=True, help="Run each job once and stop (for cron and tests).")
def worker(
    cities: tuple[str, ...],
    database_url: str | None,
    outbox_every: int,
    sync_every: int,
    expire_every: int,
    once: bool,
) -> None:
    """Run the notification outbox, the sync with the peers and the expiry of personal data
    (innoplat persons expire-contacts, each city) on a schedule, until stopped.

    One log line per run on standard error. A peer that is down, an SMTP server that refuses,
    or an expiry that fails is logged and retried at the next run; the worker carries on. Run
    it under systemd (docs/deploying.md).
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    database = database_url or db.default_database_url()
    with_outbox = [c for c in cities if _enables(c, "notifications")]
    due = {"outbox": 0.0, "sync": 0.0, "expire": 0.0}
    log.info(
        "started: outbox of %s every %d s, sync every %d s, expiry of %s every %d s",
        ", ".join(with_outbox) or "no city",
        outbox_every,
        sync_every,
        ", ".join(cities) or "no city",
        expire_every,
    )
    try:
        while True:
            now = time.monotonic()
            if now >= due["outbox"]:
                due["outbox"] = now + outbox_every
                for city in with_outbox:
                    code, out = _run(["notifications", "send", "--city", city, "--db", database])
                    log.info(
                        "outbox %s: %s%s", city, "" if code == 0 else "problem: ", _one_line(out)
                    )
            if now >= due["sync"]:
                due["sync"] = now + sync_every
                code, out = _run(["sync", "--db", database, "--json"])
                log.info("sync: %s", _sync_line(code, out))
            if now >= due["expire"]:
                due["expire"] = now + expire_every
                for city in cities:
                    code, out = _run(
                        ["persons", "expire-contacts", "--city", city, "--db", database]
                    )
                    log.info(
                        "expire %s: %s%s", city, "" if code == 0 else "problem: ", _one_line(out)
                    )
            if once:
                return
            time.sleep(max(0.5, min(due.values()) - time.monotonic()))
    except KeyboardInterrupt:
        log.info("stopped")


def _sync_line(code: int, out: str) -> str:
    try:
        results = json.loads(out[out.index("[") :]) if "[" in out else None
    except ValueError:
        results = None
    if results is None:
        return f"problem: {_one_line(out)}"
    if not results:
        return "no peers"
    return "; ".join(peers.PeerSync(**r).line() for r in results)


def _enables(city: str, plugin: str) -> bool:
    try:
        return build_manager(load_city(city)).has_plugin(plugin)
    except InnoplatError as exc:
        log.warning("city %s: %s", city, exc)
        return False


COMMANDS = [pull, peers_group, sync, worker]
