"""Replies to the hotline on 办结 and after 回访: signed POSTs to a real local HTTP server,
retried with backoff when it fails, never sent twice after success."""

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from gridgov.core.errors import NotFound
from gridgov.hotline import replies, services
from gridgov.hotline.models import HotlineReply, ReplyKind, ReplyStatus

from .conftest import MONDAY_9


# The real worker closes "old" connections between tasks: tests that run it commit for real.
WORKER_DB = pytest.mark.django_db(transaction=True)


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


@pytest.fixture
def hotline_case(staff, order_data, flow):
    order, _ = services.receive_order(staff.clerk, {**order_data, "lon": 117.005, "lat": 36.69}, at=MONDAY_9)
    return order


def close_case(flow, order, django_capture_on_commit_callbacks):
    """Drive the order's case to 结案 through the real services; run the on-commit hooks."""
    with django_capture_on_commit_callbacks(execute=True):
        case = flow.to("closed", case=accepted(flow, order), at=MONDAY_9)
    return case


def accepted(flow, order):
    """Hotline orders arrive without a 小类: the dispatcher chooses one on 立案."""
    from gridgov.cases.services import accept

    return accept(order.case, flow.staff.dispatcher, category=flow.categories.garbage, at=MONDAY_9)


def expected_signature(body, secret="test-secret"):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@WORKER_DB
def test_closing_a_hotline_case_posts_a_signed_reply(hotline_case, flow, hotline_endpoint, django_capture_on_commit_callbacks):
    case = close_case(flow, hotline_case, django_capture_on_commit_callbacks)
    assert DBTaskResult.objects.filter(task_path="gridgov.hotline.replies.deliver_reply").count() == 1
    run_worker()
    assert len(hotline_endpoint.received) == 1
    sent = hotline_endpoint.received[0]
    assert sent["headers"]["X-Gridgov-Signature"] == expected_signature(sent["body"])
    payload = sent["json"]
    assert payload["order_number"] == "GD20261130001" and payload["case_number"] == case.number
    assert payload["result"] == "closed" and payload["department"] == "城管执法中队"
    assert "已清理" in payload["note"]
    assert payload["closed_at"] == "2026-11-30T09:05:00+08:00"
    reply = HotlineReply.objects.get()
    assert reply.status == ReplyStatus.SENT and reply.attempts == 1 and reply.sent_at
    hotline_case.refresh_from_db()
    assert hotline_case.replied_at is not None


