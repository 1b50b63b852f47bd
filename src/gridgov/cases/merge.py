"""Merging a duplicate report into another case (重复件合并, issue 4 item 5).

The duplicate leaves every queue as status "rejected" (不予立案, a final status) with
`merged_into` set: adding a status value would ripple through every status table, filter
and test (docs/decisions/0008-merge-as-linked-rejection.md). Both cases get one timeline
event each (version + 1 each), the duplicate's reporters are attached to the surviving case
(triage.MergedReporter, masked like the case's own reporter), and the surviving case's
立案+派遣 clock starts at the earlier report.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.catalog import worktime
from gridgov.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from gridgov.org.permissions import require

from . import services
from .clocks import warning_point
from .models import OPEN_STATUSES, Case, CaseClock, ClockKind, Status

# A case may be merged (either side) while it is still being worked on.
MERGEABLE = (*OPEN_STATUSES, Status.PARKED)


def merge_cases(duplicate, into, actor, *, note="", at=None, expected_version=None, into_expected_version=None):
    """Merge `duplicate` into `into`; returns the surviving case (fresh instance).

    Dispatcher or shift lead, both cases in scope (`Forbidden`), neither closed, rejected
    or already merged (`IllegalTransition` code "not_mergeable"), not the same case
    (`ValidationFailed` field "into").
    """
    from gridgov.triage import permissions  # noqa: F401  (registers case.merge)

    note = services._note(note)
    duplicate_pk, into_pk = services._pk(duplicate), services._pk(into)
    if duplicate_pk == into_pk:
        raise ValidationFailed.field("into", _("A case cannot be merged into itself."), code="same_case")
    with transaction.atomic():
        locked = _lock_both(duplicate_pk, into_pk)
        source, target = locked[duplicate_pk], locked[into_pk]
        for case in (source, target):
            require(actor, "case.merge", case)
        _check_version(source, expected_version)
        _check_version(target, into_expected_version)
        for case in (source, target):
            _check_mergeable(case)
        at = at or timezone.now()
        source_step = services._Transition(source, actor, "merge", at)
        target_step = services._Transition(target, actor, "merge_in", at)
        kept = _keep_reporters(source, target, at)
        clock_data = _start_at_earliest_report(target_step, _first_report_time(source))
        source.merged_into = target
        source.merged_at = at
        source.reject_reason = note
        source_step.clocks.stop(at)
        source_step.finish(
            to_status=Status.REJECTED, note=note, data={"merged_into": target.pk, "merged_into_number": target.number}
        )
        data = {"merged": source.pk, "merged_number": source.number, "reporters_kept": kept, **clock_data}
        return target_step.finish(note=note, data=data)


def _lock_both(*pks):
    """Both rows locked in primary-key order (two merges in opposite directions cannot deadlock)."""
    rows = Case.objects.select_for_update(of=("self",)).select_related("category").filter(pk__in=pks).order_by("pk")
    found = {case.pk: case for case in rows}
    if len(found) != len(pks):
        raise NotFound(_("No such case."), code="case_not_found")
    return found


def _check_version(case, expected):
    if expected not in (None, "") and services._version(expected) != case.version:
        raise Conflict(
            _("Someone changed case %(number)s first (now version %(version)d); reload and try again.")
            % {"number": case.number, "version": case.version},
            code="stale",
        )


def _check_mergeable(case):
    if case.status not in MERGEABLE or case.merged_into_id is not None:
        raise IllegalTransition(
            _("Case %(number)s cannot be merged: its status is “%(status)s”.")
            % {"number": case.number, "status": _("Merged") if case.merged_into_id else case.get_status_display()},
            code="not_mergeable",
        )


def _keep_reporters(source, target, at):
    """Attach the duplicate's reporter, and the reporters it had itself absorbed, to `target`."""
    from gridgov.triage.models import MergedReporter

    rows = [
        MergedReporter(
            case=target,
            source_case=source,
            name=source.reporter_name,
            phone=source.reporter_phone,
            channel=source.channel,
            reported_at=source.created_at,
            merged_at=at,
        )
    ]
    for earlier in MergedReporter.objects.filter(case=source):
        rows.append(
            MergedReporter(
                case=target,
                source_case_id=earlier.source_case_id,
                name=earlier.name,
                phone=earlier.phone,
                channel=earlier.channel,
                reported_at=earlier.reported_at,
                merged_at=at,
            )
        )
    MergedReporter.objects.bulk_create(rows)
    return len(rows)


def _first_clock(case):
    return CaseClock.objects.filter(case_id=case.pk, kind=ClockKind.ACCEPT_DISPATCH).order_by("started_at", "id").first()


def _first_report_time(case):
    """When the matter was first reported: the case's creation, or an earlier report merged into it."""
    clock = _first_clock(case)
    return min(case.created_at, clock.started_at) if clock else case.created_at


def _start_at_earliest_report(step, reported_at):
    """Move the start of the surviving case's first 立案+派遣 clock back to `reported_at`.

    The deadline is recomputed from the clock's own limit; a clock that already stopped is
    re-judged (it may turn out to have been late). A clock paused by parking keeps its
    successor as it is.
    """
    stored = _first_clock(step.case)
    if stored is None or reported_at >= stored.started_at:
        return {}
    clock = next((running for running in step.clocks.running if running.pk == stored.pk), stored)
    moved_from = clock.started_at
    clock.started_at = reported_at
    clock.due_at = worktime.add_time(reported_at, clock.limit_value, clock.limit_unit)
    clock.warn_at = warning_point(reported_at, clock.due_at, clock.limit_unit)
    if clock.stopped_at is not None and not clock.paused:
        clock.overdue = clock.stopped_at > clock.due_at
        step.case.was_overdue = step.case.was_overdue or clock.overdue
    clock.save(update_fields=["started_at", "due_at", "warn_at", "overdue"])
    return {"clock_started_from": moved_from.isoformat(), "clock_started_at": reported_at.isoformat()}
