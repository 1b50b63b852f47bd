from django.contrib import admin

from .models import AssessmentRule, Meeting, ScoreSheet


@admin.register(AssessmentRule)
class AssessmentRuleAdmin(admin.ModelAdmin):
    """Rules are edited here; the model's clean() refuses unknown measures and bad targets."""

    list_display = ["role", "measure", "target", "points", "weight", "is_active", "description"]
    list_filter = ["role", "measure", "is_active"]
    list_editable = ["is_active"]


@admin.register(ScoreSheet)
class ScoreSheetAdmin(admin.ModelAdmin):
    """Read-only: sheets change through the services (generate, manual items, lock)."""

    list_display = ["user", "month", "region_code", "status", "computed_score", "manual_score", "total_score"]
    list_filter = ["status", "month"]
    search_fields = ["user__username", "user__display_name", "region_code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "region", "topic", "recorded_by"]
    list_filter = ["kind", "date"]
    search_fields = ["topic", "minutes"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
