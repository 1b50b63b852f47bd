"""Filters for region and grid lists (API and pages)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import GridType, Level, Region


class RegionFilterSet(django_filters.FilterSet):
    level = django_filters.MultipleChoiceFilter(label=_("level"), choices=Level.choices)
    parent = django_filters.CharFilter(
        label=_("parent"), field_name="parent__code", help_text=_("Code of the parent: its direct children.")
    )
    within = django_filters.CharFilter(
        label=_("within"), method="filter_within", help_text=_("Region code: this region and everything below it.")
    )
    grid_type = django_filters.ChoiceFilter(label=_("grid type"), choices=GridType.choices)
    q = django_filters.CharFilter(label=_("search"), method="filter_q", help_text=_("Code starts with, or name contains."))

    class Meta:
        model = Region
        fields = ["level", "parent", "within", "grid_type", "q"]

    def filter_within(self, queryset, name, value):
        return queryset.filter(code__startswith=value.strip())

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__startswith=value) | Q(name__icontains=value))


class GridFilterSet(RegionFilterSet):
    community = django_filters.CharFilter(
        label=_("community"), field_name="parent__code", help_text=_("Code of the community the grids belong to.")
    )

    class Meta:
        model = Region
        fields = ["community", "within", "grid_type", "q"]
