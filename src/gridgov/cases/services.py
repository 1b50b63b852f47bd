"""Every state change of a case, one function per transition (docs/contracts.md).

Each transition: lock the case row inside a transaction, check the role and scope
(`require`), the expected version and the status, apply the change, adjust the clocks,
bump `version`, write one timeline event and, once committed, send `case_changed`.
Photos are validated before the transaction starts and removed again if it fails.
"""

import logging
import re
import time
from contextlib import contextmanager

import h3

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Length
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.catalog import worktime
from gridgov.catalog.models import Category, Priority, TimeUnit
from gridgov.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.geo import coords, locator
from gridgov.geo.addresses import match_address
from gridgov.geo.models import Level, Region
from gridgov.org.models import Department
from gridgov.org.permissions import CENTRE_STAFF, ROLE_ACTIONS, allowed, require
from gridgov.org.roles import Role

from . import photos as photo_store
from . import rows
from .clocks import ClockBook, mirror_deadline, new_clock
from .models import (
    OPEN_STATUSES,
    AttachmentKind,
    Case,
    CaseRequest,
    ChangedCase,
    Channel,
    ClockKind,
    Rating,
    RequestKind,
    RequestStatus,
    Status,
)
from . import changes, numbers
from .signals import case_changed, case_recorded, cases_recorded
from .timeline import append_event, new_event

logger = logging.getLogger(__name__)

# Human names of the actions, for messages and pages.
ACTION_LABELS = {
    "create": gettext_lazy("report"),
    "accept": gettext_lazy("accept"),
    "reject": gettext_lazy("not accept"),
    "place": gettext_lazy("place on a grid"),
    "dispatch": gettext_lazy("dispatch"),
    "sign": gettext_lazy("sign for"),
    "return": gettext_lazy("return"),
    "handle": gettext_lazy("submit handling"),
    "verify": gettext_lazy("verify"),
    "close": gettext_lazy("close"),
    "rate": gettext_lazy("rate"),
    "request_extension": gettext_lazy("request an extension"),
    "decide_extension": gettext_lazy("decide on an extension"),
    "request_park": gettext_lazy("request parking"),
    "decide_park": gettext_lazy("decide on parking"),
    "unpark": gettext_lazy("unpark"),
    "supervise": gettext_lazy("supervise"),
    "reopen": gettext_lazy("reopen"),
}

# Reopening after an unsatisfied callback (回访 不满意) is centre work.
ROLE_ACTIONS.setdefault("case.reopen", CENTRE_STAFF)

NOT_FINAL = (*OPEN_STATUSES, Status.PARKED)
PARKABLE = (Status.ACCEPTED, Status.DISPATCHED, Status.HANDLING)
EXTENDABLE = (Status.DISPATCHED, Status.HANDLING)
# The statuses in which each action is possible (extra conditions live in _extra_ok).
ACTION_STATUSES = {
    "accept": (Status.REPORTED,),
    "reject": (Status.REPORTED,),
    "place": NOT_FINAL,
    "dispatch": (Status.ACCEPTED,),
    "sign": (Status.DISPATCHED,),
    "return": (Status.DISPATCHED, Status.HANDLING),
    "handle": (Status.HANDLING,),
    "verify": (Status.HANDLED,),
    "close": (Status.VERIFIED,),
    "rate": (Status.CLOSED,),
    "request_extension": EXTENDABLE,
    "decide_extension": EXTENDABLE,
    "request_park": PARKABLE,
    "decide_park": PARKABLE,
    "unpark": (Status.PARKED,),
    "supervise": NOT_FINAL,
    "reopen": (Status.CLOSED,),  # only after an unsatisfied rating (回访 不满意), see _extra_ok
}
# Actions a department handler may take only on the cases of their own department.
DEPARTMENT_ACTIONS = frozenset({"sign", "return", "handle", "request_extension"})
CENTRE_ROLES = frozenset({Role.DISPATCHER, Role.SHIFT_LEAD})

DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
PHONE_PATTERN = re.compile(r"^[0-9+\- ]{5,20}$")
MAX_EXTENSION_VALUE = 1000


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------
def _pk(value):
    return value.pk if hasattr(value, "pk") else value


def _illegal(case, action, code="illegal_transition"):
    return IllegalTransition(
        _("Cannot %(action)s this case: its status is “%(status)s”.")
        % {"action": ACTION_LABELS[action], "status": case.get_status_display()},
        code=code,
    )


def _note(value, field="note", *, required=False):
    return clean_text(value, field, max_length=NOTE_MAX, required=required)


