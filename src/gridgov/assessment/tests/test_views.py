"""The assessment pages: my sheet, ranking, export, generate/adjust/lock buttons, meetings."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from gridgov.assessment import services
from gridgov.assessment.models import Meeting, ScoreSheet, SheetStatus

from .conftest import at


@pytest.fixture
def client_for(db):
    def factory(user):
        client = Client()
        client.force_login(user)
        return client

    return factory


@pytest.fixture
def october(people, drive, inspector_rules):
    drive.patrol_report(people.inspector, at(12))
    drive.patrol_report(people.inspector, at(13))
    services.generate_sheets(people.leader, "2026-10")
    return {sheet.user_id: sheet for sheet in ScoreSheet.objects.all()}


def test_my_sheet_shows_my_scores(people, october, client_for):
    response = client_for(people.inspector).get("/assessment/?month=2026-10")
    assert response.status_code == 200
    assert october[people.inspector.pk].total_score == 20.0
    assert b'data-testid="total-score">20<' in response.content
    assert "我的考核" in response.content.decode() and "巡查上报数" in response.content.decode()  # zh-hans first


def test_my_sheet_empty_state(people, client_for):
    response = client_for(people.inspector).get("/assessment/?month=2025-01")
    assert b'data-testid="empty-state"' in response.content


def test_an_inspector_cannot_open_a_colleagues_sheet(people, october, client_for):
    colleague_sheet = october[people.colleague.pk]
    assert client_for(people.inspector).get(f"/assessment/sheets/{colleague_sheet.pk}/").status_code == 404
    assert client_for(people.secretary).get(f"/assessment/sheets/{colleague_sheet.pk}/").status_code == 200
    assert client_for(people.far_secretary).get(f"/assessment/sheets/{colleague_sheet.pk}/").status_code == 404


def test_ranking_of_the_community(people, october, client_for):
    response = client_for(people.secretary).get("/assessment/sheets/?month=2026-10")
    body = response.content.decode()
    assert str(people.inspector) in body and str(people.colleague) in body
    assert str(people.far_inspector) not in body
    assert body.index(str(people.inspector)) < body.index(str(people.colleague))  # 20 points before 0
    searched = client_for(people.secretary).get(f"/assessment/sheets/?month=2026-10&q={people.colleague.display_name}")
    assert str(people.inspector) not in searched.content.decode()


def test_export_xlsx(people, october, client_for):
    response = client_for(people.secretary).get("/assessment/sheets/export.xlsx?month=2026-10")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3  # header + community 1's two inspectors
    assert rows[1][0] == 1 and rows[1][1] == str(people.inspector) and rows[1][6] == 20


def test_export_and_search_keep_the_order_of_the_page(people, october, client_for):
    secretary = client_for(people.secretary)
    page = secretary.get("/assessment/sheets/?month=2026-10&sort=-rank").content.decode()
    assert "/assessment/sheets/export.xlsx?month=2026-10&sort=-rank" in page
    assert '<input type="hidden" name="sort" value="-rank">' in page
    response = secretary.get("/assessment/sheets/export.xlsx?month=2026-10&sort=-rank")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == [str(people.colleague), str(people.inspector)]  # lowest first, as on the page


def test_buttons_generate_adjust_and_lock(people, inspector_rules, client_for):
    secretary = client_for(people.secretary)
    assert secretary.post("/assessment/sheets/generate/", {"month": "2026-10"}).status_code == 302
    sheet = ScoreSheet.objects.get(user=people.inspector)
    client_for(people.grid_lead).post(
        f"/assessment/sheets/{sheet.pk}/manual/", {"points": "-2", "reason": "例会缺席", "idempotency_key": "x1"}
    )
    client_for(people.grid_lead).post(
        f"/assessment/sheets/{sheet.pk}/manual/", {"points": "-2", "reason": "例会缺席", "idempotency_key": "x1"}
    )
    secretary.post(f"/assessment/sheets/{sheet.pk}/lock/")
    sheet.refresh_from_db()
    assert sheet.manual_score == -2.0 and sheet.status == SheetStatus.LOCKED
    page = secretary.get(f"/assessment/sheets/{sheet.pk}/").content.decode()
    assert 'action="/assessment/sheets/%d/lock/"' % sheet.pk not in page


def test_an_inspector_gets_no_generate_button_and_cannot_post_it(people, inspector_rules, client_for):
    inspector = client_for(people.inspector)
    assert b"/assessment/sheets/generate/" not in inspector.get("/assessment/sheets/?month=2026-10").content
    inspector.post("/assessment/sheets/generate/", {"month": "2026-10"})
    assert not ScoreSheet.objects.exists()


def test_record_a_meeting_with_attendance(people, region_tree, client_for):
    secretary = client_for(people.secretary)
    assert secretary.get("/assessment/meetings/new/").status_code == 200
    response = secretary.post("/assessment/meetings/new/", {
        "kind": "weekly", "region": region_tree["community1"].pk, "date": "2026-10-15", "topic": "第42周例会",
        "minutes": "讨论垃圾清运", "idempotency_key": "meet-1",
        f"att_{people.inspector.pk}": "present", f"att_{people.colleague.pk}": "leave",
    })
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert dict(meeting.attendance.values_list("user_id", "status")) == {
        people.inspector.pk: "present", people.colleague.pk: "leave",
    }
    listing = client_for(people.inspector).get("/assessment/meetings/?q=42").content.decode()
    assert "第42周例会" in listing
    assert "第42周例会" not in client_for(people.far_inspector).get("/assessment/meetings/").content.decode()


def test_meeting_form_shows_field_errors(people, client_for):
    response = client_for(people.secretary).post("/assessment/meetings/new/", {"kind": "weekly", "topic": "x"})
    assert response.status_code == 400 and b"field__error" in response.content
    assert client_for(people.inspector).get("/assessment/meetings/new/").status_code == 403


def test_correct_minutes_and_attendance_afterwards(people, region_tree, client_for):
    meeting, _ = services.record_meeting(
        people.secretary, kind="weekly", region=region_tree["community1"], date="2026-10-15", topic="例会",
        attendance={people.inspector: "absent"},
    )
    secretary = client_for(people.secretary)
    form = secretary.get(f"/assessment/meetings/{meeting.pk}/edit/").content.decode()
    assert '<option value="absent" selected>' in form
    response = secretary.post(f"/assessment/meetings/{meeting.pk}/edit/", {
        "topic": "第42周例会", "minutes": "补记：讨论垃圾清运", f"att_{people.inspector.pk}": "present",
        f"att_{people.colleague.pk}": "leave",
    })
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.topic, meeting.minutes, meeting.amended_by) == ("第42周例会", "补记：讨论垃圾清运", people.secretary)
    assert dict(meeting.attendance.values_list("user_id", "status")) == {
        people.inspector.pk: "present", people.colleague.pk: "leave",
    }
    assert client_for(people.inspector).get(f"/assessment/meetings/{meeting.pk}/edit/").status_code == 403
    assert client_for(people.far_secretary).get(f"/assessment/meetings/{meeting.pk}/edit/").status_code == 404


def test_sheet_history_names_the_actions_in_chinese(people, inspector_rules, client_for):
    # The stored codes (generate, manual_item, lock) are not for people.
    secretary = client_for(people.secretary)
    secretary.post("/assessment/sheets/generate/", {"month": "2026-10"})
    sheet = ScoreSheet.objects.get(user=people.inspector)
    client_for(people.grid_lead).post(f"/assessment/sheets/{sheet.pk}/manual/", {"points": "1", "reason": "表扬", "idempotency_key": "h1"})
    secretary.post(f"/assessment/sheets/{sheet.pk}/lock/")
    page = secretary.get(f"/assessment/sheets/{sheet.pk}/").content.decode()
    for code in (" · generate<", " · manual_item<", " · lock<"):
        assert code not in page
    for label in (" · 生成<", " · 手工加减分<", " · 锁定<"):
        assert label in page


def test_meetings_export_follows_the_filter_order_and_scope(people, region_tree, client_for):
    for day, topic, status in ((14, "第42周例会", "present"), (21, "第43周例会", "absent"), (22, "网格学堂·消防", "leave")):
        services.record_meeting(
            people.secretary, kind="training" if "学堂" in topic else "weekly", region=region_tree["community1"],
            date=f"2026-10-{day}", topic=topic, minutes="纪要", attendance={people.inspector: status},
        )
    services.record_meeting(
        people.far_secretary, kind="weekly", region=region_tree["community2"], date="2026-10-15", topic="二社区例会",
    )
    secretary = client_for(people.secretary)
    listing = secretary.get("/assessment/meetings/?kind=weekly&sort=date").content.decode()
    assert "/assessment/meetings/export.xlsx?kind=weekly&amp;sort=date" in listing
    response = secretary.get("/assessment/meetings/export.xlsx?kind=weekly&sort=date")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("日期", "类型", "网格或社区", "议题", "会议纪要", "出席")
    assert [row[3] for row in rows[1:]] == ["第42周例会", "第43周例会"]  # weekly only, oldest first, own community
    assert rows[1][5:8] == (1, 0, 0) and rows[2][5:8] == (0, 0, 1)
    assert "二社区例会" not in [row[3] for row in rows]


def test_meetings_sort_by_column_and_empty_state_of_a_search(people, region_tree, client_for):
    for day, topic in ((14, "B组例会"), (15, "A组例会")):
        services.record_meeting(people.secretary, kind="weekly", region=region_tree["community1"], date=f"2026-10-{day}", topic=topic)
    secretary = client_for(people.secretary)
    by_topic = secretary.get("/assessment/meetings/?sort=topic").content.decode()
    assert by_topic.index("A组例会") < by_topic.index("B组例会")
    assert 'name="sort" value="topic"' in by_topic  # the search keeps the column's order
    nothing = secretary.get("/assessment/meetings/?q=没有这个").content.decode()
    assert "没有符合筛选条件的会议" in nothing and "尚无会议记录" not in nothing
