from django.contrib import admin

from .models import ClassifierModel, DuplicateRule, MergedReporter


@admin.register(DuplicateRule)
class DuplicateRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "radius_m", "window_hours")
    search_fields = ("category__name", "category__code")
    autocomplete_fields = ("category",)


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = ("version", "trained_at", "n_samples", "n_classes", "accuracy", "top3_accuracy", "n_test")
    exclude = ("blob",)
    readonly_fields = ("version", "trained_at", "n_samples", "n_classes", "accuracy", "top3_accuracy", "n_test")

    def has_add_permission(self, request):
        return False  # trained by `gridgov train-classifier` or the scheduled task


@admin.register(MergedReporter)
class MergedReporterAdmin(admin.ModelAdmin):
    # Personal data: masked here too; the case page reveals it with an audit record.
    list_display = ("case", "source_case", "channel", "reported_at", "merged_at")
    exclude = ("name", "phone")
    readonly_fields = ("case", "source_case", "channel", "reported_at", "merged_at")

    def has_add_permission(self, request):
        return False
