"""The Django admin for staff (with the role inline) and departments, in zh-hans."""

import pytest

from gridgov.org.models import Department, StaffRole
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user([Role.SYSADMIN], is_staff=True, is_superuser=True))
    return client


def test_staff_pages_show_roles_inline(admin_client, make_user, region_tree, department):
    user = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"], department=department)
    assert admin_client.get("/admin/org/user/", {"q": user.username}).status_code == 200
    assert admin_client.get("/admin/org/user/add/").status_code == 200
    page = admin_client.get(f"/admin/org/user/{user.pk}/change/").content.decode()
    assert "role_assignments-0-role" in page
    assert "网格员" in page  # the role's zh-hans name in the inline


def test_role_added_through_the_inline(admin_client, make_user):
    user = make_user([])
    form = admin_client.get(f"/admin/org/user/{user.pk}/change/").context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and key not in {"password", "groups", "user_permissions"}}
    data.update({
        "username": user.username, "date_joined_0": "2026-11-28", "date_joined_1": "09:00:00", "is_active": "on",
        "role_assignments-TOTAL_FORMS": "1", "role_assignments-INITIAL_FORMS": "0",
        "role_assignments-0-role": Role.DISPATCHER,
    })
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = admin_client.post(f"/admin/org/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert StaffRole.objects.filter(user=user, role=Role.DISPATCHER).exists()


def test_department_pages(admin_client, department):
    assert admin_client.get("/admin/org/department/", {"q": "城管"}).status_code == 200
    assert admin_client.get(f"/admin/org/department/{department.pk}/change/").status_code == 200
    response = admin_client.post("/admin/org/department/add/", {"code": "SW", "name": "水务所", "type": "utility", "is_active": "on"})
    assert response.status_code == 302
    assert Department.objects.filter(code="SW").exists()
