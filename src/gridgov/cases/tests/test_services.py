"""The case lifecycle through the services: transitions, timeline, clocks, counters."""

import datetime as dt

import pytest

from gridgov.cases import services
from gridgov.cases.models import Case, CaseClock, CaseEvent, Status
from gridgov.cases.timeline import verify_chain

from .conftest import IN_GRID_11, MONDAY_9

pytestmark = pytest.mark.django_db


def test_full_lifecycle_writes_one_event_per_transition(flow, staff, department):
    case = flow.to(Status.CLOSED)
    case = services.rate(case, staff.clerk, rating=3, comment="很满意", at=MONDAY_9 + dt.timedelta(hours=2))
    events = list(case.events.order_by("seq"))
    assert [e.action for e in events] == ["create", "accept", "dispatch", "sign", "handle", "verify", "close", "rate"]
    assert [e.to_status for e in events] == [
        "reported", "accepted", "dispatched", "handling", "handled", "verified", "closed", "closed"
    ]
    assert case.version == 8
    assert case.rating == 3
    assert case.department == department and case.handler == staff.handler
    assert verify_chain(case)
    assert not CaseClock.objects.filter(case=case, stopped_at__isnull=True).exists()
    assert case.due_at is None
