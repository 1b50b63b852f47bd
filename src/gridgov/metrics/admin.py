from django.contrib import admin

from .models import MetricsConfig


@admin.register(MetricsConfig)
class MetricsConfigAdmin(admin.ModelAdmin):
    """One row of definitions and weights; MetricsConfig.clean refuses weights not adding up to 100."""

    list_display = ("__str__", "response_hours", "resolution_basis", "basic_satisfied_weight", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not MetricsConfig.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
