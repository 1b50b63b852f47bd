"""Import monthly indicators (党建引领, 经济运行) from an Excel sheet.

All or nothing: every row is checked first; with any error nothing is written and the
report names each bad row and field. A valid file upserts on (module, month, key).
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from .models import IndicatorModule, MonthlyIndicator

# Header text (English or Chinese) -> field.
HEADERS = {
    "module": "module", "模块": "module",
    "month": "month", "月份": "month",
    "key": "key", "指标代码": "key",
    "label": "label", "指标名称": "label",
    "value": "value", "数值": "value",
    "unit": "unit", "单位": "unit",
    "source": "source", "来源": "source", "数据来源": "source",
}
REQUIRED = ("module", "month", "key", "label", "value", "source")
MODULE_NAMES = {
    "party": IndicatorModule.PARTY, "党建引领": IndicatorModule.PARTY, "党建": IndicatorModule.PARTY,
    "economy": IndicatorModule.ECONOMY, "经济运行": IndicatorModule.ECONOMY, "经济": IndicatorModule.ECONOMY,
}
MONTH_PATTERN = re.compile(r"^\s*(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?\s*$")


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def import_indicators(file):
    """Read an .xlsx file (path or file object) and import it; returns an ImportResult."""
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        return ImportResult(errors=[RowError(0, "file", _("The file is not an Excel workbook (.xlsx)."))])
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return import_rows(rows)


def import_rows(rows):
    """rows[0] is the header; the rest are data. Row numbers in errors are Excel's (1-based)."""
    if not rows:
        return ImportResult(errors=[RowError(1, "file", _("The sheet is empty."))])
    columns, errors = read_header(rows[0])
    if errors:
        return ImportResult(errors=errors)
    records, errors = [], []
    seen = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {name: row[index] if index < len(row) else None for name, index in columns.items()}
        if all(value in (None, "") for value in values.values()):
            continue
        record, row_errors = parse_row(number, values)
        identity = record and (record["module"], record["month"], record["key"])
        if identity and identity in seen:
            row_errors.append(RowError(number, "key", _("Same module, month and key as row %(row)s.") % {"row": seen[identity]}))
        elif identity:
            seen[identity] = number
        errors.extend(row_errors)
        records.append(record)
    if errors:
        return ImportResult(errors=errors)
    if not records:
        return ImportResult(errors=[RowError(2, "file", _("The sheet has no data rows."))])
    return save(records)


def read_header(header):
    columns = {}
    for index, text in enumerate(header):
        name = HEADERS.get(str(text).strip().lower() if text is not None else "")
        if name and name not in columns:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    errors = [RowError(1, name, _("The column “%(name)s” is missing.") % {"name": name}) for name in missing]
    return columns, errors


def parse_row(number, values):
    errors = []

    def fail(name, message):
        errors.append(RowError(number, name, message))

    module = MODULE_NAMES.get(str(values.get("module") or "").strip().lower())
    if module is None:
        fail("module", _("Enter party/党建引领 or economy/经济运行."))
    month = parse_month(values.get("month"))
    if month is None:
        fail("month", _("Enter the month as YYYY-MM."))
    key = slugify(str(values.get("key") or "").strip())[:50]
    if not key:
        fail("key", _("Enter a key of letters, digits, - or _."))
    label = str(values.get("label") or "").strip()
    if not label or len(label) > 100:
        fail("label", _("Enter a name of at most 100 characters."))
    value = parse_value(values.get("value"))
    if value is None:
        fail("value", _("Enter a number."))
    source = str(values.get("source") or "").strip()
    if not source or len(source) > 100:
        fail("source", _("Name the source of the figure (at most 100 characters)."))
    unit = str(values.get("unit") or "").strip()
    if len(unit) > 20:
        fail("unit", _("The unit may have at most 20 characters."))
    if errors:
        return None, errors
    return {"module": module, "month": month, "key": key, "label": label, "value": value, "unit": unit, "source": source}, []


def parse_month(value):
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    match = MONTH_PATTERN.match(str(value or ""))
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return dt.date(year, month, 1) if 1 <= month <= 12 else None


def parse_value(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= Decimal("1e14"):
        return None
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def save(records):
    result = ImportResult()
    for order, record in enumerate(records):
        identity = {name: record.pop(name) for name in ("module", "month", "key")}
        _, created = MonthlyIndicator.objects.update_or_create(**identity, defaults={**record, "sort_order": order})
        if created:
            result.created += 1
        else:
            result.updated += 1
    return result
