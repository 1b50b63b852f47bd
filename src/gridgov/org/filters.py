"""Filters for department and staff lists (API and pages)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.geo.models import CODE_LENGTH

from .models import Department, DepartmentType, User
from .roles import Role


def ancestor_codes(code):
    """The code itself and the codes of every ancestor in the region tree."""
    return [code[:length] for length in sorted(set(CODE_LENGTH.values())) if length <= len(code)]


class DepartmentFilterSet(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(label=_("type"), choices=DepartmentType.choices)
    region = django_filters.CharFilter(
        label=_("region code"),
        method="filter_region",
        help_text=_("Departments serving this region, one of its ancestors or one of its descendants."),
    )
    is_active = django_filters.BooleanFilter(label=_("active"))
    q = django_filters.CharFilter(label=_("search"), method="filter_q", help_text=_("Code or name contains."))

    class Meta:
        model = Department
        fields = ["type", "region", "is_active", "q"]

    def filter_region(self, queryset, name, value):
        serving = Q(regions__code__in=ancestor_codes(value)) | Q(regions__code__startswith=value)
        return queryset.filter(pk__in=Department.objects.filter(serving).values("pk"))

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class StaffFilterSet(django_filters.FilterSet):
    role = django_filters.MultipleChoiceFilter(label=_("role"), choices=Role.choices, method="filter_role")
    scope = django_filters.CharFilter(
        label=_("scope"), method="filter_scope", help_text=_("Region code: staff whose scope lies in this subtree.")
    )
    department = django_filters.NumberFilter(label=_("department"), field_name="department_id")
    is_active = django_filters.BooleanFilter(label=_("active"))
    q = django_filters.CharFilter(
        label=_("search"), method="filter_q", help_text=_("User name or display name contains.")
    )

    class Meta:
        model = User
        fields = ["role", "scope", "department", "is_active", "q"]

    def filter_role(self, queryset, name, value):
        if not value:
            return queryset
        holders = User.objects.filter(role_assignments__role__in=value).values("pk")
        return queryset.filter(pk__in=holders)

    def filter_scope(self, queryset, name, value):
        return queryset.filter(scope__code__startswith=value)

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(display_name__icontains=value))
