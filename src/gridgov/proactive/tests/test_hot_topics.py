"""Ranking and trend of the hot-topics report against the hand-counted HISTORY."""

import datetime as dt

import pytest

from gridgov.cases.models import Case
from gridgov.core.errors import ValidationFailed
from gridgov.proactive.hot_topics import build_report, cell_feature

from .conftest import P1, P2, P3, SHANGHAI, cell


def report_for(user, **kwargs):
    kwargs.setdefault("months", 2)
    return build_report(Case.objects.restrict(user, "view"), "2026-10", **kwargs)


def rows(items, *fields):
    return [tuple(getattr(row, name) for name in fields) for row in items]


def test_totals_and_change(history, crew):
    report = report_for(crew.leader)
    assert (report.total_current, report.total_previous) == (10, 8)
    assert report.change_pct == 25.0


def test_categories_ranked_with_change(history, crew, kinds):
    report = report_for(crew.leader)
    assert rows(report.categories, "label", "current", "previous", "change_pct") == [
        ("暴露垃圾", 6, 2, 200.0),
        ("机动车乱停放", 4, 6, -33.3),
    ]


def test_cells_grids_and_topics(history, crew, region_tree):
    report = report_for(crew.leader)
    assert rows(report.cells, "h3_cell", "current", "previous") == [(cell(P1), 5, 2), (cell(P3), 3, 6), (cell(P2), 2, 0)]
    assert rows(report.grids, "grid_id", "current", "previous") == [
        (region_tree["grid11"].pk, 5, 2), (region_tree["grid21"].pk, 3, 6), (region_tree["grid12"].pk, 2, 0),
    ]
    assert rows(report.topics, "label", "h3_cell", "current", "previous") == [
        (f"暴露垃圾 · {region_tree['grid11'].name}", cell(P1), 4, 2),
        (f"机动车乱停放 · {region_tree['grid21'].name}", cell(P3), 3, 6),
        (f"暴露垃圾 · {region_tree['grid12'].name}", cell(P2), 2, 0),
        (f"机动车乱停放 · {region_tree['grid11'].name}", cell(P1), 1, 0),
    ]
    assert report.topics[2].change_pct is None  # nothing before: no percentage


def test_new_hot_spots_are_cells_that_were_quiet_before(history, crew):
    report = report_for(crew.leader)
    assert rows(report.new_hot_spots, "h3_cell", "current", "previous") == [(cell(P1), 5, 2)]
    assert [row.is_new for row in report.cells] == [True, False, False]


def test_trend_per_month_over_both_periods(history, crew):
    trend = report_for(crew.leader).trend
    assert trend["months"] == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert trend["total"] == [4, 4, 4, 6]
    assert trend["series"] == [
        {"name": "暴露垃圾", "data": [1, 1, 3, 3]},
        {"name": "机动车乱停放", "data": [3, 3, 1, 3]},
    ]


def test_top_limits_each_ranking(history, crew):
    report = report_for(crew.leader, top=1)
    assert len(report.categories) == len(report.cells) == len(report.topics) == 1


def test_longer_period_moves_the_window(history, crew):
    report = report_for(crew.leader, months=4)  # Jul-Oct against Mar-Jun
    assert (report.total_current, report.total_previous) == (18, 1)


def test_report_is_restricted_to_the_viewers_scope(history, crew):
    report = report_for(crew.far_secretary)
    assert rows(report.cells, "h3_cell", "current", "previous") == [(cell(P3), 3, 6)]
    assert report_for(crew.secretary).total_current == 7


@pytest.mark.parametrize("kwargs,field", [({"months": 0}, "months"), ({"months": 13}, "months"), ({"top": "x"}, "top")])
def test_bad_parameters_name_the_field(crew, kwargs, field):
    with pytest.raises(ValidationFailed) as caught:
        report_for(crew.leader, **kwargs)
    assert field in caught.value.fields


def test_cell_feature_is_a_closed_polygon(history, crew):
    feature = cell_feature(report_for(crew.leader).cells[0])
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    assert feature["properties"]["current"] == 5


def test_command_prints_the_report(history):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("hot-topics", "--month", "2026-10", "--months", "2", stdout=out)
    text = out.getvalue()
    assert "10 cases (previous period 8, +25.0%)" in text
    assert "1. 暴露垃圾 · " in text and f"[{cell(P1)}]: 4 (previous 2, +100.0%)" in text
    out = io.StringIO()
    call_command("hot-topics", "--month", "2026-10", "--months", "2", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert [row["current"] for row in data["categories"]] == [6, 4]
    assert data["trend"]["total"] == [4, 4, 4, 6]


def test_command_refuses_a_bad_month(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("hot-topics", "--month", "October")


def test_report_for_a_user_is_cached_per_scope(history, crew, django_assert_num_queries):
    from gridgov.proactive.hot_topics import report_for

    first = report_for(crew.leader, "2026-10", months=2)
    with django_assert_num_queries(0):
        again = report_for(crew.leader, "2026-10", months=2)
    assert (again.total_current, again.computed_at) == (first.total_current, first.computed_at)
    assert report_for(crew.far_secretary, "2026-10", months=2).total_current == 3  # another scope, its own report
    assert report_for(crew.leader, "2026-10", months=2, query="停放").total_current == 4


def test_proactive_cases_do_not_count_as_demand(history, crew, kinds):
    from gridgov.proactive.services import open_proactive_case

    before = report_for(crew.leader)
    october_28 = dt.datetime(2026, 10, 28, 10, tzinfo=SHANGHAI)
    open_proactive_case(crew.dispatcher, month="2026-10", category=kinds.garbage, h3_cell=cell(P1), at=october_28)
    after = report_for(crew.leader)
    assert (after.total_current, after.topics[0].current) == (before.total_current, before.topics[0].current) == (10, 4)

