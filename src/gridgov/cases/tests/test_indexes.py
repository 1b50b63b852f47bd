"""The partial indexes on columns empty at creation still serve the lists that filter on them."""

import pytest
from django.db import connection

from gridgov.cases.models import Case


def plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " ".join(str(row) for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"handler_id": 7}, "case_handler_idx"),
        ({"department_id": 3, "status": "dispatched"}, "case_department_idx"),
        ({"supervised": True}, "case_supervised_idx"),
        ({"needs_placement": True}, "case_needs_placement_idx"),
        ({"merged_into_id": 9}, "case_merged_into_idx"),
    ],
)
def test_a_filter_on_a_column_set_after_creation_uses_its_partial_index(filters, index):
    assert index in plan(Case.objects.filter(**filters).order_by().values("id"))
