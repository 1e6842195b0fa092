"""Friendly error pages in the visitor's language: never a traceback, a 503 when the database is down."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .. import db
from ..errors import NotFound, PluginError, ReadOnlyError, ValidationError

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        _l("Something in the request was wrong"),
        _l("Please go back, check the form and try again."),
    ),
    403: (
        _l("You may not do this"),
        _l("Your role does not allow this. Ask a coordinator of the platform."),
    ),
    404: (
        _l("Page not found"),
        _l("There is no page at this address. It may have moved, or the idea is not public."),
    ),
    405: (
        _l("Something in the request was wrong"),
        _l("Please go back, check the form and try again."),
    ),
    409: (
        _l("Someone else was quicker"),
        _l(
            "Someone else saved the same thing at the same moment. Nothing you sent was stored; please reload the page and try again."
        ),
    ),
    413: (
        _l("What you sent is too large"),
        _l("The platform accepts smaller texts than this. Please shorten it and try again."),
    ),
    429: (_l("Too many attempts"), _l("Please wait a while and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An error occurred on our side. It has been logged; please try again later."),
    ),
    503: (
        _l("The platform is temporarily unavailable"),
        _l(
            "We cannot reach the database right now. Nothing you sent was stored; please try again in a few minutes."
        ),
    ),
}
CSRF_MESSAGE = _l("The form had expired or came from another site. Please fill it in again.")
INVALID_MESSAGE = _l("“%(field)s” cannot be used: %(problem)s")
READ_ONLY_MESSAGE = _l("This city's data comes from its own platform and cannot be changed here.")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(ValidationError, _invalid)
    app.register_error_handler(NotFound, lambda _e: _page(404))
    app.register_error_handler(ReadOnlyError, lambda _e: _page(403, READ_ONLY_MESSAGE))
    app.register_error_handler(IntegrityError, _lost_race)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(PoolTimeout, _database_down)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(PluginError, _internal_error)
    app.register_error_handler(Exception, _internal_error)


def _page(code: int, detail: Any | None = None, field: str | None = None) -> tuple[Any, int]:
    title, text = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/api/"):
        message = str(detail or title)
        return jsonify({"error": {"status": code, "message": message, "field": field}}), code
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def _http_error(error: HTTPException) -> Any:
    code = error.code or 500
    if code not in MESSAGES:
        return error
    response = _page(code)
    if code == 429:
        return response
    return response


def _invalid(error: ValidationError) -> Any:
    """Bad input that a view did not show beside its form field: a 400 naming the field."""
    if request.path.startswith("/api/"):
        return _page(400, error.message, error.field)
    return _page(400, INVALID_MESSAGE % {"field": error.field, "problem": error.message})


def _csrf_error(_error: CSRFError) -> Any:
    return _page(400, CSRF_MESSAGE)


def _database_down(error: Exception) -> Any:
    log.error("database unavailable: %s", error)
    return _page(503)


def _lost_race(error: IntegrityError) -> Any:
    """Two requests wrote the same unique value at once: one transaction stored it, this one nothing."""
    if not db.is_unique_violation(error):
        return _internal_error(error)
    log.warning("concurrent write refused on %s: %s", request.path, error.orig)
    return _page(409)


def _database_error(error: DBAPIError) -> Any:
    """A dropped connection, or tables missing since the app started (PostgreSQL says so with
    a ProgrammingError, SQLite with an OperationalError): unavailable, not a bug."""
    if error.connection_invalidated or db.is_missing_schema(error):
        return _database_down(error)
    return _internal_error(error)


def _internal_error(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_error(error)
    # The log names the plugin when a hook failed (PluginError says which one).
    log.exception("unhandled error on %s: %s", request.path, error)
    return _page(500)
