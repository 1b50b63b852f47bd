"""Rules validation, sheet generation and regeneration, manual items, locking and scope."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from gridgov.assessment import services
from gridgov.assessment.models import (
    AssessmentRule,
    AttendanceStatus,
    MeetingKind,
    ScoreSheet,
    SheetEvent,
    SheetStatus,
)
from gridgov.core.errors import Forbidden, IllegalTransition, ValidationFailed
from gridgov.org.roles import Role

from .conftest import at


def sheet_of(user, month="2026-10"):
    return ScoreSheet.objects.get(user=user, month=services.parse_month(month))


# -- rules -----------------------------------------------------------------------------------
def test_rule_with_unknown_measure_is_refused_by_validation(db):
    rule = AssessmentRule(role=Role.GRID_INSPECTOR, measure="smiles", target=1, points=10)
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert "measure" in caught.value.message_dict


@pytest.mark.parametrize("field,bad", [("target", 0), ("target", -1), ("points", -5), ("weight", -1)])
def test_rule_numbers_are_validated(db, field, bad):
    values = {"role": Role.GRID_INSPECTOR, "measure": "reports", "target": 1, "points": 10, "weight": 1}
    values[field] = bad
    with pytest.raises(ValidationError) as caught:
        AssessmentRule(**values).full_clean()
    assert field in caught.value.message_dict


def test_generation_names_a_stored_rule_with_an_unknown_measure(people, inspector_rules):
    AssessmentRule.objects.filter(pk=inspector_rules[0].pk).update(measure="retired_measure")
    with pytest.raises(ValidationFailed) as caught:
        services.generate_sheets(people.secretary, "2026-10")
    assert caught.value.code == "unknown_measure"
    assert "measure" in caught.value.fields
    assert not ScoreSheet.objects.exists()


@pytest.mark.parametrize("value,expected", [(0, 0.0), (1, 10.0), (2, 20.0), (7, 20.0)])
def test_rule_score_is_pro_rata_up_to_the_target(db, value, expected):
    rule = AssessmentRule(role=Role.GRID_INSPECTOR, measure="reports", target=2, points=20, weight=1)
    assert services.rule_score(rule, value) == expected


def test_weight_scales_the_rule(db):
    rule = AssessmentRule(role=Role.GRID_INSPECTOR, measure="reports", target=2, points=20, weight=1.5)
    assert services.rule_score(rule, 1) == 15.0


@pytest.mark.parametrize("bad", ["2026", "2026-13", "October", "", None])
def test_bad_months_name_the_field(bad):
    with pytest.raises(ValidationFailed) as caught:
        services.parse_month(bad)
    assert "month" in caught.value.fields


# -- generation ------------------------------------------------------------------------------
def test_generation_scores_the_measured_work(people, drive, inspector_rules, region_tree):
    drive.patrol_report(people.inspector, at(12))
    drive.patrol_report(people.inspector, at(13))
    drive.patrol_report(people.inspector, at(14))
    case = drive.to_handled(at(12))
    from gridgov.cases import services as case_services

    case_services.verify(case, people.inspector, passed=True, at=at(12, 15))
    services.record_meeting(
        people.secretary, kind=MeetingKind.WEEKLY, region=region_tree["community1"], date=dt.date(2026, 10, 15),
        topic="第42周例会", attendance={people.inspector: AttendanceStatus.PRESENT},
    )

    result = services.generate_sheets(people.secretary, "2026-10", at=at(1, 9, month=11))

    assessed = {sheet.user_id for sheet in result["generated"]}
    # Community 1's inspectors only: not the far inspector, not the secretary herself.
    assert assessed == {people.inspector.pk, people.colleague.pk}
    sheet = sheet_of(people.inspector)
    scores = {line.measure: (line.value, line.score) for line in sheet.lines.all()}
    assert scores["reports"] == (3, 20.0)  # target 2: capped at full points
    assert scores["verification_on_time_rate"] == (1.0, 20.0)
    assert scores["patrol_coverage"] == (0.0, 0.0)
    assert scores["meetings_attended"] == (1, 2.5)  # 1 of 4
    assert scores["trainings_attended"] == (0, 0.0)
    assert scores["callbacks"] == (0, 0.0)
    assert sheet.computed_score == 42.5 and sheet.total_score == 42.5
    assert sheet.region_code == region_tree["grid11"].code
    assert SheetEvent.objects.filter(sheet=sheet, action="generate").count() == 1


def test_regeneration_replaces_computed_lines_and_keeps_manual_items(people, drive, inspector_rules):
    services.generate_sheets(people.secretary, "2026-10")
    sheet = sheet_of(people.inspector)
    services.add_manual_item(sheet, people.grid_lead, points=-3, reason="例会迟到")
    services.add_manual_item(sheet, people.secretary, points=5, reason="协助疫苗接种")
    drive.patrol_report(people.inspector, at(20))  # new work after the first run

    services.generate_sheets(people.secretary, "2026-10")

    sheet = sheet_of(people.inspector)
    assert sheet.lines.count() == len(inspector_rules)
    assert sheet.lines.get(measure="reports").score == 10.0
    assert sheet.manual_items.count() == 2
    assert sheet.manual_score == 2.0
    assert sheet.total_score == sheet.computed_score + 2.0 == 12.0


def test_locking_freezes_the_sheet(people, drive, inspector_rules):
    services.generate_sheets(people.secretary, "2026-10")
    sheet = services.lock_sheet(sheet_of(people.inspector), people.secretary, at=at(2, 10, month=11))
    assert sheet.status == SheetStatus.LOCKED and sheet.locked_by == people.secretary
    before = (sheet.total_score, list(sheet.lines.values_list("value", "score")))

    drive.patrol_report(people.inspector, at(20))
    result = services.generate_sheets(people.secretary, "2026-10")

    assert [s.pk for s in result["skipped_locked"]] == [sheet.pk]
    sheet.refresh_from_db()
    assert (sheet.total_score, list(sheet.lines.values_list("value", "score"))) == before
    with pytest.raises(IllegalTransition) as caught:
        services.add_manual_item(sheet, people.grid_lead, points=1, reason="补充")
    assert caught.value.code == "sheet_locked"
    with pytest.raises(IllegalTransition):
        services.lock_sheet(sheet, people.secretary)


def test_only_the_community_secretary_locks(people, inspector_rules):
    services.generate_sheets(people.secretary, "2026-10")
    sheet = sheet_of(people.inspector)
    for someone in (people.grid_lead, people.inspector, people.leader):
        with pytest.raises(Forbidden):
            services.lock_sheet(sheet, someone)
    with pytest.raises(Forbidden) as caught:
        services.lock_sheet(sheet, people.far_secretary)
    assert caught.value.code == "out_of_scope"
    assert sheet_of(people.inspector).status == SheetStatus.DRAFT


def test_manual_items_need_a_reason_and_sane_points(people, inspector_rules):
    services.generate_sheets(people.secretary, "2026-10")
    sheet = sheet_of(people.inspector)
    for points, reason, field in [(5, "", "reason"), (0, "无", "points"), (101, "多", "points"), ("x", "无", "points"),
                                  (2, "<b>好</b>", "reason")]:
        with pytest.raises(ValidationFailed) as caught:
            services.add_manual_item(sheet, people.grid_lead, points=points, reason=reason)
        assert field in caught.value.fields
    with pytest.raises(Forbidden):
        services.add_manual_item(sheet, people.inspector, points=5, reason="自评")
    assert sheet_of(people.inspector).manual_items.count() == 0


def test_nobody_adjusts_their_own_sheet(people, inspector_rules):
    AssessmentRule.objects.create(role=Role.GRID_LEAD, measure="reports", target=1, points=10)
    services.generate_sheets(people.secretary, "2026-10")
    with pytest.raises(Forbidden) as caught:
        services.add_manual_item(sheet_of(people.grid_lead), people.grid_lead, points=5, reason="自己加分")
    assert caught.value.code == "own_sheet"


def test_manual_item_idempotency_key_adds_once(people, inspector_rules):
    services.generate_sheets(people.secretary, "2026-10")
    sheet = sheet_of(people.inspector)
    first = services.add_manual_item(sheet, people.grid_lead, points=2, reason="好人好事", idempotency_key="k-1")
    again = services.add_manual_item(sheet, people.grid_lead, points=2, reason="好人好事", idempotency_key="k-1")
    assert first.pk == again.pk
    assert sheet_of(people.inspector).manual_score == 2.0


def test_inspectors_cannot_generate(people, inspector_rules):
    with pytest.raises(Forbidden):
        services.generate_sheets(people.inspector, "2026-10")


# -- scope -----------------------------------------------------------------------------------
def test_scope_of_sheets(people, inspector_rules):
    services.generate_sheets(people.leader, "2026-10")
    visible = lambda user: set(ScoreSheet.objects.restrict(user, "view").values_list("user_id", flat=True))  # noqa: E731
    everyone = {people.inspector.pk, people.colleague.pk, people.far_inspector.pk}
    assert visible(people.leader) == everyone
    assert visible(people.inspector) == {people.inspector.pk}
    assert visible(people.secretary) == {people.inspector.pk, people.colleague.pk}
    assert visible(people.far_secretary) == {people.far_inspector.pk}
    assert visible(people.clerk) == set()


# -- meetings --------------------------------------------------------------------------------
def test_meeting_attendees_must_belong_to_the_community(people, region_tree):
    with pytest.raises(ValidationFailed) as caught:
        services.record_meeting(
            people.secretary, kind=MeetingKind.WEEKLY, region=region_tree["community1"], date="2026-10-15",
            topic="例会", attendance={people.far_inspector: AttendanceStatus.PRESENT},
        )
    assert caught.value.code == "not_member"


def test_meeting_fields_are_validated(people, region_tree):
    with pytest.raises(ValidationFailed) as caught:
        services.record_meeting(people.secretary, kind="party", region=None, date="yesterday", topic="x")
    assert set(caught.value.fields) == {"kind", "region", "date"}
    with pytest.raises(Forbidden):
        services.record_meeting(
            people.far_secretary, kind=MeetingKind.WEEKLY, region=region_tree["community1"], date="2026-10-15", topic="x"
        )
    with pytest.raises(Forbidden):
        services.record_meeting(
            people.inspector, kind=MeetingKind.WEEKLY, region=region_tree["grid11"], date="2026-10-15", topic="x"
        )


def test_meeting_idempotency_key(people, region_tree):
    kwargs = dict(kind=MeetingKind.TRAINING, region=region_tree["community1"], date="2026-10-20", topic="网格学堂")
    first, created = services.record_meeting(people.secretary, idempotency_key="m-1", **kwargs)
    again, created_again = services.record_meeting(people.secretary, idempotency_key="m-1", **kwargs)
    assert created and not created_again and first.pk == again.pk


def test_command_generates_as_the_named_account(people, inspector_rules):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("assessment-sheets", "--month", "2026-10", "--as", people.secretary.username, stdout=out)
    assert "2 sheets computed" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("assessment-sheets", "--month", "2026-10", "--as", people.inspector.username)


def test_defaults_are_shipped_for_inspectors_and_leads(db):
    rules = AssessmentRule.objects.filter(is_active=True)
    for role in (Role.GRID_INSPECTOR, Role.GRID_LEAD):
        mine = rules.filter(role=role)
        assert mine.count() == 5
        assert sum(rule.points * rule.weight for rule in mine) == 100
        for rule in mine:
            rule.full_clean()


def test_amend_meeting_replaces_attendance_and_checks_members(people, region_tree):
    meeting, _ = services.record_meeting(
        people.secretary, kind=MeetingKind.WEEKLY, region=region_tree["community1"], date="2026-10-15", topic="例会",
        attendance={people.inspector: AttendanceStatus.ABSENT},
    )
    amended = services.amend_meeting(
        meeting, people.grid_lead, topic="例会", minutes="补记", attendance={people.inspector: AttendanceStatus.PRESENT}
    )
    assert amended.amended_by == people.grid_lead and amended.minutes == "补记"
    assert list(amended.attendance.values_list("status", flat=True)) == [AttendanceStatus.PRESENT]
    with pytest.raises(ValidationFailed):
        services.amend_meeting(meeting, people.secretary, topic="例会", attendance={people.far_inspector: "present"})
    with pytest.raises(Forbidden):
        services.amend_meeting(meeting, people.far_secretary, topic="例会")
    assert list(meeting.attendance.values_list("status", flat=True)) == [AttendanceStatus.PRESENT]
