"""Database triggers that refuse UPDATE and DELETE on the case timeline (decision 0003).

SQLite: the triggers consult `gridgov_timeline_unlocked()`, a function that only gridgov's
own connections define (gridgov.cases.timeline) and that answers 1 only while the `flush`
command empties the whole database. Any other connection (the sqlite3 shell, another
program) has no such function, so its UPDATE or DELETE fails as well.

PostgreSQL: a plpgsql function raises on every row UPDATE or DELETE. TRUNCATE (used by
`flush`, and which needs the table owner's privileges) is not a row operation.
"""

from django.db import migrations

SQLITE_CREATE = [
    """
    CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
    WHEN gridgov_timeline_unlocked() IS NOT 1
    BEGIN SELECT RAISE(ABORT, 'case events are immutable: UPDATE refused'); END;
    """,
    """
    CREATE TRIGGER cases_caseevent_no_delete BEFORE DELETE ON cases_caseevent
    WHEN gridgov_timeline_unlocked() IS NOT 1
    BEGIN SELECT RAISE(ABORT, 'case events are immutable: DELETE refused'); END;
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_caseevent_no_update;",
    "DROP TRIGGER IF EXISTS cases_caseevent_no_delete;",
]

POSTGRES_CREATE = [
    """
    CREATE OR REPLACE FUNCTION cases_caseevent_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'case events are immutable: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER cases_caseevent_no_update_delete BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_immutable();
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS cases_caseevent_no_update_delete ON cases_caseevent;",
    "DROP FUNCTION IF EXISTS cases_caseevent_immutable();",
]

STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRES_CREATE, POSTGRES_DROP),
}


def _run(schema_editor, index):
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"no timeline triggers for the {vendor} database")
    for statement in STATEMENTS[vendor][index]:
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_clock_paused_event_guards")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
