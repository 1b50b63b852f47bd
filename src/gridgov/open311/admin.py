from django.contrib import admin

from .models import ApiKey, ServiceRequest


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "is_active", "created_at"]
    list_filter = ["is_active"]
    readonly_fields = ["key", "created_at"]
    fields = ["name", "user", "is_active", "key", "created_at"]
    autocomplete_fields = ["user"]


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ["case", "service_code", "api_key", "created_at"]
    readonly_fields = [field.name for field in ServiceRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
