"""The standard taxonomy shipped in data/categories.json and its loader.

Both functions accept the model classes as keywords so the data migration can pass its
historical models; by default they use the current ones.
"""

import json
from functools import cache
from pathlib import Path

from django.db import transaction

DATA_PATH = Path(__file__).resolve().parent / "data" / "categories.json"
PRIORITY_BY_NAME = {"low": 1, "normal": 2, "high": 3, "urgent": 4}  # Priority values
# Fields the loader writes on every run; is_active and a chosen department stay as edited.
DATA_FIELDS = (
    "name",
    "accept_criteria",
    "close_criteria",
    "time_limit_value",
    "time_limit_unit",
    "default_priority",
    "keywords",
)


@cache
def standard_data():
    """The parsed data file (read once per process)."""
    return json.loads(DATA_PATH.read_text(encoding="utf-8"))


def standard_rows():
    """Every class as a flat dict: 大类 first, each followed by its 小类, with kind and parent code."""
    rows = []
    for major in standard_data()["categories"]:
        rows.append({**_without_children(major), "parent_code": None})
        for minor in major["children"]:
            rows.append({**minor, "kind": major["kind"], "parent_code": major["code"]})
    return rows


def _without_children(major):
    return {key: value for key, value in major.items() if key != "children"}


def _field_values(row, sort_order):
    values = {field: row[field] for field in DATA_FIELDS if field in row}
    if "default_priority" in values:
        values["default_priority"] = PRIORITY_BY_NAME[values["default_priority"]]
    values["sort_order"] = sort_order
    return values


@transaction.atomic
def load_standard_categories(*, category_model=None, department_model=None):
    """Create or update the standard classes by (kind, code); return (created, updated).

    Re-running resets names, criteria, limits, priorities and keywords to the shipped
    values; `is_active` and an already chosen default department are left alone.
    """
    Category = category_model or _models()[0]
    existing = {(c.kind, c.code): c for c in Category.objects.all()}
    created = updated = 0
    for sort_order, row in enumerate(standard_rows(), 1):
        values = _field_values(row, sort_order)
        if row["parent_code"]:
            values["parent"] = existing[(row["kind"], row["parent_code"])]
        category = existing.get((row["kind"], row["code"]))
        if category is None:
            category = Category.objects.create(kind=row["kind"], code=row["code"], **values)
            existing[(row["kind"], row["code"])] = category
            created += 1
        elif _changed(category, values):
            for field, value in values.items():
                setattr(category, field, value)
            category.save()
            updated += 1
    link_default_departments(category_model=Category, department_model=department_model)
    return created, updated


def _changed(category, values):
    return any(getattr(category, field) != value for field, value in values.items())


def link_default_departments(*, category_model=None, department_model=None):
    """Fill empty default departments from the data's department codes; return how many.

    Run it again after creating departments (codes in the data file's "departments").
    """
    Category = category_model or _models()[0]
    Department = department_model or _models()[1]
    departments = {d.code: d for d in Department.objects.filter(code__in=department_codes())}
    linked = 0
    for row in standard_rows():
        department = departments.get(row.get("default_department") or "")
        if department is None:
            continue
        linked += Category.objects.filter(
            kind=row["kind"], code=row["code"], default_department__isnull=True
        ).update(default_department=department)
    return linked


def department_codes():
    """The department codes the data refers to, with their descriptions."""
    return dict(standard_data()["departments"])


def _models():
    from gridgov.catalog.models import Category
    from gridgov.org.models import Department

    return Category, Department