@WORKER_DB
def test_a_failed_reply_is_retried_by_the_worker_and_succeeds(
    hotline_case, flow, hotline_endpoint, settings, django_capture_on_commit_callbacks
):
    settings.GRIDGOV_HOTLINE_REPLY_BACKOFF = [0, 0, 0]
    hotline_endpoint.statuses = [500, 503]
    close_case(flow, hotline_case, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    # The retries are queued on commit; run the worker again for each.
    for _round in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            run_worker()
    assert len(hotline_endpoint.received) == 3
    assert len({item["body"] for item in hotline_endpoint.received}) == 1  # the same reply each time
    reply = HotlineReply.objects.get()
    assert reply.status == ReplyStatus.SENT and reply.attempts == 3 and reply.last_error == ""
    run_worker()
    assert replies.deliver_due(now=MONDAY_9 + dt.timedelta(days=30)) == 0
    assert len(hotline_endpoint.received) == 3  # nothing sent twice after success


def test_backoff_waits_and_records_the_error(hotline_case, flow, hotline_endpoint, django_capture_on_commit_callbacks):
    hotline_endpoint.statuses = [500]
    close_case(flow, hotline_case, django_capture_on_commit_callbacks)
    reply = HotlineReply.objects.get()
    start = reply.next_retry_at
    assert replies.attempt_delivery(reply.pk, now=start) == ReplyStatus.PENDING
    reply.refresh_from_db()
    assert reply.attempts == 1 and reply.last_error.startswith("HTTP 500")
    assert reply.next_retry_at == start + dt.timedelta(seconds=60)
    # Not due yet: no attempt.
    assert replies.attempt_delivery(reply.pk, now=start + dt.timedelta(seconds=59)) == ReplyStatus.PENDING
    assert len(hotline_endpoint.received) == 1
    assert replies.deliver_due(now=start + dt.timedelta(seconds=60)) == 1
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and reply.attempts == 2
    assert len(hotline_endpoint.received) == 2


def test_after_the_last_delay_the_reply_is_failed(hotline_case, flow, hotline_endpoint, settings, django_capture_on_commit_callbacks):
    settings.GRIDGOV_HOTLINE_REPLY_BACKOFF = [10]
    hotline_endpoint.statuses = [500, 500]
    close_case(flow, hotline_case, django_capture_on_commit_callbacks)
    reply = HotlineReply.objects.get()
    now = reply.next_retry_at
    replies.attempt_delivery(reply.pk, now=now)
    assert replies.attempt_delivery(reply.pk, now=now + dt.timedelta(seconds=10)) == ReplyStatus.FAILED
    reply.refresh_from_db()
    assert reply.attempts == 2 and reply.next_retry_at is None
    retried = replies.retry_now(reply, flow.staff.dispatcher)
    assert retried.status == ReplyStatus.PENDING
    assert replies.attempt_delivery(reply.pk) == ReplyStatus.SENT


def test_an_unreachable_hotline_is_an_error_not_a_crash(hotline_case, flow, settings, django_capture_on_commit_callbacks):
    settings.GRIDGOV_HOTLINE_REPLY_URL = "http://127.0.0.1:9/closed-port"
    close_case(flow, hotline_case, django_capture_on_commit_callbacks)
    reply = HotlineReply.objects.get()
    assert replies.attempt_delivery(reply.pk, now=reply.next_retry_at) == ReplyStatus.PENDING
    reply.refresh_from_db()
    assert reply.attempts == 1 and reply.last_error


@WORKER_DB
def test_without_a_url_replies_wait_for_the_export(hotline_case, flow, settings, django_capture_on_commit_callbacks):
    settings.GRIDGOV_HOTLINE_REPLY_URL = ""
    close_case(flow, hotline_case, django_capture_on_commit_callbacks)
    run_worker()
    reply = HotlineReply.objects.get()
    assert reply.status == ReplyStatus.PENDING and reply.attempts == 0


def test_other_transitions_and_other_channels_send_nothing(staff, flow, hotline_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        flow.to("verified", case=accepted(flow, hotline_case), at=MONDAY_9)
        flow.to("closed", channel="grid_patrol", point=(117.005, 36.69))
    assert not HotlineReply.objects.exists()


@WORKER_DB
def test_report_callback_sends_the_result_the_same_way(hotline_case, flow, hotline_endpoint, django_capture_on_commit_callbacks):
    case = close_case(flow, hotline_case, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.report_callback(case, "满意", "群众表示满意", actor=flow.staff.clerk)
        again = services.report_callback(case, "满意", "群众表示满意")
    assert again.pk == reply.pk and reply.kind == ReplyKind.CALLBACK
    run_worker()
    callbacks = [item["json"] for item in hotline_endpoint.received if item["json"]["type"] == "callback"]
    assert len(callbacks) == 1
    assert callbacks[0]["result"] == "满意" and callbacks[0]["note"] == "群众表示满意"
    assert callbacks[0]["order_number"] == hotline_case.order_number


def test_report_callback_refuses_cases_from_other_channels(flow):
    case = flow.new(channel="grid_patrol")
    with pytest.raises(NotFound):
        services.report_callback(case, "满意", "")


def test_signature_helper_matches_hmac_sha256():
    body = json.dumps({"a": 1}).encode()
    assert replies.sign(body, "k") == expected_signature(body, "k")
