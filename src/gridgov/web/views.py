"""Sign-in, the shell's own pages (workbench, notifications) and the lockout page."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from gridgov.core.listing import query_without
from gridgov.core.xlsx import excel_time, xlsx_response

from .forms import SignInForm
from .models import Notification
from .workbench import build_workbench

NOTIFICATIONS_PER_PAGE = 30


class SignInView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """POST only (Django's default); back to the sign-in page."""

    next_page = "web:login"


def lockout_response(request, original_response=None, credentials=None):
    """django-axes calls this instead of its plain-text page (AXES_LOCKOUT_CALLABLE)."""
    from django.conf import settings

    minutes = int(round(float(settings.AXES_COOLOFF_TIME) * 60)) if settings.AXES_COOLOFF_TIME else None
    form = SignInForm(request)
    context = {"form": form, "locked_out": True, "cooloff_minutes": minutes}
    return render(request, "web/login.html", context, status=429)


@login_required
def workbench(request):
    context = build_workbench(request.user)
    return render(request, "web/workbench.html", context)


NOTIFICATION_SORTS = {"-created": ("-created_at", "-id"), "created": ("created_at", "id")}
NOTIFICATION_EXPORT_MAX_ROWS = 50_000


def _notifications(request):
    """The user's own notifications, searched (q), filtered (show=unread) and ordered (sort)."""
    notifications = Notification.objects.for_user(request.user)
    query = request.GET.get("q", "").strip()[:100]
    show = "unread" if request.GET.get("show") == "unread" else ""
    sort = request.GET.get("sort") if request.GET.get("sort") in NOTIFICATION_SORTS else "-created"
    if query:
        notifications = notifications.filter(text__icontains=query)
    if show:
        notifications = notifications.unread()
    return notifications.order_by(*NOTIFICATION_SORTS[sort]), query, show, sort


@login_required
def notification_list(request):
    notifications, query, show, sort = _notifications(request)
    page = Paginator(notifications, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    unread = Notification.objects.for_user(request.user).unread().count()
    return render(request, "web/notifications.html", {
        "page": page, "unread": unread, "query": query, "show": show, "sort": sort,
        "filtered": bool(query or show), "export_query": query_without(request, "page"),
    })


@login_required
@require_GET
def notification_export(request):
    """The user's notifications as on the page (same search, filter and order) as .xlsx."""
    notifications, _query, _show, _sort = _notifications(request)
    headers = [gettext_noop("Time"), gettext_noop("Notification"), gettext_noop("Link"), gettext_noop("Read at")]
    rows = (
        [excel_time(note.created_at), note.text, note.url, excel_time(note.read_at)]
        for note in notifications[:NOTIFICATION_EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    return xlsx_response(f"notifications-{timezone.localtime():%Y%m%d-%H%M}.xlsx", _("Notifications"), headers, rows)


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one notification read; with `open`, continue to the page it links to."""
    notification = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    if "open" in request.POST and _is_local(request, notification.url):
        return redirect(notification.url)
    return redirect("web:notifications")


@login_required
@require_POST
def notification_read_all(request):
    count = Notification.objects.for_user(request.user).mark_read()
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect("web:notifications")


def _is_local(request, url):
    return bool(url) and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()})
