"""State changes of the assessment app, one function per change (docs/conventions.md).

- generate_sheets: compute the month's sheets for the staff in the actor's scope
  (regeneration replaces the computed lines, keeps manual items; locked sheets stay as they are)
- add_manual_item: points added or deducted by hand, with a reason
- lock_sheet: the community secretary confirms a sheet; nothing changes it afterwards
- record_meeting: a 例会 or 网格学堂 session with its attendance; amend_meeting corrects it
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.geo.models import Level, Region
from gridgov.org.models import User
from gridgov.org.permissions import require
from gridgov.org.roles import Role

from . import permissions  # noqa: F401  (registers the app's actions for tests and commands)
from .measures import MEASURES
from .months import month_bounds, parse_month
from .models import (
    AssessmentRule,
    Attendance,
    AttendanceStatus,
    ManualItem,
    Meeting,
    MeetingKind,
    ScoreLine,
    ScoreSheet,
    SheetEvent,
    SheetStatus,
)

MANUAL_POINTS_LIMIT = 100
REASON_MAX = 500


# -- rules -----------------------------------------------------------------------------------
def active_rules():
    """Active rules by role; a rule naming a measure outside the registry is refused loudly."""
    by_role = {}
    for rule in AssessmentRule.objects.filter(is_active=True).order_by("id"):
        if rule.measure not in MEASURES:
            raise ValidationFailed(
                _("Assessment rule %(id)s uses the unknown measure %(measure)r; fix or deactivate it.")
                % {"id": rule.pk, "measure": rule.measure},
                code="unknown_measure",
                fields={"measure": [_("Unknown measure %(measure)r.") % {"measure": rule.measure}]},
            )
        by_role.setdefault(rule.role, []).append(rule)
    return by_role


def rule_score(rule, value):
    """Full points (times the weight) at or above the target, pro rata below it."""
    achieved = min(max(value, 0) / rule.target, 1.0) if rule.target > 0 else 0.0
    return round(rule.points * rule.weight * achieved, 2)


# -- generation ------------------------------------------------------------------------------
def assessed_staff(actor, rules_by_role, region=None):
    """Active staff with an assessed role inside the actor's scope (or `region`)."""
    staff = User.objects.restrict(actor, "view").filter(
        is_active=True, scope__isnull=False, role_assignments__role__in=list(rules_by_role)
    )
    if region is not None:
        staff = staff.filter(scope__code__startswith=region.code)
    return list(staff.select_related("scope").distinct().order_by("id"))


def generate_sheets(actor, month, *, region=None, at=None):
    """Compute the month's sheets for every assessed staff member in scope.

    Returns {"generated": [...sheets], "skipped_locked": [...sheets]}. One transaction.
    """
    require(actor, "scoresheet.generate")
    month = parse_month(month)
    if region is not None:
        require(actor, "region.view", region)
    at = at or timezone.now()
    rules_by_role = active_rules()
    start, end = month_bounds(month)
    result = {"generated": [], "skipped_locked": []}
    with transaction.atomic():
        for person in assessed_staff(actor, rules_by_role, region):
            rules = [rule for role in sorted(person.roles) for rule in rules_by_role.get(role, [])]
            sheet = _sheet_for(person, month, at)
            if sheet.locked:
                result["skipped_locked"].append(sheet)
                continue
            _replace_lines(sheet, rules, person, start, end)
            _write(sheet, "generate", actor, at, {"computed_score": sheet.computed_score})
            result["generated"].append(sheet)
    return result


def _sheet_for(person, month, at):
    sheet, _created = ScoreSheet.objects.get_or_create(
        user=person, month=month, defaults={"region_code": person.scope.code, "generated_at": at}
    )
    return ScoreSheet.objects.select_for_update().get(pk=sheet.pk)


def _replace_lines(sheet, rules, person, start, end):
    sheet.lines.all().delete()
    lines = []
    for rule in rules:
        value, note = MEASURES[rule.measure].compute(person, start, end)
        lines.append(
            ScoreLine(
                sheet=sheet, rule=rule, measure=rule.measure, target=rule.target, points=rule.points,
                weight=rule.weight, value=value, score=rule_score(rule, value), note=note[:200],
            )
        )
    ScoreLine.objects.bulk_create(lines)
    sheet.region_code = person.scope.code
    sheet.computed_score = round(sum(line.score for line in lines), 2)


def _write(sheet, action, actor, at, data):
    """Save the sheet's totals, bump its version and write the audit event."""
    sheet.total_score = round(sheet.computed_score + sheet.manual_score, 2)
    if action == "generate":
        sheet.generated_at = at
    sheet.version += 1
    sheet.save()
    SheetEvent.objects.create(sheet=sheet, action=action, actor=actor, at=at, data=data)
    return sheet


