"""The per-case fact table: refreshed by the worker for changed cases (gridgov.cases.changes),
rebuilt by `gridgov rebuild-metrics`."""

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from gridgov.cases.models import Case, Status
from gridgov.geo.models import Region

from .models import CaseFact

UPDATE_FIELDS = [
    "created_day", "region_code", "department_id", "grid_id", "community_id", "handler_id", "reporter_id",
    "rejected", "dispatched", "response_minutes", "closed", "closed_on_time", "rating", "reworked", "extended",
]
# Fields of Case a fact is built from (rebuild reads only these).
CASE_FIELDS = [
    "pk", "created_at", "region_code", "department_id", "grid_id", "handler_id", "reported_by_id", "status",
    "dispatched_at", "signed_at", "handled_at", "handle_due_at", "rating", "rework_count", "extension_count",
]


class _Communities:
    """grid id → community id, cached per process (grids do not move between communities)."""

    def __init__(self):
        self.parents = {}

    def of(self, grid_id):
        if grid_id is None:
            return None
        if grid_id not in self.parents:
            self.parents[grid_id] = Region.objects.filter(pk=grid_id).values_list("parent_id", flat=True).first()
        return self.parents[grid_id]

    def preload(self):
        self.parents.update(Region.objects.filter(level="grid").values_list("pk", "parent_id"))

    def clear(self, **kwargs):
        self.parents.clear()


communities = _Communities()
# A region saved or deleted here (a new tree, a grid id reused after a delete) empties the cache.
post_save.connect(communities.clear, sender=Region, dispatch_uid="metrics_communities_save")
post_delete.connect(communities.clear, sender=Region, dispatch_uid="metrics_communities_delete")


def fact_for(case):
    """The fact row of a case (Case instance or a dict/namespace with CASE_FIELDS)."""
    get = case.get if isinstance(case, dict) else lambda name: getattr(case, name)
    dispatched_at, signed_at = get("dispatched_at"), get("signed_at")
    handled_at, handle_due_at = get("handled_at"), get("handle_due_at")
    closed = get("status") == Status.CLOSED
    return CaseFact(
        case_id=get("pk"),
        created_day=timezone.localtime(get("created_at")).date(),
        region_code=get("region_code") or "",
        department_id=get("department_id"),
        grid_id=get("grid_id"),
        community_id=communities.of(get("grid_id")),
        handler_id=get("handler_id"),
        reporter_id=get("reported_by_id"),
        rejected=get("status") == Status.REJECTED,
        dispatched=dispatched_at is not None,
        response_minutes=_minutes(dispatched_at, signed_at),
        closed=closed,
        closed_on_time=closed and handled_at is not None and handle_due_at is not None and handled_at <= handle_due_at,
        rating=get("rating"),
        reworked=get("rework_count") > 0,
        extended=get("extension_count") > 0,
    )


def _minutes(dispatched_at, signed_at):
    # A sign-off older than the latest dispatch belongs to an earlier round (returned since).
    if dispatched_at is None or signed_at is None or signed_at < dispatched_at:
        return None
    return int((signed_at - dispatched_at).total_seconds() // 60)


def upsert(facts):
    CaseFact.objects.bulk_create(facts, update_conflicts=True, unique_fields=["case"], update_fields=UPDATE_FIELDS)


def refresh_cases(case_ids):
    """The batch refresher registered with gridgov.cases.changes (run by the worker): one
    read of the cases, one upsert of their facts."""
    rows = Case.objects.filter(pk__in=set(case_ids)).values(*CASE_FIELDS)
    upsert([fact_for(row) for row in rows])


def rebuild(chunk=5000, stdout=None):
    """Rewrite every fact from the cases; returns the number of cases."""
    communities.preload()
    CaseFact.objects.all().delete()
    total, batch = 0, []
    for row in Case.objects.order_by("pk").values(*CASE_FIELDS).iterator(chunk_size=chunk):
        batch.append(fact_for(row))
        if len(batch) >= chunk:
            total += _flush(batch, stdout)
    total += _flush(batch, stdout)
    return total


def _flush(batch, stdout):
    count = len(batch)
    if count:
        CaseFact.objects.bulk_create(batch)
        batch.clear()
    return count
