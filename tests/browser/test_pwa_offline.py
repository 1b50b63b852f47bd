"""The inspectors' app in a real browser: a report saved offline waits in IndexedDB, the
app shell reloads from the service worker without a network, and the queue is sent once
the phone is back online."""

import io

import pytest
from PIL import Image

from gridgov.cases.models import Case, CaseAttachment
from gridgov.cases.tests.ui_fixtures import ui_categories  # noqa: F401
from gridgov.conftest import make_user, region_tree  # noqa: F401
from gridgov.core.testing import retry_while_locked
from gridgov.org.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POSITION = {"longitude": 117.005, "latitude": 36.69, "accuracy": 12}


def jpeg_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 160, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


def sign_in(page, username):
    page.goto("/login/?next=/m/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/m/")


def fill_report(page, category, description, with_photo=False):
    page.click("[data-show=report]")
    page.wait_for_selector("#report-category option")
    page.select_option("#report-category", str(category.pk))
    page.fill("#report-description", description)
    if with_photo:
        page.set_input_files("#report-photos", {"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()})
    page.wait_for_function("document.getElementById('gps-state').textContent.indexOf('117.005') >= 0")
    page.click("#report-form button[type=submit]")


def case_count():
    # The live server thread shares the in-memory test database: a read during its write
    # transaction meets SQLite's shared-cache table lock, which does not wait.
    return retry_while_locked(Case.objects.count)


def wait_for_cases(count, timeout_s=10, page=None):
    """Wait until `count` cases exist. With `page`, also start the app's sync every second,
    as its 30-second timer would: a send answered 500 stays queued for the next sync. Here
    a 500 can happen: the server's write fails at once with "table is locked" when it meets
    this thread's read of the shared in-memory test database."""
    import time

    deadline = time.time() + timeout_s
    next_sync = time.time() + 1
    while time.time() < deadline:
        if case_count() == count:
            return
        if page is not None and time.time() >= next_sync:
            page.evaluate("window.GridgovOutbox.flush()")  # a no-op while a sync runs
            next_sync = time.time() + 1
        time.sleep(0.2)
    assert case_count() == count


def test_report_offline_then_sync(new_page, make_user, region_tree, ui_categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"], username="inspector1")
    page = new_page(width=390, height=844, geolocation=POSITION, permissions=["geolocation"])
    sign_in(page, "inspector1")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    # Online: the report goes straight out.
    fill_report(page, ui_categories["garbage"], "路口垃圾桶满溢", with_photo=True)
    wait_for_cases(1)
    assert retry_while_locked(CaseAttachment.objects.count) == 1

    # Offline: the report stays on the phone, also across a reload served by the worker.
    page.context.set_offline(True)
    fill_report(page, ui_categories["road"], "人行道有油污")
    page.wait_for_selector("#outbox-count:not([hidden])")
    assert page.text_content("#outbox-count") == "1"
    page.reload()
    page.wait_for_selector("#outbox-count:not([hidden])")
    assert page.text_content("#net-state") == "离线"
    assert case_count() == 1

    # Back online: the queue empties and the second case exists once.
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_cases(2, page=page)
    page.wait_for_selector("#outbox-count[hidden]", state="attached")
    reported = Case.objects.order_by("id").last()
    assert reported.channel == "grid_patrol" and reported.description == "人行道有油污"
    assert reported.grid.code == region_tree["grid11"].code