def _collect(checks):
    """Run named validation callables; raise one ValidationFailed naming every bad field."""
    results, failures = {}, []
    for name, check in checks.items():
        try:
            results[name] = check()
        except ValidationFailed as failure:
            failures.append(failure)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        fields = {}
        for failure in failures:
            for name, messages in failure.fields.items():
                fields.setdefault(name, []).extend(messages if isinstance(messages, list) else [messages])
        raise ValidationFailed(fields=fields)
    return results


def _prepare_photos(files):
    return [photo_store.prepare_photo(item) for item in files or ()]


# Sets made once: an enum's `.values` builds a new list on every call.
_CHANNELS = frozenset(Channel.values)
_PRIORITIES = frozenset(Priority.values)


def _choice(value, choices, field):
    try:
        if value in choices:
            return value
    except TypeError:  # unhashable input (a list, a dict) is no valid option either
        pass
    raise ValidationFailed.field(field, _("Choose a valid option."), code="invalid_choice")


def _priority(value, category):
    if value is None or value == "":
        return category.default_priority if category else Priority.NORMAL
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    return _choice(number, _PRIORITIES, "priority")


def active_subcategory(value):
    """The active 小类 named by `value` (a Category or its pk); ValidationFailed otherwise."""
    category = value if isinstance(value, Category) else _categories.get(_int_or_none(value))
    if category is None or not category.is_active or category.parent_id is None or not category.parent.is_active:
        raise ValidationFailed.field(
            "category", _("Choose an active sub-category (小类), not a major class."), code="unknown_category"
        )
    return category


class _CategoryCache:
    """Categories by pk for the intake hot path (one query saved per report).

    A save or delete of any Category in this process clears the cache; changes made by
    other processes are seen after at most TTL seconds.
    """

    TTL = 30.0

    def __init__(self):
        self.entries = {}

    def get(self, pk):
        if pk is None:
            return None
        entry = self.entries.get(pk)
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        category = Category.objects.select_related("parent").filter(pk=pk).order_by().first()
        if category is not None:
            self.entries[pk] = (category, time.monotonic() + self.TTL)
        return category

    def clear(self, **kwargs):
        self.entries.clear()


_categories = _CategoryCache()
post_save.connect(_categories.clear, sender=Category, dispatch_uid="cases_category_cache_save")
post_delete.connect(_categories.clear, sender=Category, dispatch_uid="cases_category_cache_delete")


def _is_sysadmin(user):
    return Role.SYSADMIN in user.roles


# ---------------------------------------------------------------------------------------
# The transition frame
# ---------------------------------------------------------------------------------------
class _Transition:
    """The locked case of one transition and what it will write."""

    def __init__(self, case, actor, action, at):
        self.case = case
        self.actor = actor
        self.action = action
        self.at = at
        self.from_status = case.status
        self._clocks = None
        self._loaded = _case_values(case)

    @property
    def clocks(self):
        if self._clocks is None:
            self._clocks = ClockBook(self.case)
        return self._clocks

    def expect_status(self, statuses=None):
        if self.case.status not in (statuses or ACTION_STATUSES[self.action]):
            raise _illegal(self.case, self.action)

    def finish(self, *, to_status=None, note="", data=None, photos=(), photo_kind=AttachmentKind.EVIDENCE):
        """Save the case, write the event and the photos, schedule the signal."""
        case = self.case
        if to_status is not None:
            case.status = to_status
        if self._clocks is not None:
            self._clocks.commit()
        case.version += 1
        # Only the columns this transition changed (the full 45-column UPDATE cost more to
        # build than to run); updated_at is auto_now, so it is named too.
        changed = [name for name, value in _case_values(case).items() if value != self._loaded[name]]
        rows.update(case, [*changed, "updated_at"])
        event = append_event(
            case,
            actor=self.actor,
            action=self.action,
            at=self.at,
            from_status=self.from_status,
            to_status=case.status,
            note=note,
            data=data,
            attachment_hashes=[photo.sha256 for photo in photos],
        )
        for photo in photos:
            photo_store.save_photo(photo, case=case, kind=photo_kind, user=self.actor, event=event)
        _announce(case, event)
        return case


def record_event(case, actor, action, *, note="", data=None, at=None):
    """Write one timeline event for another app's step on a case (e.g. 吹哨, 报到, 催办).

    The status does not change. Locks the case (inside the caller's transaction, or its
    own), bumps `version` by one, appends the hash-chained event and sends `case_changed`
    after commit. Returns the event; the caller checks permissions and state itself.
    """
    with transaction.atomic():
        locked = _lock(_pk(case))
        locked.version += 1
        Case.objects.filter(pk=locked.pk).update(version=locked.version, updated_at=timezone.now())
        event = append_event(
            locked,
            actor=actor,
            action=action,
            at=at or timezone.now(),
            from_status=locked.status,
            to_status=locked.status,
            note=note,
            data=data,
        )
        _announce(locked, event)
        return event


