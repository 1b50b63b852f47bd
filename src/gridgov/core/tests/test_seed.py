"""`gridgov seed --demo`: the demo tree, staff, logins and case history.

The seed runs once per test class inside a transaction that is rolled back afterwards, so
the demo data never leaks into other tests.
"""

import datetime as dt
import hashlib
import io
import itertools
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.utils import timezone
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from gridgov.cases.models import Case, CaseEvent, CaseRequest, Channel, Rating, RequestKind, Status
from gridgov.cases.timeline import broken_chains, verify_chain
from gridgov.catalog import worktime
from gridgov.demo import DEMO_PASSWORD, DEMO_SUBDISTRICT_CODE
from gridgov.demo.history import ANCHOR_TIME
from gridgov.demo.organisation import DEMO_LOGINS
from gridgov.geo.models import GridType, Level, Region
from gridgov.org.models import Department, StaffRole, User
from gridgov.org.roles import Role

TODAY = "2025-06-30"
SMALL_HISTORY = 300
ANCHOR = dt.datetime.combine(dt.date.fromisoformat(TODAY), ANCHOR_TIME)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as in conftest


def run_seed(tmp_dir, cases=SMALL_HISTORY, *extra):
    out = io.StringIO()
    call_command(
        "seed", "--demo", "--cases", str(cases), "--today", TODAY, "--no-progress",
        "--logins-file", str(tmp_dir / "demo-logins.txt"), *extra, stdout=out,
    )
    return out.getvalue()


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo seeded once for the class, rolled back when the class is done."""
    tmp_dir = tmp_path_factory.mktemp("seed")
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        with transaction.atomic():
            output = run_seed(tmp_dir)
            yield {"output": output, "dir": tmp_dir}
            transaction.set_rollback(True)


def _shape(region):
    return shape(region.boundary)


@pytest.mark.usefixtures("seeded")
class TestSeededDemo:
    # -- geography -----------------------------------------------------------------------
    def test_region_tree_shape(self, db):
        subdistrict = Region.objects.get(code=DEMO_SUBDISTRICT_CODE)
        assert subdistrict.level == Level.SUBDISTRICT and subdistrict.parent.code == "370105"
        communities = list(subdistrict.children.all())
        assert len(communities) == 8
        assert {"象霞社区", "西区社区"} <= {c.name for c in communities}
        grids = Region.objects.filter(level=Level.GRID, code__startswith=DEMO_SUBDISTRICT_CODE)
        assert 55 <= grids.count() <= 65
        for grid in grids.select_related("parent"):
            assert len(grid.code) == 15 and grid.code.isdigit()
            assert grid.code.startswith(grid.parent.code) and grid.parent.level == Level.COMMUNITY

    def test_grid_types_and_households(self, db):
        grids = Region.objects.filter(level=Level.GRID, code__startswith=DEMO_SUBDISTRICT_CODE)
        dedicated = grids.filter(grid_type=GridType.DEDICATED)
        assert dedicated.count() >= 3
        assert {"学", "医院", "市场"} <= {word for d in dedicated for word in ("学", "医院", "市场") if word in d.name}
        for grid in grids.filter(grid_type=GridType.BASIC):
            assert 300 <= grid.households <= 500

    def test_grids_tile_without_gaps_or_overlaps(self, db):
        subdistrict = _shape(Region.objects.get(code=DEMO_SUBDISTRICT_CODE))
        grids = [_shape(g) for g in Region.objects.filter(level=Level.GRID, code__startswith=DEMO_SUBDISTRICT_CODE)]
        assert all(g.is_valid for g in grids)
        tolerance = subdistrict.area * 1e-9
        for a, b in itertools.combinations(grids, 2):
            assert a.intersection(b).area <= tolerance
        assert abs(unary_union(grids).area - subdistrict.area) <= tolerance
        assert abs(sum(g.area for g in grids) - subdistrict.area) <= tolerance

    def test_communities_are_unions_of_their_grids(self, db):
        for community in Region.objects.filter(level=Level.COMMUNITY, code__startswith=DEMO_SUBDISTRICT_CODE):
            grids = unary_union([_shape(g) for g in community.children.all()])
            assert grids.symmetric_difference(_shape(community)).area <= grids.area * 1e-9

    def test_grid_numbering_runs_west_to_east_then_north_to_south(self, db):
        community = Region.objects.get(code__startswith=DEMO_SUBDISTRICT_CODE, name="象霞社区")
        first, second = list(community.children.order_by("code"))[:2]
        # Both lie in the northernmost row of the community; the first is west of the second.
        assert first.centroid_lon < second.centroid_lon
        assert abs(first.centroid_lat - second.centroid_lat) < 0.0015

    # -- organisation --------------------------------------------------------------------
    def test_every_role_has_staff(self, db):
        counts = {role: StaffRole.objects.filter(role=role).count() for role in Role.values}
        assert all(counts.values()), counts
        assert 140 <= User.objects.count() <= 180
        grids = Region.objects.filter(level=Level.GRID, code__startswith=DEMO_SUBDISTRICT_CODE)
        for grid in grids:
            assert grid.staff.filter(role_assignments__role=Role.GRID_INSPECTOR).exists(), grid

    def test_departments_serve_the_subdistrict_and_have_handlers(self, db):
        subdistrict = Region.objects.get(code=DEMO_SUBDISTRICT_CODE)
        assert Department.objects.count() >= 20
        assert {"平安办公室", "12345热线办公室", "城管执法中队"} <= set(Department.objects.values_list("name", flat=True))
        for department in Department.objects.all():
            assert subdistrict in department.regions.all()
            assert department.staff.filter(role_assignments__role=Role.DEPT_HANDLER).exists(), department

    def test_demo_logins_work_and_only_they_have_passwords(self, db, seeded):
        logins = [User.objects.get(username=username) for username, _role in DEMO_LOGINS]
        # The demo logins share one hash (hashing costs a second each outside tests).
        assert logins[0].check_password(DEMO_PASSWORD)
        assert {user.password for user in logins} == {logins[0].password}
        for user, (_username, role) in zip(logins, DEMO_LOGINS):
            assert role in user.roles
        admin = User.objects.get(username="admin")
        assert admin.is_superuser
        assert User.objects.get(username="inspector").scope.name == "象霞社区第1网格"
        assert User.objects.get(username="handler_cg").department.name == "城管执法中队"
        others = User.objects.exclude(username__in=[name for name, _ in DEMO_LOGINS])
        assert not any(user.has_usable_password() for user in others)

    def test_demo_login_authenticates_through_the_backends(self, db):
        request = RequestFactory().post("/login/")
        assert authenticate(request, username="clerk", password=DEMO_PASSWORD) is not None

    def test_logins_file_and_output(self, db, seeded):
        text = (seeded["dir"] / "demo-logins.txt").read_text(encoding="utf-8")
        for username, _role in DEMO_LOGINS:
            assert username in text and username in seeded["output"]
        assert "demo1234" in text and "网格员" in text and "象霞社区第1网格" in text

    def test_running_again_does_not_duplicate(self, db, seeded):
        before = (Region.objects.count(), User.objects.count(), Department.objects.count(), Case.objects.count())
        output = run_seed(seeded["dir"])
        assert "already exists" in output
        assert (Region.objects.count(), User.objects.count(), Department.objects.count(), Case.objects.count()) == before

    # -- history -------------------------------------------------------------------------
    def test_every_case_was_replayed_without_errors(self, db, seeded):
        assert Case.objects.count() == SMALL_HISTORY
        assert "cut short" not in seeded["output"]

    def test_every_status_and_channel_occurs(self, db):
        assert set(Case.objects.values_list("status", flat=True)) == set(Status.values)
        assert set(Case.objects.values_list("channel", flat=True)) == set(Channel.values)

    def test_timelines_are_intact_hash_chains(self, db):
        assert list(broken_chains(Case.objects.all())) == []
        sample = Case.objects.order_by("number")[::37]
        assert sample and all(verify_chain(case) for case in sample)

    def test_timelines_follow_the_workflow(self, db):
        closed = Case.objects.filter(status=Status.CLOSED).first()
        actions = list(closed.events.order_by("seq").values_list("action", flat=True))
        assert actions[:2] == ["create", "accept"] and "dispatch" in actions and "close" in actions
        for case in Case.objects.all()[:100]:
            times = list(case.events.order_by("seq").values_list("at", flat=True))
            assert times == sorted(times) and times[0] == case.created_at

    def test_history_spans_the_year_before_the_anchor(self, db):
        anchor = timezone.make_aware(ANCHOR)
        first = Case.objects.order_by("created_at").first().created_at
        assert anchor - dt.timedelta(days=366) <= first <= anchor - dt.timedelta(days=300)
        assert CaseEvent.objects.filter(at__gt=anchor).count() == 0
        assert Case.objects.filter(created_at__gte=anchor - dt.timedelta(days=2)).count() >= 10

    def test_workdays_are_busier(self, db):
        days = Counter(worktime.official_workday(timezone.localtime(c).date()) for c in Case.objects.values_list("created_at", flat=True))
        # About 250 workdays and 115 other days a year, the other days at under half the rate.
        assert days[True] > 3 * days[False]

    def test_the_variety_a_demo_needs(self, db):
        cases = Case.objects.all()
        assert cases.filter(was_overdue=True).count() >= 10
        assert cases.filter(extension_count__gt=0).exists()
        assert cases.filter(return_count__gt=0).exists()
        assert cases.filter(rework_count__gt=0).exists()
        assert cases.filter(supervised=True).exists()
        assert cases.filter(needs_placement=True, status=Status.REPORTED).exists()
        assert CaseEvent.objects.filter(action="place").exists()
        assert CaseRequest.objects.filter(kind=RequestKind.EXTENSION).exists()
        assert set(cases.exclude(rating=None).values_list("rating", flat=True)) == set(Rating.values)
        rated = cases.exclude(rating=None).count()
        assert cases.filter(rating=Rating.SATISFIED).count() > rated / 2

    def test_frequent_categories_dominate(self, db):
        top = Counter(Case.objects.values_list("category__name", flat=True)).most_common(8)
        assert {"暴露垃圾", "乱堆物料", "店外经营"} & {name for name, _n in top}

    def test_cases_lie_in_their_grids_and_patrols_come_from_the_grid_inspector(self, db):
        for case in Case.objects.filter(channel=Channel.GRID_PATROL).select_related("grid", "reported_by")[:50]:
            assert shape(case.grid.boundary).covers(Point(case.lon, case.lat))
            assert case.reported_by.scope_id == case.grid_id


def _digest():
    rows = Case.objects.order_by("number").values_list(
        "number", "channel", "status", "category__kind", "category__code", "region_code", "reported_by__username",
        "rating", "priority",
    )
    # Not the hashes: they cover primary keys, which differ between databases.
    events = CaseEvent.objects.order_by("case__number", "seq").values_list(
        "case__number", "seq", "action", "at", "actor__username", "to_status", "note"
    )
    return hashlib.sha256(repr((list(rows), list(events))).encode()).hexdigest()


def test_two_runs_give_the_same_history(db, tmp_path):
    digests = []
    for _run in range(2):
        with transaction.atomic():
            run_seed(tmp_path, 25)
            digests.append(_digest())
            transaction.set_rollback(True)
    assert digests[0] == digests[1]


def test_seed_without_demo_flag_refuses(db):
    with pytest.raises(CommandError):
        call_command("seed")


def test_today_must_be_a_date(db):
    with pytest.raises(CommandError):
        call_command("seed", "--demo", "--today", "30/06/2025")

