"""Receiving 12345 orders: one case per order, idempotent on the order number, checked input,
the hotline's own deadlines on the order, and the service account's token."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from gridgov.cases.models import Case, Channel
from gridgov.core.errors import Conflict, Forbidden, ValidationFailed
from gridgov.hotline import services
from gridgov.hotline.filters import filter_deadline_state
from gridgov.hotline.models import HotlineOrder, OrderType, Urgency
from gridgov.org.roles import Role

from .conftest import MONDAY_9


@pytest.fixture
def clerk(staff):
    return staff.clerk


def test_an_order_creates_one_hotline_case_with_the_order_in_one_go(clerk, order_data):
    order, created = services.receive_order(clerk, order_data, at=MONDAY_9)
    assert created
    case = order.case
    assert case.channel == Channel.HOTLINE
    assert case.reporter_phone == "13812345678" and case.reporter_name == "张三"
    assert order_data["content"] in case.description and order.order_number in case.description
    assert order.order_type == OrderType.COMPLAINT and order.urgency == Urgency.NORMAL
    assert case.idempotency_key == "hotline:GD20261130001"


def test_a_resend_returns_the_same_order_and_case(clerk, order_data):
    first, _ = services.receive_order(clerk, order_data, at=MONDAY_9)
    again, created = services.receive_order(clerk, dict(order_data), at=MONDAY_9 + dt.timedelta(hours=1))
    assert not created
    assert again.pk == first.pk and again.case_id == first.case_id
    assert Case.objects.count() == 1 and HotlineOrder.objects.count() == 1


def test_a_resend_with_other_content_is_a_conflict_and_changes_nothing(clerk, order_data):
    services.receive_order(clerk, order_data, at=MONDAY_9)
    with pytest.raises(Conflict) as caught:
        services.receive_order(clerk, {**order_data, "content": "另一件事"})
    assert caught.value.code == "order_conflict"
    assert "order_number" in caught.value.fields
    assert HotlineOrder.objects.get().content == order_data["content"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"order_type": "表扬"}, "order_type"),
        ({"order_type": ""}, "order_type"),
        ({"caller_phone": "call me"}, "caller_phone"),
        ({"content": "  "}, "content"),
        ({"order_number": "GD 1/2"}, "order_number"),
        ({"urgency": "很急"}, "urgency"),
        ({"hotline_deadline": "next week"}, "hotline_deadline"),
        ({"content": "<script>x</script>"}, "content"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(clerk, order_data, change, field):
    with pytest.raises(ValidationFailed) as caught:
        services.receive_order(clerk, {**order_data, **change})
    assert field in caught.value.fields
    assert not Case.objects.exists() and not HotlineOrder.objects.exists()


def test_several_bad_fields_are_named_together(clerk, order_data):
    with pytest.raises(ValidationFailed) as caught:
        services.receive_order(clerk, {**order_data, "order_type": "x", "caller_phone": "abc", "content": ""})
    assert set(caught.value.fields) == {"order_type", "caller_phone", "content"}


def test_only_roles_that_receive_orders_may(staff, order_data):
    with pytest.raises(Forbidden):
        services.receive_order(staff.handler, order_data)
    assert not HotlineOrder.objects.exists()


def test_limits_by_type_and_urgency_come_from_settings(clerk, order_data, settings):
    urgent, _ = services.receive_order(clerk, {**order_data, "urgency": "紧急"}, at=MONDAY_9)
    assert urgent.response_due_at == MONDAY_9 + dt.timedelta(hours=2)
    assert urgent.reply_due_at == MONDAY_9 + dt.timedelta(hours=24)
    assert urgent.case.priority == 4  # urgent
    settings.GRIDGOV_HOTLINE_LIMITS = {
        "normal": {"*": {"response": (1, "natural_hours"), "reply": (5, "natural_hours")}},
    }
    changed, _ = services.receive_order(clerk, {**order_data, "order_number": "GD2"}, at=MONDAY_9)
    assert changed.response_due_at == MONDAY_9 + dt.timedelta(hours=1)
    assert changed.reply_due_at == MONDAY_9 + dt.timedelta(hours=5)
    assert changed.reply_warn_at == MONDAY_9 + dt.timedelta(hours=3.5)


def test_consultations_get_three_working_days_by_default(clerk, order_data):
    order, _ = services.receive_order(clerk, {**order_data, "order_type": "咨询"}, at=MONDAY_9)
    # Monday 09:00 + 3 working days = Thursday 09:00 (office hours, no holiday that week).
    assert order.reply_due_at == MONDAY_9 + dt.timedelta(days=3)


def test_the_hotlines_own_deadline_wins_for_the_reply(clerk, order_data):
    order, _ = services.receive_order(clerk, {**order_data, "hotline_deadline": "2026-12-01T17:00:00+08:00"}, at=MONDAY_9)
    order.refresh_from_db()
    assert order.reply_due_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
    assert order.hotline_deadline == order.reply_due_at
    assert MONDAY_9 < order.reply_warn_at < order.reply_due_at


def test_orders_nearing_or_past_their_deadline_are_listed(clerk, order_data, settings):
    settings.GRIDGOV_HOTLINE_LIMITS = {"normal": {"*": {"response": (1, "natural_hours"), "reply": (10, "natural_hours")}}}
    order, _ = services.receive_order(clerk, order_data, at=MONDAY_9)
    orders = HotlineOrder.objects.all()
    assert list(filter_deadline_state(orders, "normal", now=MONDAY_9 + dt.timedelta(hours=1))) == [order]
    assert list(filter_deadline_state(orders, "warning", now=MONDAY_9 + dt.timedelta(hours=8))) == [order]
    assert list(filter_deadline_state(orders, "overdue", now=MONDAY_9 + dt.timedelta(hours=11))) == [order]
    assert not filter_deadline_state(orders, "warning", now=MONDAY_9 + dt.timedelta(hours=11)).exists()


@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    number=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=40),
    content=st.text(min_size=1, max_size=80).filter(lambda s: s.strip()),
)
def test_check_order_accepts_good_numbers_and_never_crashes_on_text(number, content):
    try:
        checked = services.check_order({"order_number": number, "order_type": "求助", "content": content})
    except ValidationFailed as failure:
        assert set(failure.fields) <= {"content"}
    else:
        assert checked.order_number == number
        assert checked.fingerprint() == services.check_order(
            {"order_number": number, "order_type": "help", "content": content}
        ).fingerprint()


# --- the API and the service account ---------------------------------------------------------
@pytest.fixture
def platform_client(region_tree, client):
    """An HTTP client authenticated like the hotline platform: the token of `hotline-account`."""
    out = io.StringIO()
    call_command("hotline-account", scope=region_tree["subdistrict"].code, stdout=out)
    token = out.getvalue().strip()
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_service_account_gets_an_intake_role_and_a_token(platform_client, region_tree):
    from gridgov.org.models import User

    account = User.objects.get(username="hotline12345")
    assert account.roles == {Role.INTAKE_CLERK}
    assert account.scope == region_tree["subdistrict"]
    assert not account.has_usable_password()


def test_api_receives_an_order_and_a_resend_returns_it(platform_client, order_data):
    first = platform_client.post("/api/v1/hotline/orders/", order_data, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["order_number"] == "GD20261130001" and body["case_number"]
    assert body["caller_phone"] == "138****5678" and body["caller_name"] == "张*"
    again = platform_client.post("/api/v1/hotline/orders/", order_data, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    conflict = platform_client.post("/api/v1/hotline/orders/", {**order_data, "address": "别处"}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "order_conflict" and "order_number" in conflict.json()["fields"]


@pytest.mark.parametrize(
    "change, field",
    [({"order_type": "表扬"}, "order_type"), ({"caller_phone": "abc"}, "caller_phone"), ({"content": ""}, "content")],
)
def test_api_bad_input_is_400_naming_the_field(platform_client, order_data, change, field):
    response = platform_client.post("/api/v1/hotline/orders/", {**order_data, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not HotlineOrder.objects.exists()


def test_api_without_token_is_refused(client, order_data, db):
    response = client.post("/api/v1/hotline/orders/", order_data, content_type="application/json")
    assert response.status_code == 401


def test_api_list_is_limited_to_the_scope(api_client, staff, order_data, region_tree, quick_user):
    services.receive_order(staff.clerk, {**order_data, "lon": 117.005, "lat": 36.69})
    services.receive_order(staff.clerk, {**order_data, "order_number": "GD2", "lon": 117.025, "lat": 36.69})
    community_clerk = quick_user([Role.INTAKE_CLERK], scope=region_tree["community1"])
    numbers = [row["order_number"] for row in api_client(community_clerk).get("/api/v1/hotline/orders/").json()["results"]]
    assert numbers == ["GD20261130001"]
    everyone = api_client(staff.dispatcher).get("/api/v1/hotline/orders/?ordering=order_number").json()["results"]
    assert [row["order_number"] for row in everyone] == ["GD2", "GD20261130001"]
    other = HotlineOrder.objects.get(order_number="GD2")
    assert api_client(community_clerk).get(f"/api/v1/hotline/orders/{other.pk}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_create_one_order(staff, order_data):
    """The hotline resends an order while the first delivery is still being saved: four
    parallel calls, retrying transient lock errors as a client does, give one order."""
    from gridgov.core.testing import run_in_parallel

    results, errors = run_in_parallel(lambda _n: services.receive_order(staff.clerk, dict(order_data)), range(4))
    assert errors == [] and len(results) == 4
    assert len({order.pk for order, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert HotlineOrder.objects.count() == 1 and Case.objects.count() == 1
