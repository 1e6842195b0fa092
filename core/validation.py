"""One check per kind of value, shared by the web forms, the JSON API, the CLI, import and plugins.

Every check takes the raw value and the name of the field it came from, and returns the
value as it is to be stored, or raises :class:`~innoplat.core.errors.ValidationError`
naming the field. What it refuses is what the database (PostgreSQL in particular) or a
later consumer (an e-mail header, a link in a page) could not take:

- text longer than its column (:func:`column_length` reads the size from the model), NUL
  characters (PostgreSQL refuses them), lone UTF-16 surrogates (no encoding can store them)
  and other control characters (line breaks only where the field is multi-line);
- e-mail addresses that are not addresses (`email-validator`_, so a line break or a second
  header can never reach an outgoing message);
- whole numbers that are not ASCII digits, or outside the range the column or the
  parameter allows (a page number beyond 64 bits is refused, not passed to the database);
- web addresses other than ``http`` and ``https`` (no ``javascript:`` links).

.. _email-validator: https://pypi.org/project/email-validator/
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import InstrumentedAttribute

from .errors import ValidationError

EMAIL_MAX = 254
#: The largest value of a PostgreSQL ``integer`` column.
INT_MAX = 2**31 - 1
#: How deeply JSON documents sent to the platform may nest (the API's bodies, bundles).
JSON_DEPTH_MAX = 64
URL_SCHEMES = ("http", "https")
#: The highest page number a list accepts (20 a page: twenty million items).
PAGE_MAX = 1_000_000

# C0 controls and DEL; tab, line feed and carriage return are allowed in multi-line text.
# Lone surrogates (no encoding can store them) are found in the same pass.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_INTEGER = re.compile(r"[+-]?[0-9]+")

T = TypeVar("T")


def column_length(column: InstrumentedAttribute[Any]) -> int | None:
    """The size of a model's string column (``String(200)`` → 200; ``Text`` → None)."""
    return getattr(column.property.columns[0].type, "length", None)


