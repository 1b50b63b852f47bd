"""The hot-topics page, its export, the open-case button and the project pages."""

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from gridgov.cases.models import Case, Channel
from gridgov.proactive.models import Project, ProjectStatus

from .conftest import P1, cell


@pytest.fixture
def client_for(db):
    def factory(user):
        client = Client()
        client.force_login(user)
        return client

    return factory


def test_hot_topics_page_ranks_maps_and_charts(history, crew, client_for):
    response = client_for(crew.leader).get("/proactive/?month=2026-10&months=2")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="topics"' in body and "暴露垃圾" in body
    config = json.loads(body.split('<script id="hot-config" type="application/json">')[1].split("</script>")[0])
    cells = {feature["properties"]["cell"]: feature["properties"] for feature in config["cells"]["features"]}
    assert cells[cell(P1)]["current"] == 5 and cells[cell(P1)]["new"] is True
    assert config["trend"]["total"] == [4, 4, 4, 6]
    assert "vendor/echarts/echarts.min.js" in body and "vendor/leaflet/leaflet.js" in body
    assert "<h1>每月一题 · 2026-10</h1>" in body  # zh-hans first


def test_hot_topics_search_sort_and_empty_state(history, crew, client_for):
    client = client_for(crew.leader)
    searched = client.get("/proactive/?month=2026-10&months=2&q=停放").content.decode()
    topics = searched.split('data-testid="topics"')[1].split("</table>")[0]
    assert "机动车乱停放" in topics and "暴露垃圾" not in topics
    by_previous = client.get("/proactive/?month=2026-10&months=2&sort=previous").content.decode()
    categories = by_previous.split('data-testid="categories"')[1]
    assert categories.index("机动车乱停放") < categories.index("暴露垃圾")  # 6 before 2
    empty = client.get("/proactive/?month=2020-01").content.decode()
    assert 'data-testid="empty-state"' in empty


def test_hot_topics_need_a_reading_role(history, crew, client_for):
    assert client_for(crew.inspector).get("/proactive/").status_code == 403
    assert client_for(crew.inspector).get("/proactive/export.xlsx").status_code == 403


def test_export_xlsx(history, crew, client_for):
    response = client_for(crew.leader).get("/proactive/export.xlsx?month=2026-10&months=2")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[1][1:3] == (1, f"暴露垃圾 · {rows[1][4]}") and rows[1][5:7] == (4, 2)
    assert len(rows) == 1 + 4 + 2 + 3 + 3 + 1  # header, topics, categories, cells, grids, new hot spots


def test_open_case_button_twice_makes_one_case(history, crew, kinds, client_for):
    client = client_for(crew.dispatcher)
    form = {"month": "2026-10", "category": kinds.garbage.pk, "h3_cell": cell(P1)}
    first = client.post("/proactive/open-case/", form)
    second = client.post("/proactive/open-case/", form)
    proactive = Case.objects.filter(channel=Channel.PROACTIVE)
    assert proactive.count() == 1
    assert first["Location"] == second["Location"] == f"/cases/{proactive.get().pk}/"


def test_project_pages(history, crew, kinds, department, client_for):
    client = client_for(crew.leader)
    prefilled = client.get(f"/proactive/projects/new/?month=2026-10&category={kinds.garbage.pk}&cell={cell(P1)}")
    assert prefilled.status_code == 200 and cell(P1) in prefilled.content.decode()
    response = client.post("/proactive/projects/new/", {
        "title": "暴露垃圾整治", "month": "2026-10", "category": kinds.garbage.pk, "owner_department": department.pk,
        "cells": cell(P1), "topic": "增设垃圾桶", "idempotency_key": "proj-1",
    })
    project = Project.objects.get()
    assert response["Location"] == f"/proactive/projects/{project.pk}/"
    detail = client.get(response["Location"]).content.decode()
    linked = detail.split('data-testid="linked-cases"')[1].split("</ul>")[0]
    assert linked.count('href="/cases/') == 5
    client.post(f"/proactive/projects/{project.pk}/status/", {"status": "in_progress"})
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_PROGRESS
    listing = client.get("/proactive/projects/?q=整治").content.decode()
    assert "暴露垃圾整治" in listing
    assert "暴露垃圾整治" not in client_for(crew.far_secretary).get("/proactive/projects/").content.decode()


def test_project_list_sorts_exports_and_says_when_nothing_matches(history, crew, kinds, department, client_for):
    import io

    from openpyxl import load_workbook

    from gridgov.proactive import services

    services.create_project(crew.secretary, title="B 占道经营整治", month="2026-09", owner_department=department)
    services.create_project(crew.secretary, title="A 暴露垃圾整治", month="2026-10", owner_department=department, category=kinds.garbage)
    services.create_project(crew.far_secretary, title="C 社区二项目", month="2026-10", owner_department=department)
    client = client_for(crew.secretary)
    page = client.get("/proactive/projects/?q=整治&sort=month").content.decode()
    assert page.index("A 暴露垃圾整治") < page.index("B 占道经营整治")  # newest month first
    assert "/proactive/projects/export.xlsx?q=%E6%95%B4%E6%B2%BB&amp;sort=month" in page
    response = client.get("/proactive/projects/export.xlsx?q=整治&sort=title")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("标题", "月份", "小类")
    assert [row[:3] for row in rows[1:]] == [("A 暴露垃圾整治", "2026-10", kinds.garbage.name), ("B 占道经营整治", "2026-09", None)]
    assert "C 社区二项目" not in [row[0] for row in rows]  # another community's project
    nothing = client.get("/proactive/projects/?q=没有这个项目").content.decode()
    assert "没有符合筛选条件的项目" in nothing and "尚无项目" not in nothing


def test_project_form_errors(crew, client_for):
    response = client_for(crew.leader).post("/proactive/projects/new/", {"title": "", "month": "x"})
    assert response.status_code == 400 and b"field__error" in response.content
    assert client_for(crew.inspector).get("/proactive/projects/new/").status_code == 403


def test_project_history_names_the_actions_in_chinese(history, crew, kinds, department, client_for):
    client = client_for(crew.leader)
    client.post("/proactive/projects/new/", {
        "title": "暴露垃圾整治", "month": "2026-10", "category": kinds.garbage.pk, "owner_department": department.pk,
        "cells": cell(P1), "idempotency_key": "proj-h",
    })
    project = Project.objects.get()
    client.post(f"/proactive/projects/{project.pk}/status/", {"status": "in_progress"})
    detail = client.get(f"/proactive/projects/{project.pk}/").content.decode()
    assert " · create" not in detail and " · status" not in detail
    assert " · 创建" in detail and " · 状态变更" in detail
