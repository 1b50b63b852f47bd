"""The bell, the notification page and marking notifications read."""

import pytest

from gridgov.web.models import Notification
from gridgov.web.notifications import notify, notify_many

pytestmark = pytest.mark.django_db


def bell(html):
    start = html.index('class="bell')
    return html[start : html.index("</a>", start)]


def test_bell_counts_unread_notifications(login, staff):
    notify(staff.handler, "新派遣事件 2026113000001", "/cases/1/")
    notify(staff.handler, "事件即将超时", "")
    notify(staff.dispatcher, "someone else's", "")
    html = login(staff.handler).get("/").content.decode()
    assert 'class="bell__count">2<' in bell(html)


def test_no_count_without_unread(login, staff):
    html = login(staff.handler).get("/").content.decode()
    assert "bell__count" not in bell(html)


def test_list_shows_only_own_notifications(login, staff):
    notify(staff.handler, "给处置人员的通知")
    notify(staff.dispatcher, "给派遣员的通知")
    html = login(staff.handler).get("/notifications/").content.decode()
    assert "给处置人员的通知" in html
    assert "给派遣员的通知" not in html


def test_mark_one_read(login, staff):
    note = notify(staff.handler, "请签收")
    client = login(staff.handler)
    response = client.post(f"/notifications/{note.pk}/read/")
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert "bell__count" not in bell(client.get("/").content.decode())


def test_open_follows_a_local_link_only(login, staff):
    local = notify(staff.handler, "本地", "/notifications/")
    external = notify(staff.handler, "外部", "https://example.com/phish")
    client = login(staff.handler)
    assert client.post(f"/notifications/{local.pk}/read/", {"open": "1"})["Location"] == "/notifications/"
    assert client.post(f"/notifications/{external.pk}/read/", {"open": "1"})["Location"] == "/notifications/"


def test_cannot_touch_someone_elses_notification(login, staff):
    note = notify(staff.dispatcher, "not yours")
    assert login(staff.handler).post(f"/notifications/{note.pk}/read/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_read_needs_post(login, staff):
    note = notify(staff.handler, "x")
    assert login(staff.handler).get(f"/notifications/{note.pk}/read/").status_code == 405


def test_mark_all_read(login, staff):
    notify_many([staff.handler, staff.handler, staff.dispatcher], "批量通知")
    client = login(staff.handler)
    client.post("/notifications/read-all/")
    assert Notification.objects.for_user(staff.handler).unread().count() == 0
    assert Notification.objects.for_user(staff.dispatcher).unread().count() == 1


def test_search_unread_filter_and_order(login, staff):
    import datetime as dt

    from django.utils import timezone

    old = notify(staff.handler, "新派遣事件 2026110100001")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    read = notify(staff.handler, "新派遣事件 2026110100002")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    notify(staff.handler, "事件即将超时 2026110100003")
    notify(staff.dispatcher, "新派遣事件 别人的")
    client = login(staff.handler)
    html = client.get("/notifications/?q=派遣").content.decode()
    assert "2026110100001" in html and "2026110100002" in html and "2026110100003" not in html and "别人的" not in html
    unread = client.get("/notifications/?q=派遣&show=unread").content.decode()
    assert "2026110100001" in unread and "2026110100002" not in unread
    oldest = client.get("/notifications/?sort=created").content.decode()
    assert oldest.index("2026110100001") < oldest.index("2026110100003")
    nothing = client.get("/notifications/?q=没有这种通知").content.decode()
    assert "没有符合条件的通知" in nothing and "暂无通知" not in nothing


def test_export_is_the_filtered_list_of_ones_own_notifications(login, staff):
    import io

    from openpyxl import load_workbook

    notify(staff.handler, "新派遣事件 2026110100001", "/cases/1/")
    notify(staff.handler, "事件即将超时 2026110100003")
    notify(staff.dispatcher, "新派遣事件 别人的")
    client = login(staff.handler)
    assert "/notifications/export.xlsx?q=%E6%B4%BE%E9%81%A3" in client.get("/notifications/?q=派遣").content.decode()
    response = client.get("/notifications/export.xlsx?q=派遣")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0] == ("时间", "通知", "链接", "已读时间")
    assert [row[1:3] for row in rows[1:]] == [("新派遣事件 2026110100001", "/cases/1/")]
