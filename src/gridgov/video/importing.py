"""Reading camera files (CSV or Excel) into rows for `cameras.save_cameras`.

Header names may be English field names or the Chinese column titles of our template.
"""

import csv
import io

from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed

HEADERS = {
    "code": "code", "编码": "code", "摄像头编码": "code",
    "name": "name", "名称": "name",
    "lon": "lon", "经度": "lon",
    "lat": "lat", "纬度": "lat",
    "crs": "crs", "坐标系": "crs",
    "vendor": "vendor", "厂商": "vendor",
    "stream_url": "stream_url", "视频流地址": "stream_url",
}
MAX_ROWS = 20000


def read_rows(data, filename):
    """[{field: value}] from the bytes of a .csv or .xlsx file; ValidationFailed on 'file'."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        table = xlsx_table(data)
    elif name.endswith(".csv"):
        table = csv_table(data)
    else:
        raise ValidationFailed.field("file", _("Upload a .csv or .xlsx file."), code="file_type")
    return as_rows(table)


def csv_table(data):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
        except UnicodeDecodeError:
            raise ValidationFailed.field("file", _("The CSV file must be UTF-8 or GBK text."), code="encoding") from None
    return list(csv.reader(io.StringIO(text)))


def xlsx_table(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        raise ValidationFailed.field("file", _("The file is not a readable Excel workbook."), code="not_xlsx") from None
    sheet = workbook.worksheets[0]
    return [["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)]


def as_rows(table):
    table = [row for row in table if any(str(cell).strip() for cell in row)]
    if not table:
        raise ValidationFailed.field("file", _("The file has no camera rows."), code="empty")
    header = [HEADERS.get(str(cell).strip().lower(), HEADERS.get(str(cell).strip())) for cell in table[0]]
    missing = {"code", "name", "lon", "lat"} - set(header)
    if missing:
        raise ValidationFailed.field(
            "file", _("Missing columns: %(columns)s.") % {"columns": ", ".join(sorted(missing))}, code="missing_columns"
        )
    if len(table) - 1 > MAX_ROWS:
        raise ValidationFailed.field("file", _("At most %(n)d rows per file.") % {"n": MAX_ROWS}, code="too_many_rows")
    rows = []
    for values in table[1:]:
        rows.append({field: value for field, value in zip(header, values) if field})
    return rows
