"""Tasks run by `gridgov worker` (django-tasks with the database backend)."""

from django_tasks import task

from .sweep import run_sweep


@task()
def sla_sweep(backlog=False):
    """One pass of the SLA sweep (idempotent; see sweep.py); a backlog larger than one
    pass's budget is drained by the next pass, enqueued at once."""
    result = run_sweep(refresh_statistics=backlog)
    if result["more"]:
        sla_sweep.enqueue(backlog=True)
    return result
