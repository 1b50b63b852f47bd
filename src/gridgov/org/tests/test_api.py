"""The org API: departments, staff, /me/ and token sign-in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridgov.org.models import Department, User
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def sysadmin(make_user):
    return make_user([Role.SYSADMIN])


# --- departments ----------------------------------------------------------------------------


def test_department_list_filters_by_type_and_query(api_client, make_user, department, region_tree):
    Department.objects.create(code="PCS", name="南村派出所", type="police")
    viewer = make_user([Role.DISPATCHER], scope=region_tree["subdistrict"])
    client = api_client(viewer)

    body = client.get("/api/v1/departments/", {"type": "police"}).json()
    assert [row["code"] for row in body["results"]] == ["PCS"]
    assert body["results"][0]["type_display"]

    body = client.get("/api/v1/departments/", {"q": "城管"}).json()
    assert [row["code"] for row in body["results"]] == ["CGZF"]


def test_department_region_filter_matches_ancestors_and_descendants(api_client, sysadmin, region_tree):
    district_wide = Department.objects.create(code="QJ", name="区住建局", type="housing")
    district_wide.regions.add(region_tree["district"])
    community_only = Department.objects.create(code="WY2", name="西区物业办", type="property")
    community_only.regions.add(region_tree["community2"])
    client = api_client(sysadmin)

    def codes(region):
        return sorted(row["code"] for row in client.get("/api/v1/departments/", {"region": region}).json()["results"])

    assert codes(region_tree["grid11"].code) == ["QJ"]
    assert codes(region_tree["grid21"].code) == ["QJ", "WY2"]
    assert codes(region_tree["subdistrict"].code) == ["QJ", "WY2"]


def test_only_sysadmin_writes_departments(api_client, make_user, sysadmin, region_tree):
    payload = {"code": "SW", "name": "水务所", "type": "utility", "regions": [region_tree["subdistrict"].code]}
    refused = api_client(make_user([Role.SHIFT_LEAD])).post("/api/v1/departments/", payload)
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_not_allowed"

    created = api_client(sysadmin).post("/api/v1/departments/", payload)
    assert created.status_code == 201, created.json()
    assert created.json()["regions"] == [region_tree["subdistrict"].code]

    dept_id = created.json()["id"]
    patched = api_client(sysadmin).patch(f"/api/v1/departments/{dept_id}/", {"name": "水务服务所"})
    assert patched.status_code == 200
    assert Department.objects.get(pk=dept_id).name == "水务服务所"
    assert Department.objects.get(pk=dept_id).type == "utility"  # untouched by PATCH


def test_department_code_must_be_unique(api_client, sysadmin, department):
    response = api_client(sysadmin).post("/api/v1/departments/", {"code": department.code, "name": "x"})
    assert response.status_code == 400
    assert "code" in response.json()["fields"]


def test_department_delete_is_not_offered(api_client, sysadmin, department):
    response = api_client(sysadmin).delete(f"/api/v1/departments/{department.pk}/")
    assert response.status_code == 405


# --- staff ----------------------------------------------------------------------------------


def test_staff_list_is_restricted_to_scope_and_department(api_client, make_user, region_tree, department):
    viewer = make_user([Role.COMMUNITY_SECRETARY], scope=region_tree["community1"])
    inside = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"])
    outside = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid21"])
    body = api_client(viewer).get("/api/v1/staff/").json()
    ids = {row["id"] for row in body["results"]}
    assert inside.pk in ids and viewer.pk in ids
    assert outside.pk not in ids
    assert api_client(viewer).get(f"/api/v1/staff/{outside.pk}/").status_code == 404


def test_staff_filters(api_client, make_user, sysadmin, region_tree, department):
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"], display_name="王网格")
    handler = make_user([Role.DEPT_HANDLER], department=department)
    client = api_client(sysadmin)

    def ids(**params):
        return {row["id"] for row in client.get("/api/v1/staff/", params).json()["results"]}

    assert ids(role="grid_inspector") == {inspector.pk}
    assert ids(role=["grid_inspector", "dept_handler"]) == {inspector.pk, handler.pk}
    assert ids(scope=region_tree["community1"].code) == {inspector.pk}
    assert ids(department=department.pk) == {handler.pk}
    assert ids(q="王网") == {inspector.pk}


def test_staff_phone_masked_for_others_clear_for_self_and_sysadmin(api_client, make_user, sysadmin, region_tree):
    viewer = make_user([Role.SHIFT_LEAD], scope=region_tree["district"], phone="13912345678")
    other = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"], phone="13800001111")

    assert api_client(viewer).get(f"/api/v1/staff/{other.pk}/").json()["phone"] == "138****1111"
    assert api_client(viewer).get(f"/api/v1/staff/{viewer.pk}/").json()["phone"] == "13912345678"
    assert api_client(sysadmin).get(f"/api/v1/staff/{other.pk}/").json()["phone"] == "13800001111"


def test_staff_list_query_count_is_constant(api_client, make_user, sysadmin, region_tree, department):
    for index in range(30):
        make_user([Role.GRID_INSPECTOR, Role.GRID_LEAD], scope=region_tree["grid11"], department=department)
    client = api_client(sysadmin)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/staff/", {"page_size": 50})
    assert response.status_code == 200
    assert response.json()["count"] == 31
    assert len(queries) <= 5, [q["sql"] for q in queries]


def test_sysadmin_creates_and_updates_staff_with_roles(api_client, sysadmin, region_tree, department):
    client = api_client(sysadmin)
    created = client.post(
        "/api/v1/staff/",
        {
            "username": "li.si",
            "password": "long-enough-pass",
            "display_name": "李四",
            "scope": region_tree["grid11"].code,
            "department": department.pk,
            "roles": ["grid_inspector"],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["roles"] == ["grid_inspector"]
    assert body["scope"]["code"] == region_tree["grid11"].code
    assert "password" not in body
    user = User.objects.get(username="li.si")
    assert user.check_password("long-enough-pass")

    patched = client.patch(f"/api/v1/staff/{user.pk}/", {"roles": ["grid_lead", "grid_secretary"]})
    assert patched.status_code == 200
    assert patched.json()["roles"] == ["grid_lead", "grid_secretary"]
    assert User.objects.get(pk=user.pk).roles == {"grid_lead", "grid_secretary"}
    assert User.objects.get(pk=user.pk).scope_id == region_tree["grid11"].pk  # untouched


def test_staff_write_validation(api_client, sysadmin, make_user):
    client = api_client(sysadmin)
    weak = client.post("/api/v1/staff/", {"username": "weak", "password": "123"})
    assert weak.status_code == 400
    assert "password" in weak.json()["fields"]

    bad_role = client.post("/api/v1/staff/", {"username": "x1", "password": "long-enough-pass", "roles": ["king"]})
    assert bad_role.status_code == 400
    assert "roles" in bad_role.json()["fields"]

    taken = make_user(username="taken")
    clash = client.post("/api/v1/staff/", {"username": taken.username, "password": "long-enough-pass"})
    assert clash.status_code == 400
    assert "username" in clash.json()["fields"]

    markup = client.post("/api/v1/staff/", {"username": "x2", "password": "long-enough-pass", "display_name": "<b>x</b>"})
    assert markup.status_code == 400
    assert "display_name" in markup.json()["fields"]


def test_non_sysadmin_cannot_change_staff(api_client, make_user, region_tree):
    lead = make_user([Role.SHIFT_LEAD], scope=region_tree["district"])
    target = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"])
    response = api_client(lead).patch(f"/api/v1/staff/{target.pk}/", {"roles": ["sysadmin"]})
    assert response.status_code == 403
    assert User.objects.get(pk=target.pk).roles == {"grid_inspector"}


# --- /me/ and tokens ------------------------------------------------------------------------


def test_me_lists_roles_scope_and_permissions(api_client, make_user, region_tree):
    user = make_user([Role.DISPATCHER], scope=region_tree["subdistrict"])
    body = api_client(user).get("/api/v1/me/").json()
    assert body["username"] == user.username
    assert body["roles"] == ["dispatcher"]
    assert body["scope"]["code"] == region_tree["subdistrict"].code
    assert "case.dispatch" in body["permissions"]
    assert "case.close" not in body["permissions"]


def test_me_requires_authentication(api_client):
    response = api_client().get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_sign_in_and_use(api_client, make_user):
    make_user([Role.DISPATCHER], username="disp", password="pass-1234")
    client = api_client()
    response = client.post("/api/v1/auth/token/", {"username": "disp", "password": "pass-1234"})
    assert response.status_code == 200, response.json()
    token = response.json()["token"]
    assert response.json()["user"]["username"] == "disp"

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").json()["username"] == "disp"


def test_token_wrong_password(api_client, make_user):
    make_user(username="disp2", password="pass-1234")
    response = api_client().post("/api/v1/auth/token/", {"username": "disp2", "password": "nope-nope"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_token_lockout_after_repeated_failures(api_client, make_user, settings):
    make_user(username="victim", password="pass-1234")
    client = api_client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": "victim", "password": "wrong-guess"})
    # Even the right password is refused while locked out, in the API's error format.
    response = client.post("/api/v1/auth/token/", {"username": "victim", "password": "pass-1234"})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert set(response.json()) == {"code", "message", "fields"}


def test_token_refused_for_inactive_user(api_client, make_user):
    user = make_user(username="gone", password="pass-1234")
    User.objects.filter(pk=user.pk).update(is_active=False, last_login=timezone.now())
    response = api_client().post("/api/v1/auth/token/", {"username": "gone", "password": "pass-1234"})
    assert response.status_code == 400


def test_token_requests_do_not_load_the_scope_boundary(api_client, make_user, region_tree):
    from rest_framework.authtoken.models import Token

    user = make_user([Role.DISPATCHER], scope=region_tree["district"])
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/me/").json()["scope"]["code"] == region_tree["district"].code
    assert not any('"boundary"' in query["sql"] for query in queries), [q["sql"] for q in queries]


def test_token_of_a_deactivated_user_is_refused(api_client, make_user):
    from rest_framework.authtoken.models import Token

    user = make_user([Role.DISPATCHER])
    token = Token.objects.create(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_region_codes_with_nul_are_refused_not_crashing(api_client, sysadmin):
    response = api_client(sysadmin).post(
        "/api/v1/staff/", {"username": "nul", "password": "long-enough-pass", "scope": "3701\x00"}
    )
    assert response.status_code == 400
    assert "scope" in response.json()["fields"]
    response = api_client(sysadmin).post("/api/v1/departments/", {"code": "N", "name": "N", "regions": ["\x00"]})
    assert response.status_code == 400
    assert "regions" in response.json()["fields"]
