"""How supervision plugs into the cases app (installed from SupervisionConfig.ready)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gridgov.cases.models import Case, Status
from gridgov.cases.signals import case_changed

from . import recipients
from .notify import notify_users

EVENT_LABELS = {
    "whistle": _("Whistle blown"),
    "check_in": _("Department checked in"),
    "urge": _("Urging order"),
    "urge_reply": _("Urging order answered"),
    "supervision": _("Supervision order"),
    "supervision_reply": _("Supervision order answered"),
}

# Transition -> (who must act next, message). "department": the case's department handlers.
ACT_NOTICES = {
    "dispatch": ("department", _("Case %(number)s was dispatched to your department: please sign for it.")),
    "handle": (recipients.GRID_STAFF, _("Case %(number)s was handled: please verify it on site.")),
    "return": (recipients.DISPATCHERS, _("Case %(number)s was returned: please dispatch it again.")),
    "request_extension": (recipients.SHIFT_LEADS, _("Case %(number)s: an extension was requested.")),
}


def install():
    from gridgov.cases import detail
    from gridgov.cases.models import DEPARTMENT_LINKS

    from .panel import case_panel
    from .services import summoned_case_q

    if summoned_case_q not in DEPARTMENT_LINKS:
        DEPARTMENT_LINKS.append(summoned_case_q)
    if case_panel not in detail.DETAIL_PANELS:
        detail.DETAIL_PANELS.append(case_panel)
    detail.EVENT_LABELS.update(EVENT_LABELS)
    case_changed.connect(on_case_changed, sender=Case, dispatch_uid="supervision_case_changed")


def on_case_changed(sender, case, event, **kwargs):
    """Tell whoever must act next (one recipient query, one bulk insert); release whistles
    of finished cases."""
    if case.status in (Status.CLOSED, Status.REJECTED) and event.action in ("close", "reject"):
        from .services import close_finished

        close_finished(case.pk, event.at)
        return
    notice = ACT_NOTICES.get(event.action)
    if notice is None:
        return
    who, message = notice
    if who == "department":
        ids = recipients.department_staff(case.department_id)
    else:
        ids = recipients.covering(who, case.region_code)
    ids = [user_id for user_id in ids if user_id != event.actor_id]
    notify_users([(ids, gettext(message) % {"number": case.number}, f"/cases/{case.pk}/")], at=event.at)
