"""未诉先办: projects opened for the month's recurring problems (每月一题).

The hot-topics report itself is computed on demand from cases (gridgov.proactive.hot_topics);
projects change only through gridgov.proactive.services, each change with a ProjectEvent.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# status -> the statuses it may move to
PROJECT_TRANSITIONS = {
    ProjectStatus.PLANNED: (ProjectStatus.IN_PROGRESS, ProjectStatus.CANCELLED),
    ProjectStatus.IN_PROGRESS: (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED),
    ProjectStatus.COMPLETED: (),
    ProjectStatus.CANCELLED: (),
}


class ProjectQuerySet(RestrictedQuerySet):
    action_prefix = "proactive_project"

    def scope_q(self, user):
        return region_subtree_q(user, "region_code")


class Project(models.Model):
    """A root-cause project for one recurring problem (每月一题)."""

    title = models.CharField(_("title"), max_length=200)
    topic = models.TextField(_("topic"), blank=True)
    month = models.DateField(_("month of the report"))
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("category")
    )
    cells = models.JSONField(_("H3 cells"), default=list, blank=True)
    grids = models.ManyToManyField("geo.Region", blank=True, related_name="+", verbose_name=_("grids"))
    owner_department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("owner department")
    )
    status = models.CharField(_("status"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="+", verbose_name=_("linked cases"))
    # The creator's scope code: the project is visible in that subtree.
    region_code = models.CharField(_("region code"), max_length=15, db_index=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("proactive project")
        verbose_name_plural = _("proactive projects")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class ProjectEvent(models.Model):
    """Audit trail of a project: created, status changes."""

    # The project page shows the action in words (the stored code is English).
    ACTION_LABELS = {
        "create": pgettext_lazy("project event", "Created"),
        "status": pgettext_lazy("project event", "Status changed"),
    }

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events", verbose_name=_("project"))
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor"))
    at = models.DateTimeField(_("time"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("project event")
        verbose_name_plural = _("project events")
        ordering = ["at", "id"]

    @property
    def action_label(self):
        return self.ACTION_LABELS.get(self.action, self.action)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("project events cannot be changed")
        super().save(*args, **kwargs)
