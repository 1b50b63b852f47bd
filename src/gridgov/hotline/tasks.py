"""Background jobs of the hotline app (django-tasks; run them with `gridgov db_worker`)."""

from django_tasks import task

from .replies import deliver_reply  # noqa: F401  (the reply job lives beside its delivery code)


@task()
def import_batch(batch_id):
    """Import one uploaded .xlsx batch (progress and report on the HotlineImport row)."""
    from .importer import run_import

    report = run_import(batch_id)
    return {"created": report.created, "errors": len(report.errors), "skipped": len(report.skipped)}
