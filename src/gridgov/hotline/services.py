"""State changes of the hotline app: receiving orders and sending replies back.

- `receive_order(actor, data, *, at=None) -> (order, created)`: one 12345 work order →
  one Case (channel 12345热线) and one HotlineOrder, in one transaction, idempotent on the
  order number (same content → the same order, created=False; different content → Conflict
  code "order_conflict").
- `prepare_new_orders(actor, order_inputs, *, at=None)`, then `save_new_orders(prepared)
  -> [order]`: many checked orders whose numbers are not stored yet (the Excel import),
  checked and built before the transaction, then saved set-based (gridgov.cases.bulk) in
  one; the same rows as receive_order.
- `report_callback(case, result, note, *, actor=None, at=None) -> HotlineReply`: the 回访
  result of a hotline case, sent to the hotline like the closure reply (docs/contracts.md).
"""

import hashlib
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gridgov.catalog import worktime
from gridgov.catalog.models import Priority
from gridgov.cases import services as case_services
from gridgov.cases.bulk import insert_rows, prepare_cases, write_cases
from gridgov.cases.models import Case, Channel
from gridgov.cases.rows import RowCopier
from gridgov.core.errors import Conflict, NotFound, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.org.permissions import require

from . import permissions  # noqa: F401  (registers hotline.* actions for code that imports only services)
from .models import HotlineOrder, HotlineReply, OrderType, ReplyKind, Urgency

ORDER_NUMBER = re.compile(r"^[0-9A-Za-z\-_]{1,40}$")
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
CONTENT_MAX = 2000
WARNING_FRACTION = 0.7

# Chinese names the hotline and spreadsheets use, beside our codes.
TYPE_NAMES = {
    "咨询": OrderType.CONSULT, "求助": OrderType.HELP, "投诉": OrderType.COMPLAINT,
    "举报": OrderType.REPORT, "建议": OrderType.SUGGESTION,
}
URGENCY_NAMES = {"一般": Urgency.NORMAL, "普通": Urgency.NORMAL, "紧急": Urgency.URGENT, "加急": Urgency.URGENT}
# json.dumps(fields, sort_keys=True, ensure_ascii=False), without a new encoder per call.
_FINGERPRINT_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
# The codes of each choice enum: `Choices.values` builds a list of every member and its
# (lazily translated) label on each access.
_CODES = {OrderType: frozenset(OrderType.values), Urgency: frozenset(Urgency.values)}


@dataclass(frozen=True)
class OrderInput:
    """A checked order, ready to be saved."""

    order_number: str
    order_type: str
    urgency: str
    caller_name: str
    caller_phone: str
    content: str
    address: str
    hotline_deadline: object  # aware datetime or None
    lon: object = None
    lat: object = None

    def fingerprint(self):
        """Same order, same fingerprint: every field the hotline sends, normalised."""
        fields = {
            "order_number": self.order_number, "order_type": self.order_type, "urgency": self.urgency,
            "caller_name": self.caller_name, "caller_phone": self.caller_phone, "content": self.content,
            "address": self.address,
            "hotline_deadline": self.hotline_deadline.isoformat() if self.hotline_deadline else "",
        }
        return hashlib.sha256(_FINGERPRINT_JSON.encode(fields).encode()).hexdigest()


# ---------------------------------------------------------------------------------------
# Checking input
# ---------------------------------------------------------------------------------------
def check_order(data):
    """Validate a dict of order fields; raise one ValidationFailed naming every bad field."""
    checks = {
        "order_number": lambda: _order_number(data.get("order_number")),
        "order_type": lambda: _named_choice(data.get("order_type"), OrderType, TYPE_NAMES, "order_type", required=True),
        "urgency": lambda: _named_choice(data.get("urgency"), Urgency, URGENCY_NAMES, "urgency") or Urgency.NORMAL,
        "caller_name": lambda: clean_text(_text(data.get("caller_name")), "caller_name", max_length=50, multiline=False),
        "caller_phone": lambda: _phone(data.get("caller_phone")),
        "content": lambda: clean_text(_text(data.get("content")), "content", max_length=CONTENT_MAX, required=True),
        "address": lambda: clean_text(_text(data.get("address")), "address", max_length=200, multiline=False),
        "hotline_deadline": lambda: _deadline(data.get("hotline_deadline")),
    }
    values = case_services._collect(checks)
    return OrderInput(**values, lon=data.get("lon"), lat=data.get("lat"))