def _case_values(case):
    return {field.attname: getattr(case, field.attname) for field in _case_fields()}


def _case_fields():
    global _CASE_FIELDS
    if _CASE_FIELDS is None:
        _CASE_FIELDS = [field for field in Case._meta.concrete_fields if not field.primary_key and field.name != "updated_at"]
    return _CASE_FIELDS


_CASE_FIELDS = None


def _announce(case, event, *, marked=False):
    """In the transition's transaction: mark the case for the worker's figure refresh
    (unless the caller wrote the mark already) and let the outbox writers record it (live
    feed); after commit: case_changed."""
    if not marked:
        changes.mark(case.pk)
    case_recorded.send(sender=Case, case=case, event=event)
    transaction.on_commit(lambda: _send_case_changed(case, event))


def announce_created(pairs):
    """Announce cases created in bulk inside the caller's transaction (gridgov.cases.bulk):
    `pairs` are (case, its "create" event), as create_case announces one case."""
    pairs = list(pairs)
    changes.mark_many([case.pk for case, _event in pairs])
    cases_recorded.send(sender=Case, pairs=pairs)
    transaction.on_commit(lambda: [_send_case_changed(case, event) for case, event in pairs])


def _send_case_changed(case, event):
    # The transition is committed: a failing listener (screen, notifications) is logged,
    # never turned into an error for the person who acted.
    for receiver, result in case_changed.send_robust(sender=Case, case=case, event=event):
        if isinstance(result, Exception):
            logger.error("case_changed receiver %r failed for %s", receiver, case.number, exc_info=result)


@contextmanager
def _transition(case, actor, action, *, at=None, expected_version=None):
    """Open the transaction, lock the case and check role, scope, department and version."""
    with photo_store.delete_files_on_error(), transaction.atomic():
        locked = _lock(_pk(case))
        _require_on_locked(actor, f"case.{action}", locked)
        if action in DEPARTMENT_ACTIONS:
            _require_own_department(locked, actor)
        if expected_version not in (None, "") and _version(expected_version) != locked.version:
            raise Conflict(
                _("Someone changed this case first (now version %(version)d); reload and try again.")
                % {"version": locked.version},
                code="stale",
            )
        yield _Transition(locked, actor, action, at or timezone.now())


def _version(value):
    number = _int_or_none(value)
    if number is None:
        raise ValidationFailed.field("expected_version", _("Enter a whole number."), code="invalid")
    return number


def _require_on_locked(actor, action, case):
    """`require(actor, action, case)` with the scope decided on the locked row in memory
    (`Case.in_scope_of` mirrors the queryset's scope rule): one query less per transition."""
    require(actor, action)
    if not case.in_scope_of(actor):
        raise Forbidden(_("This record is outside your area of responsibility."), code="out_of_scope")


def _lock(pk):
    """The case row, locked (SELECT ... FOR UPDATE; SQLite's write transaction locks anyway),
    with its 小类 from the per-process cache. The statement is compiled once per database."""
    number = _int_or_none(pk)
    case = next(iter(rows.fetch_instances(Case, _lock_sql(), [number]) if number is not None else ()), None)
    if case is None:
        raise NotFound(_("No such case."), code="case_not_found")
    if case.category_id is not None:
        category = _categories.get(case.category_id)
        if category is not None:
            case.category = category
    return case


_lock_statements = {}


def _lock_sql():
    vendor = connection.vendor
    if vendor not in _lock_statements:
        query = Case.objects.select_for_update(of=("self",)).filter(pk=0).order_by().query
        sql, _params = query.sql_with_params()
        _lock_statements[vendor] = sql
    return _lock_statements[vendor]


def _require_own_department(case, actor):
    if _is_sysadmin(actor) or (actor.department_id and actor.department_id == case.department_id):
        return
    raise Forbidden(_("Only the department the case is dispatched to may do this."), code="not_your_department")


# ---------------------------------------------------------------------------------------
# Creation
# ---------------------------------------------------------------------------------------
def create_case(
    actor,
    *,
    channel,
    description,
    category=None,
    priority=None,
    lon=None,
    lat=None,
    crs="wgs84",
    address="",
    reporter_name="",
    reporter_phone="",
    photos=(),
    idempotency_key=None,
    at=None,
):
    """Register a case (受理). Returns (case, created); a repeated idempotency_key returns
    the first case with created=False, also when two calls race."""
    require(actor, "case.create")
    key = clean_idempotency_key(idempotency_key)
    # No lookup of the key first: a repeat is rare, and its insert fails on the unique key
    # (rolling back everything, photos included), which also settles concurrent repeats.
    fields = intake_fields(channel, description, category, priority, address, reporter_name, reporter_phone)
    place = placement(actor, lon, lat, crs, fields["address"])
    prepared = _prepare_photos(photos)
    at = at or timezone.now()
    for attempt in (1, 2):
        number = numbers.take(at)
        # Every row is built before the transaction opens: it holds SQLite's write lock (and
        # a PostgreSQL transaction) only for the statements.
        case, clock, event = _new_case(actor, fields, place, prepared, key, at, number)
        ahead = [rows.Prepared(row) for row in (case, clock, event)] if number else None
        try:
            with photo_store.delete_files_on_error(), transaction.atomic():
                _write_case(case, clock, event, actor, prepared, at, ahead)
        except IntegrityError:
            existing = _case_for_key(key, actor) if key else None
            if existing is not None:
                return existing, False
            if number is None or attempt == 2 or not numbers.is_taken(number):
                raise
            numbers.forget()  # a block from before the sequence was reset (a flushed database)
            continue
        return case, True


