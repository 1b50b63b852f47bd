"""cases.rows: the hot-path INSERT converts values exactly as Django's save() would."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection

from gridgov.cases import rows
from gridgov.cases.models import Case, CaseClock, CaseEvent
from gridgov.screen.models import LiveEvent

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
AWARE = dt.datetime(2026, 10, 8, 9, 30, 15, 123456, tzinfo=SHANGHAI)


def django_values(obj):
    """What Model.save() sends for each column of the plan (pre_save, then get_db_prep_save)."""
    plan = rows._plan(type(obj), connection)
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field, *_rest in plan.fields]


def comparable(values):
    # psycopg's Jsonb wrappers compare by identity: compare what they wrap.
    return [getattr(value, "obj", value) for value in values]


@pytest.mark.parametrize(
    "at",
    [AWARE, AWARE.astimezone(dt.timezone.utc), AWARE.replace(microsecond=0), dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)],
)
def test_datetimes_convert_as_django_does(at):
    clock = rows.build(CaseClock, case_id=1, kind="handle", limit_value=2, limit_unit="working_days",
                       started_at=at, due_at=at + dt.timedelta(days=2), warn_at=at + dt.timedelta(hours=30))
    plan = rows._plan(CaseClock, connection)
    assert comparable(plan.values(clock, connection)) == comparable(django_values(clock))


@pytest.mark.parametrize("data", [{}, {"channel": "hotline", "grid": 3, "needs_placement": False}, [1, "二"], None, "text"])
def test_json_converts_as_django_does(data):
    event = rows.build(LiveEvent, kind="case", data=data, region_code="370105")
    plan = rows._plan(LiveEvent, connection)
    fast = comparable(plan.values(event, connection))
    slow = comparable(django_values(event))
    # created_at is auto_now_add: each pre_save() takes a new "now", so compare the rest.
    data_index = [field.name for field, *_rest in plan.fields].index("data")
    assert fast[data_index] == slow[data_index]


def test_naive_datetime_still_goes_through_django(settings):
    """A naive datetime is Django's business (it warns and assumes the current zone)."""
    naive = dt.datetime(2026, 10, 8, 9, 30)
    clock = rows.build(CaseClock, case_id=1, kind="handle", limit_value=2, limit_unit="working_days",
                       started_at=naive, due_at=naive, warn_at=naive)
    plan = rows._plan(CaseClock, connection)
    with pytest.warns(RuntimeWarning):
        assert comparable(plan.values(clock, connection)) == comparable(django_values(clock))


def test_build_sets_relations_as_the_descriptor_does(django_user_model):
    actor = django_user_model.objects.create_user("rows-actor", password=None)
    case = Case(pk=42, number="2026100800001")
    fast = rows.build(CaseEvent, case=case, actor=actor, seq=1, at=AWARE)
    slow = CaseEvent(case=case, actor=actor, seq=1, at=AWARE)
    assert (fast.case_id, fast.actor_id) == (slow.case_id, slow.actor_id) == (42, actor.pk)
    assert fast.case is case and fast.actor is actor  # cached: no query
    cleared = rows.build(CaseEvent, case=case, actor=None, seq=1, at=AWARE)
    assert cleared.actor_id is None and cleared.actor is None


def test_build_refuses_an_instance_of_the_wrong_model(django_user_model):
    actor = django_user_model.objects.create_user("rows-wrong", password=None)
    with pytest.raises(ValueError):
        rows.build(CaseEvent, case=actor, seq=1, at=AWARE)  # the descriptor's own check


def test_inserted_row_reads_back_as_saved(django_user_model):
    actor = django_user_model.objects.create_user("rows-insert", password=None)
    case = rows.insert(rows.build(Case, number="2026100800002", channel="hotline", status="reported", priority=2,
                                  description="路灯不亮", reported_by=actor, created_at=AWARE, version=1))
    stored = Case.objects.get(pk=case.pk)
    assert stored.created_at == AWARE
    assert stored.reported_by_id == actor.pk


def test_a_family_of_rows_goes_in_with_its_keys(django_user_model):
    """insert_family: the parent, then children pointing at it (on PostgreSQL one statement),
    with NULLs and every column type the case, clock and event carry."""
    actor = django_user_model.objects.create_user("rows-family", password=None)
    case = rows.build(Case, number="2026100800003", channel="hotline", status="reported", priority=2,
                      description="井盖破损", reported_by=actor, created_at=AWARE, version=1, lon=None, grid_id=None)
    clock = rows.build(CaseClock, kind="accept_dispatch", limit_value=1, limit_unit="working_hours",
                       started_at=AWARE, due_at=AWARE + dt.timedelta(hours=1), warn_at=AWARE, stopped_at=None)
    event = rows.build(CaseEvent, seq=1, at=AWARE, actor=None, action="create", to_status="reported",
                       data={"grid": None, "needs_placement": True}, prev_hash="", hash="h" * 64)
    rows.insert_family(rows.Prepared(case), [(rows.Prepared(clock), "case"), (rows.Prepared(event), "case")])
    assert case.pk and clock.pk and event.pk
    assert clock.case is case and event.case_id == case.pk
    stored_clock = CaseClock.objects.get(pk=clock.pk)
    stored_event = CaseEvent.objects.get(pk=event.pk)
    assert (stored_clock.case_id, stored_clock.stopped_at, stored_clock.due_at) == (case.pk, None, AWARE + dt.timedelta(hours=1))
    assert (stored_event.case_id, stored_event.actor_id, stored_event.data) == (case.pk, None, {"grid": None, "needs_placement": True})
    assert Case.objects.get(pk=case.pk).lon is None


