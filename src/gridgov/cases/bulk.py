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
  the caller's transaction);
- cases, clocks and events go in with multi-row INSERT ... RETURNING id statements
  (`insert_rows`: bulk_create's result, PostgreSQL and SQLite >= 3.35, at a fifth of its
  CPU: the statement text is built once per batch size and equal values, such as the one
  creation time, are converted for the database once);
- `services.announce_created` announces them after commit, as create_case does one by one.

Idempotency keys stay unique as in create_case: a key already stored returns that case
(after the same case.view check), a key repeated within `intakes` returns the case of its
first occurrence; the result's `created` flags tell which cases are new. Photos are not
supported (nobody imports photos in bulk).
"""

from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import DomainError, Forbidden
from gridgov.org.permissions import require

from . import numbers, rows
from . import services as case_services
from .clocks import mirror_deadline, new_clock
from .models import Case, CaseClock, CaseEvent, ClockKind, Status
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
    """Checked intakes with their unsaved cases and clocks, in the order of the intakes."""

    def __init__(self, actor, at, checked, cases, clocks):
        self.actor, self.at, self.checked, self.cases, self.clocks = actor, at, checked, cases, clocks


def prepare_cases(actor, intakes, *, at=None):
    """The part of create_cases_bulk that needs no lock: the checks, the placement, the
    Case rows and their clocks (numbers and events come with the writing). Call it before
    opening the transaction that writes them, so the write lock is held for the writes only."""
    require(actor, "case.create")
    at = at or timezone.now()
    checked = check_intakes(actor, intakes)
    cases = [_new_case(actor, item, at) for item in checked]
    return PreparedCases(actor, at, checked, cases, _clocks(cases, at))


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
    key = case_services._idempotency_key(intake.get("idempotency_key"))
    fields = case_services._intake_fields(
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
    """services._placement for many intakes: a point goes through it unchanged; an intake
    without coordinates is placed by its address text, looked up once per distinct text,
    with the fallback region read once per batch (services._placement reads it per case)."""

    def __init__(self, actor):
        self.actor = actor
        self._by_address = {}
        self._fallback = None

    def place(self, lon, lat, crs, address):
        if lon not in (None, "") or lat not in (None, ""):
            return case_services._placement(self.actor, lon, lat, crs, address)
        if address not in self._by_address:
            self._by_address[address] = self._address_only(address)
        outcome = self._by_address[address]
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    def _address_only(self, address):
        # The same rule as services._placement for a case without coordinates.
        place = case_services._address_place(address) or case_services._Place(region_code=self.fallback())
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
    actor, at = prepared.actor, prepared.at
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
        _number(new_cases, at)
        insert_rows(new_cases)
        for clock in clocks:
            clock.case_id = clock.case.pk
        insert_rows(clocks)
        events = [_create_event(case, actor, at) for case in new_cases]
        insert_rows(events)
        case_services.announce_created(list(zip(new_cases, events)))
    return CreatedCases(cases, created)


def _existing_by_key(actor, keys):
    """{key: case} of the keys already stored (each checked with case.view, as create_case
    does for a repeated key)."""
    found = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), KEY_LOOKUP_CHUNK):
        for case in Case.objects.filter(idempotency_key__in=unique[start:start + KEY_LOOKUP_CHUNK]).order_by():
            require(actor, "case.view", case)
            found[case.idempotency_key] = case
    return found


def _new_case(actor, item, at):
    return case_services.new_case_row(actor, item.fields, item.place, item.key, at)


def _number(cases, at):
    """Give the cases consecutive numbers of `at`'s local day: one upsert reserves them all
    (in the caller's transaction, so a rolled-back import leaves no gap)."""
    day = timezone.localtime(at).date()
    last = numbers.reserve(day, len(cases))
    for offset, case in enumerate(cases):
        case.number = numbers.format_number(day, last - len(cases) + 1 + offset)


def _clocks(cases, at):
    """The running 立案+派遣 clock of each case (new_clock), mirrored onto the case. The
    deadline depends only on the 小类 and priority here (one start time), so new_clock runs
    once per distinct pair and the others copy its figures."""
    firsts, clocks = {}, []
    for case in cases:
        pair = (case.category_id, case.priority)
        first = firsts.get(pair)
        if first is None:
            clock = firsts[pair] = new_clock(case, ClockKind.ACCEPT_DISPATCH, at)
        else:
            clock = rows.build(
                CaseClock, case=case, kind=first.kind, limit_value=first.limit_value, limit_unit=first.limit_unit,
                started_at=at, due_at=first.due_at, warn_at=first.warn_at,
            )
        mirror_deadline(case, [clock])
        clocks.append(clock)
    return clocks


def _create_event(case, actor, at):
    """The first timeline event, as append_event(first=True) writes it for create_case."""
    event = rows.build(
        CaseEvent, case=case, seq=1, at=at, actor=actor, action="create", from_status="", to_status=Status.REPORTED,
        note="", data=case_services._creation_data(case), prev_hash="",
    )
    event.hash = event_hash("", event_payload(case.number, event))
    return event


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
    memo = {field: {} for field in columns}
    for start in range(0, len(objs), per_statement):
        batch = objs[start:start + per_statement]
        value_rows = [_values(plan, obj, connection, memo) for obj in batch]
        if unnest:
            sql, params = _unnest_sql(model, columns, connection), [list(column) for column in zip(*value_rows)]
            # psycopg's %b: the arrays travel in binary, not quoted element by element as text.
            native_sql = sql.replace("%s", "%b")
        else:
            sql, params = _insert_sql(model, columns, len(batch), connection), [v for row in value_rows for v in row]
            native_sql = rows.native(sql, connection)
        for obj, (pk,) in zip(batch, rows.fetch_all(connection, sql, native_sql, params, _driver_cursor), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = using
    return objs


def _values(plan, obj, connection, memo):
    values = []
    for field, attname, pre_save, unchanged_types in plan.fields:
        value = field.pre_save(obj, True) if pre_save else getattr(obj, attname)
        if type(value) in unchanged_types:
            values.append(value)
            continue
        seen = memo[field]
        try:
            converted = seen.get(value, seen)
        except TypeError:  # not hashable (JSON data): convert every time
            converted = field.get_db_prep_save(value, connection)
        else:
            if converted is seen:
                converted = seen[value] = field.get_db_prep_save(value, connection)
        values.append(converted)
    return values


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
