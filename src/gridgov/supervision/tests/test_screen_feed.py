"""The big screen's 应急指挥 panel lists active whistles in its scope."""

from gridgov.screen.overview import active_whistles
from gridgov.supervision import services


def test_active_whistles_for_the_screen(flow, staff, served, whistlers, region_tree):
    case = flow.to("handling")
    assert active_whistles(region_tree["subdistrict"].code) == []
    services.blow_whistle(case, whistlers.grid_secretary, lead_department=served.lead, co_departments=[served.co], reason="联合执法")
    services.check_in_case(case, staff.handler)
    [row] = active_whistles(region_tree["subdistrict"].code)
    assert row["number"] == case.number and served.lead.name in row["title"]
    assert (row["summoned"], row["checked_in"], row["late"]) == (2, 1, 0)
    assert active_whistles(region_tree["community2"].code) == []  # another community's screen
