"""Browser test of the hotline import: upload an .xlsx, watch the progress bar (htmx polling)
until the background job (the real db_worker) finishes, read the per-row error report; then
a good file imports and the orders list shows it."""

import pytest
from django.core.management import call_command

from gridgov.conftest import make_user, region_tree  # noqa: F401
from gridgov.hotline.models import HotlineOrder
from gridgov.hotline.tests.conftest import xlsx_bytes
from gridgov.org.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD = [("GD1", "咨询", "一般", "李四", "13900001111", "咨询低保办理", "象霞社区2号楼", None)]
BAD = [*GOOD, ("GD2", "表扬", "", "", "abc", "", "", None)]


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def upload(page, tmp_path, name, rows):
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(rows))
    page.goto("/hotline/import/")
    page.set_input_files("input[name=file]", str(path))
    page.click("form.form button[type=submit]")
    page.wait_for_selector("#import-progress")


def test_import_shows_progress_errors_and_then_the_orders(new_page, login, screenshot, region_tree, make_user, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user([Role.INTAKE_CLERK], scope=region_tree["subdistrict"], username="clerk")
    page = new_page()
    login(page, "clerk")
    upload(page, tmp_path, "bad.xlsx", BAD)
    assert page.get_attribute("#import-progress", "data-status") == "queued"
    run_worker()
    page.wait_for_selector("#import-progress[data-status=failed] [data-import-errors]")
    errors = page.locator("[data-import-errors] tbody tr").all_inner_texts()
    assert any(row.startswith("3") and "诉求类型" in row and "未知的值" in row for row in errors)
    assert any(row.startswith("3") and "联系电话" in row for row in errors)
    screenshot(page, "hotline-import-errors")
    assert not HotlineOrder.objects.exists()

    upload(page, tmp_path, "good.xlsx", GOOD)
    run_worker()
    page.wait_for_selector("#import-progress[data-status=done]")
    assert page.locator("#import-progress progress").get_attribute("value") == "100"
    page.goto("/hotline/")
    assert page.locator("tr[data-order=GD1]").count() == 1
    assert "139****1111" in page.locator("tr[data-order=GD1]").inner_text()
    screenshot(page, "hotline-orders")
