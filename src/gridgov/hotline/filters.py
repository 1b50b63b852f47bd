"""Filters of hotline orders, shared by the API and the hotline page."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.cases.models import Status

from .models import HotlineOrder, OrderType, Urgency

DEADLINE_STATES = [
    ("overdue", _("Past the hotline deadline")),
    ("warning", _("Nearing the hotline deadline")),
    ("normal", _("Within the hotline deadline")),
    ("replied", _("Replied")),
]


def filter_deadline_state(queryset, state, now=None):
    """Open orders past (overdue) or near (warning: 70% used) their reply deadline."""
    now = now or timezone.now()
    waiting = queryset.filter(replied_at__isnull=True)
    if state == "overdue":
        return waiting.filter(reply_due_at__lte=now)
    if state == "warning":
        return waiting.filter(reply_warn_at__lte=now, reply_due_at__gt=now)
    if state == "normal":
        return waiting.filter(reply_warn_at__gt=now)
    if state == "replied":
        return queryset.filter(replied_at__isnull=False)
    return queryset


def deadline_state(order, now=None):
    now = now or timezone.now()
    if order.replied_at:
        return "replied"
    if order.reply_due_at <= now:
        return "overdue"
    return "warning" if order.reply_warn_at <= now else "normal"


class HotlineOrderFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    order_type = django_filters.ChoiceFilter(choices=OrderType.choices, label=_("Order type"))
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices, label=_("Urgency"))
    case_status = django_filters.ChoiceFilter(field_name="case__status", choices=Status.choices, label=_("Case status"))
    deadline = django_filters.ChoiceFilter(choices=DEADLINE_STATES, method="by_deadline", label=_("Hotline deadline"))
    received_from = django_filters.DateFilter(field_name="received_at", lookup_expr="date__gte", label=_("Received from"))
    received_to = django_filters.DateFilter(field_name="received_at", lookup_expr="date__lte", label=_("Received until"))

    class Meta:
        model = HotlineOrder
        fields = ["q", "order_type", "urgency", "case_status", "deadline", "received_from", "received_to"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(order_number__icontains=value) | Q(content__icontains=value) | Q(address__icontains=value)
            | Q(case__number__icontains=value)
        )

    def by_deadline(self, queryset, name, value):
        return filter_deadline_state(queryset, value)
