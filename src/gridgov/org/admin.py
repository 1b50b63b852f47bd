"""Django admin for staff accounts (with their roles) and departments."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Department, StaffRole, User


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 1


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [StaffRoleInline]
    list_display = ["username", "display_name", "department", "scope", "is_active", "last_login"]
    list_filter = ["is_active", "is_superuser", "role_assignments__role", "department"]
    search_fields = ["username", "display_name", "phone"]
    list_select_related = ["department", "scope"]
    autocomplete_fields = ["department"]
    raw_id_fields = ["scope"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal details"), {"fields": ["display_name", "phone", "email"]}),
        (_("Responsibility"), {"fields": ["scope", "department"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "display_name", "password1", "password2"]}),
        (_("Responsibility"), {"fields": ["scope", "department"]}),
    ]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "type", "contact_person", "is_active"]
    list_filter = ["type", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["regions"]  # the region tree can hold thousands of grids
