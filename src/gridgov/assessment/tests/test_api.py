"""The assessment API: scope, generate, manual items, lock, meetings."""

from gridgov.assessment.models import ScoreSheet

from .conftest import at


def test_sheets_api_scope_and_actions(people, drive, inspector_rules, api_client):
    drive.patrol_report(people.inspector, at(12))
    secretary = api_client(people.secretary)
    response = secretary.post("/api/v1/assessment/sheets/generate/", {"month": "2026-10"})
    assert response.status_code == 200 and response.json() == {"generated": 2, "skipped_locked": 0}

    mine = api_client(people.inspector).get("/api/v1/assessment/sheets/?month=2026-10").json()["results"]
    assert [row["user"] for row in mine] == [people.inspector.pk] and mine[0]["month"] == "2026-10"
    sheet = ScoreSheet.objects.get(user=people.inspector)
    assert api_client(people.inspector).get(f"/api/v1/assessment/sheets/{ScoreSheet.objects.get(user=people.colleague).pk}/").status_code == 404

    item = api_client(people.grid_lead).post(
        f"/api/v1/assessment/sheets/{sheet.pk}/manual-items/", {"points": 1.5, "reason": "协助调解"}
    )
    assert item.status_code == 201
    locked = secretary.post(f"/api/v1/assessment/sheets/{sheet.pk}/lock/")
    assert locked.status_code == 200 and locked.json()["status"] == "locked"
    again = api_client(people.grid_lead).post(
        f"/api/v1/assessment/sheets/{sheet.pk}/manual-items/", {"points": 1, "reason": "再加"}
    )
    assert again.status_code == 409 and again.json()["code"] == "sheet_locked"
    detail = api_client(people.inspector).get(f"/api/v1/assessment/sheets/{sheet.pk}/").json()
    assert detail["total_score"] == 11.5 and len(detail["lines"]) == len(inspector_rules)
    assert secretary.post("/api/v1/assessment/sheets/generate/", {"month": "13-2026"}).json()["fields"]["month"]


def test_meetings_api(people, region_tree, api_client):
    body = {
        "kind": "training", "date": "2026-10-20", "region": region_tree["community1"].pk, "topic": "网格学堂：消防",
        "attendance": [{"user": people.inspector.pk, "status": "present"}], "idempotency_key": "api-m1",
    }
    first = api_client(people.secretary).post("/api/v1/assessment/meetings/", body, format="json")
    second = api_client(people.secretary).post("/api/v1/assessment/meetings/", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["attendance"] == [{"user": people.inspector.pk, "status": "present"}]
    listed = api_client(people.inspector).get("/api/v1/assessment/meetings/").json()["results"]
    assert [row["topic"] for row in listed] == ["网格学堂：消防"]
    assert api_client(people.inspector).post("/api/v1/assessment/meetings/", body, format="json").status_code == 403
