"""Read-only admin for cases: browse, filter and search; changes go through services.

Cases, clocks, requests and the timeline are view-only here: an edit in the admin would
skip the checks, the clocks and the timeline event that the services write.
"""

from django.contrib import admin

from .models import Case, CaseAttachment, CaseClock, CaseEvent, CaseRequest


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("seq", "at", "actor", "action", "from_status", "to_status", "note", "hash")
    readonly_fields = fields
    ordering = ("seq",)


class ClockInline(ReadOnlyInline):
    model = CaseClock
    fields = ("kind", "limit_value", "limit_unit", "started_at", "due_at", "warn_at", "stopped_at", "overdue", "paused")
    readonly_fields = fields


class RequestInline(ReadOnlyInline):
    model = CaseRequest
    fields = ("kind", "status", "reason", "extra_value", "extra_unit", "requested_by", "requested_at", "decided_by", "decided_at")
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = CaseAttachment
    fields = ("kind", "file", "content_type", "size", "width", "height", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "channel", "category", "priority", "region_code", "department", "due_at", "created_at")
    list_filter = ("status", "channel", "priority", "needs_placement", "supervised", "was_overdue", "department")
    search_fields = ("number", "description", "address", "region_code")
    date_hierarchy = "created_at"
    list_select_related = ("category", "department")
    raw_id_fields = ("category", "grid", "department", "handler", "reported_by")
    inlines = [EventInline, ClockInline, RequestInline, AttachmentInline]

    def has_add_permission(self, request):
        return False  # cases are created through create_case (clock, number, timeline)

    def has_change_permission(self, request, obj=None):
        return False  # view only: every change is a service call with a timeline event

    def has_delete_permission(self, request, obj=None):
        return False  # the timeline protects every case row


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ("case", "seq", "at", "actor", "action", "from_status", "to_status")
    list_filter = ("action",)
    search_fields = ("case__number", "note")
    list_select_related = ("case", "actor")
    raw_id_fields = ("case", "actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CaseRequest)
class CaseRequestAdmin(admin.ModelAdmin):
    list_display = ("case", "kind", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("kind", "status")
    search_fields = ("case__number", "reason")
    list_select_related = ("case", "requested_by", "decided_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

