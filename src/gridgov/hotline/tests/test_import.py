"""Excel import of order batches: all or nothing, per-row errors, duplicates skipped,
the command, and the page with its progress (a django-tasks job run by the real worker)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from gridgov.cases.models import Case
from gridgov.hotline import services
from gridgov.hotline.importer import import_orders
from gridgov.hotline.models import HotlineImport, HotlineOrder, ImportStatus

from .conftest import MONDAY_9, xlsx_bytes

GOOD = [
    ("GD1", "咨询", "一般", "李四", "13900001111", "咨询低保办理", "象霞社区2号楼", None),
    ("GD2", "投诉", "紧急", "王五", "0531-88886666", "楼道堆放杂物", "", "2026-12-01 17:00"),
    ("GD3", "建议", "", "", "", "建议增设健身器材", "", None),
]


def test_a_good_file_imports_every_row(staff):
    report = import_orders(io.BytesIO(xlsx_bytes(GOOD)), staff.clerk)
    assert report.ok and report.created == 3 and report.total == 3
    assert sorted(HotlineOrder.objects.values_list("order_number", flat=True)) == ["GD1", "GD2", "GD3"]
    assert HotlineOrder.objects.get(order_number="GD2").urgency == "urgent"
    assert Case.objects.filter(channel="hotline").count() == 3


def test_one_bad_row_imports_nothing_and_reports_row_field_and_chinese_message(staff):
    rows = [*GOOD, ("GD4", "表扬", "一般", "", "abc", "", "", None)]
    with translation.override("zh-hans"):
        report = import_orders(io.BytesIO(xlsx_bytes(rows)), staff.clerk)
    assert not report.ok and report.created == 0
    assert {(error["row"], error["field"]) for error in report.errors} == {
        (5, "order_type"), (5, "caller_phone"), (5, "content")
    }
    messages = {error["field"]: error["message"] for error in report.errors}
    assert messages["content"] == "该字段是必填项。"
    assert "咨询" in messages["order_type"] and "未知" in messages["order_type"]
    assert not HotlineOrder.objects.exists() and not Case.objects.exists()


def test_duplicates_are_skipped_not_errors(staff):
    services.receive_order(staff.clerk, {"order_number": "GD1", "order_type": "咨询", "content": "已有的工单"})
    rows = [*GOOD, ("GD3", "建议", "", "", "", "同一文件中重复", "", None)]
    report = import_orders(io.BytesIO(xlsx_bytes(rows)), staff.clerk)
    assert report.ok and report.created == 2
    assert report.skipped == [{"row": 2, "order_number": "GD1"}, {"row": 5, "order_number": "GD3"}]
    assert HotlineOrder.objects.count() == 3


def test_a_number_read_as_a_float_is_skipped_as_a_duplicate_too(staff):
    """A sheet cell holding 20261128.0 is the order "20261128" (as check_order reads it),
    stored already: the row is skipped. The lookup used to search "20261128.0", miss it,
    and fail the whole batch on the unique key."""
    from gridgov.hotline.importer import ImportReport, _check_rows

    services.receive_order(staff.clerk, {"order_number": "20261128", "order_type": "咨询", "content": "已有的工单"})
    record = {"order_number": 20261128.0, "order_type": "咨询", "content": "同一工单再次导出"}
    report = ImportReport()
    assert _check_rows([(2, record)], report, None) == []
    assert report.skipped == [{"row": 2, "order_number": "20261128"}] and report.errors == []


def test_an_error_while_saving_rolls_back_the_whole_batch(staff, quick_user, region_tree):
    from gridgov.org.roles import Role

    community_clerk = quick_user([Role.INTAKE_CLERK], scope=region_tree["community1"])
    # Row 2 lies in the clerk's community, the point of row 3 outside it.
    header = ("工单编号", "诉求类型", "诉求内容", "lon", "lat")
    from gridgov.hotline import importer

    importer.HEADERS.setdefault("lon", "lon")
    importer.HEADERS.setdefault("lat", "lat")
    try:
        data = xlsx_bytes([("GD1", "求助", "一", 117.005, 36.69), ("GD2", "求助", "二", 117.025, 36.69)], header=header)
        report = import_orders(io.BytesIO(data), community_clerk)
    finally:
        importer.HEADERS.pop("lon")
        importer.HEADERS.pop("lat")
    assert not report.ok and report.errors[0]["row"] == 3
    assert not HotlineOrder.objects.exists() and not Case.objects.exists()


def test_not_a_workbook_or_missing_columns_is_reported(staff):
    assert import_orders(io.BytesIO(b"not a zip"), staff.clerk).errors[0]["field"] == "file"
    report = import_orders(io.BytesIO(xlsx_bytes([("x",)], header=("工单编号",))), staff.clerk)
    assert report.errors[0]["field"] == "file" and "诉求类型" in report.errors[0]["message"]


def test_the_command_imports_or_refuses(staff, tmp_path):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx_bytes(GOOD))
    out = io.StringIO()
    call_command("import-hotline", str(good), user=staff.clerk.username, stdout=out)
    assert "3 orders imported" in out.getvalue()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes([("GD9", "表扬", "", "", "", "x", "", None)]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import-hotline", str(bad), user=staff.clerk.username, stderr=err)
    assert "row 2 order_type" in err.getvalue()
    assert not HotlineOrder.objects.filter(order_number="GD9").exists()


def test_the_command_defaults_to_the_hotline_service_account(region_tree, tmp_path):
    call_command("hotline-account", scope=region_tree["subdistrict"].code, stdout=io.StringIO())
    path = tmp_path / "good.xlsx"
    path.write_bytes(xlsx_bytes(GOOD))
    call_command("import-hotline", str(path), stdout=io.StringIO())
    assert set(HotlineOrder.objects.values_list("created_by__username", flat=True)) == {"hotline12345"}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db(transaction=True)  # the real worker closes old connections
def test_the_page_uploads_runs_the_job_and_shows_progress_and_errors(client, staff, media, django_capture_on_commit_callbacks):
    client.force_login(staff.clerk)
    upload = SimpleUploadedFile("batch.xlsx", xlsx_bytes([*GOOD, ("GD5", "表扬", "", "", "", "", "", None)]))
    response = client.post("/hotline/import/", {"file": upload})
    batch = HotlineImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/hotline/import/{batch.pk}/"
    waiting = client.get(f"/hotline/import/{batch.pk}/", HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in waiting.content.decode()  # polls until finished
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and batch.total == 4 and batch.processed == 4
    page = client.get(f"/hotline/import/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in page and 'data-import-errors' in page
    assert '<td>5</td><td data-field="order_type">诉求类型</td>' in page
    assert '<td>5</td><td data-field="content">诉求内容</td>' in page
    assert not HotlineOrder.objects.exists()


def test_the_page_refuses_non_xlsx_and_roles_without_import(client, staff, media):
    client.force_login(staff.clerk)
    response = client.post("/hotline/import/", {"file": SimpleUploadedFile("a.csv", b"a,b")})
    assert response.status_code == 200 and not HotlineImport.objects.exists()
    client.force_login(staff.handler)
    assert client.get("/hotline/import/").status_code == 403


@pytest.mark.parametrize("write_only", [False, True], ids=["shared-strings", "write-only"])
def test_the_lean_sheet_reader_reads_what_openpyxl_reads(write_only):
    import datetime as dt

    from openpyxl import Workbook, load_workbook

    from gridgov.hotline.importer import sheet_rows

    book = Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    rows = [
        ["工单编号", "数字", "小数", "真假", "时间", "日期", None, "公式"],
        ["GD1", 13900001111, 2.5, True, dt.datetime(2026, 12, 1, 17, 30), dt.date(2026, 12, 2), "跳过一列", "=1+1"],
        [],
        ["GD3", -7, 1e20, False, None, None, None, None, "第九列"],
    ]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)

    def opened():
        return load_workbook(io.BytesIO(buffer.getvalue()), read_only=True, data_only=True)

    expected = {
        number: {index: value for index, value in enumerate(values) if value is not None}
        for number, values in enumerate(opened().worksheets[0].iter_rows(values_only=True), start=1)
    }
    got = dict(sheet_rows(opened()))
    assert {number: values for number, values in got.items() if values} == {n: v for n, v in expected.items() if v}
    assert got[2][4] == dt.datetime(2026, 12, 1, 17, 30) and got[2][5] == dt.datetime(2026, 12, 2)
    assert got[4][8] == "第九列" and got.get(3, {}) == {}


def test_an_order_number_stored_meanwhile_fails_the_batch_as_a_conflict(staff, monkeypatch):
    from gridgov.hotline import importer

    services.receive_order(staff.clerk, {"order_number": "GD1", "order_type": "咨询", "content": "另一处刚刚收到"})
    # As if the API stored GD1 after the file's numbers were looked up.
    monkeypatch.setattr(importer, "_stored_order_numbers", lambda numbers: set())
    report = import_orders(io.BytesIO(xlsx_bytes(GOOD)), staff.clerk)
    assert not report.ok and report.created == 0
    assert report.errors == [{"row": 0, "field": "", "column": "", "message": "记录已被他人修改，请刷新后重试。"}]
    assert HotlineOrder.objects.count() == 1 and Case.objects.count() == 1


def test_progress_is_reported_per_chunk_of_rows_then_saving(staff, monkeypatch):
    from gridgov.hotline import importer

    monkeypatch.setattr(importer, "PROGRESS_CHUNK", 2)
    calls = []
    rows = [*GOOD, ("GD4", "求助", "", "", "", "第四", "", None), ("GD5", "求助", "", "", "", "第五", "", None)]
    report = import_orders(io.BytesIO(xlsx_bytes(rows)), staff.clerk, progress=lambda *args: calls.append(args))
    assert report.ok and report.created == 5
    assert calls == [(2, 5, "checking"), (4, 5, "checking"), (5, 5, "checking"), (5, 5, "saving")]


def test_imported_orders_are_the_rows_receive_order_stores(staff):
    """prepare_new_orders/save_new_orders build the orders as copies of one row: the stored
    orders and cases must still be receive_order's, field by field."""
    from gridgov.cases.tests.test_bulk import case_columns
    from gridgov.hotline.services import check_order, prepare_new_orders, save_new_orders

    header = ("order_number", "order_type", "urgency", "caller_name", "caller_phone", "content", "address", "hotline_deadline")
    inputs = [check_order(dict(zip(header, row))) for row in GOOD]
    single = [services.receive_order(staff.clerk, order_input, at=MONDAY_9)[0] for order_input in inputs]
    # The same orders again under other numbers (the order number is part of the description).
    renumbered = [check_order({**dict(zip(header, row)), "order_number": row[0].replace("GD", "GX")}) for row in GOOD]
    bulk = save_new_orders(prepare_new_orders(staff.clerk, renumbered, at=MONDAY_9))

    def order_columns(order):
        stored = HotlineOrder.objects.get(pk=order.pk)
        return {
            field.attname: getattr(stored, field.attname)
            for field in HotlineOrder._meta.concrete_fields
            if field.attname not in {"id", "order_number", "case_id", "fingerprint"}
        }

    def without_number(case):
        columns = case_columns(Case.objects.get(pk=case.pk))
        columns["description"] = columns["description"].replace("GX", "GD")
        return columns

    for one, many in zip(single, bulk):
        assert order_columns(many) == order_columns(one)
        assert without_number(many.case) == without_number(one.case)
        assert many.case.hotline_order is many and many.case_id == many.case.pk
    assert [order.hotline_deadline is None for order in bulk] == [True, False, True]


def test_the_cycle_collector_is_paused_during_an_import_only(staff):
    import gc

    enabled_while_checking = []
    report = import_orders(
        io.BytesIO(xlsx_bytes(GOOD)), staff.clerk, progress=lambda *args: enabled_while_checking.append(gc.isenabled())
    )
    assert report.ok and enabled_while_checking and not any(enabled_while_checking)
    assert gc.isenabled()
    assert import_orders(io.BytesIO(b"not a zip"), staff.clerk).errors and gc.isenabled()
