"""The case page (/cases/<id>/): header, clocks, reporter, map, photos, timeline, and the
actions this user may take now; the POST endpoints behind those actions; batch actions.

Every view finds the case through `Case.objects.restrict(user, "view")`, so a case outside
the user's scope is a 404 whatever the URL. State changes go through the services only.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gridgov.core.audit import log_sensitive_read
from gridgov.core.errors import DomainError
from gridgov.org.models import Department
from gridgov.org.permissions import allowed

from . import services
from .detail import build_detail, event_label
from .forms import ACTION_FORMS
from .models import Case

REPORTER_FIELDS = ["reporter_name", "reporter_phone"]
BATCH_ACTIONS = ("accept", "dispatch")


def visible_cases(user):
    return Case.objects.restrict(user, "view")


def get_visible_case(user, pk):
    queryset = visible_cases(user).select_related(
        "category", "category__parent", "grid", "department", "handler", "reported_by"
    )
    return get_object_or_404(queryset, pk=pk)


@login_required
@require_GET
def case_detail(request, pk):
    case = get_visible_case(request.user, pk)
    return render_detail(request, case)


def render_detail(request, case, *, bound_form=None, alert=None, status=200, revealed=False):
    """The case page; `bound_form` replaces its action's blank form to show its errors."""
    context = build_detail(case, request.user, now=timezone.now(), bound_form=bound_form, revealed=revealed)
    context["alert"] = alert
    return render(request, "cases/detail.html", context, status=status)


@login_required
@require_POST
def reveal_reporter(request, pk):
    """Show the reporter in the clear (htmx swaps the masked block); audit-logged."""
    case = get_visible_case(request.user, pk)
    if not allowed(request.user, "case.view_reporter"):
        return HttpResponseForbidden(_("Your role may not see the reporter's details."))
    log_sensitive_read(request.user, case, REPORTER_FIELDS, purpose="case detail", channel="web")
    if request.headers.get("HX-Request"):
        return render(request, "cases/_reporter.html", {"case": case, "revealed": True, "can_reveal": True})
    return render_detail(request, case, revealed=True)


@login_required
@require_GET
def case_photo(request, pk, attachment_pk):
    """A photo of a case, for those who may see the case (media files are not public)."""
    case = get_visible_case(request.user, pk)
    attachment = get_object_or_404(case.attachments.all(), pk=attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("photo file missing") from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def case_action(request, pk, action):
    """POST endpoint of one action form: validate, call the service, redirect (PRG)."""
    case = get_visible_case(request.user, pk)
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404("unknown action")
    form = form_class(request.POST, request.FILES, case=case, user=request.user)
    next_url = _safe_next(request)
    if form.is_valid():
        try:
            form.perform()
        except DomainError as error:
            return _refused(request, case, form, error, next_url)
        messages.success(request, _("%(action)s: done for case %(number)s.") % {"action": form.title, "number": case.number})
        return redirect(next_url or reverse("cases:detail", args=[case.pk]))
    if next_url:
        _flash_form_errors(request, case, form)
        return redirect(next_url)
    return render_detail(request, case, bound_form=form, status=400)


def _refused(request, case, form, error, next_url):
    """A service said no: explain a stale form, else show the reason beside the fields."""
    if error.code == "stale":
        message = stale_message(case.pk, request.user)
        if next_url:
            messages.warning(request, message)
            return redirect(next_url)
        fresh = get_visible_case(request.user, case.pk)
        return render_detail(request, fresh, alert=message, status=409)
    if next_url:
        messages.error(request, _("Case %(number)s: %(message)s") % {"number": case.number, "message": error.message})
        return redirect(next_url)
    form.add_domain_error(error)
    return render_detail(request, case, bound_form=form, status=error.status)


def stale_message(case_pk, user):
    """What happened since the form was rendered: the latest event on the case."""
    event = Case.objects.get(pk=case_pk).events.select_related("actor").order_by("-seq").first()
    if event is None:
        return _("The case changed after this page was loaded. Check its current state.")
    details = {"action": event_label(event.action, event.data), "time": date_format(timezone.localtime(event.at), "m-d H:i")}
    if event.actor_id == user.pk:
        return _("You already did this (%(action)s at %(time)s); it was not repeated.") % details
    details["actor"] = event.actor or _("the system")
    return _(
        "%(actor)s acted on this case first (%(action)s at %(time)s). The page now shows its current state; "
        "check it before acting again."
    ) % details


def _flash_form_errors(request, case, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            text = f"{label}: {error}" if label else error
            messages.error(request, _("Case %(number)s: %(message)s") % {"number": case.number, "message": text})


def _safe_next(request):
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return ""


@login_required
@require_POST
def batch_action(request):
    """Accept, or dispatch to one department, several cases from a workbench table.

    Each checkbox carries "pk:version", so a case that changed since the table was rendered
    is refused like a stale form; the others go through.
    """
    action = request.POST.get("action")
    if action not in BATCH_ACTIONS:
        raise Http404("unknown batch action")
    extra = {}
    if action == "dispatch":
        department = Department.objects.restrict(request.user, "view").filter(pk=request.POST.get("department") or 0).first()
        if department is None:
            messages.error(request, _("Choose the department to dispatch to."))
            return redirect(_safe_next(request) or reverse("web:workbench"))
        extra["department"] = department
    done, failed = _run_batch(request, action, extra)
    _report_batch(request, action, done, failed)
    return redirect(_safe_next(request) or reverse("web:workbench"))


def _parse_selection(values):
    selection = []
    for value in values:
        pk, _sep, version = value.partition(":")
        if pk.isdigit() and version.isdigit():
            selection.append((int(pk), int(version)))
    return selection


def _run_batch(request, action, extra):
    service = getattr(services, action)
    selection = _parse_selection(request.POST.getlist("cases"))
    cases = visible_cases(request.user).in_bulk([pk for pk, _version in selection])
    done, failed = [], []
    for pk, version in selection:
        case = cases.get(pk)
        if case is None:
            continue
        try:
            service(case, request.user, expected_version=version, **extra)
        except DomainError as error:
            failed.append((case.number, stale_message(case.pk, request.user) if error.code == "stale" else error.message))
        else:
            done.append(case.number)
    return done, failed


def _report_batch(request, action, done, failed):
    label = ACTION_FORMS[action].title
    if done:
        messages.success(
            request, _("%(action)s: done for %(count)d cases (%(numbers)s).") % {"action": label, "count": len(done), "numbers": ", ".join(done)}
        )
    for number, message in failed:
        messages.error(request, _("Case %(number)s: %(message)s") % {"number": number, "message": message})
    if not done and not failed:
        messages.warning(request, _("No case was selected."))