def characters(value: str, field: str, *, multiline: bool = True) -> str:
    """``value`` if every character can be stored and shown; refuses NUL, lone surrogates and
    control characters (line breaks too unless ``multiline``)."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    if value.isprintable():  # no control character, no surrogate: most text, at C speed
        return value
    bad = (_CONTROL if multiline else _LINE_CONTROL).search(value)  # one pass for both
    if bad and bad.group() >= "\ud800":
        raise ValidationError(field, "contains an unpaired surrogate (not valid Unicode text)")
    if bad:
        what = (
            "a NUL character" if bad.group() == "\x00" else f"the control character {bad.group()!r}"
        )
        raise ValidationError(field, f"contains {what}")
    return value


def text(
    value: Any,
    field: str,
    *,
    maximum: int | None = None,
    column: InstrumentedAttribute[Any] | None = None,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Text for ``field``, stripped; at most ``maximum`` characters, or the column's size."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    value = characters(value.strip(), field, multiline=multiline)
    if required and not value:
        raise ValidationError(field, "is required")
    limit = (
        maximum if maximum is not None else column_length(column) if column is not None else None
    )
    if limit is not None and len(value) > limit:
        raise ValidationError(
            field, f"is {len(value)} characters long; at most {limit} are allowed"
        )
    return value


def optional_text(value: Any, field: str, **limits: Any) -> str | None:
    """Like :func:`text`, with ``None`` for nothing."""
    return text(value, field, **limits) or None


def email(value: Any, field: str = "email", *, required: bool = False) -> str | None:
    """An e-mail address in its normalised form, or None for nothing (unless ``required``).

    Syntax only (no DNS look-up). Whitespace, line breaks and anything else that could
    break an e-mail header are refused, and so are domains that cannot receive mail on the
    internet (``.invalid``, ``localhost``).
    """
    address = text(value, field, maximum=EMAIL_MAX, required=required)
    if not address:
        return None
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(field, f"{address!r} is not an e-mail address ({exc})") from None
    return checked.normalized


def is_email(value: str) -> bool:
    """Whether ``value`` passes :func:`email` (for form validators that word their own message)."""
    try:
        return email(value, required=True) is not None
    except ValidationError:
        return False


def integer(
    value: Any,
    field: str,
    *,
    minimum: int | None = None,
    maximum: int | None = INT_MAX,
    default: int | None = None,
) -> int | None:
    """A whole number from a parameter, form field or JSON value; ``default`` when empty.

    Only ASCII digits count (``"²"`` is not 2), booleans are not numbers, and the value
    must lie within ``minimum`` and ``maximum`` (by default what an integer column holds).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        raise ValidationError(field, "must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and len(value.strip()) <= 40 and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        shown = value[:40] if isinstance(value, str) else value
        raise ValidationError(field, f"must be a whole number (got {shown!r})")
    if minimum is not None and number < minimum or maximum is not None and number > maximum:
        low = "" if minimum is None else f"at least {minimum}"
        high = "" if maximum is None else f"at most {maximum}"
        raise ValidationError(field, f"must be {' and '.join(p for p in (low, high) if p)}")
    return number


def page(value: Any, field: str = "page") -> int:
    """A page number of a paged list: 1 when not given."""
    return integer(value, field, minimum=1, maximum=PAGE_MAX, default=1) or 1


@dataclass(frozen=True)
class Page:
    """One page of a paged list: its number (1 first), how many pages there are, its offset."""

    number: int
    count: int
    offset: int


def page_of(value: Any, total: int, size: int, field: str = "page") -> Page:
    """The page asked for in a list of ``total`` items, ``size`` a page; past the end, the last.

    A link kept from when the list was longer lands on its last page, with the page links,
    rather than on an empty page that says there is nothing.
    """
    count = max(-(-total // size), 1)
    number = min(page(value, field), count)
    return Page(number, count, (number - 1) * size)


def url(
    value: Any,
    field: str,
    *,
    maximum: int | None = None,
    column: InstrumentedAttribute[Any] | None = None,
) -> str | None:
    """A web address (``http`` or ``https`` with a host), or None for nothing."""
    address = text(value, field, maximum=maximum, column=column)
    if not address:
        return None
    if not is_web_address(address):
        raise ValidationError(
            field, f"{address!r} is not a web address (it must start with http:// or https://)"
        )
    return address


def is_web_address(value: Any) -> bool:
    """Whether ``value`` is an ``http``/``https`` address with a host and no spaces.

    Pages use this too, so a ``javascript:`` address stored before this check existed is
    shown as text, never as a link.
    """
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    if _LINE_CONTROL.search(value):  # control characters and lone surrogates
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in URL_SCHEMES and bool(parts.hostname)


def distinct(values: Iterable[T], field: str) -> list[T]:
    """The values in order; a value given twice is an error naming the field."""
    seen: list[T] = []
    for value in values:
        if value in seen:
            raise ValidationError(field, f"{value!r} is listed twice")
        seen.append(value)
    return seen


def choice(value: Any, field: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        shown = value[:40] if isinstance(value, str) else value
        raise ValidationError(field, f"{shown!r} is not one of {', '.join(choices)}")
    return value


def json_depth(document: Any, field: str = "body", maximum: int = JSON_DEPTH_MAX) -> Any:
    """``document`` (parsed JSON) if its arrays and objects nest at most ``maximum`` deep."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > maximum:
            raise ValidationError(field, f"nests more than {maximum} levels deep")
        stack.extend((child, depth + 1) for child in children)
    return document


def json_text(document: Any, field: str = "body") -> Any:
    """``document`` (parsed JSON) if every string in it, keys included, is storable text."""
    stack: list[tuple[Any, str]] = [(document, field)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            characters(node, where)
        elif isinstance(node, dict):
            for key, child in node.items():
                characters(key, where)
                stack.append((child, key if where == field else f"{where}.{key}"))
        elif isinstance(node, list):
            stack.extend((child, where) for child in node)
    return document
