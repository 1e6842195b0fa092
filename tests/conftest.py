"""The innoplat fixtures come from innoplat.core.testing (a pytest11 plugin); helpers shared by tests live here."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from innoplat.core import toolkit
from innoplat.core.models import City, Idea
from innoplat.core.services import ideas


@pytest.fixture
def submit(db_session: Session, city: City):
    """Submit an idea quickly: ``submit(title="…")``."""

    def make(**fields) -> Idea:
        fields.setdefault("title", "Snösmältning med spillvärme")
        return ideas.submit_idea(db_session, city, **fields)

    return make


@pytest.fixture
def mail_anna():
    """``mail_anna(platform)``: a short e-mail to anna@example.org, sent as a plugin sends one."""

    def send(platform) -> None:
        with platform.transaction() as session:
            toolkit.send_mail(
                session,
                platform.city_row(session),
                recipient="anna@example.org",
                locale="sv",
                subject="Hej",
                body="Hej\n",
                kind="test",
            )

    return send