# -- manual items and locking ----------------------------------------------------------------
def _locked_sheet(sheet, actor, action):
    """The sheet row locked for update, after the role and scope check."""
    pk = getattr(sheet, "pk", sheet)
    try:
        locked = ScoreSheet.objects.select_for_update().get(pk=pk)
    except (ScoreSheet.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such score sheet."), code="sheet_not_found") from None
    require(actor, f"scoresheet.{action}", locked)
    if locked.user_id == actor.pk and Role.SYSADMIN not in actor.roles:
        raise Forbidden(_("Nobody may adjust or confirm their own score sheet."), code="own_sheet")
    if locked.locked:
        raise IllegalTransition(_("This score sheet is confirmed and locked."), code="sheet_locked")
    return locked


def _points(value):
    try:
        points = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed.field("points", _("Enter a number."), code="invalid") from None
    if points != points or points == 0 or abs(points) > MANUAL_POINTS_LIMIT:
        raise ValidationFailed.field(
            "points",
            _("Enter a non-zero number between -%(limit)d and %(limit)d.") % {"limit": MANUAL_POINTS_LIMIT},
            code="out_of_range",
        )
    return round(points, 2)


def add_manual_item(sheet, actor, *, points, reason, idempotency_key=None, at=None):
    """Add (positive) or deduct (negative) points by hand, with a reason. Returns the item."""
    points = _points(points)
    reason = clean_text(reason, "reason", max_length=REASON_MAX, required=True)
    key = clean_text(idempotency_key or "", "idempotency_key", max_length=100, multiline=False) or None
    if key and (existing := ManualItem.objects.filter(idempotency_key=key).first()) is not None:
        return existing
    at = at or timezone.now()
    try:
        with transaction.atomic():
            locked = _locked_sheet(sheet, actor, "adjust")
            item = ManualItem.objects.create(
                sheet=locked, points=points, reason=reason, created_by=actor, created_at=at, idempotency_key=key
            )
            locked.manual_score = round(locked.manual_score + points, 2)
            _write(locked, "manual_item", actor, at, {"item": item.pk, "points": points, "reason": reason})
    except IntegrityError:
        existing = ManualItem.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing
    return item


def lock_sheet(sheet, actor, *, at=None):
    """The community secretary confirms the sheet (确认); afterwards nothing changes it."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked_sheet(sheet, actor, "lock")
        locked.status = SheetStatus.LOCKED
        locked.locked_at = at
        locked.locked_by = actor
        return _write(locked, "lock", actor, at, {"total_score": locked.total_score})


# -- meetings --------------------------------------------------------------------------------
def record_meeting(actor, *, kind, region, date, topic, minutes="", attendance=None, idempotency_key=None, at=None):
    """Record a 例会 or 网格学堂 session. `attendance` maps staff (or their ids) to
    present / absent / leave; every attendee must be staff of that region. Returns
    (meeting, created); the same idempotency key again returns the first meeting."""
    require(actor, "grid_meeting.record")
    key = clean_text(idempotency_key or "", "idempotency_key", max_length=100, multiline=False) or None
    if key and (existing := Meeting.objects.filter(idempotency_key=key).first()) is not None:
        return existing, False
    fields = _meeting_fields(actor, kind, region, date, topic, minutes)
    roster = _attendance(fields["region"], attendance or {})
    try:
        with transaction.atomic():
            meeting = Meeting.objects.create(
                **fields, recorded_by=actor, recorded_at=at or timezone.now(), idempotency_key=key
            )
            Attendance.objects.bulk_create(
                Attendance(meeting=meeting, user_id=user_id, status=status) for user_id, status in roster
            )
    except IntegrityError:
        existing = Meeting.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False
    return meeting, True


def amend_meeting(meeting, actor, *, topic, minutes="", attendance=None, at=None):
    """Correct a recorded meeting: topic, minutes (often written up afterwards) and the whole
    attendance list. Sheets computed before keep their figures until they are recomputed."""
    require(actor, "grid_meeting.record")
    topic = clean_text(topic, "topic", max_length=200, required=True, multiline=False)
    minutes = clean_text(minutes, "minutes", max_length=20000)
    with transaction.atomic():
        pk = getattr(meeting, "pk", meeting)
        locked = Meeting.objects.select_for_update().filter(pk=pk).select_related("region").first()
        if locked is None:
            raise NotFound(_("No such meeting."), code="meeting_not_found")
        require(actor, "region.view", locked.region)
        roster = _attendance(locked.region, attendance or {})
        locked.topic, locked.minutes = topic, minutes
        locked.amended_by, locked.amended_at = actor, at or timezone.now()
        locked.save(update_fields=["topic", "minutes", "amended_by", "amended_at"])
        locked.attendance.all().delete()
        Attendance.objects.bulk_create(
            Attendance(meeting=locked, user_id=user_id, status=status) for user_id, status in roster
        )
    return locked


def _meeting_fields(actor, kind, region, date, topic, minutes):
    errors = {}
    if kind not in MeetingKind.values:
        errors["kind"] = [_("Choose weekly meeting or training.")]
    region = _meeting_region(region, errors)
    if region is not None:
        require(actor, "region.view", region)
    if not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date))
        except ValueError:
            errors["date"] = [_("Enter a date as YYYY-MM-DD.")]
    if errors:
        raise ValidationFailed(code="invalid_meeting", fields=errors)
    return {
        "kind": kind,
        "region": region,
        "date": date,
        "topic": clean_text(topic, "topic", max_length=200, required=True, multiline=False),
        "minutes": clean_text(minutes, "minutes", max_length=20000),
    }


def _meeting_region(value, errors):
    pk = getattr(value, "pk", value)
    region = Region.objects.filter(pk=pk, level__in=[Level.GRID, Level.COMMUNITY]).first() if pk else None
    if region is None:
        errors["region"] = [_("Choose a grid or a community.")]
    return region


def _attendance(region, attendance):
    roster = []
    for who, status in attendance.items():
        if status not in AttendanceStatus.values:
            raise ValidationFailed.field("attendance", _("Unknown attendance status %(s)r.") % {"s": status})
        roster.append((getattr(who, "pk", who), status))
    ids = [user_id for user_id, _status in roster]
    members = set(
        User.objects.filter(pk__in=ids, scope__code__startswith=region.code[:12]).values_list("pk", flat=True)
    )
    strangers = [str(user_id) for user_id in ids if user_id not in members]
    if strangers:
        raise ValidationFailed.field(
            "attendance",
            _("Not staff of this community: %(ids)s.") % {"ids": ", ".join(strangers)},
            code="not_member",
        )
    return roster
