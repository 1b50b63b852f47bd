"""The case list page: filters, sorting, paging, saved filters, export and query counts."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from gridgov.cases import views_list
from gridgov.cases.models import Case, Status
from gridgov.cases.tests.ui_fixtures import POINT_C1, POINT_C2, clerk, login, make_case, ui_categories  # noqa: F401
from gridgov.org.roles import Role
from gridgov.web.models import SavedFilter

pytestmark = pytest.mark.django_db
LIST = "/cases/"


def numbers(response):
    return [case.number for case in response.context["cases"]]


@pytest.fixture
def cases(clerk, make_case, ui_categories):
    """Four cases: two in community 1 (garbage, road), two in community 2 (garbage, parking)."""
    made = {
        "c1_garbage": make_case(clerk, category=ui_categories["garbage"], point=POINT_C1, description="东门垃圾桶满溢",
                                reporter_name="张三", reporter_phone="13800138000"),
        "c1_road": make_case(clerk, category=ui_categories["road"], point=(117.015, 36.69), channel="window",
                             description="人行道油污"),
        "c2_garbage": make_case(clerk, category=ui_categories["garbage"], point=POINT_C2, description="西区垃圾"),
        "c2_parking": make_case(clerk, category=ui_categories["parking"], point=(117.025, 36.69), description="车辆占道"),
    }
    # Distinct creation times, oldest first in this order.
    base = timezone.now() - dt.timedelta(days=3)
    for index, case in enumerate(made.values()):
        Case.objects.filter(pk=case.pk).update(created_at=base + dt.timedelta(hours=index))
    return {key: Case.objects.get(pk=case.pk) for key, case in made.items()}


@pytest.fixture
def inspector_c1(make_user, region_tree):
    return make_user([Role.GRID_INSPECTOR], scope=region_tree["community1"])


def test_list_shows_newest_first_within_the_scope(cases, clerk, inspector_c1, login):
    response = login(clerk).get(LIST)
    assert response.status_code == 200
    assert numbers(response) == [cases[k].number for k in ("c2_parking", "c2_garbage", "c1_road", "c1_garbage")]
    assert numbers(login(inspector_c1).get(LIST)) == [cases["c1_road"].number, cases["c1_garbage"].number]


def test_page_reads_in_chinese(cases, clerk, login):
    html = login(clerk).get(LIST).content.decode()
    with translation.override("zh-hans"):
        for msgid in ("Cases", "Apply filters", "Saved filters", "Export to Excel", "More filters", "Reported", "Deadline"):
            text = translation.gettext(msgid)
            assert text != msgid and text in html, msgid


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": ["reported"]}, {"c1_garbage", "c1_road", "c2_garbage", "c2_parking"}),
        ({"status": ["accepted"]}, set()),
        ({"channel": ["window"]}, {"c1_road"}),
        ({"q": "垃圾"}, {"c1_garbage", "c2_garbage"}),
        ({"region": "370105001002"}, {"c2_garbage", "c2_parking"}),
        ({"major_category": "U5"}, {"c2_parking"}),
    ],
)
def test_filters(cases, clerk, login, params, expected):
    response = login(clerk).get(LIST, params)
    assert set(numbers(response)) == {cases[key].number for key in expected}


def test_category_department_clock_and_date_filters(cases, clerk, login, ui_categories, department):
    client = login(clerk)
    garbage = {cases["c1_garbage"].number, cases["c2_garbage"].number}
    assert set(numbers(client.get(LIST, {"category": ui_categories["garbage"].pk}))) == garbage
    Case.objects.filter(pk=cases["c1_road"].pk).update(department=department, due_at=timezone.now() - dt.timedelta(hours=1))
    assert numbers(client.get(LIST, {"department": department.pk})) == [cases["c1_road"].number]
    assert numbers(client.get(LIST, {"clock_state": "overdue"}))[0] == cases["c1_road"].number
    today = timezone.localdate()
    Case.objects.filter(pk=cases["c1_garbage"].pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    recent = numbers(client.get(LIST, {"created_after": (today - dt.timedelta(days=10)).isoformat()}))
    assert cases["c1_garbage"].number not in recent and len(recent) == 3


def test_region_and_grid_choices_are_limited_to_the_scope(cases, inspector_c1, login, region_tree):
    form = login(inspector_c1).get(LIST).context["filterset"].form
    region_codes = [code for code, _label in form.fields["region"].choices if code]
    assert region_codes == [region_tree["community1"].code]
    assert {pk for pk, _name in form.fields["grid"].choices if pk} == {region_tree["grid11"].pk, region_tree["grid12"].pk}
    # A code outside the scope cannot widen the list.
    response = login(inspector_c1).get(LIST, {"region": region_tree["community2"].code})
    assert numbers(response) == []


def test_invalid_filter_values_show_an_error_and_no_rows(cases, clerk, login):
    response = login(clerk).get(LIST, {"status": "bogus"})
    assert response.status_code == 200 and numbers(response) == []
    assert response.context["filterset"].form.errors["status"]


def test_sorting_by_column_headers(cases, clerk, login):
    client = login(clerk)
    ascending = numbers(client.get(LIST, {"sort": "number"}))
    assert ascending == sorted(ascending)
    assert numbers(client.get(LIST, {"sort": "-number"})) == sorted(ascending, reverse=True)
    by_category = numbers(client.get(LIST, {"sort": "category"}))
    assert by_category[-1] == cases["c2_parking"].number  # U505 sorts after U102 and U104
    oldest_first = numbers(client.get(LIST, {"sort": "created_at"}))
    assert oldest_first[0] == cases["c1_garbage"].number
    # Unknown sort keys fall back to the default order instead of failing.
    assert numbers(client.get(LIST, {"sort": "reporter_phone"}))[0] == cases["c2_parking"].number


def test_header_links_toggle_the_direction_and_keep_the_filters(cases, clerk, login):
    response = login(clerk).get(LIST, {"sort": "number", "q": "垃圾"})
    columns = {column["label"]: column for column in response.context["columns"]}
    number_column = response.context["columns"][0]
    assert number_column["aria_sort"] == "ascending"
    assert number_column["url"].startswith("?sort=-number") and "q=" in number_column["url"]
    assert columns[str(response.context["columns"][1]["label"])]["url"].startswith("?sort=created_at")


def test_paging_without_counting_everything(clerk, login, make_case, ui_categories, monkeypatch):
    for index in range(25):
        make_case(clerk, category=ui_categories["garbage"], description=f"第{index}件")
    client = login(clerk)
    first = client.get(LIST, {"page_size": 20})
    assert len(first.context["cases"]) == 20 and first.context["has_next"] and first.context["total"] == 25
    second = client.get(LIST, {"page_size": 20, "page": 2})
    assert len(second.context["cases"]) == 5 and not second.context["has_next"]
    assert set(numbers(first)).isdisjoint(numbers(second))
    # Past the cap the page says "more than N" instead of counting on.
    monkeypatch.setattr(views_list, "COUNT_CAP", 10)
    capped = client.get(LIST)
    assert capped.context["total_capped"] and capped.context["total"] == 10
    with translation.override("zh-hans"):
        assert translation.gettext("More than %(n)s cases match.") % {"n": 10} in capped.content.decode()


def test_empty_state(clerk, login):
    response = login(clerk).get(LIST, {"q": "没有这样的事件"})
    assert 'data-testid="empty-state"' in response.content.decode()


def test_clock_badges(cases, clerk, login):
    now = timezone.now()
    Case.objects.filter(pk=cases["c1_garbage"].pk).update(due_at=now - dt.timedelta(minutes=5))
    Case.objects.filter(pk=cases["c1_road"].pk).update(due_at=now + dt.timedelta(hours=1), warn_at=now - dt.timedelta(minutes=1))
    Case.objects.filter(pk=cases["c2_garbage"].pk).update(due_at=now + dt.timedelta(hours=2), warn_at=now + dt.timedelta(hours=1))
    Case.objects.filter(pk=cases["c2_parking"].pk).update(due_at=None, warn_at=None)
    response = login(clerk).get(LIST)
    states = {case.number: case.clock for case in response.context["cases"]}
    assert states == {
        cases["c1_garbage"].number: "overdue",
        cases["c1_road"].number: "warning",
        cases["c2_garbage"].number: "normal",
        cases["c2_parking"].number: "none",
    }
    assert 'data-clock="overdue"' in response.content.decode()


def test_list_queries_do_not_grow_with_rows(clerk, login, make_case, ui_categories, department):
    client = login(clerk)
    make_case(clerk, category=ui_categories["garbage"])
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for index in range(12):
        case = make_case(clerk, category=ui_categories["road" if index % 2 else "parking"], point=POINT_C2)
        Case.objects.filter(pk=case.pk).update(department=department)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(response.context["cases"]) == 13
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]
    assert len(many) <= 14


# --- saved filters ------------------------------------------------------------------------
def test_save_use_and_delete_a_filter(cases, clerk, login, make_user, region_tree):
    client = login(clerk)
    response = client.post(reverse("cases:save_filter"), {"name": "社区二垃圾", "query": "q=垃圾&region=370105001002&page=3"})
    saved = SavedFilter.objects.get(user=clerk)
    assert saved.query == "q=%E5%9E%83%E5%9C%BE&region=370105001002"  # paging is not part of a filter
    assert response["Location"] == LIST + "?" + saved.query
    listed = client.get(response["Location"])
    assert numbers(listed) == [cases["c2_garbage"].number]
    assert "社区二垃圾" in listed.content.decode()
    # Saving under the same name replaces it.
    client.post(reverse("cases:save_filter"), {"name": "社区二垃圾", "query": "status=reported"})
    assert SavedFilter.objects.get(user=clerk).query == "status=reported"
    # Another user neither sees nor deletes it.
    other = make_user([Role.INTAKE_CLERK], scope=region_tree["subdistrict"])
    assert "社区二垃圾" not in login(other).get(LIST).content.decode()
    assert login(other).post(reverse("cases:delete_filter", args=[saved.pk])).status_code == 404
    # Deleting asks first (web/app.js shows data-confirm before a form posts).
    assert 'data-confirm="删除已保存的筛选“社区二垃圾”？"' in listed.content.decode()
    client.post(reverse("cases:delete_filter", args=[saved.pk]))
    assert not SavedFilter.objects.exists()


def test_a_filter_needs_a_name(clerk, login):
    login(clerk).post(reverse("cases:save_filter"), {"name": " ", "query": "status=reported"})
    assert not SavedFilter.objects.exists()


def test_saved_filter_links_are_relative_to_the_list(clerk, login):
    """A saved query cannot point the user elsewhere: it is only ever appended to /cases/?."""
    client = login(clerk)
    client.post(reverse("cases:save_filter"), {"name": "x", "query": "next=https://evil.example/&status=reported"})
    html = client.get(LIST).content.decode()
    assert 'href="/cases/?next=https%3A%2F%2Fevil.example%2F&amp;status=reported"' in html


# --- export -------------------------------------------------------------------------------
def read_xlsx(response):
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_export_writes_the_filtered_rows_with_masked_reporters(cases, clerk, login):
    response = login(clerk).get(reverse("cases:export"), {"q": "垃圾", "sort": "number"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    rows = read_xlsx(response)
    header, body = rows[0], rows[1:]
    with translation.override("zh-hans"):
        assert header[0] == translation.gettext("Number")
        phone, name = header.index(translation.gettext("Reporter phone")), header.index(translation.gettext("Reporter"))
    assert [row[0] for row in body] == sorted([cases["c1_garbage"].number, cases["c2_garbage"].number])
    row = next(row for row in body if row[0] == cases["c1_garbage"].number)
    assert row[phone] == "138****8000" and row[name] == "张*"
    assert "13800138000" not in str(rows)
    assert isinstance(row[1], dt.datetime)


def test_export_is_restricted_to_the_scope(cases, inspector_c1, login):
    rows = read_xlsx(login(inspector_c1).get(reverse("cases:export")))
    assert {row[0] for row in rows[1:]} == {cases["c1_garbage"].number, cases["c1_road"].number}


def test_export_streams_large_results_in_chunks(clerk, login, make_case, ui_categories, monkeypatch):
    monkeypatch.setattr(views_list, "EXPORT_CHUNK", 3)
    for index in range(8):
        make_case(clerk, category=ui_categories["garbage"], description=f"批量{index}")
    client = login(clerk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:export"))
        rows = read_xlsx(response)
    assert len(rows) == 9
    case_selects = [q for q in queries.captured_queries if 'FROM "cases_case"' in q["sql"] and "SELECT" in q["sql"]]
    assert len(case_selects) <= 5  # fetched in chunks (SQLite) or a cursor (PostgreSQL), never per row


def test_export_needs_sign_in(client):
    assert client.get(reverse("cases:export")).status_code == 302
