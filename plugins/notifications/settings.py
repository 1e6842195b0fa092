"""Checking ``[plugins.notifications]`` in city.toml: each problem names its key."""

from __future__ import annotations

from typing import Any

from innoplat.core.errors import ValidationError

from .outbox import DEFAULT_KEEP_DAYS, DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAY
from .smtp import SmtpTransport

KEYS = ("sender", "smtp_url", "base_url", "max_attempts", "retry_delay", "keep_days")


def problems(settings: dict[str, Any]) -> list[str]:
    found = [
        f"{key}: unknown setting (known: {', '.join(KEYS)})" for key in settings if key not in KEYS
    ]
    sender = settings.get("sender")
    if not isinstance(sender, str) or "@" not in sender:
        found.append(
            "sender: expected the e-mail address messages are sent from, e.g. innovation@kommun.se"
        )
    if "smtp_url" in settings:
        try:
            SmtpTransport.from_url(str(settings["smtp_url"]))
        except ValidationError as exc:
            found.append(f"smtp_url: {exc.message}")
    attempts = settings.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        found.append(f"max_attempts: expected a whole number of at least 1 (got {attempts!r})")
    delay = settings.get("retry_delay", DEFAULT_RETRY_DELAY)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        found.append(f"retry_delay: expected seconds, a number of at least 0 (got {delay!r})")
    base_url = settings.get("base_url")
    if base_url is not None and (
        not isinstance(base_url, str) or not base_url.startswith(("https://", "http://"))
    ):
        found.append(
            f"base_url: expected the site's address, e.g. https://innovation.kiruna.se (got {base_url!r})"
        )
    keep = settings.get("keep_days", DEFAULT_KEEP_DAYS)
    if not isinstance(keep, int | float) or isinstance(keep, bool) or keep <= 0:
        found.append(f"keep_days: expected a number of days above 0 (got {keep!r})")
    return found
