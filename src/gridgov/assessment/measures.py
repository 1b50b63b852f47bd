"""The fixed registry of measures an assessment rule can score.

Each measure returns `(value, note)` for one staff member and one month: the period is
[start, end) in aware datetimes. Ratios are 0..1, counts are whole numbers.
"""

from dataclasses import dataclass
from typing import Callable

import h3
from django.apps import apps
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    kind: str  # "count" or "ratio"
    compute: Callable


MEASURES = {}


def measure(name, label, kind="count"):
    def register(function):
        MEASURES[name] = Measure(name, label, kind, function)
        return function

    return register


def measure_choices():
    return [(name, item.label) for name, item in MEASURES.items()]


@measure("reports", _("Reports made on patrol"))
def reports(user, start, end):
    """Cases this person reported through the grid patrol channel (网格巡查)."""
    from gridgov.cases.models import Case, Channel

    count = Case.objects.filter(
        reported_by_id=user.pk, channel=Channel.GRID_PATROL, created_at__gte=start, created_at__lt=end
    ).count()
    return count, ""


def _verifications(user, start, end):
    """This person's verification events in the period, each flagged `on_time` when the
    核查 clock it stopped had not run out."""
    from gridgov.cases.models import CaseClock, CaseEvent, ClockKind

    on_time_clock = CaseClock.objects.filter(
        case_id=OuterRef("case_id"), kind=ClockKind.VERIFY, stopped_at=OuterRef("at"), overdue=False
    )
    return CaseEvent.objects.filter(action="verify", actor_id=user.pk, at__gte=start, at__lt=end).annotate(
        on_time=Exists(on_time_clock)
    )


@measure("verifications_on_time", _("Verifications within the verification deadline"))
def verifications_on_time(user, start, end):
    return _verifications(user, start, end).filter(on_time=True).count(), ""


@measure("verification_on_time_rate", _("Share of verifications within the deadline"), kind="ratio")
def verification_on_time_rate(user, start, end):
    events = _verifications(user, start, end)
    total = events.count()
    if not total:
        return 0.0, str(_("No verifications in this month."))
    return round(events.filter(on_time=True).count() / total, 4), ""


@measure("patrol_coverage", _("Patrol coverage of the grid"), kind="ratio")
def patrol_coverage(user, start, end):
    """The share of the H3 cells of this person's grids that their own patrol tracks of the
    month touched, computed as the inspector app computes it (precise points, resolution 10)."""
    from gridgov.geo.models import Level, Region
    from gridgov.web.models import PatrolTrack
    from gridgov.web.views_pwa import grid_cells

    if not user.scope_id:
        return 0.0, str(_("No area of responsibility."))
    grids = Region.objects.filter(level=Level.GRID, code__startswith=user.scope.code, boundary__isnull=False)
    cells = set()
    for grid in grids.only("boundary"):
        cells |= grid_cells(grid.boundary)
    if not cells:
        return 0.0, str(_("No grid boundary in the area of responsibility."))
    tracks = PatrolTrack.objects.filter(user_id=user.pk, started_at__gte=start, started_at__lt=end).only("points")
    visited = set()
    for track in tracks.iterator(chunk_size=200):
        visited.update(_precise_cells(track.points))
    return round(len(cells & visited) / len(cells), 4), ""


def _precise_cells(points):
    from gridgov.web.views_pwa import COVERAGE_MAX_ACCURACY_M, COVERAGE_RESOLUTION

    return {
        h3.latlng_to_cell(lat, lon, COVERAGE_RESOLUTION)
        for lon, lat, accuracy, _at in points
        if accuracy <= COVERAGE_MAX_ACCURACY_M
    }


@measure("callbacks", _("Callbacks made (回访)"))
def callbacks(user, start, end):
    """Callbacks this person completed (callbacks.Callback done_by / done_at) in the month."""
    try:
        model = apps.get_model("callbacks", "Callback")
    except LookupError:
        return 0, str(_("The callbacks app is not installed yet; counted as 0."))
    return model.objects.filter(done_by_id=user.pk, done_at__gte=start, done_at__lt=end).count(), ""


def _attended(user, start, end, kind):
    from .models import Attendance, AttendanceStatus

    return Attendance.objects.filter(
        user_id=user.pk,
        status=AttendanceStatus.PRESENT,
        meeting__kind=kind,
        meeting__date__gte=start.date(),
        meeting__date__lt=end.date(),
    ).count()


@measure("meetings_attended", _("Weekly grid meetings attended"))
def meetings_attended(user, start, end):
    from .models import MeetingKind

    return _attended(user, start, end, MeetingKind.WEEKLY), ""


@measure("trainings_attended", _("Grid school trainings attended"))
def trainings_attended(user, start, end):
    from .models import MeetingKind

    return _attended(user, start, end, MeetingKind.TRAINING), ""
