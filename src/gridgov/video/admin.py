"""Admin: cameras, alarm sources (webhook secrets, Frigate URLs), alarm rules, alarms and the
webhook inbox (read-only)."""

from django.contrib import admin

from .cameras import placed
from .models import Alarm, AlarmEvent, AlarmFlood, AlarmRule, AlarmSource, Camera, WebhookInbox


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "grid", "region_code", "vendor", "status", "last_seen_at"]
    list_filter = ["status", "vendor"]
    search_fields = ["code", "name"]
    raw_id_fields = ["grid"]
    readonly_fields = ["grid", "region_code", "h3", "last_seen_at", "created_at"]

    def save_model(self, request, obj, form, change):
        # Grid, region code and H3 cell always follow the position (the locator decides).
        located = placed({"lon": obj.lon, "lat": obj.lat})
        obj.grid_id, obj.region_code, obj.h3 = located["grid_id"], located["region_code"], located["h3"]
        super().save_model(request, obj, form, change)


@admin.register(AlarmSource)
class AlarmSourceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "is_active", "snapshot_base_url"]
    list_filter = ["kind", "is_active"]


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "source", "label", "zone", "window_start", "window_end", "category", "priority", "action", "is_active"]
    list_display_links = ["name"]
    list_editable = ["order", "is_active"]
    list_filter = ["action", "is_active", "source"]
    raw_id_fields = ["category"]


class AlarmEventInline(admin.TabularInline):
    model = AlarmEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor", "note", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    """Read-only: alarms change only through ingest and dismissal (services)."""

    list_display = ["started_at", "source", "origin", "label", "status", "case", "updates"]
    list_filter = ["status", "source"]
    search_fields = ["origin", "external_id"]
    inlines = [AlarmEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AlarmFlood)
class AlarmFloodAdmin(admin.ModelAdmin):
    list_display = ["window_start", "source", "origin", "suppressed", "last_at"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookInbox)
class WebhookInboxAdmin(admin.ModelAdmin):
    """Read-only: pushes as they came; refused ones keep their error (decision 0014)."""

    list_display = ["id", "received_at", "source", "state", "attempts", "alarm", "processed_at"]
    list_filter = ["state", "source"]
    search_fields = ["body", "error"]
    raw_id_fields = ["alarm"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
