"""Checks every request's input before any view sees it, so bad bytes give a 400, never a 500.

- A NUL character in the path, a query parameter or a form field is refused: PostgreSQL
  cannot take one in a string, and no legitimate address or form has one.
- JSON bodies are parsed by :class:`JSONProvider`: a document nested deeper than
  :data:`~innoplat.core.validation.JSON_DEPTH_MAX` levels is refused (instead of
  the parser's ``RecursionError``), and so is text that no database can store (NUL, lone
  surrogates such as ``"\\ud800"``).
- Request bodies larger than ``MAX_CONTENT_LENGTH`` are refused with a 413 before a form
  is read (werkzeug's form parser would otherwise give an empty form).

The refusal is a :class:`~innoplat.core.errors.ValidationError` naming the parameter, which
the error handlers turn into a 400 page or, under ``/api/``, a JSON error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from .. import validation
from ..errors import ValidationError
from ..services import serialisation


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with parsing bounded in depth and limited to storable text, and times
    written as everywhere else (UTC, ISO 8601, ``Z``) instead of Flask's HTTP dates."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, date):
            return serialisation.json_default(o)
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            document = super().loads(s, **kwargs)
        except RecursionError:
            raise ValidationError(
                "body", f"nests more than {validation.JSON_DEPTH_MAX} levels deep"
            ) from None
        return validation.json_text(validation.json_depth(document))


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.before_request(_check_request)


def _check_request() -> None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        # Werkzeug's form parser would silently give an empty form (and a confusing CSRF error).
        raise RequestEntityTooLarge()
    if "\x00" in request.path:
        raise ValidationError("path", "contains a NUL character")
    sources = [request.args]
    if request.method in ("POST", "PUT", "PATCH"):
        sources.append(request.form)
    for where in sources:
        for name, values in where.lists():
            if "\x00" in name:
                raise ValidationError("parameter", "a parameter name contains a NUL character")
            if any("\x00" in value for value in values):
                raise ValidationError(name, "contains a NUL character")
