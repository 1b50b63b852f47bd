"""Creating many cases at once (the 12345 hotline import): set-based `create_case`.

`create_cases_bulk(actor, intakes, *, at=None)` gives the same cases as calling
`services.create_case(actor, **intake)` for each intake in turn, inside the caller's
transaction: the same checks and errors, placement and scope rules, Case fields, 立案+派遣
clock and hash-chained "create" event. What differs is how the rows are written:

- every intake is checked and placed, and its case and clock built, before anything is
  written (the first bad intake raises its DomainError with `index` set to its position
  in `intakes`); `prepare_cases` does that part alone, before the caller's transaction
  opens, and `write_cases` the rest inside it;
- the case numbers come as one block from CaseNumberSequence (one upsert adding n, in
  the caller's transaction); `prepare_cases` numbers the cases and hashes their events
  ahead with the block the counter would give, and `write_cases` redoes that only if the
  counter moved in between;
- clocks, events (and the hotline's orders) are copies of one built row (`rows.RowCopier`);
- cases, clocks and events go in with multi-row INSERT ... RETURNING id statements
  (`insert_rows`: bulk_create's result, PostgreSQL and SQLite >= 3.35, at a fraction of
  its CPU: the statement text is built once per batch size, values are read and checked
  column by column, and equal values, such as the one creation time, are converted for
  the database once);
- `services.announce_created` announces them after commit, as create_case does one by one.

Idempotency keys stay unique as in create_case: a key already stored returns that case
(after the same case.view check), a key repeated within `intakes` returns the case of its
first occurrence; the result's `created` flags tell which cases are new. Photos are not
supported (nobody imports photos in bulk).
"""

from itertools import chain
from operator import attrgetter

from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import DomainError, Forbidden
from gridgov.org.permissions import require

from . import numbers, rows
from . import services as case_services
from .clocks import mirror_deadline, new_clock
from .models import Case, CaseClock, CaseEvent, CaseNumberSequence, ClockKind, Status
from .timeline import event_hash, event_payload

# Rows per multi-row INSERT on SQLite at most; fewer where its bound-variable limit needs it.
BATCH_SIZE = 500
SQLITE_MAX_VARIABLES = 32766  # SQLite >= 3.32 (the sqlite3 module cannot always ask)
# Rows per INSERT ... SELECT FROM UNNEST on PostgreSQL (one array parameter per column).
UNNEST_BATCH_SIZE = 5000
# Idempotency keys per lookup query (SQLite allows 32766 bound variables).
KEY_LOOKUP_CHUNK = 5000


class CreatedCases(list):
    """The cases, in the order of the intakes; `created[i]` is False for a case that
    existed already under the intake's idempotency key."""

    def __init__(self, cases, created):
        super().__init__(cases)
        self.created = created


def create_cases_bulk(actor, intakes, *, at=None):
    """Create a case for every intake (a mapping of create_case's keyword arguments, no
    photos), all or nothing. Returns CreatedCases."""
    return write_cases(prepare_cases(actor, intakes, at=at))


class PreparedCases:
    """Checked intakes with their unsaved cases and clocks, in the order of the intakes;
    `events` their "create" events if the cases get the numbers from `first_sequence` on."""

    def __init__(self, actor, at, checked, cases, clocks):
        self.actor, self.at, self.checked, self.cases, self.clocks = actor, at, checked, cases, clocks
        self.first_sequence, self.events = None, None


def prepare_cases(actor, intakes, *, at=None):
    """The part of create_cases_bulk that needs no lock: the checks, the placement, the
    Case rows, their clocks, and their numbers and events as the counter stands now
    (checked by the writing). Call it before opening the transaction that writes them, so
    the write lock is held for the writes only."""
    require(actor, "case.create")
    at = at or timezone.now()
    checked = check_intakes(actor, intakes)
    cases = [_new_case(actor, item, at) for item in checked]
    prepared = PreparedCases(actor, at, checked, cases, _clocks(cases, at))
    _number_ahead(prepared)
    return prepared


