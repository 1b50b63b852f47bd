"""The product's URLs plus the bare views that are the benchmarks' baselines.

They live here, outside the product: a plain Django view answering JSON, one that does a
single INSERT with a raw cursor (into a table the benchmark creates), and one that does the
same INSERT the way a Django view usually does, `Model.objects.create()`; all behind the
same middleware, on the same server and database as the API they are compared with.
"""

import json

from django.db import connection, models
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from gridgov.urls import urlpatterns as product_urlpatterns

BARE_TABLE = "bench_bare_insert"
CREATE_BARE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} "
    "(id INTEGER PRIMARY KEY {autoincrement}, description TEXT NOT NULL, created_at TIMESTAMP NOT NULL)"
)


def bare_json(request):
    return JsonResponse({"status": "ok"})


@csrf_exempt
def bare_insert(request):
    """Parse the JSON body and INSERT one row: the least any create endpoint must do."""
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (description, created_at) VALUES (%s, %s)",
            [body.get("description", ""), timezone.now()],
        )
    return JsonResponse({"status": "created"}, status=201)


class BareRow(models.Model):
    """The bare table as a model (the benchmark creates the table; migrations don't know it)."""

    description = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "core"
        db_table = BARE_TABLE
        managed = False


@csrf_exempt
def orm_insert(request):
    """The same INSERT through the ORM: what "a bare Django view doing one INSERT" usually is."""
    body = json.loads(request.body)
    BareRow.objects.create(description=body.get("description", ""))
    return JsonResponse({"status": "created"}, status=201)


def create_bare_table():
    sql = CREATE_BARE_TABLE.format(autoincrement="AUTOINCREMENT" if connection.vendor == "sqlite" else "")
    if connection.vendor == "postgresql":
        sql = sql.replace("id INTEGER PRIMARY KEY ", "id BIGSERIAL PRIMARY KEY ")
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _drop_case_receivers():
    """GRIDGOV_BENCH_RECEIVERS=none: the server runs without the apps' case_changed
    receivers, so a benchmark can show the create path alone beside the full one."""
    import os

    if os.environ.get("GRIDGOV_BENCH_RECEIVERS") == "none":
        from gridgov.cases.signals import case_changed

        case_changed.receivers = []
        case_changed.sender_receivers_cache.clear()


_drop_case_receivers()

urlpatterns = [
    path("bench/bare-json", bare_json),
    path("bench/bare-insert", bare_insert),
    path("bench/orm-insert", orm_insert),
    *product_urlpatterns,
]
