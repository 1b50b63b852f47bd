"""A small .xlsx response helper (openpyxl write-only mode, streamed from a temporary file)."""

import tempfile

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def local(moment):
    """Excel has no time zones: local wall-clock time without tzinfo."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def xlsx_response(filename, title, headers, rows):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(title)[:31])
    sheet.append([str(header) for header in headers])
    for row in rows:
        sheet.append(row)
    output = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(output)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX)
