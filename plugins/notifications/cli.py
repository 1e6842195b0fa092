"""``innoplat notifications``: deliver the outbox over SMTP and see what is waiting."""

from __future__ import annotations

import click

from innoplat.core.errors import ConfigError, PluginError
from innoplat.core.toolkit import base_url as toolkit_base_url
from innoplat.core.toolkit import (
    city_options,
    json_option,
    open_platform,
    print_json,
    print_table,
)

from . import outbox
from .outbox import DEFAULT_KEEP_DAYS, DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAY
from .smtp import SmtpTransport

PLUGIN = "notifications"


def _enabled_platform(city: str, database_url: str | None):
    platform = open_platform(city, database_url)
    if not platform.plugins.has_plugin(PLUGIN):
        platform.dispose()
        raise PluginError(
            PLUGIN,
            f"is not enabled for {platform.city.slug} (add it to plugins.enabled in {platform.city.file})",
        )
    return platform


@click.group("notifications")
def notifications() -> None:
    """E-mails to submitters and followers: deliver the outbox, list it."""


@notifications.command("send")
@city_options
@json_option
def send(city: str, database_url: str | None, as_json: bool) -> None:
    """Send the due e-mails of the outbox over SMTP (INNOPLAT_SMTP_URL or smtp_url in city.toml).

    A message the server refuses for now is retried on later runs with a growing delay
    (retry_delay seconds, doubled each time) and marked failed after max_attempts tries; one
    that can never go out (a bad header, a recipient refused for good) is marked failed at
    once with its reason, and the others still go out. Exits 0 unless the SMTP server itself
    cannot be reached. Links in the e-mails are built from base_url in city.toml or
    INNOPLAT_BASE_URL. Sent and failed messages older than keep_days, and followers who did
    not confirm within a week, are deleted. Run it every minute or so from cron or a systemd
    timer.
    """
    platform = _enabled_platform(city, database_url)
    try:
        settings = platform.city.config.plugins.settings(PLUGIN)
        transport = SmtpTransport.configured(settings)
        # Links in e-mails (confirm, stop following) point at the configured address only;
        # without one, nothing that needs a link is sent.
        try:
            base_url: str | None = toolkit_base_url(
                settings.get("base_url"), source=f"plugins.{PLUGIN}.base_url"
            )
        except ConfigError:
            with platform.transaction() as session:
                if outbox.links_due(session, platform.city_row(session)):
                    raise
            base_url = None
        report = outbox.deliver(
            platform.transaction,
            platform.city.slug,
            transport.send,
            sender=settings["sender"],
            base_url=base_url,
            max_attempts=settings.get("max_attempts", DEFAULT_MAX_ATTEMPTS),
            retry_delay=settings.get("retry_delay", DEFAULT_RETRY_DELAY),
        )
        with platform.transaction() as session:
            row = platform.city_row(session)
            purged = outbox.purge_delivered(
                session, row, older_than_days=settings.get("keep_days", DEFAULT_KEEP_DAYS)
            )
            purged += outbox.purge_unconfirmed(session, row)
    finally:
        platform.dispose()
    if as_json:
        print_json(
            {
                "sent": report.sent,
                "retrying": report.retrying,
                "failed": report.failed,
                "purged": purged,
                "errors": report.errors,
            }
        )
    else:
        click.echo(
            f"Sent {report.sent}, will retry {report.retrying}, gave up on {report.failed}; "
            f"deleted {purged} old messages."
        )
        for error in report.errors:
            click.echo(f"  {error}", err=True)
    if report.smtp_down:
        click.echo(f"Error: the SMTP server cannot be reached: {report.smtp_down}", err=True)
        raise click.exceptions.Exit(1)


@notifications.command("outbox")
@city_options
@click.option(
    "--status",
    type=click.Choice([s.value for s in outbox.MessageStatus]),
    help="Only messages in this state.",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@json_option
def list_outbox(
    city: str, database_url: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    """How many e-mails are pending, sent and failed, and the latest ones."""
    platform = _enabled_platform(city, database_url)
    try:
        with platform.transaction() as session:
            row = platform.city_row(session)
            counts = outbox.outbox_counts(session, row)
            rows = [
                {
                    "id": m.id,
                    "status": m.status.value,
                    "recipient": m.recipient,
                    "subject": m.subject,
                    "attempts": m.attempts,
                    "last_error": m.last_error,
                }
                for m in outbox.iter_messages(session, row, status, limit)
            ]
    finally:
        platform.dispose()
    if as_json:
        print_json({"counts": counts, "messages": rows})
        return
    click.echo(", ".join(f"{n} {state}" for state, n in counts.items()))
    print_table(
        ["id", "status", "attempts", "recipient", "subject"],
        [[r["id"], r["status"], r["attempts"], r["recipient"], r["subject"]] for r in rows],
    )
