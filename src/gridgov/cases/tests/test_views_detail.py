"""The case page: scope (404), masked reporter and audited reveal, clocks, map, timeline,
the actions offered, and a fixed number of queries."""

import pytest
from django.test import Client

from gridgov.cases import services
from gridgov.cases.tests.conftest import IN_GRID_21, image_bytes
from gridgov.core.models import SensitiveReadLog
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Each fixture user costs a full PBKDF2 run otherwise (seconds on a busy machine)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PHONE = "13812345678"


@pytest.fixture
def login():
    def factory(user):
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return factory


def page(client, case):
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def offered_actions(html):
    import re

    return re.findall(r'data-action="(\w+)"', html)


def test_out_of_scope_case_is_404_on_every_url(login, staff, flow):
    case = flow.new(point=IN_GRID_21, reporter_phone=PHONE)
    client = login(staff.inspector)  # grid 11 only
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.post(f"/cases/{case.pk}/reporter/").status_code == 404
    assert client.post(f"/cases/{case.pk}/act/verify/", {"version": case.version, "passed": "1"}).status_code == 404
    assert client.get("/cases/999999/").status_code == 404
    assert SensitiveReadLog.objects.count() == 0


def test_department_sees_its_case_outside_any_region_scope(login, staff, flow):
    case = flow.to("dispatched")
    assert case.number in page(login(staff.handler), case)
    assert login(staff.other_handler).get(f"/cases/{case.pk}/").status_code == 404


