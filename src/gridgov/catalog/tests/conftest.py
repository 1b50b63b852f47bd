import pytest

from gridgov.catalog.models import Category
from gridgov.catalog.standard import load_standard_categories
from gridgov.org.roles import Role


@pytest.fixture
def standard(db):
    """The standard taxonomy (the data migration loads it; a flushed database gets it again)."""
    if not Category.objects.filter(kind="event", code="0102").exists():
        load_standard_categories()
    return lambda kind, code: Category.objects.get(kind=kind, code=code)


@pytest.fixture
def sysadmin(make_user):
    return make_user([Role.SYSADMIN])


@pytest.fixture
def dispatcher(make_user, region_tree):
    return make_user([Role.DISPATCHER], scope=region_tree["subdistrict"])
