"""create_case: input checks, placement, idempotency, photos and all-or-nothing writes."""

import pytest
from django.db import connection

from gridgov.cases import services
from gridgov.cases.models import Case, CaseAttachment, CaseClock, CaseEvent, CaseNumberSequence, ChangedCase, Status
from gridgov.core.errors import Forbidden, ValidationFailed
from gridgov.core.testing import run_in_parallel
from gridgov.geo.coords import wgs84_to_gcj02

from .conftest import FAR_AWAY, IN_GRID_11, IN_GRID_21, IN_SUBDISTRICT_NO_GRID, MONDAY_9, image_bytes, noise_image_bytes, stored_files

pytestmark = pytest.mark.django_db


def create(actor, **fields):
    fields.setdefault("channel", "hotline")
    fields.setdefault("description", "路边有暴露垃圾")
    fields.setdefault("at", MONDAY_9)
    return services.create_case(actor, **fields)


def nothing_written():
    return not (
        Case.objects.exists() or CaseEvent.objects.exists() or CaseClock.objects.exists()
        or CaseAttachment.objects.exists() or CaseNumberSequence.objects.exists()
    )


# -- a good report ------------------------------------------------------------------------------
def test_create_locates_classifies_and_starts_the_clock(staff, categories, region_tree):
    case, created = create(
        staff.clerk, category=categories.garbage, lon=IN_GRID_11[0], lat=IN_GRID_11[1],
        address="  济南市天桥区xx路1号 ", reporter_name="张三", reporter_phone="138-0000 1234",
    )
    assert created
    assert case.status == Status.REPORTED and case.version == 1
    assert case.grid == region_tree["grid11"] and case.region_code == region_tree["grid11"].code
    assert not case.needs_placement and len(case.h3_cell) == 15
    assert case.priority == categories.garbage.default_priority
    assert case.address == "济南市天桥区xx路1号"
    assert case.reported_by == staff.clerk and case.created_at == MONDAY_9
    clock = CaseClock.objects.get(case=case)
    assert clock.kind == "accept_dispatch" and clock.started_at == MONDAY_9
    assert (case.due_at, case.warn_at) == (clock.due_at, clock.warn_at)
    event = case.events.get()
    assert (event.seq, event.action, event.to_status, event.prev_hash) == (1, "create", "reported", "")
    assert event.data["region_code"] == region_tree["grid11"].code


def test_create_writes_case_clock_and_event_in_one_statement_on_postgresql(staff, categories):
    """PostgreSQL: the case, its clock, its first event and the figures mark go in as one
    WITH statement (one round trip); SQLite: four plain INSERTs. Both then add the live row."""
    from django.test.utils import CaptureQueriesContext

    create(staff.clerk, category=categories.garbage)  # caches and the number counter warm
    with CaptureQueriesContext(connection) as captured:
        case, _created = create(staff.clerk, category=categories.garbage, lon=IN_GRID_11[0], lat=IN_GRID_11[1])
    writes = [
        query["sql"] for query in captured
        if query["sql"].lstrip().upper().startswith(("INSERT", "WITH"))
        and "casenumbersequence" not in query["sql"]  # the number, here inside the test's transaction
    ]
    tables = ("cases_case", "cases_caseclock", "cases_caseevent", "cases_changedcase")
    if connection.vendor == "postgresql":
        family = [sql for sql in writes if sql.startswith("WITH")]
        assert len(family) == 1 and all(f'"{table}"' in family[0] for table in tables)
        assert len(writes) == 2  # + the live event with its NOTIFY
    else:
        assert [next(table for table in tables if f'"{table}" ' in sql) for sql in writes[:4]] == list(tables)
        assert len(writes) == 5
    assert CaseClock.objects.filter(case=case).count() == 1 and case.events.count() == 1
    assert list(ChangedCase.objects.filter(case_id=case.pk).values_list("case_id", flat=True)) == [case.pk]


def test_create_accepts_gcj02_coordinates(staff, categories, region_tree):
    gcj_lon, gcj_lat = wgs84_to_gcj02(*IN_GRID_11)
    case, _ = create(staff.clerk, lon=gcj_lon, lat=gcj_lat, crs="gcj02")
    assert case.grid == region_tree["grid11"]
    assert case.lon == pytest.approx(IN_GRID_11[0], abs=1e-7) and case.lat == pytest.approx(IN_GRID_11[1], abs=1e-7)


def test_explicit_priority_wins_over_the_category_default(staff, categories):
    case, _ = create(staff.clerk, category=categories.garbage.pk, priority="4")
    assert case.priority == 4


def test_grid_inspector_reports_in_their_own_grid(staff, categories, region_tree):
    case, _ = create(staff.inspector, channel="grid_patrol", lon=IN_GRID_11[0], lat=IN_GRID_11[1])
    assert case.grid == region_tree["grid11"]


