"""The proactive API: report, idempotent proactive cases, projects."""

from gridgov.cases.models import Case, Channel

from .conftest import P1, cell


def test_hot_topics_api(history, crew, api_client):
    data = api_client(crew.leader).get("/api/v1/proactive/hot-topics/?month=2026-10&months=2&top=3").json()
    assert (data["total_current"], data["total_previous"], data["change_pct"]) == (10, 8, 25.0)
    assert [(row["h3_cell"], row["current"], row["is_new"]) for row in data["cells"]][0] == (cell(P1), 5, True)
    assert data["trend"]["total"] == [4, 4, 4, 6]
    assert api_client(crew.inspector).get("/api/v1/proactive/hot-topics/").status_code == 403
    bad = api_client(crew.leader).get("/api/v1/proactive/hot-topics/?months=99")
    assert bad.status_code == 400 and "months" in bad.json()["fields"]


def test_proactive_case_api_is_idempotent(history, crew, kinds, api_client):
    body = {"month": "2026-10", "category": kinds.garbage.pk, "h3_cell": cell(P1)}
    first = api_client(crew.dispatcher).post("/api/v1/proactive/cases/", body)
    second = api_client(crew.dispatcher).post("/api/v1/proactive/cases/", body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Case.objects.filter(channel=Channel.PROACTIVE).count() == 1


def test_projects_api(history, crew, kinds, department, api_client):
    body = {"title": "暴露垃圾整治", "month": "2026-10-01", "owner_department": department.pk,
            "category": kinds.garbage.pk, "cells": [cell(P1)], "idempotency_key": "api-p1"}
    created = api_client(crew.leader).post("/api/v1/proactive/projects/", body, format="json")
    assert created.status_code == 201 and len(created.json()["cases"]) == 5
    pk = created.json()["id"]
    moved = api_client(crew.leader).post(f"/api/v1/proactive/projects/{pk}/status/", {"status": "completed"})
    assert moved.status_code == 409
    moved = api_client(crew.leader).post(f"/api/v1/proactive/projects/{pk}/status/", {"status": "in_progress"})
    assert moved.json()["status"] == "in_progress"
    assert api_client(crew.far_secretary).get(f"/api/v1/proactive/projects/{pk}/").status_code == 404
