"""In-app notifications in bulk, then the external channels after commit.

Rows go in with one prepared INSERT run by executemany: a sweep pass after a long stop may
write hundreds of thousands, and the ORM's per-value preparation would cost most of the
pass (bench/sla_sweep.py).
"""

from django.db import connection, transaction
from django.utils import timezone

from gridgov.web.models import Notification

from .channels import send_external

BATCH = 5000


def _insert_sql():
    meta = Notification._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in ("recipient", "text", "url", "created_at")]
    return f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) VALUES (%s, %s, %s, %s)"


def notify_users(messages, *, at=None):
    """`messages`: iterable of (user ids, text, url). Returns the number of rows written."""
    at = at or timezone.now()
    messages = [(sorted(set(ids)), str(text)[:300], url[:300]) for ids, text, url in messages if ids]
    created_at = connection.ops.adapt_datetimefield_value(at)
    rows = [(user_id, text, url, created_at) for ids, text, url in messages for user_id in ids]
    if rows:
        sql = _insert_sql()
        with connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(sql, rows[start:start + BATCH])
        transaction.on_commit(lambda: send_external(messages))
    return len(rows)
