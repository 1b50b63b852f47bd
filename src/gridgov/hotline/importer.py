"""Import of 12345 order batches from .xlsx, all or nothing.

Every row is checked first (row number, field and a message for each error); with any
error nothing is imported. Order numbers already stored (or repeated in the file) are
skipped duplicates, not errors. Then all orders are built (hotline.services.
prepare_new_orders) and saved in one transaction, set-based (save_new_orders →
gridgov.cases.bulk); an error there (e.g. a case outside the uploader's area) rolls back
the whole batch and is reported against its row.
"""

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._reader import CELL_TAG, INLINE_STRING, ROW_TAG, VALUE_TAG
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from gridgov.cases.bulk import stored_values
from gridgov.core.errors import Conflict, DomainError, ValidationFailed

from .models import HotlineImport, HotlineOrder, ImportStatus
from .services import check_order, order_number_key, prepare_new_orders, save_new_orders

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
# Rows checked between two progress updates (each one a committed UPDATE of the batch row).
PROGRESS_CHUNK = 1000


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
    try:
        rows = sheet_rows(workbook)
        _number, header = next(rows, (1, {}))
        columns = {index: HEADERS.get(str(name).strip()) for index, name in header.items()}
        missing = [name for name in REQUIRED_COLUMNS if name not in columns.values()]
        if missing:
            raise ValidationFailed.field(
                "file", _("Missing columns: %(columns)s.") % {"columns": "、".join(COLUMN_NAMES[name] for name in missing)}, code="missing_columns"
            )
        result = []
        for number, values in rows:
            record = {columns[i]: value for i, value in values.items() if columns.get(i) and value != ""}
            if record:
                result.append((number, record))
        return result
    finally:
        workbook.close()


# ---------------------------------------------------------------------------------------
# A lean reader of the first worksheet
# ---------------------------------------------------------------------------------------
TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
RUN_TAG = f"{{{SHEET_MAIN_NS}}}r"


def sheet_rows(workbook):
    """(row number, {column index from 0: value}) for every row of the first worksheet of a
    read-only, data-only openpyxl workbook, empty cells left out: the values of
    iter_rows(values_only=True) (shared and inline strings, numbers, booleans, dates by
    the cell's number format, formula results), with the row numbers Excel shows.

    The cells are read by a short loop over the sheet XML with openpyxl's shared strings,
    date formats and epoch: openpyxl's own per-cell parsing cost more than the rest of the
    import together. Any other kind of worksheet goes through openpyxl."""
    sheet = workbook.worksheets[0]
    try:
        source = workbook._archive.open(sheet._worksheet_path)
        shared, dates, durations, epoch = sheet._shared_strings, workbook._date_formats, workbook._timedelta_formats, workbook.epoch
    except AttributeError:
        yield from _openpyxl_rows(sheet)
        return
    with source:
        number = 0
        for _event, element in iterparse(source):
            if element.tag != ROW_TAG:
                continue
            number = int(element.get("r") or number + 1)
            values, column = {}, -1
            for cell in element.iter(CELL_TAG):
                reference = cell.get("r")
                column = _column_index(reference) if reference else column + 1
                value = _cell_value(cell, shared, dates, durations, epoch)
                if value is not None:
                    values[column] = value
            element.clear()
            yield number, values


def _openpyxl_rows(sheet):
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=sheet.min_row or 1):
        yield number, {index: value for index, value in enumerate(values) if value is not None}


def _column_index(reference):
    """0 for "A7", 27 for "AB7" (worked out once per column letters)."""
    letters = reference.rstrip("0123456789")
    index = _column_indexes.get(letters)
    if index is None:
        index = 0
        for char in letters:
            index = index * 26 + ord(char) - 64
        index = _column_indexes[letters] = index - 1
    return index


_column_indexes = {}


def _inline_text(element):
    """Text.from_tree(element).content: the plain text, else the runs' texts joined
    (phonetic runs left out)."""
    plain = element.find(TEXT_TAG)
    if plain is not None:
        return plain.text or ""
    return "".join(run.findtext(TEXT_TAG) or "" for run in element.findall(RUN_TAG))


def _cell_value(cell, shared, dates, durations, epoch):
    """The value of one <c> element, as openpyxl's WorkSheetParser.parse_cell gives it."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        child = cell.find(INLINE_STRING)
        return _inline_text(child) if child is not None else None
    text = cell.findtext(VALUE_TAG) or None
    if text is None:
        return None
    if kind == "s":
        return shared[int(text)]
    if kind == "n":
        number = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
        style = int(cell.get("s") or 0)
        if style not in dates:
            return number
        try:
            return from_excel(number, epoch, timedelta=style in durations)
        except (OverflowError, ValueError):
            return "#VALUE!"
    if kind == "b":
        return bool(int(text))
    if kind == "d":
        return from_ISO8601(text)
    return text  # "str" (a formula's text result) and "e" (an error such as #N/A)


def import_orders(file, actor, *, progress=None):
    """Check and import a workbook. `progress(processed, total, status)` is called as rows
    are checked (outside the saving transaction, so another process can show it)."""
    with _cyclic_gc_paused():
        return _import(file, actor, progress)


@contextmanager
def _cyclic_gc_paused():
    """Python's cycle collector off for the import. The import keeps several objects per
    row alive until it ends (cells, checked orders, cases, clocks, events, orders), and
    every full collection walks all of them again: about a fifth of the import's CPU at
    10,000 rows, growing with the batch. Reference counting still frees everything else;
    the collector resumes (and finds any cycles) once the import is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(file, actor, progress):
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
    known = _stored_order_numbers([order_number_key(r.get("order_number")) for _n, r in rows])
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
        if progress and (index % PROGRESS_CHUNK == 0 or index == len(rows)):
            progress(index, len(rows), ImportStatus.CHECKING)
    return checked


def _stored_order_numbers(numbers):
    """The order numbers among `numbers` that are stored already."""
    return stored_values(HotlineOrder, "order_number", numbers)


def _save(checked, actor, report):
    try:
        # Checked and built first: the saving transaction (SQLite's write lock) then only writes.
        prepared = prepare_new_orders(actor, [order_input for _number, order_input in checked], at=timezone.now())
        orders = save_new_orders(prepared)
    except DomainError as failure:
        index = getattr(failure, "index", None)
        report.errors = _errors(checked[index][0] if index is not None else 0, failure)
    except IntegrityError:
        # Another upload or the API stored one of these order numbers meanwhile. Nothing
        # was saved; the same file uploaded again skips the numbers stored by then.
        report.errors = _errors(0, Conflict(code="order_conflict"))
    else:
        report.created = len(orders)


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
