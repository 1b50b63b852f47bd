"""Departments (职能部门) and staff accounts with roles and scopes."""

from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .permissions import RestrictedQuerySet, region_subtree_q
from .roles import Role

__all__ = ["Department", "DepartmentType", "Role", "StaffRole", "User"]


class DepartmentType(models.TextChoices):
    POLICE = "police", _("Police station")
    JUSTICE = "justice", _("Judicial office")
    URBAN_MANAGEMENT = "urban_management", _("Urban management")
    MARKET_REGULATION = "market_regulation", _("Market regulation")
    HOUSING = "housing", _("Housing and construction")
    SANITATION = "sanitation", _("Sanitation")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
    EMERGENCY = "emergency", _("Emergency management")
    PROPERTY = "property", _("Property management office")
    HOTLINE = "hotline", _("12345 hotline office")
    UTILITY = "utility", _("Public utility")
    COMMUNITY = "community", _("Community committee")
    OTHER = "other", _("Other")


class DepartmentQuerySet(RestrictedQuerySet):
    """Departments are reference data: every staff member sees all of them."""

    action_prefix = "department"

    def scope_q(self, user):
        return Q()


class StaffQuerySet(RestrictedQuerySet):
    """Staff are visible within the viewer's subtree, and colleagues of one department."""

    action_prefix = "user"

    def scope_q(self, user):
        condition = region_subtree_q(user, "scope__code")
        if user.department_id:
            same_department = Q(department_id=user.department_id)
            condition = same_department if condition is None else condition | same_department
        return condition


class StaffManager(UserManager.from_queryset(StaffQuerySet)):
    """Django's user manager with the staff restriction queryset."""


class Department(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=30, choices=DepartmentType.choices, default=DepartmentType.OTHER)
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    regions = models.ManyToManyField(
        "geo.Region", blank=True, related_name="departments", verbose_name=_("regions served")
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A staff account. Roles live in StaffRole; the scope is one node of the region tree."""

    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    scope = models.ForeignKey(
        "geo.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("scope")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("department")
    )

    objects = StaffManager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self):
        return self.display_name or self.username

    @cached_property
    def roles(self):
        """The set of role codes; superusers count as system administrators."""
        codes = set(self.role_assignments.values_list("role", flat=True)) if self.pk else set()
        if self.is_superuser:
            codes.add(Role.SYSADMIN)
        return frozenset(codes)

    def has_role(self, *roles):
        return bool(self.roles.intersection(roles))

    @property
    def scope_code(self):
        """Code prefix of the subtree this user sees; '' means everything."""
        if Role.SYSADMIN in self.roles:
            return ""
        return self.scope.code if self.scope_id else None


class StaffRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="org_staffrole_unique")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"