def clean_idempotency_key(value):
    if value in (None, ""):
        return None
    return clean_text(str(value), "idempotency_key", max_length=100, multiline=False) or None


def _case_for_key(key, actor):
    case = Case.objects.filter(idempotency_key=key).order_by().first()
    if case is not None:
        require(actor, "case.view", case)
    return case


def intake_fields(channel, description, category, priority, address, reporter_name, reporter_phone):
    """The checked fields of a report (create_case and cases.bulk); ValidationFailed names
    every bad field at once."""
    checks = {
        "channel": lambda: _choice(channel, _CHANNELS, "channel"),
        "description": lambda: clean_text(description, "description", max_length=DESCRIPTION_MAX, required=True),
        "category": lambda: active_subcategory(category) if category not in (None, "") else None,
        "address": lambda: clean_text(address, "address", max_length=200, multiline=False),
        "reporter_name": lambda: clean_text(reporter_name, "reporter_name", max_length=50, multiline=False),
        "reporter_phone": lambda: _phone(reporter_phone),
    }
    fields = _collect(checks)
    fields["priority"] = _collect({"priority": lambda: _priority(priority, fields["category"])})["priority"]
    return fields


def _phone(value):
    phone = clean_text(value, "reporter_phone", max_length=20, multiline=False)
    if phone and not PHONE_PATTERN.match(phone):
        raise ValidationFailed.field(
            "reporter_phone", _("Use 5 to 20 digits, spaces, + or - only."), code="invalid_phone"
        )
    return phone


class Place:
    """Where a report lands: point, grid, h3 cell and region (no grid: needs placement)."""

    def __init__(self, lon=None, lat=None, location=None, region_code=""):
        self.lon, self.lat = lon, lat
        self.grid_id = location.grid_id if location else None
        self.h3_cell = location.h3_cell if location else ""
        self.region_code = location.region_code if location else region_code
        self.needs_placement = self.grid_id is None


def placement(actor, lon, lat, crs, address=""):
    """Where the case belongs, checked against the actor's scope.

    A point inside a grid must lie in the actor's scope. A case with no grid (a point
    outside every grid, or no coordinates) is filed at the locator's region or the fallback
    region, or, when that lies outside the actor's scope, at the actor's own scope region, so
    it stays visible to the reporter and the centre until someone places it.
    """
    if (lon in (None, "")) != (lat in (None, "")):
        missing = "lat" if lat in (None, "") else "lon"
        raise ValidationFailed.field(missing, _("Give both longitude and latitude, or neither."), code="incomplete_coordinates")
    if lon in (None, ""):
        place = address_place(address) or Place(region_code=fallback_region_code())
    else:
        lon, lat = coords.to_wgs84(lon, lat, crs)
        place = Place(lon, lat, locator.locate(lon, lat))
    scope = actor.scope_code
    if scope is None:
        raise Forbidden(_("You have no area of responsibility to report cases in."), code="out_of_scope")
    if not place.region_code.startswith(scope):
        if not place.needs_placement:
            raise Forbidden(_("This location is outside your area of responsibility."), code="out_of_scope")
        place.region_code = scope
    return place


def address_place(address):
    """Where the address text puts the case (gridgov.geo.addresses), or None: a known place
    gives its grid and point, a community name only the community (still to be placed)."""
    matched = match_address(address)
    if matched is None:
        return None
    if matched.grid_id is None:
        return Place(region_code=matched.region_code)
    cell = h3.latlng_to_cell(matched.lat, matched.lon, locator.H3_RESOLUTION)
    location = locator.Location(matched.grid_id, matched.region_code, matched.region_code, cell, True)
    return Place(matched.lon, matched.lat, location)