def test_anonymous_is_sent_to_sign_in(flow):
    case = flow.new()
    response = Client().get(f"/cases/{case.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_header_clocks_map_and_timeline(login, staff, flow, region_tree, settings):
    settings.GRIDGOV_MAP_TILE_URL = ""
    case = flow.to("dispatched")
    html = page(login(staff.dispatcher), case)
    assert f"事件 {case.number}" in html
    assert 'data-testid="case-status">待签收<' in html
    assert 'data-clock="accept_dispatch"' in html and 'data-clock="sign"' in html and 'data-clock="handle"' in html
    assert "办理过程" in html
    for label in ("登记", "立案", "派遣"):
        assert f'<span class="timeline__action">{label}</span>' in html
    # map: the point and the grid boundary, no tile server configured
    assert '"point": [117.005, 36.69]' in html
    assert region_tree["grid11"].name in html and '"boundary": {"type": "Polygon"' in html
    assert '"tileUrl": ""' in html and "case-map--plain" in html


def test_reporter_is_masked_and_reveal_is_logged(login, staff, flow):
    case = flow.new(reporter_name="王小明", reporter_phone=PHONE)
    client = login(staff.dispatcher)
    html = page(client, case)
    assert PHONE not in html and "王小明" not in html
    assert "138****5678" in html and "王**" in html
    assert f'hx-post="/cases/{case.pk}/reporter/"' in html
    response = client.post(f"/cases/{case.pk}/reporter/", HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert response.status_code == 200
    assert PHONE in fragment and "王小明" in fragment
    assert "<html" not in fragment  # htmx gets the reporter block only
    log = SensitiveReadLog.objects.get()
    assert log.user == staff.dispatcher and log.object_id == str(case.pk)
    assert log.object_type == "cases.case" and set(log.fields) == {"reporter_name", "reporter_phone"}


def test_reveal_without_javascript_renders_the_page(login, staff, flow):
    case = flow.new(reporter_phone=PHONE)
    response = login(staff.lead).post(f"/cases/{case.pk}/reporter/")
    assert response.status_code == 200
    assert PHONE in response.content.decode() and "<html" in response.content.decode()
    assert SensitiveReadLog.objects.count() == 1


def test_reveal_refused_without_permission(login, staff, flow):
    case = flow.new(reporter_phone=PHONE)
    client = login(staff.inspector)  # grid inspectors may not see reporters
    html = page(client, case)
    assert "138****5678" in html and "/reporter/" not in html
    assert client.post(f"/cases/{case.pk}/reporter/").status_code == 403
    assert client.get(f"/cases/{case.pk}/reporter/").status_code == 405
    assert SensitiveReadLog.objects.count() == 0


@pytest.mark.parametrize(
    ("status", "role", "expected"),
    [
        ("reported", "dispatcher", ["accept", "reject"]),
        ("reported", "inspector", []),
        ("accepted", "dispatcher", ["dispatch", "request_park"]),
        ("dispatched", "handler", ["sign", "return", "request_extension", "request_park"]),
        ("dispatched", "other_handler", None),  # not even visible
        ("handling", "handler", ["return", "handle", "request_extension", "request_park"]),
        ("handled", "inspector", ["verify"]),
        ("verified", "lead", ["close", "supervise"]),
        ("closed", "clerk", ["rate"]),
        ("closed", "leader", []),
    ],
)
def test_only_the_actions_this_user_may_take_now(login, staff, flow, status, role, expected):
    case = flow.to(status)
    response = login(getattr(staff, role)).get(f"/cases/{case.pk}/")
    if expected is None:
        assert response.status_code == 404
        return
    assert offered_actions(response.content.decode()) == expected


def test_dispatch_form_preselects_the_default_department(login, staff, flow, department):
    case = flow.to("accepted")
    html = page(login(staff.dispatcher), case)
    assert f'<option value="{department.pk}" selected>' in html


def test_photos_show_on_the_page_and_in_the_timeline(login, staff, flow, media):
    case = flow.to("handling")
    services.submit_handling(case, staff.handler, note="已清理", photos=[image_bytes()])
    client = login(staff.inspector)
    html = page(client, case)
    attachment = case.attachments.get()
    url = f"/cases/{case.pk}/photos/{attachment.pk}/"
    assert html.count(url) == 4  # gallery and timeline, link and image each
    assert attachment.file.url not in html  # never the raw media path
    assert "处置照片" in html
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert "private" in response["Cache-Control"]


def test_photos_are_only_served_within_scope(login, staff, flow, media):
    case = flow.to("handling")
    services.submit_handling(case, staff.handler, note="已清理", photos=[image_bytes()])
    other = flow.new()
    attachment = case.attachments.get()
    assert login(staff.far_inspector).get(f"/cases/{case.pk}/photos/{attachment.pk}/").status_code == 404
    # a photo is reached only through its own case
    assert login(staff.inspector).get(f"/cases/{other.pk}/photos/{attachment.pk}/").status_code == 404
    assert Client().get(f"/cases/{case.pk}/photos/{attachment.pk}/").status_code == 302


def test_detail_queries_do_not_grow_with_history(login, staff, flow, media, django_assert_max_num_queries):
    case = flow.to("handled")
    client = login(staff.lead)
    client.get(f"/cases/{case.pk}/")
    with django_assert_max_num_queries(30) as short:
        client.get(f"/cases/{case.pk}/")
    for _round in range(3):
        services.verify(case, staff.inspector, passed=False, note="未清理干净", photos=[image_bytes()])
        services.submit_handling(case, staff.handler, note="再次清理", photos=[image_bytes(), image_bytes(color=(1, 2, 3))])
    services.supervise(case, staff.leader, note="尽快办结")
    with django_assert_max_num_queries(len(short.captured_queries)):
        html = client.get(f"/cases/{case.pk}/").content.decode()
    assert html.count('class="timeline__action"') == 5 + 7


def test_page_reads_in_english_after_switching(login, staff, flow):
    case = flow.to("accepted")
    client = login(staff.dispatcher)
    client.post("/i18n/setlang/", {"language": "en"})
    html = page(client, case)
    assert "Timeline" in html and "Awaiting dispatch" in html


def test_sysadmin_sees_everything(login, staff, flow, make_user):
    case = flow.new(point=IN_GRID_21)
    admin = make_user([Role.SYSADMIN])
    assert case.number in page(login(admin), case)
