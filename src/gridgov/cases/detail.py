"""What the case page shows, gathered with a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from gridgov.catalog import worktime
from gridgov.core.masking import mask_name, mask_phone
from gridgov.org.permissions import allowed

from . import services
from .forms import ACTION_FORMS
from .models import ClockKind, ClockState, Status

# Timeline labels of the event actions the services write.
EVENT_LABELS = {
    "create": _("Registered"),
    "accept": _("Accepted"),
    "reject": _("Not accepted"),
    "place": _("Placed in a grid"),
    "dispatch": _("Dispatched"),
    "sign": _("Signed"),
    "return": _("Returned"),
    "handle": _("Handling reported"),
    "verify": _("Verified"),
    "close": _("Closed"),
    "rate": _("Rated"),
    "request_extension": _("Extension requested"),
    "decide_extension": _("Extension request decided"),
    "request_park": _("Parking requested"),
    "decide_park": _("Parking request decided"),
    "unpark": _("Resumed"),
    "supervise": _("Supervised"),
    "reopen": _("Reopened"),  # after an unsatisfied callback (gridgov.callbacks)
}
# Events whose outcome is in data: (data key, label when true, label when false).
OUTCOME_LABELS = {
    "verify": ("passed", _("Verification passed"), _("Verification failed: rework")),
    "decide_extension": ("approved", _("Extension approved"), _("Extension refused")),
    "decide_park": ("approved", _("Parking approved"), _("Parking refused")),
}


def event_label(action, data=None):
    if data and action in OUTCOME_LABELS:
        key, yes, no = OUTCOME_LABELS[action]
        if key in data:
            return yes if data[key] else no
    return EVENT_LABELS.get(action, action)


@dataclass(frozen=True)
class ClockBar:
    kind: str
    label: str
    started_at: object
    due_at: object
    stopped_at: object
    percent: int  # used share of the allowed time, capped at 100 for the bar
    used_percent: int  # the same, uncapped, for the text
    state: str


def clock_bars(clocks, now):
    """One bar per SLA clock: used fraction of its allowed time and its state colour."""
    bars = []
    for clock in clocks:
        end = clock.stopped_at or now
        used = worktime.elapsed_fraction(clock.started_at, clock.due_at, clock.limit_unit, end)
        if end > clock.due_at:
            state = ClockState.OVERDUE
        elif end >= clock.warn_at:
            state = ClockState.WARNING
        else:
            state = ClockState.NORMAL
        used_percent = max(0, round(used * 100))
        bars.append(
            ClockBar(
                clock.kind, ClockKind(clock.kind).label, clock.started_at, clock.due_at, clock.stopped_at,
                min(100, used_percent), used_percent, state,
            )
        )
    return bars


def reporter_context(case, user, revealed=False):
    can_reveal = allowed(user, "case.view_reporter")
    return {
        "can_reveal": can_reveal,
        "revealed": revealed and can_reveal,
        "masked_name": mask_name(case.reporter_name),
        "masked_phone": mask_phone(case.reporter_phone),
    }


def map_config(case):
    grid = case.grid
    return {
        "point": [case.lon, case.lat] if case.lon is not None and case.lat is not None else None,
        "boundary": grid.boundary if grid is not None else None,
        "gridName": grid.name if grid is not None else "",
        "tileUrl": settings.GRIDGOV_MAP_TILE_URL,
        "tileAttribution": getattr(settings, "GRIDGOV_MAP_TILE_ATTRIBUTION", ""),
    }


def action_forms(case, user, bound_form=None):
    """Blank forms of the actions this user may take now; a bound (failed) form replaces its own."""
    forms = []
    for name in services.available_actions(case, user):
        form_class = ACTION_FORMS.get(name)
        if form_class is None:
            continue
        if bound_form is not None and bound_form.action == name:
            forms.append(bound_form)
        else:
            forms.append(form_class(case=case, user=user))
    return forms


# Extra panels other apps add to the case page's action column: callables
# (case, user, now) -> {"template": name, **context} or None (e.g. supervision's whistle).
DETAIL_PANELS = []


def extra_panels(case, user, now):
    return [panel for panel in (build(case, user, now) for build in DETAIL_PANELS) if panel]


def build_detail(case, user, *, now, bound_form=None, revealed=False):
    attachments = list(case.attachments.all())
    photos_by_event = defaultdict(list)
    for attachment in attachments:
        if attachment.event_id:
            photos_by_event[attachment.event_id].append(attachment)
    events = list(case.events.select_related("actor").order_by("seq"))
    for event in events:
        event.label = event_label(event.action, event.data)
        event.photos = photos_by_event.get(event.pk, [])
    return {
        "case": case,
        "now": now,
        "clocks": clock_bars(case.clocks.all(), now),
        "events": events,
        "photos": attachments,
        "forms": action_forms(case, user, bound_form),
        "map_config": map_config(case),
        "is_open": case.status not in (Status.CLOSED, Status.REJECTED),
        "extra_panels": extra_panels(case, user, now),
        **reporter_context(case, user, revealed),
    }
