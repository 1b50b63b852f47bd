"""Django admin for the region tree; every save goes through gridgov.geo.services."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from gridgov.core.errors import Conflict, ValidationFailed
from gridgov.org.permissions import allowed

from . import addresses, services
from .models import Place, Region

EDITABLE = ["code", "name", "level", "parent", "boundary", "grid_type", "households"]


class RegionAdminForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = EDITABLE

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = {name: cleaned.get(name) for name in EDITABLE}
        try:
            services.validate_region(region=self.instance if self.instance.pk else None, **values)
        except ValidationFailed as error:
            for name, messages_ in error.fields.items():
                self.add_error(name if name in self.fields else None, messages_)
        return cleaned


class RegionScopedAdmin(admin.ModelAdmin):
    """Rows restricted to the user's scope; viewing needs region.view, editing region.change."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def has_view_permission(self, request, obj=None):
        return allowed(request.user, "region.view")

    def has_add_permission(self, request):
        return allowed(request.user, "region.change")

    def has_change_permission(self, request, obj=None):
        return allowed(request.user, "region.change")

    def has_delete_permission(self, request, obj=None):
        return allowed(request.user, "region.change")


@admin.register(Region)
class RegionAdmin(RegionScopedAdmin):
    form = RegionAdminForm
    list_display = ["code", "name", "level", "parent", "grid_type", "households", "area_m2", "updated_at"]
    list_filter = ["level", "grid_type"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]  # the tree can hold thousands of grids
    readonly_fields = ["centroid_lon", "centroid_lat", "bbox", "area_m2", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "level", "parent"]}),
        (_("Grid"), {"fields": ["grid_type", "households"]}),
        (_("Boundary"), {"fields": ["boundary", "centroid_lon", "centroid_lat", "bbox", "area_m2", "updated_at"]}),
    ]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data.get(name) for name in EDITABLE}
        saved = services.save_region(request.user, region=obj.pk if change else None, **values)
        obj.pk = saved.pk  # the admin redirects to the saved row

    def delete_model(self, request, obj):
        try:
            services.delete_region(request.user, obj)
        except Conflict as error:
            self.message_user(request, f"{obj}: {error.message}", messages.ERROR)

    def delete_queryset(self, request, queryset):
        # Children first, so a whole subtree can go in one action.
        for region in sorted(queryset, key=lambda region: len(region.code), reverse=True):
            self.delete_model(request, region)


@admin.register(Place)
class PlaceAdmin(RegionScopedAdmin):
    """Places that address text is matched against; saves go through addresses.save_place."""

    list_display = ["name", "kind", "grid", "aliases", "lon", "lat"]
    list_filter = ["kind"]
    search_fields = ["name", "key", "grid__code", "grid__name"]
    list_select_related = ["grid"]
    raw_id_fields = ["grid"]
    fields = ["name", "kind", "aliases", "grid", "lon", "lat"]

    def save_model(self, request, obj, form, change):
        addresses.save_place(request.user, obj)
