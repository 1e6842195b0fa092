"""The public JSON API ``/api/v1/…`` with its OpenAPI document: blueprint, serializers, schema.

Every endpoint under ``/api/v1`` lives in this package: ideas, stages, methods,
organisations and figures (:mod:`.blueprint`), comparing methods across cities and the
exchange bundle (:mod:`.comparison`).
"""

from . import comparison  # noqa: F401 - registers /compare and /exchange on the blueprint
from .blueprint import blueprint

__all__ = ["blueprint"]
