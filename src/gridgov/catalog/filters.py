"""Filters for category lists (API and pages)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Category, CategoryKind


class CategoryFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=CategoryKind.choices)
    parent = django_filters.NumberFilter(
        label=_("major class"), field_name="parent_id", help_text=_("Id of a major class: its minor classes.")
    )
    major = django_filters.BooleanFilter(
        label=_("major classes only"),
        field_name="parent",
        lookup_expr="isnull",
        help_text=_("true: only major classes (大类); false: only minor classes (小类)."),
    )
    q = django_filters.CharFilter(
        label=_("search"), method="filter_q", help_text=_("Name or keywords contain, or the code starts with, this text.")
    )
    active = django_filters.BooleanFilter(label=_("active"), field_name="is_active")

    class Meta:
        model = Category
        fields = ["kind", "parent", "major", "q", "active"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(keywords__icontains=value) | Q(code__startswith=value)
        )