def _text(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def order_number_key(value):
    """An order number as check_order reads it (a number typed in Excel, 123.0, is "123")."""
    text = _text(value)
    return (text if isinstance(text, str) else str(text)).strip()


def _order_number(value):
    number = clean_text(_text(value), "order_number", max_length=40, required=True, multiline=False)
    if not ORDER_NUMBER.match(number):
        raise ValidationFailed.field(
            "order_number", _("Use letters, digits, - and _ only (at most 40)."), code="invalid_order_number"
        )
    return number


def _named_choice(value, choices, names, field, *, required=False):
    text = str(_text(value)).strip()
    if not text:
        if required:
            raise ValidationFailed.field(field, _("This field is required."), code="required")
        return ""
    if text in _CODES[choices]:
        return text
    if text in names:
        return names[text]
    options = "、".join(names)
    raise ValidationFailed.field(
        field, _("Unknown value “%(value)s”; use one of: %(options)s.") % {"value": text, "options": options},
        code="invalid_choice",
    )


def _phone(value):
    phone = clean_text(_text(value), "caller_phone", max_length=20, multiline=False)
    if phone and not PHONE.match(phone):
        raise ValidationFailed.field("caller_phone", _("Not a phone number."), code="invalid_phone")
    return phone


def _deadline(value):
    if value in (None, ""):
        return None
    if hasattr(value, "year"):
        moment = value
    else:
        moment = parse_datetime(str(value).strip().replace("/", "-"))
        if moment is None:
            raise ValidationFailed.field(
                "hotline_deadline", _("Use a date and time like 2026-01-31 17:30."), code="invalid_datetime"
            )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


# ---------------------------------------------------------------------------------------
# Deadlines (GRIDGOV_HOTLINE_LIMITS)
# ---------------------------------------------------------------------------------------
def hotline_limits(order_type, urgency):
    """{"response": (value, unit), "reply": (value, unit)} for this type and urgency."""
    table = settings.GRIDGOV_HOTLINE_LIMITS
    by_type = table.get(urgency) or table[Urgency.NORMAL]
    return by_type.get(order_type) or by_type["*"]


def deadlines(order_type, urgency, received_at, hotline_deadline=None):
    """(response_due_at, reply_due_at, reply_warn_at): the hotline's deadline wins for the reply."""
    limits = hotline_limits(order_type, urgency)
    response_value, response_unit = limits["response"]
    reply_value, reply_unit = limits["reply"]
    response_due = worktime.add_time(received_at, response_value, response_unit)
    reply_due = hotline_deadline or worktime.add_time(received_at, reply_value, reply_unit)
    if hotline_deadline is not None:
        # The hotline counts its own deadline in wall-clock time.
        reply_unit = "natural_hours"
    warn = worktime.fraction_point(received_at, reply_due, reply_unit, WARNING_FRACTION) if reply_due > received_at else reply_due
    return response_due, reply_due, warn


# ---------------------------------------------------------------------------------------
# Receiving orders
# ---------------------------------------------------------------------------------------
def receive_order(actor, data, *, at=None, known_new=False):
    """Register one hotline order and its case. Returns (order, created).

    `known_new=True` skips the lookup of the order number (the importer checks a whole batch
    with one query); a number that exists after all still ends in the unique index."""
    require(actor, "hotline.intake")
    order_input = data if isinstance(data, OrderInput) else check_order(data)
    existing = None if known_new else _existing(order_input)
    if existing is not None:
        return existing, False
    at = at or timezone.now()
    try:
        with transaction.atomic():
            return _create(actor, order_input, at), True
    except IntegrityError:
        # A concurrent resend won the race for the order number (or the case key).
        existing = _existing(order_input)
        if existing is None:
            raise
        return existing, False


def _existing(order_input):
    """The order already stored under this number, if its content is the same; else Conflict."""
    order = HotlineOrder.objects.filter(order_number=order_input.order_number).select_related("case").order_by().first()
    if order is None:
        return None
    if order.fingerprint != order_input.fingerprint():
        raise Conflict(
            _("Order %(number)s was already received with different content (case %(case)s); "
              "send changes to the hotline office instead of resending the order.")
            % {"number": order.order_number, "case": order.case.number},
            code="order_conflict",
            fields={"order_number": [_("Already received with different content.")]},
        )
    return order


def _create(actor, order_input, at):
    case, created = case_services.create_case(actor, **_case_intake(order_input), at=at)
    if not created:
        raise IntegrityError("case of this order number exists already")
    return HotlineOrder.objects.create(**_order_fields(actor, order_input, case, at))


def prepare_new_orders(actor, order_inputs, *, at=None):
    """Many checked orders whose numbers are not stored yet, and their cases, checked and
    built but unsaved (no lock needed: call it before the saving transaction opens), for
    save_new_orders. The same rows as receive_order for each. A bad order raises its
    DomainError with `index` set to its position."""
    require(actor, "hotline.intake")
    at = at or timezone.now()
    labels = {}
    cases = prepare_cases(actor, [_case_intake(order_input, labels) for order_input in order_inputs], at=at)
    same_deadlines = {}
    # Every order of the batch has the same receiving time and clerk: copies of one row.
    new_order = RowCopier(HotlineOrder, relations=("case",), received_at=at, created_by=actor).new
    orders = [
        new_order(case=case, **_order_values(order_input, at, same_deadlines))
        for order_input, case in zip(order_inputs, cases.cases)
    ]
    return cases, orders


def save_new_orders(prepared):
    """Write prepared orders and their cases, all or nothing, set-based (gridgov.cases.bulk),
    in one transaction. Returns the orders. A number stored meanwhile ends in the unique
    index (IntegrityError), as with receive_order(known_new=True)."""
    cases, orders = prepared
    with transaction.atomic():
        saved = write_cases(cases)
        if not all(saved.created):
            raise IntegrityError("case of this order number exists already")
        for order, case in zip(orders, saved):
            order.case_id = case.pk
        insert_rows(orders)
    return orders


def _case_intake(order_input, labels=None):
    """create_case's keyword arguments for the case of an order (`labels`: a dict keeping
    the translated type names for the next orders)."""
    return {
        "channel": Channel.HOTLINE,
        "description": _case_description(order_input, labels),
        "priority": Priority.URGENT if order_input.urgency == Urgency.URGENT else None,
        "lon": order_input.lon,
        "lat": order_input.lat,
        "address": order_input.address,
        "reporter_name": order_input.caller_name,
        "reporter_phone": order_input.caller_phone,
        "idempotency_key": f"hotline:{order_input.order_number}",
    }


def _order_fields(actor, order_input, case, at):
    return {**_order_values(order_input, at), "case": case, "received_at": at, "created_by": actor}


def _order_values(order_input, at, same_deadlines=None):
    """The fields of an order taken from its input (all but the case, time and clerk)."""
    return {
        "order_number": order_input.order_number,
        "order_type": order_input.order_type,
        "urgency": order_input.urgency,
        "caller_name": order_input.caller_name,
        "caller_phone": order_input.caller_phone,
        "content": order_input.content,
        "address": order_input.address,
        "fingerprint": order_input.fingerprint(),
        "hotline_deadline": order_input.hotline_deadline,
        **_order_deadlines(order_input, at, same_deadlines),
    }


def _order_deadlines(order_input, at, memo=None):
    """The order's deadlines when received at `at`; `memo` (a dict) keeps them for the next
    order of the same type, urgency and hotline deadline."""
    key = (order_input.order_type, order_input.urgency, order_input.hotline_deadline)
    found = memo.get(key) if memo is not None else None
    if found is None:
        found = deadlines(key[0], key[1], at, key[2])
        if memo is not None:
            memo[key] = found
    response_due, reply_due, reply_warn = found
    return {"response_due_at": response_due, "reply_due_at": reply_due, "reply_warn_at": reply_warn}


def _case_description(order_input, labels=None):
    label = labels.get(order_input.order_type) if labels is not None else None
    if label is None:
        label = str(OrderType(order_input.order_type).label)
        if labels is not None:
            labels[order_input.order_type] = label
    prefix = f"【12345·{label}·{order_input.order_number}】"
    return (prefix + order_input.content)[: case_services.DESCRIPTION_MAX]


# ---------------------------------------------------------------------------------------
# Replies back to the hotline
# ---------------------------------------------------------------------------------------
def closure_payload(case, order):
    """What the hotline receives when the case is closed (办结)."""
    return {
        "type": ReplyKind.CLOSURE,
        "order_number": order.order_number,
        "case_number": case.number,
        "result": "closed",
        "note": _closing_note(case),
        "department": case.department.name if case.department_id else "",
        "closed_at": _iso(case.closed_at),
    }


def _closing_note(case):
    """The handling note (处置反馈) and the closing note, as the hotline reads them."""
    notes = list(
        case.events.filter(action__in=("handle", "close")).order_by("seq").values_list("note", flat=True)
    )
    return "\n".join(note for note in notes if note)


def queue_closure_reply(case, *, event_seq=None, at=None):
    """Create the closure reply of a closed hotline case and schedule it: once per closing
    event (a case reopened after an unsatisfied callback and closed again replies again)."""
    order = HotlineOrder.objects.filter(case_id=case.pk).first()
    if order is None:
        return None
    case = Case.objects.select_related("department").get(pk=case.pk)
    key = f"closure:{case.pk}:{event_seq if event_seq is not None else case.version}"
    return _queue(order, ReplyKind.CLOSURE, key, closure_payload(case, order), at)


def report_callback(case, result, note, *, actor=None, at=None):
    """Send the 回访 (callback) result of a hotline case back to the hotline.

    `result` is a short code or label (e.g. "satisfied", "basically_satisfied",
    "unsatisfied", or Chinese 满意/基本满意/不满意), `note` free text. Idempotent per case
    version: calling again before the case changes returns the first reply. NotFound if the
    case did not come from the hotline.
    """
    case = Case.objects.select_related("department").get(pk=getattr(case, "pk", case))
    if actor is not None:
        require(actor, "hotline.report_callback", case)
    order = HotlineOrder.objects.filter(case_id=case.pk).first()
    if order is None:
        raise NotFound(_("This case did not come from the 12345 hotline."), code="not_hotline_case")
    result = clean_text(str(result or ""), "result", max_length=50, required=True, multiline=False)
    note = clean_text(note, "note", max_length=CONTENT_MAX)
    at = at or timezone.now()
    payload = {
        "type": ReplyKind.CALLBACK,
        "order_number": order.order_number,
        "case_number": case.number,
        "result": result,
        "note": note,
        "department": case.department.name if case.department_id else "",
        "closed_at": _iso(case.closed_at),
        "callback_at": _iso(at),
    }
    return _queue(order, ReplyKind.CALLBACK, f"callback:{case.pk}:{case.version}", payload, at)


def _queue(order, kind, key, payload, at):
    """Store the reply (unique key: never twice) and schedule its delivery after commit."""
    from .replies import schedule_delivery

    at = at or timezone.now()
    with transaction.atomic():
        reply, created = HotlineReply.objects.get_or_create(
            # Due now whatever the event time (a replayed history must still be sent).
            key=key,
            defaults={"order": order, "kind": kind, "payload": payload, "created_at": at, "next_retry_at": timezone.now()},
        )
        if created:
            if kind == ReplyKind.CLOSURE:
                HotlineOrder.objects.filter(pk=order.pk, replied_at__isnull=True).update(replied_at=at)
            transaction.on_commit(lambda: schedule_delivery(reply.pk))
    return reply


def _iso(moment):
    """Local time with its offset (the hotline reads +08:00)."""
    return timezone.localtime(moment).isoformat() if moment else None
