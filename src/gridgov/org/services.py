"""Management of departments and staff accounts (system administrators only).

Like every service: check the role, lock the row, validate, write. The API and the
management pages call these; neither saves an org model itself.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed
from gridgov.core.text import clean_text

from .models import Department, DepartmentType, StaffRole, User
from .permissions import require
from .roles import Role

_DEPARTMENT_TEXT = {"code": 30, "name": 100, "contact_person": 50, "contact_phone": 30}
_STAFF_TEXT = {"username": 150, "display_name": 50, "phone": 30, "email": 254}
_REQUIRED = {"code", "name", "username"}


def _clean_fields(values, limits):
    """Run every free-text field in `values` through clean_text, naming the field on error."""
    cleaned = dict(values)
    for field, limit in limits.items():
        if field in cleaned:
            cleaned[field] = clean_text(
                cleaned[field], field, max_length=limit, required=field in _REQUIRED, multiline=False
            )
    return cleaned


def _require_unique(model, field, value, exclude_pk=None):
    clash = model._default_manager.filter(**{field: value})
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationFailed.field(field, _("This value is already in use."), code="duplicate")


# --- Departments --------------------------------------------------------------------------


def create_department(actor, *, code, name, type=DepartmentType.OTHER, contact_person="", contact_phone="",
                      regions=(), is_active=True):
    require(actor, "department.change")
    values = _clean_fields(
        {"code": code, "name": name, "contact_person": contact_person, "contact_phone": contact_phone},
        _DEPARTMENT_TEXT,
    )
    _check_department_type(type)
    with transaction.atomic():
        _require_unique(Department, "code", values["code"])
        department = Department.objects.create(type=type, is_active=is_active, **values)
        department.regions.set(regions)
    return department


def update_department(department, actor, **changes):
    """Change the given fields; `regions` (if given) replaces the served regions."""
    require(actor, "department.change")
    regions = changes.pop("regions", None)
    values = _clean_fields(changes, _DEPARTMENT_TEXT)
    if "type" in values:
        _check_department_type(values["type"])
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=_pk(department))
        if "code" in values:
            _require_unique(Department, "code", values["code"], exclude_pk=department.pk)
        for field, value in values.items():
            setattr(department, field, value)
        department.save()
        if regions is not None:
            department.regions.set(regions)
    return department


def _check_department_type(value):
    if value not in DepartmentType.values:
        raise ValidationFailed.field("type", _("Unknown department type."), code="invalid_choice")


# --- Staff --------------------------------------------------------------------------------


def create_staff(actor, *, username, password="", display_name="", phone="", email="", scope=None,
                 department=None, roles=(), is_active=True):
    require(actor, "user.change")
    values = _clean_fields(
        {"username": username, "display_name": display_name, "phone": phone, "email": email}, _STAFF_TEXT
    )
    user = User(scope=scope, department=department, is_active=is_active, **values)
    _check_password(password, user)
    with transaction.atomic():
        _require_unique(User, "username", values["username"])
        user.set_password(password)
        user.save()
        _set_roles(user, roles)
    return user


def update_staff(user, actor, **changes):
    """Change the given fields; `roles` (if given) replaces the role set, `password` resets it."""
    require(actor, "user.change")
    roles = changes.pop("roles", None)
    password = changes.pop("password", None)
    values = _clean_fields(changes, _STAFF_TEXT)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=_pk(user))
        if "username" in values:
            _require_unique(User, "username", values["username"], exclude_pk=user.pk)
        for field, value in values.items():
            setattr(user, field, value)
        if password:
            _check_password(password, user)
            user.set_password(password)
        user.save()
        if roles is not None:
            _set_roles(user, roles)
    user.__dict__.pop("roles", None)  # drop the cached role set
    return user


def _set_roles(user, roles):
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        raise ValidationFailed.field("roles", _("Unknown role: %(role)s.") % {"role": unknown[0]}, code="invalid_choice")
    wanted = set(roles)
    current = set(user.role_assignments.values_list("role", flat=True))
    user.role_assignments.filter(role__in=current - wanted).delete()
    StaffRole.objects.bulk_create(StaffRole(user=user, role=role) for role in sorted(wanted - current))


def _check_password(password, user):
    if not password:
        raise ValidationFailed.field("password", _("This field is required."), code="required")
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise ValidationFailed(code="weak_password", fields={"password": list(error.messages)}) from error


def _pk(obj):
    return getattr(obj, "pk", obj)
