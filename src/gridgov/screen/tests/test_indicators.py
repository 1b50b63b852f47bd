"""Excel import of monthly indicators: all rows or none, with a report per bad row."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import Workbook

from gridgov.org.roles import Role
from gridgov.screen.indicators import import_indicators
from gridgov.screen.models import MonthlyIndicator

HEADER = ["模块", "月份", "指标代码", "指标名称", "数值", "单位", "来源"]
GOOD = [
    ["党建引领", "2026-10", "members", "党员人数", 1862, "人", "组织办"],
    ["party", dt.datetime(2026, 10, 1), "branches", "基层党组织", "46", "个", "组织办"],
    ["经济运行", "2026年10月", "tax", "税收收入", "3,850.5", "万元", "经发办"],
]


def workbook(rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.django_db
def test_a_good_sheet_is_imported_and_reimport_updates():
    result = import_indicators(workbook(GOOD))
    assert result.ok and (result.created, result.updated) == (3, 0)
    tax = MonthlyIndicator.objects.get(key="tax")
    assert (tax.module, tax.month, str(tax.value), tax.source) == ("economy", dt.date(2026, 10, 1), "3850.50", "经发办")
    again = import_indicators(workbook([["party", "2026-10", "members", "党员人数", 1870, "人", "组织办"]]))
    assert (again.created, again.updated) == (0, 1)
    assert MonthlyIndicator.objects.get(key="members").value == 1870


@pytest.mark.django_db
def test_bad_rows_are_reported_and_nothing_is_half_imported():
    rows = GOOD + [
        ["党建", "2026-13", "x", "坏月份", 1, "", "组织办"],  # row 5: month
        ["工会", "2026-10", "y", "坏模块", "abc", "", ""],  # row 6: module, value, source
        ["party", "2026-10", "members", "重复", 1, "人", "组织办"],  # row 7: duplicate of row 2
    ]
    result = import_indicators(workbook(rows))
    assert not result.ok
    found = {(error.row, error.field) for error in result.errors}
    assert found == {(5, "month"), (6, "module"), (6, "value"), (6, "source"), (7, "key")}
    assert MonthlyIndicator.objects.count() == 0


@pytest.mark.django_db
def test_missing_columns_and_not_a_workbook():
    result = import_indicators(workbook(GOOD, header=["模块", "月份", "数值"]))
    assert {error.field for error in result.errors} == {"key", "label", "source"}
    assert not import_indicators(io.BytesIO(b"not excel")).ok


@pytest.mark.django_db
def test_management_command(tmp_path):
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook(GOOD).read())
    call_command("import_indicators", str(good))
    assert MonthlyIndicator.objects.count() == 3
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([["party", "bad", "k", "名", 1, "", "源"]]).read())
    with pytest.raises(CommandError):
        call_command("import_indicators", str(bad))
    assert MonthlyIndicator.objects.count() == 3


@pytest.mark.django_db
def test_admin_import_shows_the_row_report(make_user):
    admin = make_user(roles=[Role.SYSADMIN], is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    url = "/admin/screen/monthlyindicator/import/"
    assert client.get(url).status_code == 200
    bad = SimpleUploadedFile("bad.xlsx", workbook(GOOD + [["party", "2026-10", "z", "名", "x", "", "源"]]).read())
    response = client.post(url, {"file": bad})
    assert response.status_code == 200
    assert [(e.row, e.field) for e in response.context["result"].errors] == [(5, "value")]
    assert MonthlyIndicator.objects.count() == 0
    good = SimpleUploadedFile("good.xlsx", workbook(GOOD).read())
    response = client.post(url, {"file": good})
    assert response.status_code == 302
    assert MonthlyIndicator.objects.count() == 3


@pytest.mark.parametrize("latest", [dt.date(2026, month, 1) for month in range(1, 13)] + [dt.date(2024, 2, 29)])
def test_the_history_spans_exactly_twelve_months(latest):
    from gridgov.screen.overview import HISTORY_MONTHS, first_history_month

    first = first_history_month(latest)
    span = (latest.year - first.year) * 12 + latest.month - first.month + 1
    assert first.day == 1
    assert span == HISTORY_MONTHS == 12
