"""Which ideas a reader may count: public ones, and a city's internal ones for its own staff."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import or_
from sqlalchemy.sql.expression import ColumnElement

from ..models import City, Idea, Visibility

#: Who a figure is for: everyone, or the signed-in staff of the city it describes.
Audience = Literal["public", "staff"]
AUDIENCES: tuple[Audience, ...] = ("public", "staff")


def visible_ideas(staff_of: City | None = None) -> ColumnElement[bool]:
    """A condition on ``Idea`` keeping the ideas a reader may count.

    :param staff_of: the city whose signed-in staff is reading: its internal ideas count too.
        None (anyone else, the public) counts public ideas only — of every city, peers too.
    """
    public = Idea.visibility == Visibility.public
    if staff_of is None:
        return public
    return or_(public, Idea.city_id == staff_of.id)
