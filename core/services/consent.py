"""The texts people agree to, versioned: a person's record says which text they consented to.

A version is the text's key and the first hex digits of the SHA-256 of its exact wording,
so changing a single word gives a new version while records keep the one they agreed to.
The forms show these texts (translated); tests/core/test_consent.py keeps the two in step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ConsentText:
    key: str
    text: str

    @property
    def version(self) -> str:
        return f"{self.key}/{hashlib.sha256(self.text.encode()).hexdigest()[:12]}"


#: The box ticked on the idea form (and sent as ``consent: true`` through the API).
IDEA_SUBMISSION = ConsentText(
    "idea-submission",
    "I agree that the municipality stores my name and e-mail address with the idea.",
)
#: The box ticked by staff who register a person on the people page.
REGISTERED_BY_STAFF = ConsentText(
    "registered-by-staff",
    "The person agrees that we store their name and e-mail address.",
)

TEXTS = {t.version: t for t in (IDEA_SUBMISSION, REGISTERED_BY_STAFF)}


def describe(version: str | None, at: datetime | None, locale: str | None = None) -> dict[str, Any]:
    """A consent as a data subject's export shows it: when, which version, and its words."""
    text = TEXTS.get(version or "")
    return {
        "given_at": at,
        "version": version,
        "text": text.text if text else None,
        "locale": locale,
    }
