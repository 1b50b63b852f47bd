"""The grid inspectors' app (/m/): installability, tasks, queued requests resent safely,
patrol tracks and coverage."""

import io
import json
import time
import uuid

import h3
import pytest
from django.urls import reverse
from PIL import Image

from gridgov.cases.models import Case, CaseAttachment, Status
from gridgov.cases.tests.ui_fixtures import POINT_C1, POINT_C2, clerk, login, make_case, ui_categories  # noqa: F401
from gridgov.org.roles import Role
from gridgov.web.models import DeviceSubmission, PatrolTrack
from gridgov.web.views_pwa import clean_points, grid_cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector(make_user, region_tree):
    return make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"], display_name="网格员甲")


@pytest.fixture
def handled_case(clerk, make_case, ui_categories, make_user, region_tree, department):
    """A case in grid 11 driven to 'handled' (awaiting verification) through the services."""
    from gridgov.cases import services

    dispatcher = make_user([Role.DISPATCHER], scope=region_tree["district"])
    handler = make_user([Role.DEPT_HANDLER], department=department)
    case = make_case(clerk, category=ui_categories["garbage"], point=POINT_C1)
    case = services.accept(case, dispatcher)
    case = services.dispatch(case, dispatcher, department=department)
    case = services.sign(case, handler)
    return services.submit_handling(case, handler, note="已清理干净")


