"""Excel (.xlsx) exports: the one helper every list's export uses.

openpyxl's write-only mode writes the rows (any iterable, e.g. a chunked queryset iterator)
to a temporary file in constant memory, and the file is streamed back in blocks.
"""

import tempfile

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import Workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def excel_time(moment):
    """Excel has no time zones: local wall-clock time without tzinfo (None stays None)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def xlsx_response(filename, title, headers, rows):
    """A download of one sheet named `title` (headers translated) with `rows`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(title)[:31])  # Excel's limit on sheet names
    sheet.append([gettext(str(header)) for header in headers])
    for row in rows:
        sheet.append(list(row))
    output = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(output)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
