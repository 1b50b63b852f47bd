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