# -- placement ----------------------------------------------------------------------------------
def test_outside_every_grid_is_created_and_flagged(staff, categories, region_tree):
    case, created = create(staff.clerk, lon=IN_SUBDISTRICT_NO_GRID[0], lat=IN_SUBDISTRICT_NO_GRID[1])
    assert created and case.needs_placement and case.grid is None
    assert case.region_code == region_tree["subdistrict"].code
    assert case.h3_cell


def test_far_away_point_falls_back_and_is_never_lost(staff, categories, region_tree, settings):
    case, _ = create(staff.clerk, lon=FAR_AWAY[0], lat=FAR_AWAY[1])
    assert case.needs_placement and case.region_code == region_tree["district"].code
    settings.GRIDGOV_FALLBACK_REGION_CODE = region_tree["subdistrict"].code
    case, _ = create(staff.clerk, lon=FAR_AWAY[0] + 1, lat=FAR_AWAY[1])
    assert case.needs_placement and case.region_code == region_tree["subdistrict"].code


def test_no_coordinates_places_the_case_at_the_fallback_region(staff, categories, region_tree):
    case, _ = create(staff.clerk)
    assert case.needs_placement and case.lon is None and case.h3_cell == ""
    assert case.region_code == region_tree["district"].code


def test_unplaced_report_outside_the_reporters_scope_stays_in_their_scope(staff, categories, region_tree):
    case, _ = create(staff.inspector, channel="grid_patrol")
    assert case.needs_placement and case.region_code == region_tree["grid11"].code
    assert Case.objects.restrict(staff.inspector).filter(pk=case.pk).exists()
    assert Case.objects.restrict(staff.dispatcher).filter(pk=case.pk).exists()


def test_a_point_in_someone_elses_grid_is_forbidden(staff, categories):
    with pytest.raises(Forbidden) as refusal:
        create(staff.inspector, lon=IN_GRID_21[0], lat=IN_GRID_21[1])
    assert refusal.value.code == "out_of_scope"
    assert nothing_written()


def test_roles_that_may_not_report_are_forbidden(staff, categories):
    for user in (staff.handler, staff.leader, staff.nobody):
        with pytest.raises(Forbidden):
            create(user, lon=IN_GRID_11[0], lat=IN_GRID_11[1])
    assert nothing_written()