def fallback_region_code():
    """settings.GRIDGOV_FALLBACK_REGION_CODE, else the shortest code in the region tree
    (read once per process until a Region is saved or deleted here; other processes within
    _FALLBACK_TTL seconds: the root of the tree rarely moves)."""
    if settings.GRIDGOV_FALLBACK_REGION_CODE:
        return settings.GRIDGOV_FALLBACK_REGION_CODE
    code, expires = _fallback
    if code is None or time.monotonic() >= expires:
        code = Region.objects.order_by(Length("code"), "code").values_list("code", flat=True).first() or ""
        _fallback[:] = [code, time.monotonic() + _FALLBACK_TTL]
    return code


_FALLBACK_TTL = 60.0
_fallback = [None, 0.0]


def _forget_fallback(**kwargs):
    _fallback[:] = [None, 0.0]


post_save.connect(_forget_fallback, sender=Region, dispatch_uid="cases_fallback_region_save")
post_delete.connect(_forget_fallback, sender=Region, dispatch_uid="cases_fallback_region_delete")


def _new_case(actor, fields, place, prepared, key, at, number):
    """The unsaved case, its 受理-派遣 clock and (when the number is known) its first event."""
    case = new_case_row(actor, fields, place, key, at, number=number or "")
    clock = new_clock(case, ClockKind.ACCEPT_DISPATCH, at)
    mirror_deadline(case, [clock])
    event = _creation_event(case, actor, at, prepared) if number else None
    return case, clock, event


def new_case_row(actor, fields, place, key, at, *, number=""):
    """The unsaved Case of checked intake `fields` at `place` (create_case and cases.bulk)."""
    return rows.build(
        Case,
        number=number,
        channel=fields["channel"],
        status=Status.REPORTED.value,
        category=fields["category"],
        priority=fields["priority"],
        description=fields["description"],
        reporter_name=fields["reporter_name"],
        reporter_phone=fields["reporter_phone"],
        lon=place.lon,
        lat=place.lat,
        address=fields["address"],
        h3_cell=place.h3_cell,
        grid_id=place.grid_id,
        region_code=place.region_code,
        needs_placement=place.needs_placement,
        reported_by=actor,
        idempotency_key=key,
        created_at=at,
        version=1,
    )


def _creation_event(case, actor, at, prepared):
    return new_event(
        case, 1, "", actor=actor, action="create", at=at, to_status=Status.REPORTED.value,
        data=creation_data(case), attachment_hashes=[photo.sha256 for photo in prepared],
    )


def _write_case(case, clock, event, actor, prepared, at, ahead=None):
    """The create's statements (inside its transaction). `ahead`: the case, clock and event
    as rows.Prepared, their values converted before the transaction opened."""
    if not case.number:  # inside a caller's transaction: the counter moves with it
        case.number = numbers.next_in_transaction(at)
        event = _creation_event(case, actor, at, prepared)
    case_row, clock_row, event_row = ahead or [rows.Prepared(row) for row in (case, clock, event)]
    # The figures mark (changes.mark) goes in with the family: on PostgreSQL one statement.
    mark_row = rows.Prepared(rows.build(ChangedCase, case_id=0))
    rows.insert_family(case_row, [(clock_row, "case"), (event_row, "case"), (mark_row, "case_id")])
    for photo in prepared:
        photo_store.save_photo(photo, case=case, kind=AttachmentKind.REPORT, user=actor, event=event)
    _announce(case, event, marked=True)
    return case


def creation_data(case):
    return {
        "channel": case.channel,
        "category": case.category_id,
        "priority": case.priority,
        "region_code": case.region_code,
        "grid": case.grid_id,
        "needs_placement": case.needs_placement,
    }


# ---------------------------------------------------------------------------------------
# Acceptance (立案) and placement
# ---------------------------------------------------------------------------------------
def accept(case, actor, *, note="", category=None, priority=None, at=None, expected_version=None):
    """reported → accepted (立案). A 小类 is required, given here or at creation; a new
    category without a priority brings its default priority."""
    note = _note(note)
    new_category = active_subcategory(category) if category not in (None, "") else None
    with _transition(case, actor, "accept", at=at, expected_version=expected_version) as t:
        t.expect_status()
        case = t.case
        if new_category is not None:
            case.category = new_category
        if case.category is None:
            raise ValidationFailed.field("category", _("Choose a sub-category to accept the case."), code="required")
        if priority not in (None, "") or new_category is not None:
            case.priority = _priority(priority, case.category)
        case.accepted_at = t.at
        data = {"category": case.category_id, "priority": case.priority}
        return t.finish(to_status=Status.ACCEPTED, note=note, data=data)


def reject(case, actor, *, reason, at=None, expected_version=None):
    """reported → rejected (不予立案); every clock stops."""
    reason = _note(reason, "reason", required=True)
    with _transition(case, actor, "reject", at=at, expected_version=expected_version) as t:
        t.expect_status()
        t.case.reject_reason = reason
        t.clocks.stop(t.at)
        return t.finish(to_status=Status.REJECTED, note=reason)


