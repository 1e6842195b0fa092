"""The JSON API fuzzed from its own OpenAPI document (schemathesis), on SQLite and PostgreSQL.

Every operation of ``/api/v1/openapi.json`` gets generated requests, valid and invalid;
no answer may be a server error, and every answer must match the document: its status
code, content type and schema. Bounded (a few examples per operation and mode,
derandomized) so the whole run takes about a minute on both databases.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from innoplat.core.services import demo

EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(make_app):
    """The document as the app serves it; calls go straight to the app (WSGI)."""
    app = make_app(config={"RATELIMIT_ENABLED": False})
    platform = app.extensions["innoplat"]
    with platform.transaction() as session:
        demo.load_demo(session, platform.city, platform.city_row(session), ideas=12, seed=3)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_operation_answers_without_server_errors_as_documented(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12  # every documented operation, compare and exchange included
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case):
                # The test transport does not undo gzip (the exchange bundle offers it).
                case.call_and_validate(headers={"Accept-Encoding": "identity"}, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                # Nothing can be made invalid in an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label
