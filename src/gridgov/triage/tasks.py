"""The scheduled retraining of the dispatch classifier (django-tasks).

`retrain_classifier` trains a new model version from the closed cases and, with
`reschedule=True`, queues its own next run for the next `retrain_hour` (local time): one
chain of daily runs, started by `gridgov train-classifier --schedule`.
"""

import datetime as dt

from django.utils import timezone
from django_tasks import task

from .classifier import option, train

TASK_PATH = "gridgov.triage.tasks.retrain_classifier"


def next_run(now=None):
    """The next `retrain_hour` o'clock (local time) after `now`."""
    local = timezone.localtime(now or timezone.now())
    run = local.replace(hour=option("retrain_hour"), minute=0, second=0, microsecond=0)
    return run if run > local else run + dt.timedelta(days=1)


def schedule_retraining(now=None):
    """Queue the next run unless one is already waiting; returns the run time or None."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").exists():
        return None
    run_after = next_run(now)
    retrain_classifier.using(run_after=run_after).enqueue(reschedule=True)
    return run_after


@task()
def retrain_classifier(reschedule=False):
    model = train()
    if reschedule:
        schedule_retraining()
    return None if model is None else {"version": model.version, "n_samples": model.n_samples}
