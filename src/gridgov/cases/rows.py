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

import datetime as dt
import functools

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db import connection as proxy
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


def _fast_converter(field, connection):
    """A shortcut for get_db_prep_save() of the commonest non-trivial values, giving the very
    value Django would (the aware datetimes and JSON data of every intake row cost most of
    the conversion); anything else goes through Django. None: no shortcut for this field."""
    if isinstance(field, JSONField):
        adapt, encoder = connection.ops.adapt_json_value, field.encoder

        def convert_json(value):
            # JSONField.get_prep_value returns dicts and lists as they are (Django >= 4.2).
            if type(value) is dict or type(value) is list:
                return adapt(value, encoder)
            return field.get_db_prep_save(value, connection)

        return convert_json
    if field.get_internal_type() == "DateTimeField":
        return _datetime_converter(field, connection)
    return None


def _datetime_converter(field, connection):
    if connection.vendor == "postgresql":
        # The PostgreSQL backend hands aware datetimes to the driver unchanged.
        def convert_for_postgresql(value):
            return value if type(value) is dt.datetime and value.tzinfo is not None else field.get_db_prep_save(value, connection)

        return convert_for_postgresql
    if connection.vendor == "sqlite" and settings.USE_TZ:
        zone = connection.timezone

        def convert_for_sqlite(value):
            # DatabaseOperations.adapt_datetimefield_value: naive in the connection's zone, as text.
            if type(value) is dt.datetime and value.tzinfo is not None:
                return str(value.astimezone(zone).replace(tzinfo=None))
            return field.get_db_prep_save(value, connection)

        return convert_for_sqlite
    return None


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
        self._steps = _steps(fields, connection)
        self.fields = [step[:4] for step in self._steps]  # (field, attname, pre_save, unchanged types)
        self.positions = {attname: index for index, (_field, attname, *_rest) in enumerate(self.fields)}

    def values(self, obj, connection):
        return _values(self._steps, obj, adding=True)


def _steps(fields, connection):
    """Per field, how to read and convert its value: (field, attname, whether pre_save()
    must run, the types that pass unchanged, the converter)."""
    return [
        (field, field.attname, _needs_pre_save(field), _pass_through(field),
         _fast_converter(field, connection) or functools.partial(field.get_db_prep_save, connection=connection))
        for field in fields
    ]


def _values(steps, obj, *, adding):
    """The values of `obj` for the database, as save() converts them (`adding`: an INSERT,
    where auto_now_add fields take "now"; else an UPDATE, where only auto_now ones do)."""
    values = []
    data = obj.__dict__
    for field, attname, pre_save, unchanged_types, convert in steps:
        if pre_save:
            value = field.pre_save(obj, adding)
        else:
            value = data[attname] if attname in data else getattr(obj, attname)
        values.append(value if type(value) in unchanged_types else convert(value))
    return values


