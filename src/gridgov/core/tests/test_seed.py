"""`gridgov seed --demo`: the demo tree, staff, logins and case history.

The seed runs once per test class inside a transaction that is rolled back afterwards, so
the demo data never leaks into other tests.
"""

import io
import itertools

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import RequestFactory
from shapely.geometry import shape
from shapely.ops import unary_union

from gridgov.demo import DEMO_PASSWORD, DEMO_SUBDISTRICT_CODE
from gridgov.demo.organisation import DEMO_LOGINS
from gridgov.geo.models import GridType, Level, Region
from gridgov.org.models import Department, StaffRole, User
from gridgov.org.roles import Role

TODAY = "2025-06-30"
SMALL_HISTORY = 300


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
    with django_db_blocker.unblock():
        with transaction.atomic():
            output = run_seed(tmp_dir)
            yield {"output": output, "dir": tmp_dir}
            transaction.set_rollback(True)


def _shape(region):
    return shape(region.boundary)


@pytest.mark.usefixtures("seeded")
class TestDemoGeography:
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


@pytest.mark.usefixtures("seeded")
class TestDemoOrganisation:
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
        # Checking a password costs a second: check one, the others share its hash.
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

    def test_logins_file_and_output(self, db, seeded):
        text = (seeded["dir"] / "demo-logins.txt").read_text(encoding="utf-8")
        for username, _role in DEMO_LOGINS:
            assert username in text and username in seeded["output"]
        assert "demo1234" in text and "网格员" in text and "象霞社区第1网格" in text

    def test_running_again_does_not_duplicate(self, db, seeded):
        before = (Region.objects.count(), User.objects.count(), Department.objects.count())
        output = run_seed(seeded["dir"])
        assert "already exists" in output
        assert (Region.objects.count(), User.objects.count(), Department.objects.count()) == before


def test_demo_login_authenticates_through_the_backends(db, tmp_path):
    run_seed(tmp_path, 0)
    request = RequestFactory().post("/login/")
    assert authenticate(request, username="clerk", password=DEMO_PASSWORD) is not None


def test_seed_without_demo_flag_refuses(db):
    with pytest.raises(CommandError):
        call_command("seed")


def test_today_must_be_a_date(db):
    with pytest.raises(CommandError):
        call_command("seed", "--demo", "--today", "30/06/2025")

