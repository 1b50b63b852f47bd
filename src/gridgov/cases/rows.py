"""Single-row INSERTs with the SQL built once per model: the intake hot path.

`Model.save()` compiles its INSERT on every call, which for a 45-column case row costs more
than the database write itself. `insert(obj)` builds the statement once per model and
database, then only converts the values exactly as save() does (`pre_save` for auto_now
and friends, `get_db_prep_save` for dates, JSON and foreign keys).
No pre_save/post_save signals are sent: listen to `gridgov.cases.signals.case_changed`.
"""

from django.db import connections
from django.db.models import JSONField

_statements = {}
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


def _statement(model, connection):
    key = (model, connection.alias, connection.vendor)
    if key not in _statements:
        meta = model._meta
        fields = [field for field in meta.concrete_fields if not field.primary_key or not field.auto_created]
        quote = connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(
            quote(meta.db_table),
            ", ".join(quote(field.column) for field in fields),
            ", ".join(["%s"] * len(fields)),
            quote(meta.pk.column),
        )
        _statements[key] = (sql, [(field, _pass_through(field)) for field in fields])
    return _statements[key]


def insert(obj, using="default"):
    """INSERT `obj` (a new instance; its foreign keys already saved) and set its pk."""
    connection = connections[using]
    sql, fields = _statement(type(obj), connection)
    values = []
    for field, unchanged_types in fields:
        value = field.pre_save(obj, True)
        # Skipping conversions that would return the value unchanged halves the cost.
        values.append(value if type(value) in unchanged_types else field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using
    return obj
