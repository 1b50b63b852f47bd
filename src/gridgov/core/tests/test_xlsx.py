"""The shared .xlsx export: headers translated, rows streamed, local times without tzinfo."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy, override
from openpyxl import load_workbook

from gridgov.core.xlsx import XLSX_CONTENT_TYPE, excel_time, xlsx_response


def test_rows_from_a_generator_with_translated_headers_and_local_times():
    moment = dt.datetime(2026, 11, 28, 2, 30, tzinfo=dt.UTC)
    rows = ([n, f"第{n}行", excel_time(moment)] for n in range(3))
    with override("zh-hans"):
        response = xlsx_response("export.xlsx", "一个很长的工作表名称" * 5, [gettext_lazy("Cases"), "编号", "时间"], rows)
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert 'filename="export.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert len(sheet.title) == 31
    values = list(sheet.values)
    assert values[0] == ("事件", "编号", "时间")
    assert values[1:] == [(n, f"第{n}行", dt.datetime(2026, 11, 28, 10, 30)) for n in range(3)]


def test_excel_time_keeps_none_and_drops_the_zone():
    assert excel_time(None) is None
    local = excel_time(dt.datetime(2026, 1, 1, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert local == dt.datetime(2026, 1, 1, 0, 0) and local.tzinfo is None
