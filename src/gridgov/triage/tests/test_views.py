"""Pages: the intake form's suggestions (preselection), the accept and dispatch forms, the
workbench badge, the duplicate list, merging from the page and the merged case linked both ways."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from gridgov.cases.models import Case, Status
from gridgov.core.models import SensitiveReadLog
from gridgov.triage.models import MergedReporter

from .conftest import IN_GRID_11

pytestmark = pytest.mark.django_db
NEAR = (IN_GRID_11[0] + 0.0002, IN_GRID_11[1])


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def test_intake_form_loads_the_suggestions_as_the_clerk_types(staff, login):
    html = login(staff.clerk).get("/cases/new/").content.decode()
    assert 'id="triage-suggestions"' in html and "/triage/suggest/" in html and "triage/suggest.js" in html


def test_the_top_suggestion_is_preselected_when_no_category_is_chosen(staff, login, categories):
    categories.garbage.keywords = "垃圾斗溢出"
    categories.garbage.save()
    client = login(staff.clerk)
    response = client.get("/triage/suggest/", {"description": "三号楼下的垃圾斗溢出来了", "category": ""})
    html = response.content.decode()
    top = response.context["suggestions"][0]
    assert top.category == categories.garbage
    assert f'data-category-id="{categories.garbage.pk}"' in html and "data-preselect" in html and "%" in html
    chosen = client.get("/triage/suggest/", {"description": "三号楼下的垃圾斗溢出来了", "category": str(categories.water.pk)})
    assert "data-preselect" not in chosen.content.decode()
    assert client.get("/triage/suggest/", {"description": ""}).context["suggestions"] == []
    assert login(staff.handler).get("/triage/suggest/", {"description": "x"}).status_code == 403


def test_the_accept_form_preselects_the_suggestion(flow, staff, login, categories):
    categories.building.keywords = "彩钢棚顶"
    categories.building.save()
    case = flow.new(category=None, description="楼顶新搭了彩钢棚顶")
    html = login(staff.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    form = html[html.index('id="action-accept"'):]
    form = form[: form.index("</form>")]
    assert f'<option value="{categories.building.pk}" selected>' in form
    assert "建议" in form and "私搭乱建" in form


def test_the_dispatch_form_suggests_the_department(flow, staff, login, department):
    case = flow.to(Status.ACCEPTED)
    html = login(staff.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    form = html[html.index('id="action-dispatch"'):]
    form = form[: form.index("</form>")]
    assert f'<option value="{department.pk}" selected>' in form and 'data-help-for="department"' in form


def test_the_workbench_flags_possible_duplicates(flow, staff, login):
    now = timezone.now()
    first = flow.new(at=now - dt.timedelta(hours=2))
    second = flow.new(at=now - dt.timedelta(hours=1), point=NEAR)
    lonely = flow.new(at=now - dt.timedelta(hours=1), point=(117.009, 36.695))
    html = login(staff.dispatcher).get("/").content.decode()
    for case in (first, second):
        row = html[html.index(f'data-case="{case.number}"'):]
        assert 'data-testid="possible-duplicate"' in row[: row.index("</tr>")]
    row = html[html.index(f'data-case="{lonely.number}"'):]
    assert 'data-testid="possible-duplicate"' not in row[: row.index("</tr>")]


def test_duplicate_list_search_sort_export(flow, staff, login):
    now = timezone.now()
    first = flow.new(at=now - dt.timedelta(hours=2), description="东门垃圾堆")
    second = flow.new(at=now - dt.timedelta(hours=1), point=NEAR, description="东门口有垃圾")
    flow.new(at=now - dt.timedelta(hours=1), point=(117.009, 36.695), description="西门垃圾")
    client = login(staff.dispatcher)
    page = client.get("/triage/duplicates/")
    assert [case.pk for case in page.context["page"].object_list] == [second.pk, first.pk]
    assert [c.pk for c in client.get("/triage/duplicates/", {"sort": "created_at"}).context["page"].object_list] == [
        first.pk, second.pk,
    ]
    assert [c.pk for c in client.get("/triage/duplicates/", {"q": "垃圾堆"}).context["page"].object_list] == [first.pk]
    empty = client.get("/triage/duplicates/", {"q": "没有这个"})
    assert "没有符合搜索条件的疑似重复案件" in empty.content.decode() and empty.context["total"] == 0
    export = client.get("/triage/duplicates/", {"format": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats") and b"".join(export.streaming_content)[:2] == b"PK"
    assert login(staff.clerk).get("/triage/duplicates/").status_code == 403


def test_merge_from_the_page_links_both_cases(flow, staff, login):
    now = timezone.now()
    first = flow.new(at=now - dt.timedelta(hours=2), reporter_name="张三", reporter_phone="13800138000")
    second = flow.new(at=now - dt.timedelta(hours=1), point=NEAR, reporter_name="李四丰", reporter_phone="13900139000")
    client = login(staff.dispatcher)
    compare = client.get(f"/triage/cases/{second.pk}/duplicates/").content.decode()
    assert "data-confirm" in compare and f'name="into" value="{first.pk}"' in compare
    response = client.post(
        "/triage/merge/",
        {"duplicate": second.pk, "into": first.pk, "duplicate_version": 1, "into_version": 1},
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{first.pk}/"
    survivor = client.get(f"/cases/{first.pk}/").content.decode()
    assert 'data-testid="merged-cases"' in survivor and second.number in survivor
    assert "李**" in survivor and "139****9000" in survivor and "13900139000" not in survivor
    duplicate = client.get(f"/cases/{second.pk}/").content.decode()
    assert 'data-testid="merged-into"' in duplicate and f'href="/cases/{first.pk}/"' in duplicate
    assert "合并" in duplicate  # the timeline labels the merge event in Chinese


def test_a_failed_merge_shows_the_reason(flow, staff, login):
    first = flow.new()
    closed = flow.to(Status.CLOSED)
    response = login(staff.dispatcher).post("/triage/merge/", {"duplicate": first.pk, "into": closed.pk}, follow=True)
    assert "不能合并" in response.content.decode()
    assert Case.objects.get(pk=first.pk).merged_into_id is None


def test_revealing_merged_reporters_is_audit_logged(flow, staff, login):
    from gridgov.cases.merge import merge_cases

    first = flow.new()
    second = flow.new(point=NEAR, reporter_name="李四丰", reporter_phone="13900139000")
    merge_cases(second, first, staff.dispatcher)
    response = login(staff.dispatcher).post(f"/triage/cases/{first.pk}/reporters/")
    assert "13900139000" in response.content.decode()
    log = SensitiveReadLog.objects.get()
    assert log.user == staff.dispatcher and "merged_reporters" in str(log.fields)
    assert login(staff.handler).post(f"/triage/cases/{first.pk}/reporters/").status_code in (403, 404)
    assert MergedReporter.objects.count() == 1


def test_the_menu_offers_the_duplicate_list_to_dispatchers_only(staff, login):
    assert 'href="/triage/duplicates/"' in login(staff.dispatcher).get("/").content.decode()
    assert 'href="/triage/duplicates/"' not in login(staff.clerk).get("/").content.decode()
