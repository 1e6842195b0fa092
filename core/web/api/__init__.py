"""The public JSON API ``/api/v1/…`` with its OpenAPI document: blueprint, serializers, schema."""

from .blueprint import blueprint

__all__ = ["blueprint"]
