"""The timeline: hash chain, verification command, and guards in the model and the database."""

import contextlib
import sqlite3

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from gridgov.cases.models import Case, CaseAttachment, CaseEvent, ImmutableRecord, Status
from gridgov.cases.timeline import event_hash, event_payload, unlocked_for_flush, verify_chain

from .conftest import image_bytes

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def guard_lifted():
    """Tamper the way a database administrator could: around the triggers."""
    if connection.vendor == "sqlite":
        with unlocked_for_flush():
            yield
    else:  # a superuser session skipping ordinary triggers
        raw("SET session_replication_role = replica")
        try:
            yield
        finally:
            raw("SET session_replication_role = origin")


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# -- the chain ------------------------------------------------------------------------------------
def test_events_are_chained_by_hash(flow):
    case = flow.to(Status.HANDLING)
    events = list(case.events.order_by("seq"))
    assert events[0].prev_hash == ""
    for previous, event in zip(events, events[1:]):
        assert event.prev_hash == previous.hash
    for event in events:
        assert event.hash == event_hash(event.prev_hash, event_payload(case.number, event))
        assert len(event.hash) == 64
    assert verify_chain(case)


def test_event_hash_is_sha256_of_prev_hash_and_canonical_json():
    import hashlib

    payload = {"b": 1, "a": "处置"}
    expected = hashlib.sha256(('abc{"a":"处置","b":1}').encode()).hexdigest()
    assert event_hash("abc", payload) == expected


def test_payload_covers_the_attachment_hashes(flow, staff, media):
    from gridgov.cases import services

    case = flow.to(Status.HANDLING)
    case = services.submit_handling(case, staff.handler, note="已清理", photos=[image_bytes("JPEG")])
    event = case.events.order_by("-seq").first()
    attachment = event.attachments.get()
    assert event.hash == event_hash(event.prev_hash, event_payload(case.number, event, [attachment.sha256]))
    assert event.hash != event_hash(event.prev_hash, event_payload(case.number, event, []))
    assert verify_chain(case)
    CaseAttachment.objects.filter(pk=attachment.pk).update(sha256="0" * 64)  # swapped file
    assert not verify_chain(case)


# -- the model refuses changes --------------------------------------------------------------------
def test_model_refuses_save_and_delete_of_an_event(flow):
    event = flow.new().events.get()
    event.note = "changed"
    with pytest.raises(ImmutableRecord):
        event.save()
    with pytest.raises(ImmutableRecord):
        event.delete()
    with pytest.raises(ImmutableRecord):
        CaseEvent.objects.filter(pk=event.pk).update(note="changed")
    with pytest.raises(ImmutableRecord):
        CaseEvent.objects.filter(pk=event.pk).delete()
    assert CaseEvent.objects.get(pk=event.pk).note == ""


