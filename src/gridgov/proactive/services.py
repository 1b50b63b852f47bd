"""State changes of the proactive app (未诉先办), one function per change.

- open_proactive_case: a case (channel 主动发现) for a hot topic, through cases.services.create_case;
  the idempotency key derives from month, 小类 and cell, so a double click makes one case
- create_project: a root-cause project (每月一题) with its cells, grids and linked cases
- change_project_status: planned → in progress → completed, or cancelled
"""

import h3
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.assessment.months import add_months, month_start, next_month, parse_month
from gridgov.cases import services as case_services
from gridgov.cases.models import Case, Channel
from gridgov.catalog.models import Category
from gridgov.core.errors import IllegalTransition, NotFound, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.geo.models import Level, Region
from gridgov.org.models import Department
from gridgov.org.permissions import require

from . import permissions  # noqa: F401  (registers the app's actions for tests and commands)
from .hot_topics import DEFAULT_MONTHS
from .models import PROJECT_TRANSITIONS, Project, ProjectEvent, ProjectStatus

HOT_CELL_RESOLUTION = 9
MAX_CELLS = 50
MAX_LINKED_CASES = 5000


def _subcategory(value):
    pk = getattr(value, "pk", value)
    try:
        category = Category.objects.filter(pk=int(pk), parent__isnull=False, is_active=True).first()
    except (TypeError, ValueError):
        category = None
    if category is None:
        raise ValidationFailed.field("category", _("Choose an active sub-category."), code="invalid_category")
    return category


def _cell(value, field="h3_cell"):
    cell = str(value or "").strip().lower()
    if not h3.is_valid_cell(cell) or h3.get_resolution(cell) != HOT_CELL_RESOLUTION:
        raise ValidationFailed.field(field, _("Not an H3 cell of resolution 9."), code="invalid_cell")
    return cell


def _key(value):
    return clean_text(value or "", "idempotency_key", max_length=100, multiline=False) or None


def open_proactive_case(actor, *, month, category, h3_cell, description="", idempotency_key=None, at=None):
    """Open a proactive case (主动发现) at the centre of a hot cell. Returns (case, created)."""
    require(actor, "hot_topic.view")
    month = parse_month(month)
    category = _subcategory(category)
    cell = _cell(h3_cell)
    lat, lon = h3.cell_to_latlng(cell)
    key = _key(idempotency_key) or f"proactive:{month:%Y-%m}:{category.pk}:{cell}"
    description = clean_text(description, "description", max_length=2000) or _(
        "Proactive handling (hot topic of %(month)s): %(category)s keeps recurring here."
    ) % {"month": f"{month:%Y-%m}", "category": category.name}
    return case_services.create_case(
        actor, channel=Channel.PROACTIVE, description=description, category=category, lon=lon, lat=lat,
        idempotency_key=key, at=at,
    )


def create_project(
    actor, *, title, month, owner_department, topic="", category=None, cells=(), grids=(), link_cases=True,
    idempotency_key=None, at=None,
):
    """A 每月一题 project. With `link_cases`, the cases of its 小类 in its cells and grids
    during the report period (the `DEFAULT_MONTHS` up to `month`) are linked, in the
    actor's scope. Returns (project, created)."""
    require(actor, "proactive_project.create")
    key = _key(idempotency_key)
    if key and (existing := Project.objects.filter(idempotency_key=key).first()) is not None:
        return existing, False
    fields = _project_fields(actor, title, month, owner_department, topic, category, cells, grids)
    at = at or timezone.now()
    try:
        with transaction.atomic():
            project = _insert_project(actor, fields, key, at)
            if link_cases:
                project.cases.set(_matching_cases(actor, project, fields["grids"]))
            ProjectEvent.objects.create(
                project=project, action="create", actor=actor, at=at, data={"cases": project.cases.count()}
            )
    except IntegrityError:
        existing = Project.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False
    return project, True


def _project_fields(actor, title, month, owner_department, topic, category, cells, grids):
    errors = {}

    def check(function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValidationFailed as error:
            errors.update(error.fields)
            return None

    fields = {
        "title": check(clean_text, title, "title", max_length=200, required=True, multiline=False),
        "topic": check(clean_text, topic, "topic", max_length=5000),
        "month": check(parse_month, month),
        "owner_department": check(_department, owner_department),
        "category": check(_subcategory, category) if category not in (None, "") else None,
        "cells": check(_cells, cells),
        "grids": check(_grids, actor, grids),
    }
    if errors:
        raise ValidationFailed(code="invalid_project", fields=errors)
    return fields


def _department(value):
    pk = getattr(value, "pk", value)
    try:
        department = Department.objects.filter(pk=int(pk), is_active=True).first()
    except (TypeError, ValueError):
        department = None
    if department is None:
        raise ValidationFailed.field("owner_department", _("Choose an active department."), code="invalid_department")
    return department


def _cells(values):
    values = list(values or [])
    if len(values) > MAX_CELLS:
        raise ValidationFailed.field("cells", _("At most %(n)d cells.") % {"n": MAX_CELLS}, code="too_many")
    return sorted({_cell(value, "cells") for value in values})


def _grids(actor, values):
    pks = [getattr(value, "pk", value) for value in (values or [])]
    try:
        pks = [int(pk) for pk in pks]
    except (TypeError, ValueError):
        raise ValidationFailed.field("grids", _("Choose grids in your area."), code="invalid_grid") from None
    grids = list(Region.objects.restrict(actor, "view").filter(level=Level.GRID, pk__in=pks))
    if len(grids) != len(set(pks)):
        raise ValidationFailed.field("grids", _("Choose grids in your area."), code="invalid_grid")
    return grids


def _insert_project(actor, fields, key, at):
    grids = fields.pop("grids")
    project = Project.objects.create(
        **fields, region_code=actor.scope_code or "", created_by=actor, created_at=at, idempotency_key=key
    )
    fields["grids"] = grids
    project.grids.set(grids)
    return project


def _matching_cases(actor, project, grids):
    """Ids of the cases in the actor's scope that the project is about (its period, 小类, places)."""
    first = add_months(project.month, -(DEFAULT_MONTHS - 1))
    cases = Case.objects.restrict(actor, "view").filter(
        created_at__gte=month_start(first), created_at__lt=month_start(next_month(project.month))
    )
    if project.category_id:
        cases = cases.filter(category_id=project.category_id)
    place = Q()
    if project.cells:
        place |= Q(h3_cell__in=project.cells)
    if grids:
        place |= Q(grid__in=grids)
    return list(cases.filter(place).order_by("-created_at").values_list("pk", flat=True)[:MAX_LINKED_CASES])


def change_project_status(project, actor, *, status, note="", at=None):
    """Move a project along planned → in progress → completed (or cancel it)."""
    note = clean_text(note, "note", max_length=2000)
    at = at or timezone.now()
    with transaction.atomic():
        try:
            locked = Project.objects.select_for_update().get(pk=getattr(project, "pk", project))
        except (Project.DoesNotExist, ValueError, TypeError):
            raise NotFound(_("No such project."), code="project_not_found") from None
        require(actor, "proactive_project.change", locked)
        if status not in PROJECT_TRANSITIONS.get(locked.status, ()):
            raise IllegalTransition(
                _("A project that is %(status)s cannot change to that status.") % {"status": locked.get_status_display()},
                code="illegal_status",
            )
        previous = locked.status
        locked.status = ProjectStatus(status)
        locked.version += 1
        locked.save(update_fields=["status", "version"])
        ProjectEvent.objects.create(
            project=locked, action="status", actor=actor, at=at, note=note, data={"from": previous, "to": status}
        )
    return locked

