"""Tasks run by `gridgov worker` (django-tasks with the database backend)."""

from django_tasks import task

from .sweep import run_sweep


@task()
def sla_sweep():
    """One pass of the SLA sweep (idempotent; see sweep.py)."""
    return run_sweep()
