import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from gridgov.cases import changes
from gridgov.cases.models import Status
from gridgov.metrics import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_cases(flow):
    closed = flow.to(Status.CLOSED)
    accepted = flow.to(Status.ACCEPTED)
    changes.refresh_all()  # the worker's refresh of the facts
    return closed, accepted


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_overview_page_drill_down_and_export(two_cases, flow, department):
    closed, accepted = two_cases
    client = client_for(flow.staff.leader)
    page = client.get("/metrics/?level=department&period=month&month=2026-11")
    assert page.status_code == 200
    body = page.content.decode()
    assert department.name in body and 'id="ranking-chart"' in body and "metrics-chart-data" in body
    assert "响应率" in body and "综合得分" in body  # zh-hans first
    drill = f"/metrics/cases/?level=department&part=resolved&start=2026-11-01&end=2026-11-30&key={department.pk}"
    assert drill.replace("&", "&amp;") in body
    drilled = client.get(drill).content.decode()
    assert closed.number in drilled and accepted.number not in drilled
    everything = client.get("/metrics/cases/?level=all&part=cases&start=2026-11-01&end=2026-11-30").content.decode()
    assert closed.number in everything and accepted.number in everything
    export = client.get("/metrics/export.xlsx?level=department&period=month&month=2026-11")
    rows = list(load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True))
    assert rows[1][0] == 1 and rows[1][1] == department.name and rows[-1][2] == 2  # total row: 2 cases


def test_bad_period_shows_a_message_and_empty_state(flow):
    client = client_for(flow.staff.leader)
    page = client.get("/metrics/?period=month&month=2026-13")
    assert page.status_code == 200 and "alert--error" in page.content.decode()
    assert 'data-testid="empty-state"' in client.get("/metrics/?period=month&month=2020-01").content.decode()
    assert client_for(flow.staff.handler).get("/metrics/").status_code == 403


def test_api_figures_and_config(two_cases, flow, api_client, department):
    leader = api_client(flow.staff.leader)
    body = leader.get("/api/v1/metrics/?level=department&period=range&start=2026-11-01&end=2026-11-30").json()
    assert body["total"]["cases"] == 2 and body["rows"][0]["key"] == department.pk and body["rows"][0]["rank"] == 1
    assert body["config"]["weight_response"] == 30
    bad = leader.get("/api/v1/metrics/?level=planet")
    assert bad.status_code == 400 and "level" in bad.json()["fields"]
    refused = leader.patch("/api/v1/metrics/config/", {"weight_response": 50}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "weights_not_100"
    assert "三率权重之和必须为 100" in refused.json()["message"]
    ok = leader.patch("/api/v1/metrics/config/", {"weight_response": 50, "weight_resolution": 25, "weight_satisfaction": 25}, format="json")
    assert ok.status_code == 200 and services.get_config().weight_response == 50
    assert api_client(flow.staff.clerk).patch("/api/v1/metrics/config/", {"response_hours": 2}, format="json").status_code == 403


def test_admin_form_refuses_weights_not_adding_up(flow):
    from django.core.exceptions import ValidationError

    config = services.get_config()
    config.weight_response = 10
    with pytest.raises(ValidationError) as error:
        config.full_clean()
    assert "weight_response" in error.value.message_dict


def test_drill_down_searches_sorts_and_exports_in_the_users_scope(two_cases, flow, department):
    from gridgov.cases.tests.conftest import IN_GRID_21

    closed, accepted = two_cases
    far = flow.new(point=IN_GRID_21, description="西区路灯不亮")
    changes.refresh_all()
    figure = "level=all&part=cases&start=2026-11-01&end=2026-11-30"
    leader = client_for(flow.staff.leader)
    page = leader.get(f"/metrics/cases/?{figure}&sort=number").content.decode()
    assert page.index(closed.number) < page.index(accepted.number) < page.index(far.number)
    assert f"/metrics/cases/export.xlsx?{figure}&sort=number".replace("&", "&amp;") in page
    assert '<input type="hidden" name="part" value="cases">' in page  # the search keeps the figure

    def exported(client, query):
        response = client.get(f"/metrics/cases/export.xlsx?{query}")
        assert response.status_code == 200
        return list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))

    rows = exported(leader, f"{figure}&sort=-number")
    assert rows[0][:3] == ("编号", "登记时间", "类别")
    assert [row[0] for row in rows[1:]] == [far.number, accepted.number, closed.number]
    assert [row[0] for row in exported(leader, f"{figure}&q=路灯")[1:]] == [far.number]
    # A grid lead of community 1 sees, and exports, only community 1's cases.
    grid_lead = client_for(flow.staff.grid_lead)
    assert far.number not in grid_lead.get(f"/metrics/cases/?{figure}").content.decode()
    assert sorted(row[0] for row in exported(grid_lead, figure)[1:]) == sorted([closed.number, accepted.number])
    assert client_for(flow.staff.handler).get(f"/metrics/cases/export.xlsx?{figure}").status_code == 403
    nothing = leader.get(f"/metrics/cases/?{figure}&q=没有这种事").content.decode()
    assert "没有符合搜索条件的案件" in nothing
