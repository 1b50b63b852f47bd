"""Property-based test of the whole API against its own OpenAPI schema (schemathesis).

Each operation gets a bounded number of generated requests, sent to the Django WSGI app as
a signed-in system administrator; every response must be free of 5xx errors and match the
documented status codes, content types and schemas.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gridgov.org.roles import Role
from gridgov.wsgi import application

EXAMPLES_PER_OPERATION = 3
# No 5xx, and every response as documented. Not "schema-valid data is accepted": services
# rightly refuse schema-valid input (a wrong password, an inactive category, ...).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Generated requests only ("fuzzing"): the coverage phase sends dozens of boundary cases per
# operation whatever max_examples says, which would take minutes for the whole API.
CONFIG = schemathesis.Config.from_dict(
    {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture
def sysadmin_token(db, make_user, region_tree, department, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_user([Role.SYSADMIN], scope=region_tree["district"], department=department)
    return Token.objects.create(user=user).key


@pytest.fixture
def inside_test_transaction():
    """Requests go straight to the WSGI app: keep Django from closing the test's connection
    at request boundaries, as its own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, sysadmin_token, inside_test_transaction):
    case.call_and_validate(headers={"Authorization": f"Token {sysadmin_token}"}, checks=CHECKS)
