"""The platform of the app serving this request: what every page and plugin view looks up first."""

from __future__ import annotations

from flask import current_app

from ..platform import Platform


def platform() -> Platform:
    """The platform of the app serving this request (``app.extensions["innoplat"]``)."""
    return current_app.extensions["innoplat"]