def place(case, actor, *, grid, note="", at=None, expected_version=None):
    """Manual placement of an unplaced case on a grid inside the actor's scope."""
    note = _note(note)
    target = _grid(grid)
    with _transition(case, actor, "place", at=at, expected_version=expected_version) as t:
        t.expect_status()
        if not t.case.needs_placement:
            raise IllegalTransition(_("This case is already placed on a grid."), code="already_placed")
        scope = actor.scope_code
        if scope is None or not target.code.startswith(scope):
            raise Forbidden(_("This grid is outside your area of responsibility."), code="out_of_scope")
        data = {"grid": target.pk, "from_region_code": t.case.region_code, "region_code": target.code}
        t.case.grid = target
        t.case.region_code = target.code
        t.case.needs_placement = False
        return t.finish(note=note, data=data)


def _grid(value):
    region = value if isinstance(value, Region) else Region.objects.filter(pk=_int_or_none(value)).first()
    if region is None or region.level != Level.GRID:
        raise ValidationFailed.field("grid", _("Choose a grid."), code="not_a_grid")
    return region


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------
# Dispatch, sign, return, handling
# ---------------------------------------------------------------------------------------
def dispatch(case, actor, *, department, note="", due_at=None, at=None, expected_version=None):
    """accepted → dispatched (派遣): stops 立案+派遣, starts 签收 and 处置. `due_at` replaces
    the 小类's handling deadline."""
    note = _note(note)
    target = _active_department(department)
    with _transition(case, actor, "dispatch", at=at, expected_version=expected_version) as t:
        t.expect_status()
        if due_at is not None and due_at <= t.at:
            raise ValidationFailed.field("due_at", _("The deadline must lie in the future."), code="in_past")
        case = t.case
        case.department = target
        case.handler = None
        case.dispatched_at = t.at
        t.clocks.stop(t.at, ClockKind.ACCEPT_DISPATCH)
        t.clocks.start(ClockKind.SIGN, t.at)
        handle = t.clocks.start(ClockKind.HANDLE, t.at, due_at=due_at)
        data = {"department": target.pk, "handle_due_at": handle.due_at.isoformat()}
        return t.finish(to_status=Status.DISPATCHED, note=note, data=data)


def _active_department(value):
    department = value if isinstance(value, Department) else Department.objects.filter(pk=_int_or_none(value)).first()
    if department is None or not department.is_active:
        raise ValidationFailed.field("department", _("Choose an active department."), code="inactive_department")
    return department


def sign(case, actor, *, note="", at=None, expected_version=None):
    """dispatched → handling (签收) by a handler of the case's department."""
    note = _note(note)
    with _transition(case, actor, "sign", at=at, expected_version=expected_version) as t:
        t.expect_status()
        t.case.handler = actor
        t.case.signed_at = t.at
        t.clocks.stop(t.at, ClockKind.SIGN)
        return t.finish(to_status=Status.HANDLING, note=note)


def return_case(case, actor, *, reason, at=None, expected_version=None):
    """dispatched|handling → accepted (退单): the department gives the case back; the
    centre's 立案+派遣 clock starts again."""
    reason = _note(reason, "reason", required=True)
    with _transition(case, actor, "return", at=at, expected_version=expected_version) as t:
        t.expect_status()
        case = t.case
        data = {"department": case.department_id}
        case.department = None
        case.handler = None
        case.handle_due_at = None
        case.return_count += 1
        t.clocks.stop(t.at)
        t.clocks.start(ClockKind.ACCEPT_DISPATCH, t.at)
        return t.finish(to_status=Status.ACCEPTED, note=reason, data=data)


def submit_handling(case, actor, *, note, photos=(), at=None, expected_version=None):
    """handling → handled (处置反馈): stops 处置, starts 核查."""
    note = _note(note, required=True)
    prepared = _prepare_photos(photos)
    with _transition(case, actor, "handle", at=at, expected_version=expected_version) as t:
        t.expect_status()
        t.case.handled_at = t.at
        t.clocks.stop(t.at, ClockKind.HANDLE)
        t.clocks.start(ClockKind.VERIFY, t.at)
        return t.finish(to_status=Status.HANDLED, note=note, photos=prepared, photo_kind=AttachmentKind.EVIDENCE)


def verify(case, actor, *, passed, note="", photos=(), at=None, expected_version=None):
    """handled → verified (核查通过), or → handling with rework_count + 1 and a fresh 处置
    clock (返工). A failed verification needs a note saying what is still wrong."""
    note = _note(note, required=not passed)
    prepared = _prepare_photos(photos)
    with _transition(case, actor, "verify", at=at, expected_version=expected_version) as t:
        t.expect_status()
        t.clocks.stop(t.at, ClockKind.VERIFY)
        if passed:
            to_status = Status.VERIFIED
        else:
            to_status = Status.HANDLING
            t.case.rework_count += 1
            t.clocks.start(ClockKind.HANDLE, t.at)
        data = {"passed": bool(passed)}
        return t.finish(to_status=to_status, note=note, data=data, photos=prepared, photo_kind=AttachmentKind.VERIFICATION)


