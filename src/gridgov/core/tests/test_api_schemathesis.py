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


@pytest.fixture
def records(db, make_user, region_tree, department, settings):
    """Cases in several states (rated, parked, with a pending extension, unplaced) made
    through the services, so real rows with their nulls and blanks meet the schema."""
    from gridgov.cases import services
    from gridgov.catalog.models import Category

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    district = region_tree["district"]
    clerk = make_user([Role.INTAKE_CLERK], scope=district, phone="13800001111")
    dispatcher = make_user([Role.DISPATCHER], scope=district)
    lead = make_user([Role.SHIFT_LEAD], scope=district)
    handler = make_user([Role.DEPT_HANDLER], department=department)
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"])
    category = Category.objects.filter(parent__isnull=False, is_active=True).order_by("kind", "code").first()

    def new(**fields):
        return services.create_case(
            clerk, channel="hotline", description="井盖缺失", category=category, lon=117.005, lat=36.69,
            reporter_name="张三", reporter_phone="13912345678", **fields,
        )[0]

    def dispatched():
        case = services.accept(new(), dispatcher)
        return services.sign(services.dispatch(case, dispatcher, department=department), handler)

    rated = dispatched()
    rated = services.verify(services.submit_handling(rated, handler, note="已修复"), inspector, passed=True)
    rated = services.rate(services.close(rated, lead), clerk, rating=3)
    parked = services.accept(new(), dispatcher)
    park = services.request_park(parked, dispatcher, reason="需协调")
    services.decide_park(park, lead, approve=True)
    extended = dispatched()
    extension = services.request_extension(extended, handler, reason="等配件", extra_value=2, extra_unit="working_days")
    unplaced = services.create_case(clerk, channel="window", description="无坐标的来访")[0]
    return {
        "cases": [rated, parked, extended, unplaced],
        "requests": [park, extension],
        "staff": [clerk, handler],
        "department": department,
        "token": Token.objects.create(user=make_user([Role.SYSADMIN])).key,
    }


def test_real_records_conform_to_the_schema(records, inside_test_transaction):
    headers = {"Authorization": f"Token {records['token']}"}
    calls = [
        ("/api/v1/cases/", "GET", {}, {"page_size": 50}),
        ("/api/v1/staff/", "GET", {}, {}),
        ("/api/v1/departments/", "GET", {}, {}),
        ("/api/v1/me/", "GET", {}, {}),
        ("/api/v1/departments/{id}/", "GET", {"id": records["department"].pk}, {}),
    ]
    for case in records["cases"]:
        calls += [
            ("/api/v1/cases/{id}/", "GET", {"id": case.pk}, {}),
            ("/api/v1/cases/{id}/", "GET", {"id": case.pk}, {"reveal": "reporter"}),
            ("/api/v1/cases/{id}/events/", "GET", {"id": case.pk}, {}),
        ]
    calls += [("/api/v1/case-requests/{id}/", "GET", {"id": request.pk}, {}) for request in records["requests"]]
    calls += [("/api/v1/staff/{id}/", "GET", {"id": user.pk}, {}) for user in records["staff"]]
    for path, method, path_parameters, query in calls:
        operation = schema[path][method]
        response = operation.Case(path_parameters=path_parameters, query=query).call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == 200, (path, response.text)


def test_create_and_transition_responses_conform_to_the_schema(records, inside_test_transaction):
    headers = {"Authorization": f"Token {records['token']}"}
    body = {"channel": "hotline", "description": "路灯不亮", "lon": 117.005, "lat": 36.69}
    created = schema["/api/v1/cases/"]["POST"].Case(body=body, media_type="application/json").call_and_validate(
        headers=headers, checks=CHECKS
    )
    assert created.status_code == 201, created.text
    accept = schema["/api/v1/cases/{id}/accept/"]["POST"].Case(
        path_parameters={"id": created.json()["id"]}, body={"category": records["cases"][0].category_id}, media_type="application/json"
    )
    assert accept.call_and_validate(headers=headers, checks=CHECKS).status_code == 200
