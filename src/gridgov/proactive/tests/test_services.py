"""Proactive cases (idempotent) and projects."""

import pytest

from gridgov.cases.models import Case, Channel
from gridgov.core.errors import Forbidden, IllegalTransition, ValidationFailed
from gridgov.proactive import services
from gridgov.proactive.models import Project, ProjectStatus

from .conftest import P1, P3, cell


def test_double_click_opens_one_proactive_case(history, crew, kinds):
    before = Case.objects.count()
    first, created = services.open_proactive_case(crew.dispatcher, month="2026-10", category=kinds.garbage, h3_cell=cell(P1))
    again, created_again = services.open_proactive_case(crew.dispatcher, month="2026-10", category=kinds.garbage.pk, h3_cell=cell(P1))
    assert created and not created_again and first.pk == again.pk
    assert Case.objects.count() == before + 1
    assert first.channel == Channel.PROACTIVE and first.category_id == kinds.garbage.pk
    assert first.h3_cell == cell(P1) and first.reported_by == crew.dispatcher
    assert "2026-10" in first.description


def test_another_month_or_cell_is_another_case(history, crew, kinds):
    a, _ = services.open_proactive_case(crew.dispatcher, month="2026-10", category=kinds.garbage, h3_cell=cell(P1))
    b, _ = services.open_proactive_case(crew.dispatcher, month="2026-11", category=kinds.garbage, h3_cell=cell(P1))
    c, _ = services.open_proactive_case(crew.dispatcher, month="2026-10", category=kinds.garbage, h3_cell=cell(P3))
    assert len({a.pk, b.pk, c.pk}) == 3


def test_proactive_case_input_is_checked(crew, kinds):
    with pytest.raises(ValidationFailed) as caught:
        services.open_proactive_case(crew.dispatcher, month="2026-10", category=kinds.garbage, h3_cell="zzz")
    assert "h3_cell" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        services.open_proactive_case(crew.dispatcher, month="2026-10", category=999999, h3_cell=cell(P1))
    assert "category" in caught.value.fields
    with pytest.raises(Forbidden):  # a community secretary does not register cases
        services.open_proactive_case(crew.secretary, month="2026-10", category=kinds.garbage, h3_cell=cell(P1))
    with pytest.raises(Forbidden):  # no view of hot topics
        services.open_proactive_case(crew.inspector, month="2026-10", category=kinds.garbage, h3_cell=cell(P1))


def test_project_links_the_cases_of_its_topic(history, crew, kinds, department, region_tree):
    project, created = services.create_project(
        crew.leader, title="暴露垃圾整治", month="2026-10", owner_department=department, category=kinds.garbage,
        cells=[cell(P1)], topic="象霞社区垃圾反复暴露",
    )
    # garbage at P1 from August to October: 8-12, 9-2, 9-15, 10-8, 10-20.
    assert created and project.cases.count() == 5
    assert set(project.cases.values_list("category_id", flat=True)) == {kinds.garbage.pk}
    assert project.status == ProjectStatus.PLANNED and project.region_code == region_tree["subdistrict"].code
    assert project.events.get().action == "create"


def test_project_by_grid_and_idempotency(history, crew, department, region_tree):
    kwargs = dict(title="乱停放", month="2026-10", owner_department=department.pk, grids=[region_tree["grid21"].pk])
    first, _ = services.create_project(crew.leader, idempotency_key="p-1", **kwargs)
    again, created = services.create_project(crew.leader, idempotency_key="p-1", **kwargs)
    assert first.pk == again.pk and not created and Project.objects.count() == 1
    assert first.cases.count() == 6  # grid 21, August to October: 8-4, 8-5, 8-6, 9-3, 10-13, 10-27

def test_project_fields_are_checked_together(crew, region_tree):
    with pytest.raises(ValidationFailed) as caught:
        services.create_project(
            crew.secretary, title="", month="2026/10", owner_department=None, cells=["bad"],
            grids=[region_tree["grid21"].pk],  # outside community 1
        )
    assert set(caught.value.fields) == {"title", "month", "owner_department", "cells", "grids"}


def test_project_status_moves_forward_only(history, crew, department):
    project, _ = services.create_project(crew.leader, title="专项", month="2026-10", owner_department=department)
    project = services.change_project_status(project, crew.leader, status=ProjectStatus.IN_PROGRESS)
    with pytest.raises(IllegalTransition):
        services.change_project_status(project, crew.leader, status=ProjectStatus.PLANNED)
    project = services.change_project_status(project, crew.leader, status=ProjectStatus.COMPLETED, note="已完成")
    assert project.status == ProjectStatus.COMPLETED
    assert list(project.events.values_list("action", flat=True)) == ["create", "status", "status"]
    with pytest.raises(Forbidden):
        services.change_project_status(project, crew.inspector, status=ProjectStatus.CANCELLED)


def test_projects_are_scoped(history, crew, department):
    services.create_project(crew.secretary, title="社区一", month="2026-10", owner_department=department)
    services.create_project(crew.far_secretary, title="社区二", month="2026-10", owner_department=department)
    titles = lambda user: set(Project.objects.restrict(user).values_list("title", flat=True))  # noqa: E731
    assert titles(crew.leader) == {"社区一", "社区二"}
    assert titles(crew.secretary) == {"社区一"}
    assert titles(crew.inspector) == set()
