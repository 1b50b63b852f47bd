"""Single-row INSERTs with the SQL built once per model: the intake hot path.

`Model.save()` compiles its INSERT on every call, which for a 45-column case row costs more
than the database write itself. `insert(obj)` builds the statement once per model and
database, then only converts the values exactly as save() does (`pre_save` for auto_now
and friends, `get_db_prep_save` for dates, JSON and foreign keys), skipping both where
they would return the value unchanged.

The statement goes straight to the DB-API cursor in the driver's own placeholder style
(Django's SQLite cursor rewrites `%s` to `?` with a regex on every call), with Django's
error mapping kept (`IntegrityError` is `django.db.IntegrityError`). When queries are being
logged (DEBUG, `CaptureQueriesContext`, `django_assert_num_queries`) or an execute wrapper
is installed, it goes through Django's cursor instead, so every query stays visible.

No pre_save/post_save signals are sent: listen to `gridgov.cases.signals.case_changed`.
"""

from django.db import connections
from django.db.models import DateField, Field, JSONField
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin

_plans = {}
_NONE = type(None)
# Python types that get_db_prep_save() returns unchanged, per field type (exact types only:
# an enum member, a subclass of str, still goes through the conversion).
_PASS_THROUGH = {
    "CharField": (str, _NONE),
    "TextField": (str, _NONE),
    "BooleanField": (bool, _NONE),
    "FloatField": (float, _NONE),
    "ForeignKey": (int, _NONE),
    **dict.fromkeys(
        ["AutoField", "BigAutoField", "BigIntegerField", "IntegerField", "PositiveIntegerField",
         "PositiveSmallIntegerField", "SmallIntegerField"],
        (int, _NONE),
    ),
}


def _pass_through(field):
    if isinstance(field, JSONField):
        return ()  # None means JSON null or SQL NULL depending on the field: let it decide
    return _PASS_THROUGH.get(field.get_internal_type(), (_NONE,))


def _needs_pre_save(field):
    """False when pre_save() would just read the attribute (most fields)."""
    if isinstance(field, DateField):
        return field.auto_now or field.auto_now_add
    return type(field).pre_save is not Field.pre_save


class _Plan:
    """The statement of one model on one database, and how to read each value."""

    def __init__(self, model, connection):
        meta = model._meta
        # The database numbers auto primary keys (declared or implicit); any other key is written.
        fields = [field for field in meta.concrete_fields if not (field.primary_key and isinstance(field, AutoFieldMixin))]
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(
            quote(meta.db_table),
            ", ".join(quote(field.column) for field in fields),
            ", ".join(["%s"] * len(fields)),
            quote(meta.pk.column),
        )
        # The driver's own placeholders: SQLite's is "?" (psycopg takes %s as it is).
        self.native_sql = native(self.sql, connection)
        self.fields = [(field, field.attname, _needs_pre_save(field), _pass_through(field)) for field in fields]

    def values(self, obj, connection):
        values = []
        for field, attname, pre_save, unchanged_types in self.fields:
            value = field.pre_save(obj, True) if pre_save else getattr(obj, attname)
            values.append(value if type(value) in unchanged_types else field.get_db_prep_save(value, connection))
        return values


def _plan(model, connection):
    key = (model, connection.alias, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _Plan(model, connection)
    return plan


def insert(obj, using="default"):
    """INSERT `obj` (a new instance; its foreign keys already saved) and set its pk."""
    connection = connections[using]
    plan = _plan(type(obj), connection)
    obj.pk = execute_returning(connection, plan.sql, plan.native_sql, plan.values(obj, connection))
    obj._state.adding = False
    obj._state.db = using
    return obj


def execute_returning(connection, sql, native_sql, params):
    """Run one statement and return the first column of its one result row.

    `sql` uses Django's %s placeholders, `native_sql` the driver's own (`native(sql)`).
    """
    return fetch_row(connection, sql, native_sql, params)[0]


def native(sql, connection):
    """`sql` with the driver's own placeholders (SQLite "?"; psycopg takes %s as it is)."""
    return sql.replace("%s", "?") if connection.vendor == "sqlite" else sql


def fetch_row(connection, sql, native_sql, params):
    """Run one statement and return its first result row (None when there is none)."""
    return run(connection, sql, native_sql, params, lambda cursor: cursor.fetchone())


def fetch_all(connection, sql, native_sql, params, driver_cursor=None):
    """Run one statement and return all its rows; `driver_cursor(connection)` may supply
    the driver cursor to use (cases.bulk: psycopg's server-side binding)."""
    return run(connection, sql, native_sql, params, lambda cursor: cursor.fetchall(), driver_cursor)


def execute(connection, sql, native_sql, params):
    """Run one statement that returns no rows."""
    run(connection, sql, native_sql, params, lambda cursor: None)


def run(connection, sql, native_sql, params, read, driver_cursor=None):
    """Run one statement and return `read(cursor)`: through Django's cursor while queries
    are logged or wrapped (so they stay visible), else on the driver's own cursor."""
    if connection.queries_logged or connection.execute_wrappers or connection.connection is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return read(cursor)
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = driver_cursor(connection) if driver_cursor else connection.connection.cursor()
        try:
            cursor.execute(native_sql, params)
            return read(cursor)
        finally:
            cursor.close()


_defaults = {}


def build(model, **values):
    """A new, unsaved instance without Model.__init__'s pass over every field (for a
    45-column case, that pass cost more than its INSERT). `values` are attnames or
    relation names (given an instance, the relation's id is set and the instance cached);
    every other field gets its default."""
    constant, computed = _defaults_of(model)
    obj = model.__new__(model)
    obj._state = ModelState()
    data = obj.__dict__
    data.update(constant)
    for attname, default in computed:
        data[attname] = default()
    for name, value in values.items():
        if name in data:
            data[name] = value
        else:
            setattr(obj, name, value)  # a relation: its descriptor sets the id and the cache
    return obj


def _defaults_of(model):
    """({attname: default} of plain defaults, [(attname, callable)] of computed ones)."""
    defaults = _defaults.get(model)
    if defaults is None:
        constant, computed = {}, []
        for field in model._meta.concrete_fields:
            default = field.default if field.has_default() else field.get_default()
            if callable(default):
                computed.append((field.attname, default))
            else:
                constant[field.attname] = default
        defaults = _defaults[model] = (constant, computed)
    return defaults