def write_cases(prepared):
    """Write prepared cases in the caller's transaction (or its own). Returns CreatedCases."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _write(prepared)
        except IntegrityError:
            # A concurrent create_case took one of the keys after our lookup: look again once.
            if attempt == 2 or not any(item.key for item in prepared.checked):
                raise


# ---------------------------------------------------------------------------------------
# Checking and placing (no writes)
# ---------------------------------------------------------------------------------------
class _Checked:
    __slots__ = ("fields", "place", "key")

    def __init__(self, fields, place, key):
        self.fields, self.place, self.key = fields, place, key


def check_intakes(actor, intakes):
    """The checked fields, place and key of every intake (create_case's rules); the first
    bad intake raises its DomainError with `index` set."""
    placer = _Placer(actor)
    checked = []
    for index, intake in enumerate(intakes):
        try:
            checked.append(_check(intake, placer))
        except DomainError as failure:
            failure.index = index
            raise
    return checked


def _check(intake, placer):
    if intake.get("photos"):
        raise ValueError("create_cases_bulk does not take photos")
    key = case_services.clean_idempotency_key(intake.get("idempotency_key"))
    fields = case_services.intake_fields(
        intake.get("channel"),
        intake.get("description"),
        intake.get("category"),
        intake.get("priority"),
        intake.get("address", ""),
        intake.get("reporter_name", ""),
        intake.get("reporter_phone", ""),
    )
    place = placer.place(intake.get("lon"), intake.get("lat"), intake.get("crs", "wgs84"), fields["address"])
    return _Checked(fields, place, key)


class _Placer:
    """services.placement for many intakes: a point goes through it unchanged; an intake
    without coordinates is placed by its address text, looked up once per distinct text,
    with the fallback region read once per batch (services.placement reads it per case)."""

    def __init__(self, actor):
        self.actor = actor
        self._by_address = {}
        self._fallback = None

    def place(self, lon, lat, crs, address):
        if lon not in (None, "") or lat not in (None, ""):
            return case_services.placement(self.actor, lon, lat, crs, address)
        if address not in self._by_address:
            self._by_address[address] = self._address_only(address)
        outcome = self._by_address[address]
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    def _address_only(self, address):
        # The same rule as services.placement for a case without coordinates.
        place = case_services.address_place(address) or case_services.Place(region_code=self.fallback())
        scope = self.actor.scope_code
        if scope is None:
            return Forbidden(_("You have no area of responsibility to report cases in."), code="out_of_scope")
        if not place.region_code.startswith(scope):
            if not place.needs_placement:
                return Forbidden(_("This location is outside your area of responsibility."), code="out_of_scope")
            place.region_code = scope
        return place

    def fallback(self):
        if self._fallback is None:
            self._fallback = case_services.fallback_region_code()
        return self._fallback


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------
def _write(prepared):
    actor = prepared.actor
    first_of_key = _existing_by_key(actor, [item.key for item in prepared.checked if item.key])
    cases, created, new_cases, clocks = [], [], [], []
    for item, case, clock in zip(prepared.checked, prepared.cases, prepared.clocks):
        if item.key and item.key in first_of_key:
            cases.append(first_of_key[item.key])
            created.append(False)
            continue
        if item.key:
            first_of_key[item.key] = case
        cases.append(case)
        created.append(True)
        new_cases.append(case)
        clocks.append(clock)
    if new_cases:
        events = _numbered_events(prepared, new_cases)
        insert_rows(new_cases)
        for case, clock, event in zip(new_cases, clocks, events):
            clock.case_id = event.case_id = case.pk
        insert_rows(clocks)
        insert_rows(events)
        case_services.announce_created(list(zip(new_cases, events)))
    return CreatedCases(cases, created)


def _existing_by_key(actor, keys):
    """{key: case} of the keys already stored (each checked with case.view, as create_case
    does for a repeated key)."""
    found = {}
    stored = stored_values(Case, "idempotency_key", list(dict.fromkeys(keys)))
    if stored:
        for case in Case.objects.filter(idempotency_key__in=stored).order_by():
            require(actor, "case.view", case)
            found[case.idempotency_key] = case
    return found


def stored_values(model, field_name, values, using="default"):
    """The values among `values` (strings) that `model`'s column `field_name` holds: one
    plain SELECT per KEY_LOOKUP_CHUNK values (an ORM __in lookup prepares every value
    through the field, which costs more than the query here)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    select = "SELECT {column} FROM {table} WHERE {column} ".format(
        column=quote(model._meta.get_field(field_name).column), table=quote(model._meta.db_table)
    )
    found = set()
    for start in range(0, len(values), KEY_LOOKUP_CHUNK):
        chunk = values[start:start + KEY_LOOKUP_CHUNK]
        if connection.vendor == "postgresql":
            sql, params = select + "= ANY(%s::text[])", [chunk]
        else:
            sql, params = select + "IN ({})".format(", ".join(["%s"] * len(chunk))), chunk
        found.update(value for (value,) in rows.fetch_all(connection, sql, rows.native(sql, connection), params, _driver_cursor))
    return found


def _new_case(actor, item, at):
    return case_services.new_case_row(actor, item.fields, item.place, item.key, at)


def _number_ahead(prepared):
    """Number the cases and build their hashed "create" events before the transaction, as
    if the day's counter will not move until the writing transaction reserves its block
    (the usual case): that work is then done outside SQLite's write lock. _numbered_events
    checks the guess and does it again, inside the transaction, when it was wrong."""
    day = timezone.localtime(prepared.at).date()
    last = CaseNumberSequence.objects.filter(day=day).values_list("last", flat=True).first() or 0
    _assign_numbers(prepared.cases, day, last + 1)
    prepared.first_sequence = last + 1
    prepared.events = _create_events(prepared.cases, prepared.actor, prepared.at)


def _numbered_events(prepared, new_cases):
    """Give the new cases consecutive numbers of the day of `at`: one upsert reserves them
    all (in the caller's transaction, so a rolled-back import leaves no gap). Returns
    their "create" events: those built ahead if the numbers are the ones guessed."""
    day = timezone.localtime(prepared.at).date()
    first = numbers.reserve(day, len(new_cases)) - len(new_cases) + 1
    if first == prepared.first_sequence and len(new_cases) == len(prepared.cases):
        return prepared.events
    _assign_numbers(new_cases, day, first)
    return _create_events(new_cases, prepared.actor, prepared.at)


def _assign_numbers(cases, day, first):
    for offset, case in enumerate(cases):
        case.number = numbers.format_number(day, first + offset)


def _clocks(cases, at):
    """The running 立案+派遣 clock of each case (new_clock), mirrored onto the case. The
    deadline depends only on the 小类 and priority here (one start time), so new_clock runs
    once per distinct pair and the others are copies of its clock."""
    copiers, clocks = {}, []
    for case in cases:
        pair = (case.category_id, case.priority)
        copier = copiers.get(pair)
        if copier is None:
            clock = new_clock(case, ClockKind.ACCEPT_DISPATCH, at)
            copiers[pair] = rows.RowCopier(
                CaseClock, relations=("case",), kind=clock.kind, limit_value=clock.limit_value,
                limit_unit=clock.limit_unit, started_at=at, due_at=clock.due_at, warn_at=clock.warn_at,
            )
        else:
            clock = copier.new(case=case)
        mirror_deadline(case, [clock])
        clocks.append(clock)
    return clocks


def _create_events(cases, actor, at):
    """The first timeline event of each case, as append_event(first=True) writes it for
    create_case. Equal creation data (most cases of a batch share channel, 小类, priority
    and region) share one dict, so the multi-row insert converts it once."""
    events = rows.RowCopier(
        CaseEvent, relations=("case",), seq=1, at=at, actor=actor, action="create", from_status="",
        to_status=Status.REPORTED, note="", prev_hash="",
    )
    pool, made = {}, []
    for case in cases:
        event = events.new(case=case, data=_shared(case_services.creation_data(case), pool))
        event.hash = event_hash("", event_payload(case.number, event))
        made.append(event)
    return made


def _shared(data, pool):
    """The dict in `pool` equal to the flat dict `data` (types included: 1 is not True in
    JSON), else `data`, added to the pool."""
    try:
        key = tuple((name, type(value), value) for name, value in data.items())
        return pool.setdefault(key, data)
    except TypeError:  # a nested value: not shared
        return data


# ---------------------------------------------------------------------------------------
# Multi-row INSERT
# ---------------------------------------------------------------------------------------
def insert_rows(objs, using="default"):
    """INSERT new instances of one model (their foreign keys saved) and set their pks.

    What bulk_create does (no signals either), with the value conversion of
    cases.rows.insert (types the database takes as they are skip get_db_prep_save) plus
    one conversion per distinct value of a column within the call. SQLite gets multi-row
    VALUES; PostgreSQL one array per column through UNNEST (as bulk_create does there),
    because psycopg parses the text of a long VALUES statement on every execution."""
    if not objs:
        return objs
    connection = connections[using]
    model = type(objs[0])
    plan = rows._plan(model, connection)
    columns = [field for field, *_rest in plan.fields]
    unnest = connection.vendor == "postgresql"
    per_statement = UNNEST_BATCH_SIZE if unnest else max(1, min(BATCH_SIZE, SQLITE_MAX_VARIABLES // len(columns)))
    readers = _column_readers(plan)
    memo = {field: ({}, {}) for field in columns}
    for start in range(0, len(objs), per_statement):
        batch = objs[start:start + per_statement]
        values = [reader(batch, connection, memo) for reader in readers]
        if unnest:
            sql, params = _unnest_sql(model, columns, connection), values
            # psycopg's %b: the arrays travel in binary, not quoted element by element as text.
            native_sql = sql.replace("%s", "%b")
        else:
            sql, params = _insert_sql(model, columns, len(batch), connection), list(chain.from_iterable(zip(*values)))
            native_sql = rows.native(sql, connection)
        for obj, (pk,) in zip(batch, rows.fetch_all(connection, sql, native_sql, params, _driver_cursor), strict=True):
            rows.saved(obj, pk, using)
    return objs


_readers = {}


def _column_readers(plan):
    """One function per column of `plan` giving that column's database values for a batch.

    Column by column rather than row by row: reading an attribute of every object and
    checking the Python types of a whole column run at C speed (attrgetter, map, set), and
    most columns then need no conversion at all."""
    readers = _readers.get(plan)
    if readers is None:
        readers = _readers[plan] = [_column_reader(*spec) for spec in plan.fields]
    return readers


def _column_reader(field, attname, pre_save, unchanged_types):
    read = attrgetter(attname)
    unchanged = frozenset(unchanged_types)

    def column(batch, connection, memo):
        values = [field.pre_save(obj, True) for obj in batch] if pre_save else list(map(read, batch))
        if unchanged.issuperset(map(type, values)):
            return values
        return _converted(field, values, unchanged, connection, memo[field])

    return column


def _converted(field, values, unchanged, connection, memo):
    """get_db_prep_save of each value, once per distinct value (per object for values that
    cannot be hashed, such as JSON data: shared data objects are converted once)."""
    by_value, seen = memo
    if len(set(map(type, values))) == 1:
        # One type (the usual column): equal values convert alike, look them up at C speed.
        try:
            distinct = set(values)
        except TypeError:  # not hashable
            pass
        else:
            for value in distinct - by_value.keys():
                by_value[value] = field.get_db_prep_save(value, connection)
            return list(map(by_value.__getitem__, values))
    result = []
    for value in values:
        if type(value) in unchanged:
            result.append(value)
            continue
        try:
            key = (type(value), value)
            converted = seen.get(key, seen)
        except TypeError:  # not hashable
            key = id(value)
            converted = seen.get(key, seen)
        if converted is seen:
            converted = seen[key] = field.get_db_prep_save(value, connection)
        result.append(converted)
    return result


_insert_statements = {}


def _unnest_sql(model, columns, connection):
    key = (model, connection.alias, "unnest")
    sql = _insert_statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        # Array types without their length (varchar[], not varchar(50)[]), as bulk_create does.
        arrays = ", ".join("(%s)::{}[]".format(field.db_type(connection).split("(")[0]) for field in columns)
        sql = _insert_statements[key] = "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) RETURNING {}".format(
            quote(model._meta.db_table),
            ", ".join(quote(field.column) for field in columns),
            arrays,
            quote(model._meta.pk.column),
        )
    return sql


def _insert_sql(model, columns, row_count, connection):
    key = (model, connection.alias, connection.vendor, row_count)
    sql = _insert_statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        row = "({})".format(", ".join(["%s"] * len(columns)))
        sql = _insert_statements[key] = "INSERT INTO {} ({}) VALUES {} RETURNING {}".format(
            quote(model._meta.db_table),
            ", ".join(quote(field.column) for field in columns),
            ", ".join([row] * row_count),
            quote(model._meta.pk.column),
        )
    return sql


def _driver_cursor(connection):
    """The driver's cursor; on PostgreSQL one that sends the parameters apart from the
    statement (psycopg's server-side binding, which takes binary parameters): Django's
    client-side cursor would quote every element of the UNNEST arrays into the statement
    text, the costliest step of the whole insert."""
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.Cursor(connection.connection)
    return connection.connection.cursor()
