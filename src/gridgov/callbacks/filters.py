"""Filters of the callback list, shared by the API and the page."""

import datetime as dt

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Callback, CallbackResult


class CallbackState(django_filters.ChoiceFilter):
    """due today / overdue (pending, due before today) / pending / done (local dates)."""

    CHOICES = [
        ("due_today", pgettext_lazy("callback", "Due today")),
        ("overdue", pgettext_lazy("callback", "Overdue")),
        ("pending", pgettext_lazy("callback", "Pending")),
        ("done", pgettext_lazy("callback", "Done")),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=self.CHOICES, method=self.select, **kwargs)

    @staticmethod
    def select(queryset, name, value):
        if value == "done":
            return queryset.filter(done_at__isnull=False)
        pending = queryset.filter(done_at__isnull=True)
        start, end = today_bounds()
        if value == "due_today":
            return pending.filter(due_at__gte=start, due_at__lt=end)
        if value == "overdue":
            return pending.filter(due_at__lt=start)
        return pending


def today_bounds(now=None):
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def state_of(callback, now=None):
    if callback.done_at is not None:
        return "done"
    start, end = today_bounds(now)
    if callback.due_at < start:
        return "overdue"
    return "due_today" if callback.due_at < end else "pending"


SORTS = {
    "due_at": ("due_at", "id"),
    "-due_at": ("-due_at", "-id"),
    "closed_at": ("closed_at", "id"),
    "-closed_at": ("-closed_at", "-id"),
    "done_at": ("done_at", "id"),
    "-done_at": ("-done_at", "-id"),
    "case": ("case__number", "id"),
}


class CallbackFilterSet(django_filters.FilterSet):
    state = CallbackState(label=pgettext_lazy("callback", "State"))
    result = django_filters.ChoiceFilter(choices=CallbackResult.choices, label=pgettext_lazy("callback", "Result"))
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    reopened = django_filters.BooleanFilter(label=_("Case reopened"))
    sort = django_filters.ChoiceFilter(
        choices=[(key, key) for key in SORTS], method="order", label=_("Sort"), empty_label=None
    )

    class Meta:
        model = Callback
        fields = ["state", "result", "q", "reopened"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(case__number__startswith=value) | Q(case__description__icontains=value) | Q(case__address__icontains=value)
        )

    def order(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS["due_at"]))