def close(case, actor, *, note="", at=None, expected_version=None):
    """verified → closed (结案)."""
    note = _note(note)
    with _transition(case, actor, "close", at=at, expected_version=expected_version) as t:
        t.expect_status()
        t.case.closed_at = t.at
        t.clocks.stop(t.at)
        return t.finish(to_status=Status.CLOSED, note=note)


def rate(case, actor, *, rating, comment="", at=None, expected_version=None):
    """评价 of a closed case, once: 1 不满意, 2 基本满意, 3 满意."""
    comment = _note(comment, "comment")
    value = _choice(_int_or_none(rating), Rating.values, "rating")
    with _transition(case, actor, "rate", at=at, expected_version=expected_version) as t:
        t.expect_status()
        if t.case.rating is not None:
            raise IllegalTransition(_("This case has already been rated."), code="already_rated")
        t.case.rating = value
        t.case.rating_comment = comment
        t.case.rated_at = t.at
        return t.finish(note=comment, data={"rating": value})


def reopen(case, actor, *, reason, at=None, expected_version=None):
    """closed → accepted (back to dispatch) after an unsatisfied rating: counted as rework
    (rework_count + 1); the rating is cleared so the next closure is rated again (the
    timeline keeps the old one); the 立案+派遣 clock starts again."""
    reason = _note(reason, "reason", required=True)
    with _transition(case, actor, "reopen", at=at, expected_version=expected_version) as t:
        t.expect_status()
        case = t.case
        if case.rating != Rating.UNSATISFIED:
            raise IllegalTransition(
                _("Only a case rated unsatisfied can be reopened."), code="not_unsatisfied"
            )
        data = {"rating": case.rating, "department": case.department_id, "closed_at": case.closed_at.isoformat()}
        case.rating = None
        case.rating_comment = ""
        case.rated_at = None
        case.closed_at = None
        case.department = None
        case.handler = None
        case.handle_due_at = None
        case.rework_count += 1
        t.clocks.start(ClockKind.ACCEPT_DISPATCH, t.at)
        return t.finish(to_status=Status.ACCEPTED, note=reason, data=data)


def supervise(case, actor, *, note, at=None, expected_version=None):
    """督办: mark an unfinished case as supervised, with the leader's instruction."""
    note = _note(note, required=True)
    with _transition(case, actor, "supervise", at=at, expected_version=expected_version) as t:
        t.expect_status()
        t.case.supervised = True
        t.case.supervision_note = note
        return t.finish(note=note)


# ---------------------------------------------------------------------------------------
# Requests: extension (延期) and parking (挂账)
# ---------------------------------------------------------------------------------------
def request_extension(case, actor, *, reason, extra_value, extra_unit, at=None, expected_version=None):
    """The handling department asks for more time; a shift lead decides."""
    fields = _collect({
        "reason": lambda: _note(reason, "reason", required=True),
        "extra_value": lambda: _extra_value(extra_value),
        "extra_unit": lambda: _choice(extra_unit, TimeUnit.values, "extra_unit"),
    })
    with _transition(case, actor, "request_extension", at=at, expected_version=expected_version) as t:
        t.expect_status()
        request = _open_request(t, RequestKind.EXTENSION, fields["reason"], fields["extra_value"], fields["extra_unit"])
        data = {"request": request.pk, "extra_value": request.extra_value, "extra_unit": request.extra_unit}
        t.finish(note=request.reason, data=data)
        return request


def _extra_value(value):
    number = _int_or_none(value)
    if number is None or not 1 <= number <= MAX_EXTENSION_VALUE:
        raise ValidationFailed.field(
            "extra_value", _("Enter a whole number from 1 to %(max)d.") % {"max": MAX_EXTENSION_VALUE}, code="invalid"
        )
    return number


def request_park(case, actor, *, reason, at=None, expected_version=None):
    """Ask to park (挂账) a long-term case; a department handler only for their own cases."""
    reason = _note(reason, "reason", required=True)
    with _transition(case, actor, "request_park", at=at, expected_version=expected_version) as t:
        t.expect_status()
        if not actor.roles & CENTRE_ROLES:
            _require_own_department(t.case, actor)
        request = _open_request(t, RequestKind.PARK, reason)
        t.finish(note=reason, data={"request": request.pk})
        return request