def _plan(model, connection):
    key = (model, connection.alias, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _Plan(model, connection)
    return plan


def insert(obj, using="default"):
    """INSERT `obj` (a new instance; its foreign keys already saved) and set its pk."""
    return Prepared(obj, using).insert()


class Prepared:
    """A new row whose INSERT values are converted before its transaction opens, so that the
    transaction (on SQLite: the one write lock of the database) holds only the statement.
    A foreign key to a row inserted in the same transaction is filled in by `relate()` once
    that row has its id."""

    __slots__ = ("obj", "using", "plan", "values")

    def __init__(self, obj, using="default"):
        connection = connections[using]
        self.obj, self.using = obj, using
        self.plan = _plan(type(obj), connection)
        self.values = self.plan.values(obj, connection)

    def relate(self, name, instance):
        """Point `name` at `instance` (saved by now) in the object and its values: a foreign
        key, or a plain column that holds the parent's id (a reference without a constraint)."""
        field = type(self.obj)._meta.get_field(name)
        if field.is_relation:
            setattr(self.obj, name, instance)
        else:
            setattr(self.obj, field.attname, instance.pk)
        self.values[self.plan.positions[field.attname]] = getattr(self.obj, field.attname)

    def insert(self):
        connection = connections[self.using]
        return saved(self.obj, execute_returning(connection, self.plan.sql, self.plan.native_sql, self.values), self.using)


def insert_family(parent, children):
    """INSERT `parent` (a Prepared) and then `children`, [(Prepared, name of its foreign key
    to the parent, or of a plain column that takes the parent's id)], setting every pk and
    relation. On PostgreSQL this is one statement
    (data-modifying WITH clauses): one round trip instead of one per row. Elsewhere it is one
    statement per row, each a few microseconds in process."""
    connection = connections[parent.using]
    if connection.vendor != "postgresql":
        parent.insert()
        for child, name in children:
            child.relate(name, parent.obj)
            child.insert()
        return
    sql, skipped = _family_statement(parent, children, connection)
    params = list(parent.values)
    for (child, _name), position in zip(children, skipped, strict=True):
        params += child.values[:position] + child.values[position + 1:]
    ids = fetch_row(connection, sql, sql, params)
    saved(parent.obj, ids[0], parent.using)
    for (child, name), pk in zip(children, ids[1:], strict=True):
        field = type(child.obj)._meta.get_field(name)
        setattr(child.obj, *((name, parent.obj) if field.is_relation else (field.attname, parent.obj.pk)))
        saved(child.obj, pk, child.using)


def saved(obj, pk, using):
    """`obj` as a row just inserted with primary key `pk` in database `using`."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
    return obj


_family_statements = {}


def _family_statement(parent, children, connection):
    """The WITH statement of `insert_family` and, per child, the position of its parent key
    among its values (that value comes from the parent's RETURNING, not from a parameter)."""
    key = (type(parent.obj), tuple((type(child.obj), name) for child, name in children), connection.alias)
    statement = _family_statements.get(key)
    if statement is None:
        quote = connection.ops.quote_name
        parent_meta = type(parent.obj)._meta
        clauses = [f"parent AS ({parent.plan.sql})"]
        skipped, selects = [], ["parent.{}".format(quote(parent_meta.pk.column))]
        for number, (child, name) in enumerate(children):
            meta = type(child.obj)._meta
            link = meta.get_field(name)
            fields = [field for field, *_rest in child.plan.fields]
            skipped.append(fields.index(link))
            # Typed parameters: in a SELECT list an untyped NULL would be taken for text.
            target = link.target_field.column if link.is_relation else parent_meta.pk.column
            values = ", ".join(
                "parent.{}".format(quote(target)) if field is link
                else "%s::{}".format(field.db_type(connection)) for field in fields
            )
            clauses.append("child{} AS (INSERT INTO {} ({}) SELECT {} FROM parent RETURNING {})".format(
                number, quote(meta.db_table), ", ".join(quote(field.column) for field in fields), values,
                quote(meta.pk.column),
            ))
            selects.append("child{}.{}".format(number, quote(meta.pk.column)))
        tables = ", ".join(["parent"] + [f"child{number}" for number in range(len(children))])
        sql = "WITH {} SELECT {} FROM {}".format(", ".join(clauses), ", ".join(selects), tables)
        statement = _family_statements[key] = (sql, skipped)
    return statement


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
    if connection is proxy:
        # django.db.connection looks the connection up anew on every attribute read.
        connection = connections[DEFAULT_DB_ALIAS]
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


def update(obj, attnames, using="default"):
    """UPDATE the columns `attnames` of the saved `obj`, as `obj.save(update_fields=...)`
    would (an auto_now field named gets the current time), with the statement built once per
    model and set of columns: save() compiled it anew on every transition. No pre_save or
    post_save signals (nothing listens for them on these models). DatabaseError when no row
    was updated, as save() raises it."""
    connection = connections[using]
    plan = _update_plan(type(obj), tuple(attnames), connection)
    params = plan.values(obj)
    params.append(obj.pk)
    if run(connection, plan.sql, plan.native_sql, params, lambda cursor: cursor.rowcount) == 0:
        raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.db = using


class _UpdatePlan:
    def __init__(self, model, attnames, connection):
        meta = model._meta
        fields = [meta.get_field(attname) for attname in attnames]
        quote = connection.ops.quote_name
        self.sql = "UPDATE {} SET {} WHERE {} = %s".format(
            quote(meta.db_table), ", ".join(f"{quote(field.column)} = %s" for field in fields), quote(meta.pk.column)
        )
        self.native_sql = native(self.sql, connection)
        self._steps = _steps(fields, connection)

    def values(self, obj):
        return _values(self._steps, obj, adding=False)


_update_plans = {}


def _update_plan(model, attnames, connection):
    key = (model, attnames, connection.alias, connection.vendor)
    plan = _update_plans.get(key)
    if plan is None:
        plan = _update_plans[key] = _UpdatePlan(model, attnames, connection)
    return plan


def fetch_instances(model, sql, params, using="default"):
    """Saved instances of `model` from `sql`, a SELECT of all the model's concrete columns in
    field order, as Django compiles `Model.objects.filter(...)` (%s placeholders).

    What `Model.objects.raw(sql)` gives, without its per-query work: a raw queryset maps
    the cursor's columns to fields and looks up every column's converters on each call,
    which for a 45-column case cost more than the query (a quarter of a transition). Here
    the converters are found once per model and connection, exactly as Django's compiler
    finds them, and applied the same way."""
    connection = connections[using]
    reader = _reader(model, connection)
    found = fetch_all(connection, sql, native(sql, connection), params)
    return [reader(values, connection) for values in found]


def _reader(model, connection):
    """A function (values, connection) -> instance of `model` for rows of its concrete columns."""
    readers = connection.__dict__.setdefault("_gridgov_row_readers", {})
    reader = readers.get(model)
    if reader is None:
        reader = readers[model] = _make_reader(model, connection)
    return reader


def _make_reader(model, connection):
    fields = model._meta.concrete_fields
    attnames = [field.attname for field in fields]
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((position, found, column))
    using = connection.alias

    def read(values, connection):
        values = list(values)
        for position, found, column in converters:
            value = values[position]
            for converter in found:
                value = converter(value, column, connection)
            values[position] = value
        return model.from_db(using, attnames, values)

    return read


_defaults = {}


def build(model, **values):
    """A new, unsaved instance without Model.__init__'s pass over every field (for a
    45-column case, that pass cost more than its INSERT). `values` are attnames or
    relation names (given an instance, the relation's id is set and the instance cached);
    every other field gets its default."""
    constant, computed = _defaults_of(model)
    relations = _relations_of(model)
    obj = model.__new__(model)
    obj._state = state = ModelState()
    data = obj.__dict__
    data.update(constant)
    for attname, default in computed:
        data[attname] = default()
    for name, value in values.items():
        if name in data:
            data[name] = value
        elif name in relations and (value is None or type(value) is relations[name][2]):
            # What the forward descriptor's __set__ does for a plain foreign key to a saved
            # instance of its exact model, without its checks (the hot path sets several).
            attname, target_attname, _model = relations[name]
            data[attname] = None if value is None else getattr(value, target_attname)
            state.fields_cache[name] = value
        else:
            setattr(obj, name, value)  # any other relation: its descriptor does it
    return obj


_relations = {}


def _relations_of(model):
    """{name: (attname, target attname, target model)} of the model's plain foreign keys."""
    relations = _relations.get(model)
    if relations is None:
        relations = _relations[model] = {
            field.name: (field.attname, field.target_field.attname, field.related_model)
            for field in model._meta.concrete_fields
            if field.many_to_one and not field.one_to_one and len(field.foreign_related_fields) == 1
        }
    return relations


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


class RowCopier:
    """New unsaved instances of `model` that copy one build(model, **shared) instance,
    each with its own values for the remaining fields.

    build() sets every field and relation anew (a relation through its descriptor, with
    the router's checks); at tens of thousands of rows a batch mostly repeats one row, so
    copying the first one's values is a fraction of the cost. Computed defaults (callables
    such as dict) of fields not in `shared` are called for each copy, as build() does.
    `relations` names the foreign keys given per copy, as instances: the id and the cached
    instance are set, and for a one-to-one the reverse cache, as the descriptor does."""

    def __init__(self, model, relations=(), **shared):
        template = build(model, **shared)
        meta = model._meta
        self.model = model
        self.relations = {name: meta.get_field(name) for name in relations}
        self.values = {name: value for name, value in template.__dict__.items() if name != "_state"}
        self.cached = dict(template._state.fields_cache)
        self.db = template._state.db
        given = {meta.get_field(name).attname for name in shared}
        _constant, computed = _defaults_of(model)
        self.computed = [(attname, default) for attname, default in computed if attname not in given]

    def new(self, **values):
        """A copy with `values` (attnames, or the names in `relations` given instances)."""
        obj = self.model.__new__(self.model)
        data = obj.__dict__
        data.update(self.values)
        for attname, default in self.computed:
            if attname not in values:
                data[attname] = default()
        state = data["_state"] = ModelState()
        state.db = self.db
        state.fields_cache = dict(self.cached)
        for name, value in values.items():
            field = self.relations.get(name)
            if field is None:
                data[name] = value
            else:
                self._relate(obj, field, value)
        return obj

    @staticmethod
    def _relate(obj, field, instance):
        obj.__dict__[field.attname] = getattr(instance, field.target_field.attname)
        field.set_cached_value(obj, instance)
        if field.one_to_one:
            field.remote_field.set_cached_value(instance, obj)
