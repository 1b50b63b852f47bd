"""Publish every case transition to the live bus, in its transaction (connected in ScreenConfig.ready)."""

import logging
import time

from django.conf import settings
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone, translation

from gridgov.cases.models import Channel, ClockState, Status
from gridgov.catalog.models import Category, CategoryKind, Priority
from gridgov.live import publish, publish_many

log = logging.getLogger(__name__)

ALARM_CHANNELS = (Channel.VIDEO_ALARM, Channel.IOT)


def on_case_recorded(sender, case, event=None, **kwargs):
    """case_recorded arrives inside the transition's transaction: the outbox row commits (and
    streams) exactly when the change does."""
    action = getattr(event, "action", event) or ""
    publish(event_kind(case, action), case_payload(case, action), region_code=case.region_code or "")


def on_cases_recorded(sender, pairs, **kwargs):
    """The bulk form (cases created in bulk): one multi-row INSERT."""
    publish_many(
        (event_kind(case, event.action), case_payload(case, event.action), case.region_code or "") for case, event in pairs
    )


def event_kind(case, action):
    """New video/IoT cases are alarms; everything else is a case update."""
    created = action in ("create", "created", "report", "reported")
    return "alarm" if created and case.channel in ALARM_CHANNELS else "case"


def case_payload(case, action):
    """What a screen may show: no reporter, no description (personal data stays out).

    Built from the case in hand: no query (the 小类 comes with the case, the emergency
    小类 from a per-process cache)."""
    category = case.category if case.category_id else None
    return {
        "id": case.pk,
        "number": case.number,
        "action": action,
        "status": case.status,
        "status_label": _label(Status, case.status),
        "channel": case.channel,
        "channel_label": _label(Channel, case.channel),
        "priority": case.priority,
        "category": category.name if category else "",
        "lon": round(case.lon, 6) if case.lon is not None else None,
        "lat": round(case.lat, 6) if case.lat is not None else None,
        "grid_id": case.grid_id,
        "open": case.status not in (Status.CLOSED, Status.REJECTED, Status.PARKED),
        "clock": clock_of(case),
        "emergency": case.priority >= Priority.URGENT or case.category_id in _emergency_categories.ids(),
        "alarm": case.channel in ALARM_CHANNELS,
        "created_at": case.created_at.isoformat() if case.created_at else None,
    }


def _label(choices, value):
    """The label of `value` in the active language; translated once per process and language
    (building the enum member and translating its lazy label was a tenth of a create)."""
    language = translation.get_language()
    labels = _labels.get((choices, language))
    if labels is None:
        labels = _labels[(choices, language)] = {member.value: str(member.label) for member in choices}
    return labels[value] if value in labels else str(choices(value).label)


_labels = {}


def clock_of(case):
    if case.due_at is None:
        return None
    now = timezone.now()
    if now > case.due_at:
        return ClockState.OVERDUE
    if case.warn_at is not None and now >= case.warn_at:
        return ClockState.WARNING
    return ClockState.NORMAL


class _EmergencyCategories:
    """The ids of the emergency 小类 (settings.GRIDGOV_SCREEN["emergency_category_codes"]),
    cached per process: they were one query per published case.

    Cleared on any Category save/delete in this process; other processes see a change
    within TTL seconds, and a change of the setting at once.
    """

    TTL = 30.0

    def __init__(self):
        self.codes = None
        self.expires = 0.0
        self.cached = frozenset()

    def ids(self):
        codes = tuple(settings.GRIDGOV_SCREEN["emergency_category_codes"])
        if codes != self.codes or time.monotonic() >= self.expires:
            self.cached = self._load(codes)
            self.codes, self.expires = codes, time.monotonic() + self.TTL
        return self.cached

    @staticmethod
    def _load(codes):
        if not codes:
            return frozenset()
        condition = Q()
        for code in codes:
            condition |= Q(code__startswith=code)
        return frozenset(Category.objects.filter(condition, kind=CategoryKind.EVENT).values_list("id", flat=True))

    def clear(self, **kwargs):
        self.codes = None


_emergency_categories = _EmergencyCategories()
post_save.connect(_emergency_categories.clear, sender=Category, dispatch_uid="screen_emergency_categories_save")
post_delete.connect(_emergency_categories.clear, sender=Category, dispatch_uid="screen_emergency_categories_delete")