def all_fields(obj):
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


def test_fetched_instances_equal_what_a_raw_queryset_gives(django_user_model):
    """fetch_instances: the same values, converted by the same converters (datetimes,
    JSON, booleans, floats, NULLs), as Model.objects.raw() on the same statement."""
    actor = django_user_model.objects.create_user("rows-fetch", password=None)
    case = rows.insert(rows.build(Case, number="2026100800004", channel="hotline", status="reported", priority=2,
                                  description="占道经营", reported_by=actor, created_at=AWARE, version=1,
                                  lon=117.01, lat=36.61, needs_placement=True, address="幸福路1号"))
    for running in (True, False):
        rows.insert(rows.build(CaseClock, case=case, kind="accept_dispatch", limit_value=1, limit_unit="working_hours",
                               started_at=AWARE, due_at=AWARE + dt.timedelta(hours=1), warn_at=AWARE,
                               stopped_at=None if running else AWARE))
    case_sql, _params = Case.objects.filter(pk=0).order_by().query.sql_with_params()
    clock_sql, _params = CaseClock.objects.filter(case_id=0).order_by("id").query.sql_with_params()

    [fetched] = rows.fetch_instances(Case, case_sql, [case.pk])
    [raw] = Case.objects.raw(case_sql, [case.pk])
    assert all_fields(fetched) == all_fields(raw)
    assert fetched.created_at == AWARE and fetched.needs_placement is True and fetched.lon == 117.01
    assert fetched._state.adding is False and fetched._state.db == "default"

    fetched_clocks = rows.fetch_instances(CaseClock, clock_sql, [case.pk])
    raw_clocks = list(CaseClock.objects.raw(clock_sql, [case.pk]))
    assert [all_fields(clock) for clock in fetched_clocks] == [all_fields(clock) for clock in raw_clocks]
    assert [clock.stopped_at for clock in fetched_clocks] == [None, AWARE]
    assert rows.fetch_instances(Case, case_sql, [case.pk + 1000]) == []


def test_an_update_of_named_columns_stores_what_save_would(django_user_model):
    """rows.update: the named columns (a foreign key by attname, a datetime, JSON-free
    text, a boolean) and auto_now updated_at change; every other column stays as stored."""
    actor = django_user_model.objects.create_user("rows-update", password=None)
    case = rows.insert(rows.build(Case, number="2026100800005", channel="hotline", status="reported", priority=2,
                                  description="原样", reported_by=actor, created_at=AWARE, version=1,
                                  needs_placement=True))
    before = Case.objects.get(pk=case.pk)
    case.status, case.version, case.needs_placement = "accepted", 2, False
    case.accepted_at = AWARE + dt.timedelta(minutes=5)
    case.handler_id = actor.pk
    case.description = "改了，但没有点名：不写"
    rows.update(case, ["status", "version", "needs_placement", "accepted_at", "handler_id", "updated_at"])
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.version, stored.needs_placement) == ("accepted", 2, False)
    assert (stored.accepted_at, stored.handler_id) == (AWARE + dt.timedelta(minutes=5), actor.pk)
    assert stored.description == "原样"
    assert stored.updated_at > before.updated_at and stored.updated_at == case.updated_at


def test_an_update_of_a_missing_row_fails_as_save_does(django_user_model):
    from django.db import DatabaseError

    actor = django_user_model.objects.create_user("rows-update-gone", password=None)
    case = rows.insert(rows.build(Case, number="2026100800006", channel="hotline", status="reported", priority=2,
                                  description="已删", reported_by=actor, created_at=AWARE, version=1))
    Case.objects.filter(pk=case.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        rows.update(case, ["status", "updated_at"])


def test_a_family_child_may_point_at_the_parent_through_a_plain_id_column(django_user_model):
    """A child column without a foreign key (ChangedCase.case_id) takes the parent's id too."""
    from gridgov.cases.models import ChangedCase

    actor = django_user_model.objects.create_user("rows-family-plain", password=None)
    case = rows.build(Case, number="2026100800007", channel="hotline", status="reported", priority=2,
                      description="标记", reported_by=actor, created_at=AWARE, version=1)
    mark = rows.build(ChangedCase, case_id=0)
    rows.insert_family(rows.Prepared(case), [(rows.Prepared(mark), "case_id")])
    assert mark.pk and mark.case_id == case.pk
    assert ChangedCase.objects.get(pk=mark.pk).case_id == case.pk
