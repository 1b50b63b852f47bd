"""Each measure against a hand-computed fixture built with the real services."""

import datetime as dt

import h3
import pytest

from gridgov.assessment import measures
from gridgov.assessment.models import AttendanceStatus, MeetingKind
from gridgov.assessment.services import month_bounds, parse_month, record_meeting
from gridgov.cases import services
from gridgov.web.models import PatrolTrack
from gridgov.web.views_pwa import grid_cells

from .conftest import at

OCTOBER = month_bounds(parse_month("2026-10"))


def value(name, user):
    return measures.MEASURES[name].compute(user, *OCTOBER)[0]


def test_reports_count_own_patrol_reports_of_the_month(people, drive):
    drive.patrol_report(people.inspector, at(12))
    drive.patrol_report(people.inspector, at(13, 15))
    drive.patrol_report(people.inspector, at(31, 23, 59))  # local time: still October
    drive.patrol_report(people.inspector, at(30, 23, 0, month=9))  # September
    drive.patrol_report(people.inspector, at(2, 9, month=11))  # November
    drive.patrol_report(people.clerk, at(14), channel="window")  # someone else, another channel
    drive.patrol_report(people.colleague, at(14), point=(117.015, 36.69))  # a colleague

    assert value("reports", people.inspector) == 3
    assert value("reports", people.colleague) == 1


def test_verification_on_time_counts_only_verifications_inside_the_clock(people, drive):
    # 核查 clock: 1 working day from the handling feedback.
    quick = drive.to_handled(at(12))
    services.verify(quick, people.inspector, passed=True, at=at(12, 14))  # on time
    slow = drive.to_handled(at(13))
    services.verify(slow, people.inspector, passed=False, note="仍有垃圾", at=at(16, 10))  # 3 working days: late
    by_colleague = drive.to_handled(at(14))
    services.verify(by_colleague, people.grid_lead, passed=True, at=at(14, 11))  # someone else
    november = drive.to_handled(at(30, 9))
    services.verify(november, people.inspector, passed=True, at=at(2, 10, month=11))  # next month

    assert value("verifications_on_time", people.inspector) == 1
    assert value("verification_on_time_rate", people.inspector) == 0.5
    assert value("verifications_on_time", people.grid_lead) == 1


def test_verification_rate_without_verifications_is_zero_with_a_note(people):
    result = measures.MEASURES["verification_on_time_rate"].compute(people.inspector, *OCTOBER)
    assert result[0] == 0.0 and result[1]


def _track(user, key, when, cells, accuracy=10.0):
    points = []
    for index, cell in enumerate(cells):
        lat, lon = h3.cell_to_latlng(cell)
        points.append([lon, lat, accuracy, int(when.timestamp() * 1000) + index])
    return PatrolTrack.objects.create(
        key=key, user=user, region_code=user.scope.code, started_at=when, ended_at=when + dt.timedelta(hours=1),
        points=points, point_count=len(points),
    )


def test_patrol_coverage_is_the_share_of_grid_cells_touched_by_own_precise_points(people, region_tree):
    cells = sorted(grid_cells(region_tree["grid11"].boundary))
    assert len(cells) > 10
    _track(people.inspector, "t1", at(12), cells[0:2])
    _track(people.inspector, "t2", at(20), [cells[1], cells[2]])  # cells[1] counted once
    _track(people.inspector, "t3", at(21), [cells[3]], accuracy=120.0)  # too imprecise
    _track(people.inspector, "t4", at(28, month=9), [cells[4]])  # September
    _track(people.colleague, "t5", at(22), [cells[5]])  # someone else's track

    assert value("patrol_coverage", people.inspector) == round(3 / len(cells), 4)


def test_patrol_coverage_of_a_grid_lead_spans_the_grids_of_their_community(people, region_tree):
    cells = sorted(grid_cells(region_tree["grid11"].boundary))
    all_cells = grid_cells(region_tree["grid11"].boundary) | grid_cells(region_tree["grid12"].boundary)
    _track(people.grid_lead, "lead", at(12), cells[:4])
    assert value("patrol_coverage", people.grid_lead) == round(4 / len(all_cells), 4)


def test_meeting_and_training_attendance(people, region_tree):
    community = region_tree["community1"]

    def meeting(kind, when, status):
        record_meeting(
            people.secretary, kind=kind, region=community, date=when, topic="例会",
            attendance={people.inspector: status, people.colleague: AttendanceStatus.PRESENT},
        )

    meeting(MeetingKind.WEEKLY, dt.date(2026, 10, 15), AttendanceStatus.PRESENT)
    meeting(MeetingKind.WEEKLY, dt.date(2026, 10, 22), AttendanceStatus.ABSENT)
    meeting(MeetingKind.WEEKLY, dt.date(2026, 10, 29), AttendanceStatus.LEAVE)
    meeting(MeetingKind.WEEKLY, dt.date(2026, 9, 30), AttendanceStatus.PRESENT)
    meeting(MeetingKind.TRAINING, dt.date(2026, 10, 31), AttendanceStatus.PRESENT)

    assert value("meetings_attended", people.inspector) == 1
    assert value("trainings_attended", people.inspector) == 1
    assert value("meetings_attended", people.colleague) == 3


def test_callbacks_without_any_callback_count_zero(people):  # model present or not: 0
    result = measures.MEASURES["callbacks"].compute(people.inspector, *OCTOBER)
    assert result[0] == 0


@pytest.mark.parametrize("name", sorted(measures.MEASURES))
def test_every_measure_has_a_label_and_a_kind(name):
    item = measures.MEASURES[name]
    assert str(item.label) and item.kind in {"count", "ratio"}


def test_callbacks_count_the_ones_this_person_completed_in_the_month(people, drive):
    from gridgov.callbacks.models import CallbackResult
    from gridgov.callbacks.services import record_result, schedule

    lead = people.dispatcher  # a centre role: 受理员/派遣员/值班长 make callbacks
    closed = []
    for day in (12, 13, 14):
        case = drive.to_handled(at(day))
        case = services.verify(case, people.inspector, passed=True, at=at(day, 11))
        closed.append(services.close(case, people.shift_lead, at=at(day, 12)))
    record_result(schedule(closed[0]), lead, result=CallbackResult.SATISFIED, at=at(15, 10))
    record_result(schedule(closed[1]), lead, result=CallbackResult.UNSATISFIED, note="仍有异味", at=at(16, 10))
    record_result(schedule(closed[2]), lead, result=CallbackResult.SATISFIED, at=at(2, 10, month=11))  # November

    assert value("callbacks", lead) == 2
    assert value("callbacks", people.inspector) == 0

