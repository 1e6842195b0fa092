"""Rules every stored record follows, whether it is made here or imported from a sibling.

The exchange importer (exchange/validate.py) and the services that create data (ideas.py,
methods.py) check the same rules, so an instance never holds, and never exports, data its
siblings would refuse: text both databases store alike (``core.validation.characters``), and
times that are not ahead of the clock beyond a stated tolerance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..errors import ValidationError
from ..models import utcnow
from .serialisation import timestamp

#: How far a time may lie ahead of the clock: clocks of two machines differ a little; an
#: hour ahead is an error (a wrong clock, local time written as UTC), not a skew.
CLOCK_TOLERANCE = timedelta(hours=1)


def check_not_future(value: datetime, field: str, *, now: datetime | None = None) -> datetime:
    """A time (naive UTC, as stored) no more than ``CLOCK_TOLERANCE`` ahead of the clock."""
    naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    now = now or utcnow()
    if naive > now + CLOCK_TOLERANCE:
        raise ValidationError(
            field,
            f"{timestamp(naive, exact=True)} lies in the future "
            f"(the clock says {timestamp(now, exact=True)}; "
            f"tolerance {CLOCK_TOLERANCE.total_seconds() / 3600:g} hour)",
        )
    return value