def test_sysadmin_reports_anywhere(staff, categories, region_tree):
    case, _ = create(staff.admin, lon=IN_GRID_21[0], lat=IN_GRID_21[1])
    assert case.grid == region_tree["grid21"]


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"description": ""}, "description", "required"),
        ({"description": "   "}, "description", "required"),
        ({"description": "垃圾<script>alert(1)</script>"}, "description", "html_not_allowed"),
        ({"description": "垃圾\x00堆"}, "description", "control_characters"),
        ({"description": "垃圾\u202e堆"}, "description", "control_characters"),
        ({"description": "长" * 2001}, "description", "too_long"),
        ({"description": 12345}, "description", "not_text"),
        ({"channel": "fax"}, "channel", "invalid_choice"),
        ({"channel": ["hotline"]}, "channel", "invalid_choice"),  # unhashable: still a field error
        ({"priority": 9}, "priority", "invalid_choice"),
        ({"priority": "high"}, "priority", "invalid_choice"),
        ({"reporter_name": "张三\n李四"}, "reporter_name", "multiline"),
        ({"reporter_name": "名" * 51}, "reporter_name", "too_long"),
        ({"reporter_phone": "1234"}, "reporter_phone", "invalid_phone"),
        ({"reporter_phone": "138abc00000"}, "reporter_phone", "invalid_phone"),
        ({"reporter_phone": "1" * 21}, "reporter_phone", "too_long"),
        ({"address": "<b>x</b>"}, "address", "html_not_allowed"),
        ({"lon": 117.0}, "lat", "incomplete_coordinates"),
        ({"lat": 36.0}, "lon", "incomplete_coordinates"),
        ({"lon": 190.0, "lat": 36.0}, "lon", "invalid_coordinate"),
        ({"lon": "abc", "lat": 36.0}, "lon", "invalid_coordinate"),
        ({"lon": float("nan"), "lat": 36.0}, "lon", "invalid_coordinate"),
        ({"lon": 117.0, "lat": 36.0, "crs": "utm"}, "crs", "invalid_crs"),
        ({"idempotency_key": "k" * 101}, "idempotency_key", "too_long"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(fields, field, code, staff, categories):
    with pytest.raises(ValidationFailed) as refusal:
        create(staff.clerk, **fields)
    assert refusal.value.code == code
    assert field in refusal.value.fields
    assert nothing_written()


@pytest.mark.parametrize("which", ["major", "retired", "missing", "text"])
def test_category_must_be_an_active_subcategory(which, staff, categories):
    value = {"major": categories.major, "retired": categories.retired, "missing": 999999, "text": "0102x"}[which]
    with pytest.raises(ValidationFailed) as refusal:
        create(staff.clerk, category=value)
    assert (refusal.value.code, list(refusal.value.fields)) == ("unknown_category", ["category"])
    assert nothing_written()


def test_subcategory_of_an_inactive_major_class_is_refused(staff, categories):
    categories.major.is_active = False
    categories.major.save()
    with pytest.raises(ValidationFailed) as refusal:
        create(staff.clerk, category=categories.garbage.pk)
    assert refusal.value.code == "unknown_category"


def test_several_bad_fields_are_reported_together(staff, categories):
    with pytest.raises(ValidationFailed) as refusal:
        create(staff.clerk, description="", channel="fax", reporter_phone="x")
    assert set(refusal.value.fields) == {"description", "channel", "reporter_phone"}


def test_valid_phone_formats(staff, categories):
    for phone in ("13800001234", "+86 138-0000-1234", "0531-8888 8888"):
        case, _ = create(staff.clerk, reporter_phone=phone)
        assert case.reporter_phone == phone


# -- idempotency ---------------------------------------------------------------------------------
def test_same_idempotency_key_returns_the_first_case(staff, categories):
    first, created = create(staff.clerk, idempotency_key="app-7f3c")
    again, created_again = create(staff.clerk, idempotency_key="app-7f3c", description="重复提交的内容")
    assert created and not created_again
    assert again.pk == first.pk and again.description == first.description
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1
    # the repeat's attempt left nothing behind, not even a used-up case number
    assert create(staff.clerk)[0].number == first.number[:8] + "00002"


def test_idempotent_replay_still_checks_scope(staff, categories):
    create(staff.clerk, idempotency_key="k-1", lon=IN_GRID_21[0], lat=IN_GRID_21[1])
    with pytest.raises(Forbidden):
        create(staff.inspector, idempotency_key="k-1", lon=IN_GRID_11[0], lat=IN_GRID_11[1])


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_one_key_create_one_case(staff, categories):
    """Four clients submit the same report at once and retry transient errors, as a client
    holding an idempotency key does. PostgreSQL runs them truly in parallel (the losers hit
    the unique key and get the winner); the in-memory SQLite test database answers the
    overlap with 'table is locked', which the retry absorbs."""
    results, errors = run_in_parallel(
        lambda _n: create(staff.clerk, idempotency_key="race-1", lon=IN_GRID_11[0], lat=IN_GRID_11[1]), range(4)
    )
    assert errors == [] and len(results) == 4
    assert len({case.pk for case, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


# -- photos and all-or-nothing --------------------------------------------------------------------
def test_report_photos_are_stored_and_hashed_into_the_first_event(staff, categories, media):
    case, _ = create(staff.clerk, photos=[image_bytes("JPEG"), image_bytes("PNG")])
    attachments = list(case.attachments.order_by("id"))
    assert [a.content_type for a in attachments] == ["image/jpeg", "image/png"]
    assert all(a.kind == "report" and a.event.seq == 1 and a.uploaded_by == staff.clerk for a in attachments)
    assert len(stored_files(media)) == 2
    from gridgov.cases.timeline import verify_chain

    assert verify_chain(case)


def test_a_bad_photo_refuses_the_whole_report(staff, categories, media):
    with pytest.raises(ValidationFailed) as refusal:
        create(staff.clerk, photos=[image_bytes("JPEG"), b"%PDF-1.4 not an image"])
    assert refusal.value.code == "not_an_image" and list(refusal.value.fields) == ["photos"]
    assert nothing_written() and stored_files(media) == []


def test_oversized_photo_refused_and_nothing_written(staff, categories, media, settings):
    settings.GRIDGOV_MAX_PHOTO_BYTES = 2000
    with pytest.raises(ValidationFailed) as refusal:
        create(staff.clerk, photos=[noise_image_bytes("PNG")])
    assert refusal.value.code == "too_large"
    assert nothing_written() and stored_files(media) == []


@pytest.fixture
def attachment_inserts_fail(db):
    """A real database failure on the attachment insert, i.e. after the photo file is stored."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TEMP TRIGGER test_no_attachments BEFORE INSERT ON cases_caseattachment "
                "BEGIN SELECT RAISE(ABORT, 'attachments are failing'); END;"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION test_no_attachments() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'attachments are failing'; END; $$ LANGUAGE plpgsql;"
            )
            cursor.execute(
                "CREATE TRIGGER test_no_attachments BEFORE INSERT ON cases_caseattachment "
                "FOR EACH ROW EXECUTE FUNCTION test_no_attachments();"
            )
    yield
    if connection.vendor == "sqlite":  # temp triggers outlive the test transaction
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_no_attachments")


def test_a_failure_after_the_file_was_stored_removes_it(staff, categories, media, attachment_inserts_fail):
    with pytest.raises(Exception, match="attachments are failing"):
        create(staff.clerk, photos=[image_bytes("JPEG")])
    assert stored_files(media) == []
    assert nothing_written()
