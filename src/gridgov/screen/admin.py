"""Admin: kiosk tokens (create shows the raw token once; revoke), indicators
with an Excel import that reports every bad row."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .indicators import import_indicators
from .models import InspectorPosition, KioskToken, MonthlyIndicator
from .services import revoke_kiosk_tokens


@admin.register(KioskToken)
class KioskTokenAdmin(admin.ModelAdmin):
    list_display = ["label", "prefix", "scope", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["label", "prefix"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    fields = ["label", "scope", "expires_at", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if not change:
            raw = obj.set_new_token()
            obj.created_by = request.user
            obj.save()
            url = request.build_absolute_uri(reverse("screen:screen")) + "?token=" + raw
            messages.warning(
                request,
                _("The screen link is shown only now; copy it to the display: %(url)s") % {"url": url},
            )
        else:
            obj.save()

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = revoke_kiosk_tokens(queryset, at=timezone.now())
        messages.success(request, _("%(count)d token(s) revoked.") % {"count": count})


@admin.register(InspectorPosition)
class InspectorPositionAdmin(admin.ModelAdmin):
    list_display = ["user", "at", "lon", "lat", "accuracy", "grid"]
    raw_id_fields = ["user", "grid"]
    date_hierarchy = "at"


class IndicatorImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel file (.xlsx)"))


@admin.register(MonthlyIndicator)
class MonthlyIndicatorAdmin(admin.ModelAdmin):
    list_display = ["month", "module", "key", "label", "value", "unit", "source"]
    list_filter = ["module", "month"]
    search_fields = ["key", "label", "source"]
    change_list_template = "screen/admin/indicator_changelist.html"

    def get_urls(self):
        extra = [path("import/", self.admin_site.admin_view(self.import_view), name="screen_monthlyindicator_import")]
        return extra + super().get_urls()

    def import_view(self, request):
        """Upload an Excel sheet; all rows are imported, or none with a report per bad row."""
        if not self.has_add_permission(request):
            messages.error(request, _("You may not add indicators."))
            return redirect("admin:screen_monthlyindicator_changelist")
        form = IndicatorImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            result = import_indicators(form.cleaned_data["file"])
            if result.ok:
                messages.success(
                    request,
                    _("Imported: %(created)d new, %(updated)d updated.") % {"created": result.created, "updated": result.updated},
                )
                return redirect("admin:screen_monthlyindicator_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "result": result,
            "title": _("Import indicators from Excel"),
        }
        return render(request, "screen/admin/indicator_import.html", context)
