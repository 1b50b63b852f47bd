"""The intake form (受理登记): create, double submit, errors in Chinese, htmx helpers."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from gridgov.cases.models import Case, CaseAttachment, Status
from gridgov.cases.tests.ui_fixtures import POINT_C1, POINT_C2, clerk, login, make_case, ui_categories  # noqa: F401
from gridgov.core.models import SensitiveReadLog
from gridgov.geo.coords import wgs84_to_gcj02
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db
INTAKE = "/cases/new/"


def zh(msgid):
    """The zh-hans translation of `msgid`, which must exist (contain Chinese characters)."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    assert any("\u4e00" <= char <= "\u9fff" for char in text), f"untranslated: {msgid}"
    return text


def form_data(category, **overrides):
    data = {
        "channel": "hotline",
        "reporter_name": "张三",
        "reporter_phone": "138 0013 8000",
        "category": str(category.pk),
        "priority": "",
        "description": "小区东门垃圾桶满溢，无人清理",
        "address": "",
        "lon": str(POINT_C1[0]),
        "lat": str(POINT_C1[1]),
        "crs": "wgs84",
        "idempotency_key": "key-0001",
    }
    data.update(overrides)
    return data


def first_case_number(response):
    return Case.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1]).number


def png_file(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def test_form_renders_in_chinese_with_a_fresh_key(clerk, login):
    client = login(clerk)
    first, second = client.get(INTAKE), client.get(INTAKE)
    assert first.status_code == 200
    html = first.content.decode()
    for msgid in ("New case", "Channel", "Reporter phone", "Location", "Register case"):
        assert zh(msgid) in html
    key1 = first.context["form"].initial["idempotency_key"]
    key2 = second.context["form"].initial["idempotency_key"]
    assert key1 and key1 != key2
    assert f'value="{key1}"' in html


def test_roles_without_case_create_are_refused(make_user, region_tree, login):
    handler = make_user([Role.DEPT_HANDLER], scope=region_tree["subdistrict"])
    client = login(handler)
    assert client.get(INTAKE).status_code == 403
    assert client.get(reverse("cases:intake_categories"), {"q": "垃圾"}).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(INTAKE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_submit_creates_the_case_and_redirects_to_its_page(clerk, login, ui_categories):
    response = login(clerk).post(INTAKE, form_data(ui_categories["garbage"]))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.status == Status.REPORTED
    assert case.channel == "hotline"
    assert case.category == ui_categories["garbage"]
    assert case.reporter_phone == "13800138000"
    assert case.reported_by == clerk
    assert case.grid.code.endswith("001001")
    assert case.idempotency_key == "key-0001"


def test_double_submission_creates_one_case(clerk, login, ui_categories):
    client = login(clerk)
    data = form_data(ui_categories["garbage"])
    first = client.post(INTAKE, data)
    second = client.post(INTAKE, data)
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]
    follow = client.get(second["Location"])
    shown = [str(message) for message in follow.context["messages"]]
    assert shown[-1] == zh("This form was already submitted: case %(number)s.") % {"number": first_case_number(first)}


def test_a_new_form_is_a_new_case(clerk, login, ui_categories):
    client = login(clerk)
    client.post(INTAKE, form_data(ui_categories["garbage"], idempotency_key="key-a"))
    client.post(INTAKE, form_data(ui_categories["garbage"], idempotency_key="key-b"))
    assert Case.objects.count() == 2


def test_missing_fields_get_chinese_messages_beside_them(clerk, login):
    data = {"channel": "hotline", "idempotency_key": "k", "crs": "wgs84"}
    response = login(clerk).post(INTAKE, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["description"] == [zh("Describe the problem.")]
    assert errors["category"] == [zh("Choose a category: type a few characters and pick one from the list.")]
    assert errors["address"] == [zh("Give the location: click the map, type the coordinates or enter an address.")]
    html = response.content.decode()
    assert zh("Describe the problem.") in html
    assert zh("The case was not saved. Please correct the marked fields.") in html
    assert Case.objects.count() == 0


def test_bad_phone_and_half_coordinates_are_field_errors(clerk, login, ui_categories):
    data = form_data(ui_categories["garbage"], reporter_phone="call me", lat="")
    errors = login(clerk).post(INTAKE, data).context["form"].errors
    assert errors["reporter_phone"] == [zh("Enter a valid phone number (digits only, e.g. 13800138000).")]
    assert errors["lat"] == [zh("Enter both longitude and latitude, or neither.")]


def test_malformed_coordinates_come_back_on_the_field(clerk, login, ui_categories):
    data = form_data(ui_categories["garbage"], lon="东经117", lat="36.69")
    errors = login(clerk).post(INTAKE, data).context["form"].errors
    assert list(errors) == ["lon"]
    assert any("\u4e00" <= char <= "\u9fff" for char in errors["lon"][0])


def test_service_refusal_is_shown_on_the_form(make_user, region_tree, login, ui_categories):
    """A grid inspector of community 2 may not report a point in community 1 (scope)."""
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["community2"])
    response = login(inspector).post(INTAKE, form_data(ui_categories["garbage"]))
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_gcj02_coordinates_are_stored_as_wgs84(clerk, login, ui_categories):
    gcj_lon, gcj_lat = wgs84_to_gcj02(*POINT_C1)
    login(clerk).post(INTAKE, form_data(ui_categories["garbage"], lon=f"{gcj_lon:.7f}", lat=f"{gcj_lat:.7f}", crs="gcj02"))
    case = Case.objects.get()
    assert case.lon == pytest.approx(POINT_C1[0], abs=1e-5)
    assert case.lat == pytest.approx(POINT_C1[1], abs=1e-5)


def test_address_only_needs_placement(clerk, login, ui_categories):
    data = form_data(ui_categories["garbage"], lon="", lat="", address="天桥区南村街道 12 号")
    response = login(clerk).post(INTAKE, data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.lon is None and case.needs_placement and case.address == "天桥区南村街道 12 号"


def test_photos_are_stored_with_the_case(clerk, login, ui_categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = form_data(ui_categories["garbage"], photos=[png_file("a.png"), png_file("b.png")])
    response = login(clerk).post(INTAKE, data)
    assert response.status_code == 302
    assert CaseAttachment.objects.filter(case=Case.objects.get()).count() == 2


def test_a_file_that_is_no_image_is_refused_on_the_photos_field(clerk, login, ui_categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bogus = io.BytesIO(b"not an image at all")
    bogus.name = "x.png"
    response = login(clerk).post(INTAKE, form_data(ui_categories["garbage"], photos=[bogus]))
    assert response.status_code == 200
    assert "photos" in response.context["form"].errors
    assert Case.objects.count() == 0


# --- htmx helpers ------------------------------------------------------------------------
def test_earlier_cases_of_a_phone_number(clerk, login, make_case, ui_categories, make_user, region_tree):
    earlier = make_case(clerk, reporter_phone="13800138000", category=ui_categories["road"])
    make_case(clerk, reporter_phone="13900000000")
    response = login(clerk).get(reverse("cases:intake_reporter"), {"reporter_phone": "138-0013-8000"})
    html = response.content.decode()
    assert earlier.number in html and len(response.context["cases"]) == 1
    assert zh("No earlier cases from this number.") not in html
    assert SensitiveReadLog.objects.filter(user=clerk, object_id=str(earlier.pk)).exists()
    # A grid inspector may register cases but not see who reported what.
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["community1"])
    response = login(inspector).get(reverse("cases:intake_reporter"), {"reporter_phone": "13800138000"})
    assert earlier.number not in response.content.decode()


def test_category_search_as_you_type(clerk, login, ui_categories):
    client = login(clerk)
    html = client.get(reverse("cases:intake_categories"), {"q": "测试暴露"}).content.decode()
    assert "测试暴露垃圾" in html and f'data-category-id="{ui_categories["garbage"].pk}"' in html
    by_keyword = client.get(reverse("cases:intake_categories"), {"q": "占道停车"}).content.decode()
    assert "测试乱停车" in by_keyword
    by_major = client.get(reverse("cases:intake_categories"), {"q": "测试市容"}).content.decode()
    assert "测试道路不洁" in by_major and "测试旧垃圾类" not in by_major  # inactive stays out
    assert 'data-category-id="%d"' % ui_categories["city"].pk not in by_major  # 大类 are not picked
    nothing = client.get(reverse("cases:intake_categories"), {"q": "不存在的类别"}).content.decode()
    assert "data-category-id" not in nothing and "不存在的类别" in nothing


def test_location_check_names_the_grid_and_likely_duplicates(clerk, login, make_case, ui_categories):
    garbage = ui_categories["garbage"]
    near = make_case(clerk, category=garbage, point=(POINT_C1[0] + 0.0003, POINT_C1[1]))  # ~27 m east
    far = make_case(clerk, category=garbage, point=(POINT_C1[0] + 0.003, POINT_C1[1]))  # ~270 m
    other_category = make_case(clerk, category=ui_categories["road"], point=POINT_C1)
    old = make_case(clerk, category=garbage, point=POINT_C1)
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    closed = make_case(clerk, category=garbage, point=POINT_C1)
    Case.objects.filter(pk=closed.pk).update(status=Status.CLOSED)

    params = {"lon": POINT_C1[0], "lat": POINT_C1[1], "crs": "wgs84", "category": garbage.pk}
    response = login(clerk).get(reverse("cases:intake_check"), params)
    numbers = [case.number for case in response.context["duplicates"]]
    assert numbers == [near.number]
    html = response.content.decode()
    assert "象霞社区第1网格" in html and 'data-testid="duplicates"' in html
    for case in (far, other_category, old, closed):
        assert case.number not in html


def test_location_check_outside_every_grid_and_bad_input(clerk, login, ui_categories):
    client = login(clerk)
    outside = client.get(reverse("cases:intake_check"), {"lon": "116.95", "lat": "36.62", "crs": "wgs84"})
    assert zh("Outside every grid: the case will need manual placement by a dispatcher.") in outside.content.decode()
    bad = client.get(reverse("cases:intake_check"), {"lon": "abc", "lat": "36.6", "crs": "wgs84"})
    assert bad.status_code == 200 and bad.context["point"] is None and bad.context["error"]


def test_duplicates_are_limited_to_the_users_scope(make_user, region_tree, login, make_case, clerk, ui_categories):
    """An inspector of community 2 checking a point at the border sees no community 1 cases."""
    border = (117.0199, 36.69)
    make_case(clerk, category=ui_categories["garbage"], point=border)
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["community2"])
    params = {"lon": 117.0201, "lat": 36.69, "category": ui_categories["garbage"].pk}
    assert login(inspector).get(reverse("cases:intake_check"), params).context["duplicates"] == []
    assert len(login(clerk).get(reverse("cases:intake_check"), params).context["duplicates"]) == 1
