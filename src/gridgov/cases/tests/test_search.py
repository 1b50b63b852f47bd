"""Text search of the case list and API: exact keys at any age, free text in a bounded window."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from gridgov.cases.filters import EXACT_KEY, search_window_start
from gridgov.cases.models import Case
from gridgov.cases.tests.ui_fixtures import clerk, login, make_case, ui_categories  # noqa: F401
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db
LIST = "/cases/"


def numbers(response):
    return {case.number for case in response.context["cases"]}


@pytest.fixture
def aged(clerk, make_case):
    """A case from 100 days ago and one from today, both mentioning 井盖."""
    old = make_case(clerk, description="老小区井盖松动", reporter_phone="13800138000", address="幸福路1号")
    new = make_case(clerk, description="新井盖缺失", reporter_phone="13900139000")
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=100))
    return Case.objects.get(pk=old.pk), new


def test_free_text_searches_the_recent_window_only(aged, clerk, login):
    old, new = aged
    assert numbers(login(clerk).get(LIST, {"q": "井盖"})) == {new.number}
    assert numbers(login(clerk).get(LIST, {"q": "幸福路"})) == set()


def test_reported_from_widens_the_free_text_window(aged, clerk, login):
    old, new = aged
    since = (timezone.localdate() - dt.timedelta(days=200)).isoformat()
    assert numbers(login(clerk).get(LIST, {"q": "井盖", "created_after": since})) == {old.number, new.number}


def test_a_case_number_finds_the_case_at_any_age(aged, clerk, login, api_client):
    old, _new = aged
    assert numbers(login(clerk).get(LIST, {"q": old.number})) == {old.number}
    rows = api_client(clerk).get("/api/v1/cases/", {"q": old.number}).json()["results"]
    assert [row["number"] for row in rows] == [old.number]


def test_a_phone_finds_the_cases_for_roles_that_see_reporters(aged, clerk, login, make_user, region_tree):
    old, _new = aged
    assert numbers(login(clerk).get(LIST, {"q": "13800138000"})) == {old.number}
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["subdistrict"])
    # Who reported what is personal data: an inspector cannot look cases up by phone.
    assert numbers(login(inspector).get(LIST, {"q": "13800138000"})) == set()


def test_exact_keys_use_equality_not_a_substring_scan(aged, clerk, login):
    old, _new = aged
    with CaptureQueriesContext(connection) as queries:
        login(clerk).get(LIST, {"q": old.number})
    case_queries = [q["sql"] for q in queries.captured_queries if '"cases_case"' in q["sql"] and old.number in str(q["sql"])]
    assert case_queries and all(f'"number" = \'{old.number}\'' in sql for sql in case_queries)
    assert not any(f"%{old.number}%" in sql for sql in case_queries)


def test_free_text_is_bounded_by_the_window_in_sql(aged, clerk, login):
    with CaptureQueriesContext(connection) as queries:
        login(clerk).get(LIST, {"q": "井盖"})
    scans = [q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"].upper() and '"cases_case"' in q["sql"]]
    assert scans and all('"created_at" >=' in sql for sql in scans)


def test_the_page_states_the_search_window_and_the_export_cap(aged, clerk, login):
    with translation.override("zh-hans"):
        html = login(clerk).get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "200000" in html and "最多导出" in html
    assert "近30天" in html


def test_window_starts_at_local_midnight(settings):
    settings.GRIDGOV_CASE_SEARCH_DAYS = 1
    start = timezone.localtime(search_window_start())
    assert (start.hour, start.minute, start.date()) == (0, 0, timezone.localdate())


CASE_NUMBERS = st.builds(lambda day, seq: f"{day}{seq:05d}", st.integers(20200101, 20391231), st.integers(1, 99999))
PHONES = st.integers(13_000_000_000, 19_999_999_999).map(str)


@given(CASE_NUMBERS | PHONES)
def test_numbers_and_phones_are_exact_keys(value):
    assert EXACT_KEY.fullmatch(value)


@given(st.text(alphabet="井盖缺失幸福路 号abc", min_size=1, max_size=12))
def test_chinese_words_are_free_text(value):
    assert not EXACT_KEY.fullmatch(value.strip() or "井")
