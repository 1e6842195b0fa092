"""Delivering e-mails over SMTP, configured by one URL (``smtp://user:password@host:port``)."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from innoplat.core.errors import ValidationError

SMTP_URL_ENV = "INNOPLAT_SMTP_URL"
DEFAULT_SMTP_URL = "smtp://localhost:25"


@dataclass(frozen=True)
class SmtpTransport:
    """Where mail goes: ``smtp://`` (plain, or STARTTLS with ``?starttls=true``) or ``smtps://``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_ssl: bool = False
    starttls: bool = False
    timeout: float = 15.0

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValidationError(
                "smtp_url", f"expected smtp://host:port or smtps://host:port (got {url!r})"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError:
            raise ValidationError("smtp_url", f"the port in {url!r} is not a number") from None
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_ssl=parts.scheme == "smtps",
            starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
        )

    @classmethod
    def configured(cls, settings: dict) -> SmtpTransport:
        """The environment's INNOPLAT_SMTP_URL (secrets stay out of city.toml), else the settings'."""
        return cls.from_url(
            os.environ.get(SMTP_URL_ENV) or settings.get("smtp_url") or DEFAULT_SMTP_URL
        )

    def send(self, message: EmailMessage) -> None:
        """Send one message; raises OSError or smtplib.SMTPException when it does not go out."""
        context = ssl.create_default_context()
        if self.use_ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with connection as smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