def _open_request(t, kind, reason, extra_value=None, extra_unit=""):
    if t.case.requests.filter(kind=kind, status=RequestStatus.PENDING).exists():
        raise IllegalTransition(_("A request of this kind is already waiting for a decision."), code="request_pending")
    return CaseRequest.objects.create(
        case=t.case,
        kind=kind,
        reason=reason,
        extra_value=extra_value,
        extra_unit=extra_unit or "",
        requested_by=t.actor,
        requested_at=t.at,
    )


def decide_extension(request, actor, *, approve, note="", at=None, expected_version=None):
    """Approve (moves the 处置 deadline and case.handle_due_at) or refuse an extension."""
    return _decide(request, actor, RequestKind.EXTENSION, approve, note, at, expected_version)


def decide_park(request, actor, *, approve, note="", at=None, expected_version=None):
    """Approve (the case becomes parked and its clocks pause) or refuse a parking request."""
    return _decide(request, actor, RequestKind.PARK, approve, note, at, expected_version)


def _decide(request, actor, kind, approve, note, at, expected_version):
    note = _note(note)
    request_pk = _pk(request)
    case_pk = CaseRequest.objects.filter(pk=request_pk, kind=kind).values_list("case_id", flat=True).first()
    if case_pk is None:
        raise NotFound(_("No such request."), code="request_not_found")
    action = f"decide_{kind}"
    with _transition(case_pk, actor, action, at=at, expected_version=expected_version) as t:
        request = CaseRequest.objects.select_for_update().get(pk=request_pk)
        if request.status != RequestStatus.PENDING:
            raise IllegalTransition(_("This request has already been decided."), code="already_decided")
        data = {"request": request.pk, "approved": bool(approve)}
        if approve:
            t.expect_status()
            (_extend if kind == RequestKind.EXTENSION else _park)(t, request, data)
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        request.decided_by = actor
        request.decided_at = t.at
        request.decision_note = note
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        request.case = t.finish(note=note, data=data)  # the updated case, for the caller
        return request


def _extend(t, request, data):
    handle = t.clocks.get(ClockKind.HANDLE)
    if handle is None:
        raise IllegalTransition(_("No handling deadline is running to extend."), code="no_running_clock")
    t.clocks.move_deadline(handle, worktime.add_time(handle.due_at, request.extra_value, request.extra_unit))
    t.case.extension_count += 1
    data["handle_due_at"] = handle.due_at.isoformat()


def _park(t, request, data):
    t.case.parked_from_status = t.case.status
    t.case.status = Status.PARKED
    t.clocks.stop(t.at, paused=True)


def unpark(case, actor, *, note="", at=None, expected_version=None):
    """parked → the status before parking; paused clocks resume with the time they had left."""
    note = _note(note)
    with _transition(case, actor, "unpark", at=at, expected_version=expected_version) as t:
        t.expect_status()
        paused, parked_at = _paused_clocks(t.case)
        t.clocks.resume(paused, parked_at, t.at)
        to_status = t.case.parked_from_status or Status.ACCEPTED
        t.case.parked_from_status = ""
        return t.finish(to_status=to_status, note=note, data={"parked_at": parked_at.isoformat() if parked_at else None})


def _paused_clocks(case):
    """The clocks stopped by the latest parking, and when that was."""
    last = case.clocks.filter(paused=True).order_by("-stopped_at").values_list("stopped_at", flat=True).first()
    if last is None:
        return [], None
    return list(case.clocks.filter(paused=True, stopped_at=last)), last


# ---------------------------------------------------------------------------------------
# What may this user do now?
# ---------------------------------------------------------------------------------------
def available_actions(case, user):
    """Action names `user` may take on `case` now (role, scope, status, department, requests)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not case.in_scope_of(user):
        return []
    candidates = [
        action
        for action, statuses in ACTION_STATUSES.items()
        if case.status in statuses and allowed(user, f"case.{action}") and _extra_ok(case, user, action)
    ]
    if any(action.endswith(("_extension", "_park")) for action in candidates):
        pending = set(case.requests.filter(status=RequestStatus.PENDING).values_list("kind", flat=True))
        candidates = [action for action in candidates if _request_ok(action, pending)]
    return candidates


def _extra_ok(case, user, action):
    if action in DEPARTMENT_ACTIONS or (action == "request_park" and not user.roles & CENTRE_ROLES):
        if not (_is_sysadmin(user) or (user.department_id and user.department_id == case.department_id)):
            return False
    if action == "place":
        return case.needs_placement
    if action == "rate":
        return case.rating is None
    if action == "reopen":
        return case.rating == Rating.UNSATISFIED
    return True


def _request_ok(action, pending):
    kind = RequestKind.EXTENSION if action.endswith("_extension") else RequestKind.PARK
    if action.startswith("request_"):
        return kind not in pending
    if action.startswith("decide_"):
        return kind in pending
    return True
