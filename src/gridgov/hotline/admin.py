"""Read-only admin views of hotline orders, replies and imports (changes go through services)."""

from django.contrib import admin

from .models import HotlineImport, HotlineOrder, HotlineReply


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HotlineOrder)
class HotlineOrderAdmin(ReadOnly):
    list_display = ["order_number", "case", "order_type", "urgency", "received_at", "reply_due_at", "replied_at"]
    list_filter = ["order_type", "urgency"]
    search_fields = ["order_number", "case__number"]
    exclude = ["caller_name", "caller_phone"]  # personal data: the order page masks and audits it


@admin.register(HotlineReply)
class HotlineReplyAdmin(ReadOnly):
    list_display = ["order", "kind", "status", "attempts", "next_retry_at", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["order__order_number", "key"]


@admin.register(HotlineImport)
class HotlineImportAdmin(ReadOnly):
    list_display = ["filename", "status", "total", "created_count", "created_by", "created_at"]
    list_filter = ["status"]
