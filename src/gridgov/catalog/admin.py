"""Django admin for the taxonomy: 大类 with their 小类 inline, limits editable in the list."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Category, HolidayOverride


class LevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("major", _("Major classes")), ("minor", _("Minor classes"))]

    def queryset(self, request, queryset):
        if self.value() == "major":
            return queryset.filter(parent__isnull=True)
        if self.value() == "minor":
            return queryset.filter(parent__isnull=False)
        return queryset


class MajorClassFilter(admin.SimpleListFilter):
    title = _("major class")
    parameter_name = "parent"

    def lookups(self, request, model_admin):
        majors = Category.objects.filter(parent__isnull=True)
        kind = request.GET.get("kind__exact")
        if kind:
            majors = majors.filter(kind=kind)
        return [(str(major.pk), f"{major.get_kind_display()} {major}") for major in majors]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(parent_id=self.value())
        return queryset


class MinorInlineForm(forms.ModelForm):
    """A 小类 takes the kind of the 大类 it is edited under."""

    class Meta:
        model = Category
        fields = ["code", "name", "time_limit_value", "time_limit_unit", "default_priority",
                  "default_department", "is_active", "sort_order", "kind"]  # fmt: skip
        widgets = {"kind": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = False

    def clean(self):
        cleaned = super().clean()
        parent = cleaned.get("parent")
        if parent is not None:
            cleaned["kind"] = parent.kind
        return cleaned


class MinorInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    form = MinorInlineForm
    extra = 0
    show_change_link = True  # criteria and keywords are edited on the 小类's own page
    verbose_name = _("minor class")
    verbose_name_plural = _("minor classes")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "time_limit_value", "time_limit_unit",
                    "default_priority", "default_department", "is_active"]  # fmt: skip
    list_display_links = ["code", "name"]
    list_editable = ["time_limit_value", "time_limit_unit", "default_priority", "is_active"]
    list_filter = ["kind", LevelFilter, MajorClassFilter, "time_limit_unit", "default_priority", "is_active"]
    list_select_related = ["parent", "default_department"]
    search_fields = ["code", "name", "keywords"]
    ordering = ["kind", "code"]
    list_per_page = 200
    fieldsets = [
        (None, {"fields": ["kind", "code", "name", "parent", "is_active", "sort_order"]}),
        (_("Handling rules"), {"fields": ["accept_criteria", "close_criteria", "time_limit_value", "time_limit_unit",
                                          "default_priority", "default_department"]}),  # fmt: skip
        (_("Intake"), {"fields": ["keywords", "duplicate_radius_m", "duplicate_window_hours"]}),
    ]

    def get_inlines(self, request, obj):
        # Only a 大类 has 小类; a 小类 page shows no inline.
        return [MinorInline] if obj is None or obj.parent_id is None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Category.objects.filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """Days set by hand before the chinese_calendar package (a new year's 放假安排, local days)."""

    list_display = ["date", "is_workday", "name", "changed_at"]
    list_filter = ["is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"