# -- the database refuses changes -----------------------------------------------------------------
def test_raw_sql_update_of_an_event_fails(flow):
    event = flow.new().events.get()
    with pytest.raises(DatabaseError, match="immutable"):
        with transaction.atomic():
            raw("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["quietly changed", event.pk])
    assert CaseEvent.objects.get(pk=event.pk).note == ""


def test_raw_sql_delete_of_an_event_fails(flow):
    case = flow.to(Status.ACCEPTED)
    with pytest.raises(DatabaseError, match="immutable"):
        with transaction.atomic():
            raw("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert case.events.count() == 2


def test_raw_sql_delete_of_all_events_fails(flow):
    flow.new()
    with pytest.raises(DatabaseError, match="immutable"):
        with transaction.atomic():
            raw("DELETE FROM cases_caseevent")
    assert CaseEvent.objects.count() == 1


def test_the_triggers_exist_after_all_migrations():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_caseevent'")
            assert {row[0] for row in cursor.fetchall()} == {"cases_caseevent_no_update", "cases_caseevent_no_delete"}
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases_caseevent'::regclass AND NOT tgisinternal"
            )
            assert {row[0] for row in cursor.fetchall()} == {"cases_caseevent_no_update_delete"}


def test_another_sqlite_program_cannot_change_events_either(tmp_path, flow):
    """A connection without gridgov's function (the sqlite3 shell) fails on the trigger."""
    if connection.vendor != "sqlite":
        # PostgreSQL triggers are server-side: every client already went through them above.
        flow.new()
        with pytest.raises(DatabaseError):
            with transaction.atomic():
                raw("UPDATE cases_caseevent SET note = 'x'")
        return
    with connection.cursor() as cursor:  # the installed table and triggers, as they are
        cursor.execute("SELECT type, sql FROM sqlite_master WHERE tbl_name = 'cases_caseevent' AND sql IS NOT NULL")
        schema = sorted(cursor.fetchall(), key=lambda row: row[0] != "table")
    other = sqlite3.connect(tmp_path / "elsewhere.sqlite3")
    try:
        for _type, sql in schema:
            other.execute(sql.replace('REFERENCES "cases_case" ("id")', "").replace('REFERENCES "org_user" ("id")', ""))
        other.execute(
            "INSERT INTO cases_caseevent (case_id, seq, at, action, from_status, to_status, note, data, prev_hash, hash)"
            " VALUES (1, 1, '2026-11-30', 'create', '', 'reported', '', '{}', '', 'h')"
        )
        with pytest.raises(sqlite3.OperationalError, match="gridgov_timeline_unlocked"):
            other.execute("UPDATE cases_caseevent SET note = 'x'")
        with pytest.raises(sqlite3.OperationalError, match="gridgov_timeline_unlocked"):
            other.execute("DELETE FROM cases_caseevent")
        assert other.execute("SELECT count(*) FROM cases_caseevent").fetchone() == (1,)
    finally:
        other.close()


# -- tampering is detected --------------------------------------------------------------------------
def test_verify_chain_detects_an_edited_event(flow):
    case = flow.to(Status.HANDLING)
    with guard_lifted():
        raw("UPDATE cases_caseevent SET note = %s WHERE case_id = %s AND seq = 2", ["edited", case.pk])
    assert not verify_chain(case)


def test_verify_chain_detects_a_deleted_event(flow):
    case = flow.to(Status.HANDLING)
    other = flow.to(Status.HANDLING)
    with guard_lifted():
        raw("DELETE FROM cases_caseevent WHERE case_id = %s AND seq = 4", [case.pk])  # the last one
    assert not verify_chain(case)
    assert verify_chain(other)


def test_verify_timeline_command(flow, capsys):
    intact = flow.to(Status.ACCEPTED)
    broken = flow.to(Status.DISPATCHED)
    call_command("verify-timeline")
    assert "2 case timelines verified, none broken" in capsys.readouterr().out
    with guard_lifted():
        raw("UPDATE cases_caseevent SET note = %s WHERE case_id = %s AND seq = 1", ["edited", broken.pk])
    with pytest.raises(CommandError, match="1 of 2"):
        call_command("verify-timeline")
    out = capsys.readouterr().out
    assert f"BROKEN {broken.number}" in out and intact.number not in out
    assert "seq 1: contents do not match" in out and "seq 2: prev_hash" not in out
    call_command("verify-timeline", intact.number)  # checking one case


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_timeline(flow):
    flow.to(Status.ACCEPTED)
    assert CaseEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not CaseEvent.objects.exists() and not Case.objects.exists()
    if connection.vendor == "sqlite":  # the guard is back afterwards
        with connection.cursor() as cursor:
            cursor.execute("SELECT gridgov_timeline_unlocked()")
            assert cursor.fetchone() == (0,)


# -- the admin shows, never edits ------------------------------------------------------------
def test_admin_shows_cases_and_timeline_read_only(flow, quick_user, client):
    case = flow.to(Status.DISPATCHED)
    admin_user = quick_user(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    listing = client.get("/admin/cases/case/?status__exact=dispatched")
    assert listing.status_code == 200 and case.number in listing.content.decode()
    page = client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="status"' not in html and 'name="description"' not in html  # no form fields
    assert case.events.order_by("seq").last().hash in html  # the timeline inline
    posted = client.post(f"/admin/cases/case/{case.pk}/change/", {"status": "closed"})
    assert posted.status_code == 403
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    assert client.get("/admin/cases/case/add/").status_code == 403
    assert client.get(f"/admin/cases/case/{case.pk}/delete/").status_code == 403
    event = case.events.first()
    assert client.get(f"/admin/cases/caseevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/cases/caseevent/").status_code == 200
