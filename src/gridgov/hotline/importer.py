"""Import of 12345 order batches from .xlsx, all or nothing.

Every row is checked first (row number, field and a message for each error); with any
error nothing is imported. Order numbers already stored (or repeated in the file) are
skipped duplicates, not errors. Then all orders are saved in one transaction; an error
there (e.g. a case outside the uploader's area) rolls back the whole batch and is reported
against its row.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from gridgov.core.errors import DomainError, ValidationFailed

from .models import HotlineImport, HotlineOrder, ImportStatus
from .services import check_order, receive_order

# Header text (English or Chinese) -> field.
HEADERS = {
    "order_number": "order_number", "工单编号": "order_number", "工单号": "order_number",
    "order_type": "order_type", "诉求类型": "order_type", "类型": "order_type",
    "urgency": "urgency", "紧急程度": "urgency",
    "caller_name": "caller_name", "来电人": "caller_name", "诉求人": "caller_name",
    "caller_phone": "caller_phone", "联系电话": "caller_phone", "来电号码": "caller_phone",
    "content": "content", "诉求内容": "content",
    "address": "address", "地址": "address", "诉求地址": "address",
    "hotline_deadline": "hotline_deadline", "办理时限": "hotline_deadline", "反馈时限": "hotline_deadline",
}
REQUIRED_COLUMNS = ("order_number", "order_type", "content")
# The column each field comes from, as the error report names it (the spreadsheet's own headers).
COLUMN_NAMES = {
    "order_number": "工单编号", "order_type": "诉求类型", "urgency": "紧急程度", "caller_name": "来电人",
    "caller_phone": "联系电话", "reporter_phone": "联系电话", "reporter_name": "来电人", "content": "诉求内容",
    "description": "诉求内容", "address": "地址", "hotline_deadline": "办理时限",
}
PROGRESS_EVERY = 20


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    errors: list = field(default_factory=list)  # {"row", "field", "message"}
    skipped: list = field(default_factory=list)  # {"row", "order_number"}

    @property
    def ok(self):
        return not self.errors


def read_rows(file):
    """[(row_number, {field: value})] of the first sheet; ValidationFailed for a bad file."""
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        raise ValidationFailed.field("file", _("The file is not an Excel workbook (.xlsx).")) from None
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None) or ()
    columns = {index: HEADERS.get(str(name).strip()) for index, name in enumerate(header) if name is not None}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns.values()]
    if missing:
        raise ValidationFailed.field(
            "file", _("Missing columns: %(columns)s.") % {"columns": "、".join(COLUMN_NAMES[name] for name in missing)}, code="missing_columns"
        )
    result = []
    for number, values in enumerate(rows, start=2):
        record = {columns[i]: value for i, value in enumerate(values) if columns.get(i) and value not in (None, "")}
        if record:
            result.append((number, record))
    workbook.close()
    return result


def import_orders(file, actor, *, progress=None):
    """Check and import a workbook. `progress(processed, total, status)` is called as rows
    are checked (outside the saving transaction, so another process can show it)."""
    report = ImportReport()
    try:
        rows = read_rows(file)
    except ValidationFailed as failure:
        report.errors = _errors(0, failure)
        return report
    report.total = len(rows)
    checked = _check_rows(rows, report, progress)
    if report.errors:
        return report
    if progress:
        progress(report.total, report.total, ImportStatus.SAVING)
    _save(checked, actor, report)
    return report


def _check_rows(rows, report, progress):
    known = set(
        HotlineOrder.objects.filter(order_number__in=[str(r.get("order_number", "")).strip() for _n, r in rows])
        .values_list("order_number", flat=True)
    )
    seen, checked = set(), []
    for index, (number, record) in enumerate(rows, start=1):
        try:
            order_input = check_order(record)
        except ValidationFailed as failure:
            report.errors.extend(_errors(number, failure))
        else:
            if order_input.order_number in known or order_input.order_number in seen:
                report.skipped.append({"row": number, "order_number": order_input.order_number})
            else:
                seen.add(order_input.order_number)
                checked.append((number, order_input))
        if progress and (index % PROGRESS_EVERY == 0 or index == len(rows)):
            progress(index, len(rows), ImportStatus.CHECKING)
    return checked


def _save(checked, actor, report):
    at = timezone.now()
    number = 0
    try:
        with transaction.atomic():
            for number, order_input in checked:
                _order, created = receive_order(actor, order_input, at=at, known_new=True)
                report.created += int(created)
    except DomainError as failure:
        report.created = 0
        report.errors = _errors(number, failure)


def _errors(row, failure):
    """One error line per field (or one for the whole row) from a DomainError: the field's
    code for programs, the spreadsheet column for people."""
    if not failure.fields:
        return [{"row": row, "field": "", "column": "", "message": str(failure.message)}]
    return [
        {"row": row, "field": name, "column": COLUMN_NAMES.get(name, name), "message": str(message)}
        for name, messages in failure.fields.items()
        for message in (messages if isinstance(messages, (list, tuple)) else [messages])
    ]


def run_import(batch_id):
    """Import an uploaded HotlineImport batch, recording progress and the report on it."""
    batch = HotlineImport.objects.select_related("created_by").get(pk=batch_id)

    def progress(processed, total, status):
        HotlineImport.objects.filter(pk=batch_id).update(processed=processed, total=total, status=status)

    progress(0, 0, ImportStatus.CHECKING)
    with batch.file.open("rb") as handle:
        report = import_orders(handle, batch.created_by, progress=progress)
    HotlineImport.objects.filter(pk=batch_id).update(
        status=ImportStatus.DONE if report.ok else ImportStatus.FAILED,
        total=report.total,
        processed=report.total,
        created_count=report.created,
        errors=report.errors,
        skipped=report.skipped,
        finished_at=timezone.now(),
    )
    return report
