from django.contrib import admin

from .models import Callback


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    """Read-only: results are recorded through the service (it rates and may reopen the case)."""

    list_display = ("case", "closed_at", "due_at", "result", "done_at", "done_by", "reopened")
    list_filter = ("result", "reopened")
    search_fields = ("case__number",)
    raw_id_fields = ("case", "done_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
