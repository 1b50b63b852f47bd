"""create_cases_bulk: the same cases, clocks and events as create_case one by one, written
set-based; the same errors (with the intake's index), scope rules and idempotency."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.cases import services
from gridgov.cases.bulk import create_cases_bulk
from gridgov.cases.models import Case, CaseClock, CaseEvent, CaseNumberSequence
from gridgov.cases.signals import case_changed
from gridgov.cases.timeline import verify_chain
from gridgov.core.errors import Forbidden, ValidationFailed
from gridgov.geo import addresses
from gridgov.geo.coords import wgs84_to_gcj02
from gridgov.geo.models import Place, PlaceKind

from .conftest import FAR_AWAY, IN_GRID_11, IN_GRID_21, IN_SUBDISTRICT_NO_GRID, MONDAY_9

pytestmark = pytest.mark.django_db

# Case columns that must differ between two creations of the same intake.
OWN_COLUMNS = {"id", "number", "idempotency_key", "updated_at"}
CLOCK_COLUMNS = ["kind", "limit_value", "limit_unit", "started_at", "due_at", "warn_at", "stopped_at", "overdue", "paused"]
EVENT_COLUMNS = ["seq", "at", "actor_id", "action", "from_status", "to_status", "note", "data", "prev_hash"]


@pytest.fixture(autouse=True)
def _fresh_address_index():
    addresses.forget()
    yield
    addresses.forget()


@pytest.fixture
def places(region_tree):
    Place.objects.create(name="阳光花园", kind=PlaceKind.ESTATE, grid=region_tree["grid11"], lon=117.005, lat=36.69)
    Place.objects.create(name="西区路", kind=PlaceKind.ROAD, grid=region_tree["grid21"], lon=117.025, lat=36.685)


def intakes(categories):
    """Intakes covering every way create_case places and classifies a case."""
    gcj_lon, gcj_lat = wgs84_to_gcj02(*IN_GRID_11)
    return [
        {"channel": "hotline", "description": "路边有暴露垃圾", "category": categories.garbage, "lon": IN_GRID_11[0], "lat": IN_GRID_11[1]},
        {"channel": "hotline", "description": "坐标是火星坐标", "lon": gcj_lon, "lat": gcj_lat, "crs": "gcj02"},
        {"channel": "hotline", "description": "网格外", "lon": IN_SUBDISTRICT_NO_GRID[0], "lat": IN_SUBDISTRICT_NO_GRID[1]},
        {"channel": "hotline", "description": "很远", "lon": FAR_AWAY[0], "lat": FAR_AWAY[1], "category": categories.water.pk},
        {"channel": "hotline", "description": "按小区名定位", "address": "天桥区阳光花园3号楼", "reporter_name": "张三"},
        {"channel": "hotline", "description": "按社区定位", "address": "西区社区某处", "reporter_phone": "13900001111"},
        {"channel": "hotline", "description": "地址不明", "address": "某地", "priority": "4", "category": categories.building},
        {"channel": "resident", "description": " 没有地址 ", "reporter_name": "李四", "reporter_phone": "0531-88886666"},
        {"channel": "hotline", "description": "按道路定位", "address": "西区路8号", "category": categories.garbage.pk},
    ]


def case_columns(case):
    return {
        field.attname: getattr(case, field.attname)
        for field in Case._meta.concrete_fields
        if field.attname not in OWN_COLUMNS
    }


def stored(case):
    case = Case.objects.get(pk=case.pk)
    clocks = list(CaseClock.objects.filter(case=case).order_by("id").values(*CLOCK_COLUMNS))
    events = list(CaseEvent.objects.filter(case=case).order_by("seq").values(*EVENT_COLUMNS))
    return case_columns(case), clocks, events


def test_bulk_gives_the_same_cases_clocks_and_events_as_create_case(staff, categories, region_tree, places):
    one_by_one = [
        services.create_case(staff.clerk, **intake, idempotency_key=f"single-{n}", at=MONDAY_9)[0]
        for n, intake in enumerate(intakes(categories))
    ]
    bulk = create_cases_bulk(
        staff.clerk, [{**intake, "idempotency_key": f"bulk-{n}"} for n, intake in enumerate(intakes(categories))], at=MONDAY_9
    )
    assert len(bulk) == len(one_by_one) and bulk.created == [True] * len(bulk)
    for single, made in zip(one_by_one, bulk):
        assert stored(made) == stored(single)
        assert verify_chain(made)
        assert made.idempotency_key == single.idempotency_key.replace("single", "bulk")
    # The intakes really exercise the placement rules (a place, a community, the fallback).
    placed = [case.region_code for case in bulk]
    assert placed[4] == region_tree["grid11"].code and placed[8] == region_tree["grid21"].code
    assert placed[5] == region_tree["community2"].code and bulk[5].needs_placement
    assert placed[7] == region_tree["district"].code and bulk[7].needs_placement


def test_numbers_are_one_consecutive_block_of_the_daily_sequence(staff, categories):
    first, _ = services.create_case(staff.clerk, channel="hotline", description="之前", at=MONDAY_9)
    bulk = create_cases_bulk(staff.clerk, [{"channel": "hotline", "description": f"第{n}件"} for n in range(5)], at=MONDAY_9)
    after, _ = services.create_case(staff.clerk, channel="hotline", description="之后", at=MONDAY_9)
    assert first.number == "2026113000001"
    assert [case.number for case in bulk] == [f"2026113000{n:03d}" for n in range(2, 7)]
    assert after.number == "2026113000007"
    assert CaseNumberSequence.objects.get().last == 7


def test_a_bad_intake_raises_its_error_with_its_index_and_nothing_is_written(staff, categories):
    batch = [
        {"channel": "hotline", "description": "好的"},
        {"channel": "hotline", "description": "也好"},
        {"channel": "hotline", "description": "", "reporter_phone": "abc"},
    ]
    with pytest.raises(ValidationFailed) as failure:
        create_cases_bulk(staff.clerk, batch, at=MONDAY_9)
    assert failure.value.index == 2 and set(failure.value.fields) == {"description", "reporter_phone"}
    assert not (Case.objects.exists() or CaseNumberSequence.objects.exists())


def test_scope_rules_are_those_of_create_case(staff, categories, region_tree):
    inspector = staff.inspector  # scope: grid 11
    with pytest.raises(Forbidden) as failure:
        create_cases_bulk(
            inspector,
            [{"channel": "hotline", "description": "本网格", "lon": IN_GRID_11[0], "lat": IN_GRID_11[1]},
             {"channel": "hotline", "description": "别人的网格", "lon": IN_GRID_21[0], "lat": IN_GRID_21[1]}],
            at=MONDAY_9,
        )
    assert failure.value.index == 1 and failure.value.code == "out_of_scope"
    assert not Case.objects.exists()
    # Unplaced cases outside the reporter's scope are filed at the reporter's own scope.
    [case] = create_cases_bulk(inspector, [{"channel": "hotline", "description": "不知道在哪"}], at=MONDAY_9)
    assert case.region_code == region_tree["grid11"].code and case.needs_placement
    with pytest.raises(Forbidden):
        create_cases_bulk(staff.handler, [{"channel": "hotline", "description": "部门人员不受理"}])


def test_idempotency_keys_return_the_first_case(staff, categories):
    earlier, _ = services.create_case(staff.clerk, channel="hotline", description="已有", idempotency_key="k1", at=MONDAY_9)
    batch = [
        {"channel": "hotline", "description": "重复的键", "idempotency_key": "k1"},
        {"channel": "hotline", "description": "新的", "idempotency_key": "k2"},
        {"channel": "hotline", "description": "文件中重复", "idempotency_key": "k2"},
    ]
    cases = create_cases_bulk(staff.clerk, batch, at=MONDAY_9)
    assert cases[0].pk == earlier.pk and cases[1].pk == cases[2].pk
    assert cases.created == [False, True, False]
    assert Case.objects.count() == 2 and CaseEvent.objects.count() == 2 and CaseClock.objects.count() == 2


def test_every_case_is_announced_after_commit(staff, categories, django_capture_on_commit_callbacks):
    heard = []

    def listener(sender, case, event, **kwargs):
        heard.append((case.number, event.action, event.case_id == case.pk))

    case_changed.connect(listener, dispatch_uid="test_bulk_listener")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            cases = create_cases_bulk(staff.clerk, [{"channel": "hotline", "description": f"第{n}件"} for n in range(3)])
    finally:
        case_changed.disconnect(dispatch_uid="test_bulk_listener")
    assert [(number, action, same) for number, action, same in heard if number in {c.number for c in cases}] == [
        (case.number, "create", True) for case in cases
    ]


def test_the_writes_are_set_based(staff, categories, places):
    def queries(count, prefix):
        batch = [
            {"channel": "hotline", "description": f"第{n}件", "address": f"阳光花园{n}号楼", "idempotency_key": f"{prefix}{n}"}
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            create_cases_bulk(staff.clerk, batch, at=MONDAY_9)
        # Statements on this app's tables (other apps' outbox writers are theirs to batch).
        return len([query for query in captured if "cases_" in query["sql"]])

    queries(1, "warm")  # the address index and caches load once per process
    # One by one, create_case needs 4 statements per case (number, case, clock, event).
    assert queries(200, "many") <= 8
    assert Case.objects.count() == 201


def test_cases_numbered_ahead_are_renumbered_when_the_counter_moved_meanwhile(staff, categories):
    from gridgov.cases.bulk import prepare_cases, write_cases

    prepared = prepare_cases(staff.clerk, [{"channel": "hotline", "description": f"第{n}件"} for n in range(3)], at=MONDAY_9)
    assert [case.number for case in prepared.cases] == [f"2026113000{n:03d}" for n in range(1, 4)]
    # Another create takes the first number between the preparing and the writing.
    between, _ = services.create_case(staff.clerk, channel="hotline", description="之间", at=MONDAY_9)
    cases = write_cases(prepared)
    assert between.number == "2026113000001"
    assert [case.number for case in cases] == [f"2026113000{n:03d}" for n in range(2, 5)]
    assert all(verify_chain(case) for case in cases)
    assert set(CaseEvent.objects.filter(case__in=list(cases)).values_list("case_id", flat=True)) == {case.pk for case in cases}


def test_cases_numbered_ahead_keep_their_events_when_the_guess_holds(staff, categories):
    from gridgov.cases.bulk import prepare_cases, write_cases

    prepared = prepare_cases(staff.clerk, [{"channel": "hotline", "description": f"第{n}件"} for n in range(3)], at=MONDAY_9)
    built_ahead = list(prepared.events)
    cases = write_cases(prepared)
    assert [event.case_id for event in built_ahead] == [case.pk for case in cases]
    assert list(CaseEvent.objects.filter(case__in=list(cases)).order_by("case_id").values_list("hash", flat=True)) == [
        event.hash for event in built_ahead
    ]
    assert all(verify_chain(case) for case in cases)
