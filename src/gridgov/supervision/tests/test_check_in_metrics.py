"""吹哨报到 in the metrics: per department, summoned / on time / late and the check-in rate
(gridgov.metrics.services.check_ins), against hand-counted whistles."""

import datetime as dt

from gridgov.metrics.services import check_ins
from gridgov.supervision import services

from .conftest import MONDAY_9

DAY = MONDAY_9.date()


def blow(case, actor, served, minutes=30):
    return services.blow_whistle(
        case, actor, lead_department=served.lead, co_departments=[served.co], reason="联合执法",
        check_in_minutes=minutes, at=MONDAY_9 + dt.timedelta(hours=1),
    )


def test_check_in_rate_per_department_in_the_period(flow, staff, served, whistlers):
    first, second = flow.to("handling"), flow.to("handling")
    blow(first, whistlers.grid_secretary, served)
    blow(second, whistlers.grid_secretary, served, minutes=10)
    services.check_in_case(first, staff.handler, at=MONDAY_9 + dt.timedelta(hours=1, minutes=10))  # on time
    services.check_in_case(second, staff.handler, at=MONDAY_9 + dt.timedelta(hours=1, minutes=11))  # late
    # The co-handling department never checks in (not yet marked late: that is the sweep's job).

    rows = {row["key"]: row for row in check_ins(DAY, DAY)}

    lead, co = rows[served.lead.pk], rows[served.co.pk]
    assert (lead["summoned"], lead["on_time"], lead["late"], lead["check_in_rate"]) == (2, 1, 1, 50.0)
    assert (co["summoned"], co["on_time"], co["late"], co["check_in_rate"]) == (2, 0, 0, 0.0)
    assert [row["key"] for row in check_ins(DAY, DAY)] == [served.co.pk, served.lead.pk]  # lowest rate first
    assert lead["name"] == served.lead.name


def test_whistles_outside_the_period_or_the_scope_are_not_counted(flow, staff, served, whistlers, quick_user, region_tree):
    from gridgov.org.roles import Role

    blow(flow.to("handling"), whistlers.grid_secretary, served)
    assert check_ins(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=7)) == []
    assert check_ins(DAY - dt.timedelta(days=7), DAY - dt.timedelta(days=1)) == []
    outsider = quick_user([Role.COMMUNITY_SECRETARY], scope=region_tree["community2"])
    assert check_ins(DAY, DAY, outsider) == []
    assert len(check_ins(DAY, DAY, whistlers.grid_secretary)) == 2


def test_metrics_page_shows_the_check_ins(client, flow, staff, served, whistlers):
    blow(flow.to("handling"), whistlers.grid_secretary, served)
    client.force_login(whistlers.community_secretary)
    response = client.get("/metrics/", {"period": "range", "start": DAY.isoformat(), "end": DAY.isoformat()})
    assert response.status_code == 200
    section = response.content.decode().split('data-testid="check-ins"')[1].split("</section>")[0]
    assert served.lead.name in section and served.co.name in section
    assert "0.0%" in section  # nobody has checked in yet
