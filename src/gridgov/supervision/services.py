"""State changes of the supervision app: 吹哨报到 and 催办/督办 orders.

Each service checks role and scope, locks the case row (the case is the unit every
supervision step of one case serialises on), checks the state, writes its rows and one
timeline event on the case (`cases.services.record_event`), and notifies after commit.
A case outside the actor's scope is NotFound (as in the cases API).
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.cases import services as case_services
from gridgov.cases.models import OPEN_STATUSES, Case, Status
from gridgov.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.org.models import Department
from gridgov.org.permissions import require
from gridgov.org.roles import Role

from . import permissions  # noqa: F401  (registers the permission actions for tests and scripts)
from . import recipients
from .conf import setting
from .models import Order, OrderKind, OrderStatus, Summons, SummonsRole, Whistle
from .notify import notify_users

NOTE_MAX = 2000
MAX_CHECK_IN_MINUTES = 24 * 60
MAX_REPLY_HOURS = 24 * 90
FINAL_STATUSES = (Status.CLOSED, Status.REJECTED)


# -- helpers ---------------------------------------------------------------------------------
def _pk(value):
    return value.pk if hasattr(value, "pk") else value


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value, field, *, required=False):
    return clean_text(value, field, max_length=NOTE_MAX, required=required)


def _locked_visible_case(actor, case):
    """Lock the case (inside the caller's transaction) if `actor` may see it, else NotFound."""
    pk = _int(_pk(case))
    if pk is None or not Case.objects.restrict(actor, "view").filter(pk=pk).exists():
        raise NotFound(_("No such case."), code="case_not_found")
    return Case.objects.select_for_update(of=("self",)).get(pk=pk)


def _case_url(case_id):
    return f"/cases/{case_id}/"


def _bounded_int(value, field, default, maximum):
    if value in (None, ""):
        return default
    number = _int(value)
    if number is None or not 1 <= number <= maximum:
        raise ValidationFailed.field(
            field, _("Enter a whole number from 1 to %(max)d.") % {"max": maximum}, code="invalid"
        )
    return number


# -- 吹哨 ------------------------------------------------------------------------------------
def serves(department, region_code):
    """True when one of the regions the department serves contains `region_code`."""
    codes = department.regions.values_list("code", flat=True)
    return any((region_code or "").startswith(code) for code in codes)


def _departments(lead_department, co_departments):
    """The active lead and co-handling departments, validated (all bad fields at once)."""
    errors = {}
    lead_pk = _int(_pk(lead_department))
    co_pks = [_int(_pk(value)) for value in (co_departments or ())]
    if None in co_pks or len(set(co_pks)) != len(co_pks):
        errors["co_departments"] = [_("Choose each department once.")]
    elif lead_pk in co_pks:
        errors["co_departments"] = [_("The lead department cannot also be a co-handling department.")]
    found = Department.objects.in_bulk([pk for pk in [lead_pk, *co_pks] if pk is not None])
    lead = found.get(lead_pk)
    if lead is None or not lead.is_active:
        errors["lead_department"] = [_("Choose an active department.")]
    if "co_departments" not in errors and any(pk not in found or not found[pk].is_active for pk in co_pks):
        errors["co_departments"] = [_("Choose active departments.")]
    if errors:
        raise ValidationFailed(fields=errors, code="invalid_department")
    return lead, [found[pk] for pk in co_pks]


def _require_serving(case, lead, co):
    errors = {}
    if not serves(lead, case.region_code):
        errors["lead_department"] = [_("%(name)s does not serve this case's area.") % {"name": lead.name}]
    outside = [department.name for department in co if not serves(department, case.region_code)]
    if outside:
        errors["co_departments"] = [_("These departments do not serve this case's area: %(names)s.") % {"names": "、".join(outside)}]
    if errors:
        raise ValidationFailed(fields=errors, code="outside_region")


def blow_whistle(case, actor, *, lead_department, co_departments=(), reason, check_in_minutes=None, at=None):
    """吹哨: summon a lead department and co-handling departments to an open case.

    Each must check in within `check_in_minutes` (default from settings, 30). One active
    whistle per case; the departments stay attached until the case is finished.
    """
    require(actor, "whistle.blow")
    reason = _text(reason, "reason", required=True)
    minutes = _bounded_int(check_in_minutes, "check_in_minutes", setting("check_in_minutes"), MAX_CHECK_IN_MINUTES)
    lead, co = _departments(lead_department, co_departments)
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked_visible_case(actor, case)
        require(actor, "case.view", locked)
        if locked.status not in OPEN_STATUSES:
            raise IllegalTransition(_("A whistle can only be blown on an open case."), code="case_not_open")
        if Whistle.objects.filter(case=locked, closed_at__isnull=True).exists():
            raise Conflict(_("A whistle is already active on this case."), code="whistle_active")
        _require_serving(locked, lead, co)
        whistle = Whistle.objects.create(
            case=locked, region_code=locked.region_code, blown_by=actor, blown_at=at, reason=reason, check_in_minutes=minutes
        )
        due = at + dt.timedelta(minutes=minutes)
        summonses = [
            Summons(
                whistle=whistle, case=locked, region_code=locked.region_code, department=department, role=role,
                summoned_at=at, check_in_due_at=due,
            )
            for department, role in [(lead, SummonsRole.LEAD), *[(d, SummonsRole.CO) for d in co]]
        ]
        Summons.objects.bulk_create(summonses)
        data = {
            "whistle": whistle.pk,
            "lead_department": lead.pk,
            "co_departments": [department.pk for department in co],
            "check_in_due_at": due.isoformat(),
        }
        case_services.record_event(locked, actor, "whistle", note=reason, data=data, at=at)
        text = _("Whistle on case %(number)s: check in within %(minutes)d minutes.") % {
            "number": locked.number, "minutes": minutes
        }
        ids = {uid for department in [lead, *co] for uid in recipients.department_staff(department.pk)}
        notify_users([(ids, text, _case_url(locked.pk))], at=at)
    return whistle


def check_in(summons, actor, *, note="", at=None):
    """报到: a handler of a summoned department checks in (once; late after the limit)."""
    require(actor, "whistle.check_in")
    note = _text(note, "note")
    at = at or timezone.now()
    with transaction.atomic():
        target = _summons_for(actor, summons)
        locked = _locked_visible_case(actor, target.case_id)
        target = Summons.objects.select_for_update().select_related("department").get(pk=target.pk)
        if actor.department_id != target.department_id and Role.SYSADMIN not in actor.roles:
            raise Forbidden(_("Only the summoned department may check in."), code="not_summoned")
        if locked.status in FINAL_STATUSES or target.released_at is not None:
            raise IllegalTransition(_("The case is finished; check-in is closed."), code="case_finished")
        if target.checked_in_at is not None:
            raise IllegalTransition(_("Your department has already checked in."), code="already_checked_in")
        target.checked_in_at = at
        target.checked_in_by = actor
        target.check_in_note = note
        target.late = target.late or at > target.check_in_due_at
        target.save(update_fields=["checked_in_at", "checked_in_by", "check_in_note", "late"])
        data = {"whistle": target.whistle_id, "department": target.department_id, "late": target.late}
        case_services.record_event(locked, actor, "check_in", note=note, data=data, at=at)
    return target


def _summons_for(actor, summons):
    """The summons by pk; a non-summoned department's handler gets Forbidden, not a leak."""
    if isinstance(summons, Summons):
        return summons
    found = Summons.objects.filter(pk=_int(summons)).first()
    if found is None:
        raise NotFound(_("No such summons."), code="summons_not_found")
    return found


def check_in_case(case, actor, *, note="", at=None):
    """报到 by case: the actor's department's pending summons on this case."""
    require(actor, "whistle.check_in")
    pk = _int(_pk(case))
    if pk is None or not Case.objects.restrict(actor, "view").filter(pk=pk).exists():
        raise NotFound(_("No such case."), code="case_not_found")
    mine = Summons.objects.filter(case_id=pk, department_id=actor.department_id).order_by("checked_in_at", "-id").first()
    if mine is None:
        raise Forbidden(_("Your department was not summoned to this case."), code="not_summoned")
    return check_in(mine, actor, note=note, at=at)


def release(summons, actor, *, at=None):
    """Release a summoned department: only once the case is finished (事不完人不撤)."""
    require(actor, "whistle.release")
    at = at or timezone.now()
    with transaction.atomic():
        target = _summons_for(actor, summons)
        locked = _locked_visible_case(actor, target.case_id)
        if locked.status not in FINAL_STATUSES:
            raise IllegalTransition(
                _("Summoned departments stay until the case is closed."), code="case_open"
            )
        Summons.objects.filter(pk=target.pk, released_at__isnull=True).update(released_at=at)
        target.refresh_from_db()
    return target


def close_finished(case_id, at):
    """The case is finished: close its whistles and release their departments (hook)."""
    Whistle.objects.filter(case_id=case_id, closed_at__isnull=True).update(closed_at=at)
    Summons.objects.filter(case_id=case_id, released_at__isnull=True).update(released_at=at)


def summoned_case_q(department_id):
    """Cases a department was summoned to (cases.models.DEPARTMENT_LINKS)."""
    return Q(pk__in=Summons.objects.filter(department_id=department_id).values("case_id"))


# -- 催办 / 督办 -----------------------------------------------------------------------------
def issue_urge(case, actor, *, note, reply_hours=None, idempotency_key=None, at=None):
    """催办: urge the case's department to act, with a reply deadline."""
    return _issue_once(case, actor, OrderKind.URGE, note, reply_hours, idempotency_key, at)[0]


def issue_supervision_order(case, actor, *, note, reply_hours=None, idempotency_key=None, at=None):
    """督办: a supervision order; also sets the case's 督办 flag (cases.services.supervise)."""
    return _issue_once(case, actor, OrderKind.SUPERVISION, note, reply_hours, idempotency_key, at)[0]


def issue_order(case, actor, *, kind, note, reply_hours=None, idempotency_key=None, at=None):
    """Either kind; returns (order, created): a repeated idempotency_key returns the first order."""
    if kind not in OrderKind.values:
        raise ValidationFailed.field("kind", _("Choose a valid option."), code="invalid_choice")
    return _issue_once(case, actor, kind, note, reply_hours, idempotency_key, at)


def _issue_once(case, actor, kind, note, reply_hours, idempotency_key, at):
    key = clean_text(str(idempotency_key), "idempotency_key", max_length=100, multiline=False) if idempotency_key else None
    if key:
        existing = _order_for_key(key, actor)
        if existing is not None:
            return existing, False
    try:
        return _issue(case, actor, kind, note, reply_hours, at, key), True
    except IntegrityError:
        existing = _order_for_key(key, actor) if key else None
        if existing is None:
            raise
        return existing, False


def _order_for_key(key, actor):
    order = Order.objects.filter(idempotency_key=key).first()
    if order is not None and not Order.objects.restrict(actor, "view").filter(pk=order.pk).exists():
        raise Conflict(_("This idempotency key was used for another order."), code="idempotency_key_used")
    return order


def _issue(case, actor, kind, note, reply_hours, at, key=None):
    action = "supervision_order.urge" if kind == OrderKind.URGE else "supervision_order.supervise"
    require(actor, action)
    note = _text(note, "note", required=True)
    default_hours = setting("urge_reply_hours" if kind == OrderKind.URGE else "supervision_reply_hours")
    hours = _bounded_int(reply_hours, "reply_hours", default_hours, MAX_REPLY_HOURS)
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked_visible_case(actor, case)
        require(actor, "case.view", locked)
        if locked.status in FINAL_STATUSES:
            raise IllegalTransition(_("The case is finished."), code="case_finished")
        if locked.department_id is None:
            raise IllegalTransition(_("The case has not been dispatched to a department."), code="not_dispatched")
        if kind == OrderKind.SUPERVISION and not locked.supervised:
            locked = case_services.supervise(locked, actor, note=note, at=at)
        order = Order.objects.create(
            case=locked, region_code=locked.region_code, kind=kind, department_id=locked.department_id,
            issued_by=actor, issued_at=at, note=note, reply_due_at=at + dt.timedelta(hours=hours), idempotency_key=key,
        )
        data = {"order": order.pk, "department": order.department_id, "reply_due_at": order.reply_due_at.isoformat()}
        case_services.record_event(locked, actor, kind, note=note, data=data, at=at)
        text = _("%(kind)s on case %(number)s: reply by %(due)s.") % {
            "kind": order.get_kind_display(), "number": locked.number,
            "due": timezone.localtime(order.reply_due_at).strftime("%Y-%m-%d %H:%M"),
        }
        notify_users([(recipients.department_staff(order.department_id), text, _case_url(locked.pk))], at=at)
    return order


def reply_urge(order, actor, *, reply, at=None):
    """The department replies to a 催办 order (once)."""
    return _reply(order, actor, OrderKind.URGE, reply, at)


def reply_supervision_order(order, actor, *, reply, at=None):
    """The department replies to a 督办 order (once)."""
    return _reply(order, actor, OrderKind.SUPERVISION, reply, at)


def _reply(order, actor, kind, reply, at):
    require(actor, "supervision_order.reply")
    reply = _text(reply, "reply", required=True)
    at = at or timezone.now()
    found = Order.objects.filter(pk=_int(_pk(order)), kind=kind).first()
    if found is None or not Order.objects.restrict(actor, "view").filter(pk=found.pk).exists():
        raise NotFound(_("No such order."), code="order_not_found")
    with transaction.atomic():
        locked = _locked_visible_case(actor, found.case_id)
        target = Order.objects.select_for_update().get(pk=found.pk)
        if actor.department_id != target.department_id and Role.SYSADMIN not in actor.roles:
            raise Forbidden(_("Only the department the order is addressed to may reply."), code="not_your_department")
        if target.status != OrderStatus.OPEN:
            raise IllegalTransition(_("This order has already been answered."), code="already_replied")
        target.status = OrderStatus.REPLIED
        target.reply = reply
        target.replied_by = actor
        target.replied_at = at
        target.save(update_fields=["status", "reply", "replied_by", "replied_at"])
        data = {"order": target.pk, "late": target.late}
        case_services.record_event(locked, actor, f"{kind}_reply", note=reply, data=data, at=at)
        text = _("Reply to your %(kind)s on case %(number)s.") % {"kind": target.get_kind_display(), "number": locked.number}
        notify_users([([target.issued_by_id], text, _case_url(locked.pk))], at=at)
    return target


def reply_order(order, actor, *, reply, at=None):
    """Reply to an order of either kind."""
    kind = Order.objects.filter(pk=_int(_pk(order))).values_list("kind", flat=True).first()
    if kind is None:
        raise NotFound(_("No such order."), code="order_not_found")
    return _reply(order, actor, kind, reply, at)