def jpeg(name="p.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 50, 50)).save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


# --- installability -----------------------------------------------------------------------
def test_manifest_makes_the_app_installable(client):
    response = client.get(reverse("web:pwa_manifest"))
    assert response["Content-Type"].startswith("application/manifest+json")
    data = response.json()
    assert data["start_url"] == "/m/" and data["scope"] == "/m/" and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert data["name"] == "网格员"
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200 or icon["src"].startswith("/static/")


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert '"scope": "/m/"' in body and "addEventListener(\"fetch\"" in body


def test_app_shell_links_manifest_and_reads_in_chinese(inspector, login):
    response = login(inspector).get("/m/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'rel="manifest" href="/m/manifest.webmanifest"' in html
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert "今日任务" in html and "上报事件" in html and "巡查" in html
    assert "csrftoken" in response.cookies
    config = response.context["app_config"]
    assert config["urls"]["serviceWorker"] == "/sw.js" and config["canVerify"]


def test_shell_needs_sign_in_and_api_answers_401(client):
    assert client.get("/m/").status_code == 302
    response = client.get(reverse("web:pwa_tasks"))
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


# --- tasks --------------------------------------------------------------------------------
def test_tasks_list_cases_to_verify_in_my_grid(inspector, login, handled_case, make_user, region_tree):
    data = login(inspector).get(reverse("web:pwa_tasks")).json()
    assert [task["number"] for task in data["verify"]] == [handled_case.number]
    task = data["verify"][0]
    assert task["handlingNote"] == "已清理干净" and task["version"] == handled_case.version
    other = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid22"])
    assert login(other).get(reverse("web:pwa_tasks")).json()["verify"] == []


def test_categories_for_the_picker(inspector, login, ui_categories):
    groups = login(inspector).get(reverse("web:pwa_categories")).json()["groups"]
    names = {item["name"] for group in groups for item in group["items"]}
    assert "测试暴露垃圾" in names and "测试旧垃圾类" not in names


# --- reports --------------------------------------------------------------------------------
def report_data(category, key, **extra):
    data = {"key": key, "category": category.pk, "description": "路口有暴露垃圾", "lon": POINT_C1[0], "lat": POINT_C1[1]}
    data.update(extra)
    return data


def test_a_queued_report_resent_makes_one_case(inspector, login, ui_categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(inspector)
    key = str(uuid.uuid4())
    first = client.post(reverse("web:pwa_report"), report_data(ui_categories["garbage"], key, photos=[jpeg()]))
    again = client.post(reverse("web:pwa_report"), report_data(ui_categories["garbage"], key, photos=[jpeg()]))
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json()["created"] is False
    assert first.json()["number"] == again.json()["number"]
    case = Case.objects.get()
    assert case.channel == "grid_patrol" and case.reported_by == inspector and case.grid.code.endswith("001001")
    assert CaseAttachment.objects.filter(case=case).count() == 1


def test_report_errors_come_back_as_fields(inspector, login, ui_categories):
    client = login(inspector)
    no_key = client.post(reverse("web:pwa_report"), report_data(ui_categories["garbage"], "not-a-uuid"))
    assert no_key.status_code == 400 and "key" in no_key.json()["fields"]
    empty = client.post(reverse("web:pwa_report"), report_data(ui_categories["garbage"], str(uuid.uuid4()), description=""))
    assert empty.status_code == 400 and "description" in empty.json()["fields"]
    outside = client.post(reverse("web:pwa_report"), report_data(ui_categories["garbage"], str(uuid.uuid4()), lon=POINT_C2[0]))
    assert outside.status_code == 403  # grid 22 is not this inspector's grid
    assert Case.objects.count() == 0


def test_posts_need_the_csrf_token(inspector, ui_categories):
    from django.test import Client

    from gridgov.cases.tests.ui_fixtures import MODEL_BACKEND

    client = Client(enforce_csrf_checks=True)
    client.force_login(inspector, backend=MODEL_BACKEND)
    response = client.post(reverse("web:pwa_report"), report_data(ui_categories["garbage"], str(uuid.uuid4())))
    assert response.status_code == 403 and Case.objects.count() == 0


# --- verification ---------------------------------------------------------------------------
def test_a_queued_verification_resent_verifies_once(inspector, login, handled_case):
    client = login(inspector)
    data = {"key": str(uuid.uuid4()), "case": handled_case.pk, "passed": "1", "note": "现场已清理"}
    first = client.post(reverse("web:pwa_verify"), data)
    again = client.post(reverse("web:pwa_verify"), data)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["created"] is False and again.json()["number"] == handled_case.number
    handled_case.refresh_from_db()
    assert handled_case.status == Status.VERIFIED
    assert handled_case.events.filter(action="verify").count() == 1
    assert DeviceSubmission.objects.filter(key=data["key"]).count() == 1


def test_failed_verification_needs_a_note_and_sends_back_for_rework(inspector, login, handled_case):
    client = login(inspector)
    missing = client.post(reverse("web:pwa_verify"), {"key": str(uuid.uuid4()), "case": handled_case.pk, "passed": "0"})
    assert missing.status_code == 400 and "note" in missing.json()["fields"]
    rework = client.post(
        reverse("web:pwa_verify"), {"key": str(uuid.uuid4()), "case": handled_case.pk, "passed": "0", "note": "仍有垃圾"}
    )
    assert rework.status_code == 201
    handled_case.refresh_from_db()
    assert handled_case.status == Status.HANDLING and handled_case.rework_count == 1


def test_verification_outside_the_scope_is_refused(make_user, region_tree, login, handled_case):
    other = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid22"])
    response = login(other).post(reverse("web:pwa_verify"), {"key": str(uuid.uuid4()), "case": handled_case.pk, "passed": "1"})
    assert response.status_code == 404
    handled_case.refresh_from_db()
    assert handled_case.status == Status.HANDLED


def test_a_key_cannot_be_replayed_by_someone_else(inspector, login, handled_case, make_user, region_tree):
    key = str(uuid.uuid4())
    login(inspector).post(reverse("web:pwa_verify"), {"key": key, "case": handled_case.pk, "passed": "1"})
    colleague = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"])
    response = login(colleague).post(reverse("web:pwa_verify"), {"key": key, "case": handled_case.pk, "passed": "1"})
    assert response.status_code == 403 and response.json()["code"] == "key_reused"


# --- patrol ---------------------------------------------------------------------------------
def walk(n=10, start=(117.001, 36.681), step=(0.0008, 0.0015), accuracy=8.0):
    t0 = int(time.time() * 1000) - n * 30_000
    return [[start[0] + i * step[0], start[1] + i * step[1], accuracy, t0 + i * 30_000] for i in range(n)]


def post_track(client, key, points, finished=False):
    body = json.dumps({"key": key, "points": points, "finished": finished})
    return client.post(reverse("web:pwa_patrol"), body, content_type="application/json")


def test_patrol_track_upload_is_an_upsert_on_the_device_key(inspector, login):
    client = login(inspector)
    key = str(uuid.uuid4())
    points = walk(10)
    assert post_track(client, key, points[:4]).status_code == 201
    response = post_track(client, key, points, finished=True)
    assert response.status_code == 200 and response.json()["points"] == 10
    stale = post_track(client, key, points[:6])  # an older copy arriving late does not shrink it
    assert stale.json()["points"] == 10
    track = PatrolTrack.objects.get()
    assert track.user == inspector and track.finished and track.point_count == 10
    assert track.region_code == inspector.scope.code
    assert 1500 < track.distance_m < 1700  # nine steps of about 170 m


def test_patrol_points_are_validated(inspector, login):
    assert clean_points([[117, 36, 5, 1000], ["x", 36, 5, 1], [200, 36, 5, 2], [117, 36, 5], True, [117, 36, 5, float("nan")]]) == [
        [117, 36, 5, 1000]
    ]
    response = post_track(login(inspector), str(uuid.uuid4()), [["bad"]])
    assert response.status_code == 400 and "points" in response.json()["fields"]
    bad_json = login(inspector).post(reverse("web:pwa_patrol"), "{", content_type="application/json")
    assert bad_json.status_code == 400


def test_coverage_counts_the_visited_share_of_the_grid(inspector, login, region_tree):
    client = login(inspector)
    grid = region_tree["grid11"]
    total = len(grid_cells(grid.boundary))
    empty = client.get(reverse("web:pwa_coverage")).json()["grids"]
    assert [(g["code"], g["visitedCells"], g["cells"]) for g in empty] == [(grid.code, 0, total)]
    # A walk through the grid, and imprecise points that must not count.
    post_track(client, str(uuid.uuid4()), walk(12), finished=True)
    post_track(client, str(uuid.uuid4()), walk(12, start=(117.009, 36.681), step=(0, 0.0015), accuracy=300), finished=True)
    coverage = client.get(reverse("web:pwa_coverage")).json()["grids"][0]
    expected = {h3.latlng_to_cell(p[1], p[0], 10) for p in walk(12)} & grid_cells(grid.boundary)
    assert coverage["visitedCells"] == len(expected) > 0
    assert coverage["ratio"] == round(len(expected) / total, 4)
    assert len(coverage["visited"]) == len(expected) and coverage["visited"][0][0] == coverage["visited"][0][-1]


def test_patrol_needs_a_scope(make_user, login):
    nobody = make_user([Role.GRID_INSPECTOR])
    assert post_track(login(nobody), str(uuid.uuid4()), walk(3)).status_code == 403
