"""What one transition costs in statements, and that the leaner path changes nothing else:
the scope is decided on the locked row (no query), only changed columns are written, and
the screen's live receiver reads no table."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.cases import services
from gridgov.cases.models import Case, Status
from gridgov.cases.timeline import verify_chain
from gridgov.core.errors import Forbidden

from .conftest import MONDAY_9

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def statements(run):
    with CaptureQueriesContext(connection) as captured:
        result = run()
    return result, [query["sql"] for query in captured.captured_queries]


def test_sign_runs_eight_statements(flow, staff):
    case = flow.to(Status.DISPATCHED)
    assert staff.handler.roles  # loaded once per user object, not per transition
    signed, sql = statements(lambda: services.sign(case.pk, staff.handler, at=MONDAY_9 + 10 * MINUTE))
    kinds = [statement.split(" ")[0] + " " + statement.split('"')[1] if '"' in statement else statement[:22]
             for statement in sql]
    # SAVEPOINT (inside the test's transaction), lock the case, its running clocks, stop
    # the 签收 clock, the case's changed columns, the previous event, the event, the
    # changed-case mark, the live feed row (on PostgreSQL with its pg_notify in the same
    # statement), RELEASE. Before: one more, the scope check (SELECT EXISTS on the case again).
    assert len(sql) == 10, kinds
    assert not any(statement.startswith("SELECT pg_notify") for statement in sql)
    assert not any("EXISTS" in statement for statement in sql)
    assert signed.status == Status.HANDLING and signed.version == case.version + 1
    assert verify_chain(signed)


def test_only_changed_columns_are_updated(flow, staff):
    case = flow.to(Status.DISPATCHED)
    _signed, sql = statements(lambda: services.sign(case.pk, staff.handler, at=MONDAY_9 + 10 * MINUTE))
    update = next(statement for statement in sql if statement.startswith('UPDATE "cases_case" '))
    assignments = update.split(" SET ", 1)[1].rsplit(" WHERE ", 1)[0]
    columns = {part.split(" = ")[0].strip('"') for part in assignments.split(", ")}
    assert {"status", "handler_id", "signed_at", "version", "updated_at"} <= columns
    assert columns <= {"status", "handler_id", "signed_at", "version", "updated_at", "due_at", "warn_at", "was_overdue"}
    stored = Case.objects.get(pk=case.pk)
    assert stored.status == Status.HANDLING and stored.handler == staff.handler
    assert stored.signed_at == MONDAY_9 + 10 * MINUTE and stored.version == case.version + 1


def test_an_update_made_elsewhere_is_not_overwritten(flow, staff):
    """The old full-row save wrote back every column as read at the lock."""
    case = flow.to(Status.DISPATCHED)
    original = services._lock  # the row as the transition reads it

    def lock_then_change_elsewhere(pk):
        locked = original(pk)
        Case.objects.filter(pk=pk).update(address="幸福路2号")  # e.g. another app's column
        return locked

    services._lock = lock_then_change_elsewhere
    try:
        services.sign(case.pk, staff.handler, at=MONDAY_9 + 10 * MINUTE)
    finally:
        services._lock = original
    assert Case.objects.get(pk=case.pk).address == "幸福路2号"


def test_a_case_moved_out_of_scope_is_refused_on_the_locked_row(flow, staff):
    case = flow.to(Status.ACCEPTED)
    Case.objects.filter(pk=case.pk).update(region_code="999999")  # outside every staff scope
    with pytest.raises(Forbidden) as refusal:
        services.dispatch(case.pk, staff.dispatcher, department=case.category.default_department_id)
    assert refusal.value.code == "out_of_scope"
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED


def test_the_screen_receiver_writes_one_row_and_reads_nothing(flow, staff):
    from gridgov.screen.models import LiveEvent
    from gridgov.screen.signals import on_case_recorded

    case = flow.to(Status.DISPATCHED)
    on_case_recorded(sender=Case, case=case, event="dispatch")  # fills the per-process caches
    before = LiveEvent.objects.count()
    _result, sql = statements(lambda: on_case_recorded(sender=Case, case=case, event="dispatch"))
    writes = [statement for statement in sql if statement.startswith("INSERT")]
    others = [statement for statement in sql if not statement.startswith("INSERT") and "pg_notify" not in statement]
    assert len(writes) == 1 and others == [], sql
    assert LiveEvent.objects.count() == before + 1
