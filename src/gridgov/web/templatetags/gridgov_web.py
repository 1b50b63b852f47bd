"""Template helpers of the shell: navigation, bell, scope, icons, badges."""

from django import template
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from gridgov.cases.clocks import clock_state
from gridgov.cases.models import ClockState
from gridgov.org.roles import Role
from gridgov.web import navigation
from gridgov.web.models import Notification

register = template.Library()

# With a context: "Normal" alone is also a priority (普通), but a clock is 正常.
CLOCK_STATE_LABELS = {
    ClockState.NORMAL: pgettext_lazy("clock state", "Normal"),
    ClockState.WARNING: pgettext_lazy("clock state", "Warning"),
    ClockState.OVERDUE: pgettext_lazy("clock state", "Overdue"),
}


@register.simple_tag(takes_context=True)
def main_nav(context):
    request = context.get("request")
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return []
    return navigation.items_for(user, request.path if request else "")


@register.inclusion_tag("web/bell.html", takes_context=True)
def notification_bell(context):
    user = context["user"]
    unread = Notification.objects.for_user(user).unread().count() if user.is_authenticated else 0
    return {"unread": unread}


@register.simple_tag
def scope_label(user):
    """The user's area: their region, else their department."""
    if user.scope_id:
        return user.scope.name
    if user.department_id:
        return user.department.name
    if Role.SYSADMIN in user.roles:
        return _("Whole system")
    return _("No area assigned")


@register.filter
def role_labels(user):
    return sorted(Role(code).label for code in user.roles)


@register.filter
def avatar_letter(user):
    return str(user)[:1].upper()


@register.simple_tag
def icon(name, extra_class=""):
    return format_html('<svg class="icon {}" aria-hidden="true"><use href="#i-{}"></use></svg>', extra_class, name)


@register.simple_tag
def clock_badge(case, now=None):
    """The running clock's state as a coloured badge (nothing when no clock runs)."""
    state = clock_state(case, now)
    if state is None:
        return ""
    return format_html('<span class="badge badge--{}">{}</span>', state, CLOCK_STATE_LABELS[state])


@register.inclusion_tag("web/status_bars.html")
def status_bars(counts):
    """Horizontal bars of case counts by status, scaled to the largest count."""
    largest = max((n for _value, _label, n in counts), default=0) or 1
    list_url = _url_or_blank("cases:list")
    rows = [
        {
            "value": value,
            "label": label,
            "n": n,
            "percent": round(100 * n / largest),
            "url": f"{list_url}?status={value}" if list_url else "",
        }
        for value, label, n in counts
    ]
    return {"rows": rows}


def _url_or_blank(name):
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def page_url(context, number):
    """`?...&page=N` keeping the request's other query parameters (filters, search, sort)."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    query["page"] = number
    return "?" + query.urlencode()
