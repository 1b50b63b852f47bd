"""Staff roles (domain.md §2 and §4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INTAKE_CLERK = "intake_clerk", _("Intake clerk")  # 受理员
    DISPATCHER = "dispatcher", _("Dispatcher")  # 派遣员
    SHIFT_LEAD = "shift_lead", _("Shift lead")  # 值班长
    DEPT_HANDLER = "dept_handler", _("Department handler")  # 部门处置人员
    GRID_INSPECTOR = "grid_inspector", _("Grid inspector")  # 网格员
    GRID_LEAD = "grid_lead", _("Grid lead")  # 网格长
    GRID_SECRETARY = "grid_secretary", _("Grid party secretary")  # 网格书记
    COMMUNITY_SECRETARY = "community_secretary", _("Community party secretary")  # 社区书记
    SUBDISTRICT_LEADER = "subdistrict_leader", _("Subdistrict leader")  # 街道领导
    SYSADMIN = "sysadmin", _("System administrator")  # 系统管理员
