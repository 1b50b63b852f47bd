"""Real hotline records meet the OpenAPI schema (created, resent, listed, with replies)."""

from rest_framework.authtoken.models import Token

from gridgov.core.tests.test_api_schemathesis import CHECKS, inside_test_transaction, schema  # noqa: F401
from gridgov.hotline import services
from gridgov.org.roles import Role


def test_hotline_responses_conform_to_the_schema(staff, make_user, order_data, inside_test_transaction):  # noqa: F811
    headers = {"Authorization": f"Token {Token.objects.create(user=staff.clerk).key}"}
    body = {**order_data, "hotline_deadline": "2026-12-01T17:00:00+08:00", "lon": 117.005, "lat": 36.69}
    post = schema["/api/v1/hotline/orders/"]["POST"]
    created = post.Case(body=body, media_type="application/json").call_and_validate(headers=headers, checks=CHECKS)
    assert created.status_code == 201, created.text
    resent = post.Case(body=body, media_type="application/json").call_and_validate(headers=headers, checks=CHECKS)
    assert resent.status_code == 200
    order_id = created.json()["id"]
    order = services.HotlineOrder.objects.get(pk=order_id)
    services.report_callback(order.case, "满意", "")
    admin = {"Authorization": f"Token {Token.objects.create(user=make_user([Role.SYSADMIN])).key}"}
    listed = schema["/api/v1/hotline/orders/"]["GET"].Case(query={"deadline": "normal"}).call_and_validate(headers=admin, checks=CHECKS)
    assert [row["id"] for row in listed.json()["results"]] == [order_id]
    detail = schema["/api/v1/hotline/orders/{id}/"]["GET"].Case(path_parameters={"id": order_id}).call_and_validate(
        headers=admin, checks=CHECKS
    )
    assert detail.json()["replies"][0]["kind"] == "callback"
