"""回访 (callbacks): created when a case is closed, completed by recording the result.

`record_result` is the only state change: it locks the callback, rates the case through
`cases.services.rate` (the case timeline is the immutable record), optionally reopens it
(不满意 → back to dispatch) and, for 12345 cases, reports the result to the hotline.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.cases import services as case_services
from gridgov.cases.models import Status
from gridgov.catalog import worktime
from gridgov.core.errors import IllegalTransition, NotFound, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.org.permissions import require

from . import permissions  # noqa: F401  (registers the actions before any check)
from .models import RESULT_RATING, Callback, CallbackResult

logger = logging.getLogger(__name__)

NOTE_MAX = 2000
DEFAULT_DELAY = (1, "working_days")


def due_after(closed_at):
    """When the callback of a case closed at `closed_at` is due (default: next working day)."""
    value, unit = getattr(settings, "GRIDGOV_CALLBACK_DELAY", DEFAULT_DELAY)
    return worktime.add_time(closed_at, value, unit)


def on_case_changed(sender, case, event, **kwargs):
    """case_changed receiver: a closure schedules its callback (one INSERT, nothing else)."""
    if event.action != "close" or case.closed_at is None:
        return
    schedule(case)


def schedule(case):
    """The callback of the case's current closure; created once (unique per closure)."""
    try:
        with transaction.atomic():
            return Callback.objects.create(case=case, closed_at=case.closed_at, due_at=due_after(case.closed_at))
    except IntegrityError:  # already scheduled for this closure (a repeated signal)
        return Callback.objects.get(case=case, closed_at=case.closed_at)


def record_result(callback, actor, *, result, note="", reopen=False, reason="", at=None):
    """Record the reporter's verdict: 满意 / 基本满意 / 不满意, once per callback.

    The case is rated accordingly (unless someone already rated it); `reopen=True` (only
    with 不满意, and a reason) sends the case back to dispatch with the rework counted.
    """
    fields = _inputs(result, note, reopen, reason)
    at = at or timezone.now()
    with transaction.atomic():
        callback = _lock(callback)
        require(actor, "callback.record", callback)
        _check_open(callback)
        case = callback.case
        if case.rating is None:
            case = case_services.rate(case, actor, rating=RESULT_RATING[fields["result"]], comment=fields["note"], at=at)
        if fields["reopen"]:
            case = case_services.reopen(case, actor, reason=fields["reason"], at=at)
        callback.result = fields["result"]
        callback.note = fields["note"]
        callback.done_at = at
        callback.done_by = actor
        callback.reopened = fields["reopen"]
        callback.reopen_reason = fields["reason"]
        callback.save(update_fields=["result", "note", "done_at", "done_by", "reopened", "reopen_reason"])
        transaction.on_commit(lambda: report_to_hotline(case, callback.result, callback.note))
    callback.case = case
    return callback


def _inputs(result, note, reopen, reason):
    problems = {}
    if result not in CallbackResult.values:
        problems["result"] = [_("Choose satisfied, basically satisfied or unsatisfied.")]
    note = clean_text(note or "", "note", max_length=NOTE_MAX)
    reason = clean_text(reason or "", "reason", max_length=NOTE_MAX)
    reopen = bool(reopen)
    if reopen and result in CallbackResult.values and result != CallbackResult.UNSATISFIED:
        problems["reopen"] = [_("Only an unsatisfied result can reopen the case.")]
    if reopen and not reason:
        problems["reason"] = [_("Say why the case is reopened.")]
    if problems:
        code = "reason_required" if list(problems) == ["reason"] else "invalid"
        raise ValidationFailed(next(iter(problems.values()))[0], code=code, fields=problems)
    return {"result": result, "note": note, "reopen": reopen, "reason": reason}


def _lock(callback):
    pk = callback.pk if hasattr(callback, "pk") else callback
    try:
        return Callback.objects.select_for_update(of=("self",)).select_related("case").get(pk=pk)
    except (Callback.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such callback."), code="callback_not_found") from None


def _check_open(callback):
    if callback.done_at is not None:
        raise IllegalTransition(_("The result of this callback has already been recorded."), code="already_recorded")
    if callback.case.status != Status.CLOSED:
        raise IllegalTransition(
            _("The case is not closed (it was reopened); no callback result can be recorded."), code="case_not_closed"
        )


def report_to_hotline(case, result, note):
    """12345 cases tell the hotline the callback result (if the hotline app offers it)."""
    if case.channel != "hotline" or not _has_hotline_order(case):
        return
    try:
        from gridgov.hotline import services as hotline_services
    except ImportError:
        return
    report = getattr(hotline_services, "report_callback", None)
    if report is None:
        return
    try:
        report(case, result, note)
    except Exception:  # the callback is committed; a hotline failure is logged, not raised
        logger.exception("reporting the callback of %s to the hotline failed", case.number)


def _has_hotline_order(case):
    try:
        from gridgov.hotline import models as hotline_models
    except ImportError:
        return False
    order_model = getattr(hotline_models, "HotlineOrder", None)
    if order_model is None:
        return False
    return order_model.objects.filter(case_id=case.pk).exists()


def visible_callbacks(user):
    return Callback.objects.restrict(user, "view").select_related("case", "done_by", "case__grid")

