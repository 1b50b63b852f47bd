"""Filters of the camera and alarm lists, shared by the API and the pages."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Alarm, AlarmStatus, Camera, CameraStatus


class CameraFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=CameraStatus.choices, label=_("Status"))
    region = django_filters.CharFilter(method="in_region", label=_("Region code"))
    vendor = django_filters.CharFilter(field_name="vendor", label=_("Vendor"))

    class Meta:
        model = Camera
        fields = ["q", "status", "region", "vendor"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value)) if value else queryset

    def in_region(self, queryset, name, value):
        return queryset.filter(region_code__startswith=value.strip()) if value.strip() else queryset


class AlarmFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=AlarmStatus.choices, label=_("Status"))
    source = django_filters.CharFilter(field_name="source", label=_("Source"))
    label = django_filters.CharFilter(field_name="label", label=_("Label"))

    class Meta:
        model = Alarm
        fields = ["q", "status", "source", "label"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(origin__icontains=value) | Q(external_id__icontains=value) | Q(camera__name__icontains=value))
