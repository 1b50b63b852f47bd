"""Derived figures of changed cases: marked in the transition, refreshed in batches (decision 0012)."""

import pytest
from django.db import transaction

from gridgov.cases import changes, services
from gridgov.cases.models import ChangedCase, Status
from gridgov.core.testing import retry_while_locked
from gridgov.metrics.models import CaseFact
from gridgov.screen.daycounts import CaseContribution
from gridgov.screen.models import LiveEvent


def test_every_transition_marks_its_case_and_the_worker_refresh_consumes_the_marks(flow, staff):
    case = flow.to(Status.DISPATCHED)
    marked = list(ChangedCase.objects.values_list("case_id", flat=True))
    assert marked and set(marked) == {case.pk}
    assert not CaseFact.objects.exists() and not CaseContribution.objects.exists()
    assert changes.refresh_all() == len(marked)
    assert changes.pending_count() == 0
    assert CaseFact.objects.get(case=case).dispatched
    assert CaseContribution.objects.get(case=case).flags["dispatched"] == 1


def test_a_transition_that_rolls_back_leaves_no_mark_and_no_live_event(flow, staff):
    case = flow.new()
    marks, events = ChangedCase.objects.count(), LiveEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.reject(case, staff.dispatcher, reason="重复上报")
        raise RuntimeError("the caller's transaction fails after the transition")
    assert ChangedCase.objects.count() == marks and LiveEvent.objects.count() == events


def test_a_refresh_takes_at_most_its_limit_and_each_case_once(flow):
    cases = [flow.new() for _ in range(3)]
    assert changes.refresh_pending(limit=2) == 2
    assert changes.pending_count() == 1
    assert changes.refresh_pending(limit=2) == 1
    assert set(CaseFact.objects.values_list("case_id", flat=True)) == {case.pk for case in cases}


def test_on_sqlite_a_refresh_batch_is_small_because_it_holds_the_one_write_lock(flow):
    """Every create and transition on SQLite waits while a refresh transaction runs."""
    from django.db import connection

    flow.new()
    changes.mark_many(range(10**6, 10**6 + 600))  # marks of cases long deleted: cheap to refresh
    expected = changes.SQLITE_LIMIT if connection.vendor == "sqlite" else 601
    assert changes.refresh_pending() == expected
    assert changes.pending_count() == 601 - expected
    assert changes.refresh_all() == 601 - expected


def test_a_mark_of_a_deleted_case_is_consumed_without_error(flow):
    case = flow.new()
    changes.mark_many([case.pk + 1000])
    assert changes.refresh_all() == 2
    assert list(CaseFact.objects.values_list("case_id", flat=True)) == [case.pk]


@pytest.mark.django_db(transaction=True)
def test_the_worker_loop_refreshes_within_its_period(flow):
    case = flow.new()
    loop = changes.RefreshLoop(seconds=0.05)

    def refreshed():
        # The test database is in memory with a shared cache: a read that meets the loop's
        # write transaction fails at once with "table is locked" instead of waiting.
        return retry_while_locked(lambda: CaseFact.objects.filter(case=case).exists() and changes.pending_count() == 0)

    loop.start()
    try:
        for _ in range(200):
            if refreshed():
                break
            loop._stop_event.wait(0.05)
    finally:
        loop.stop()
    assert refreshed()
