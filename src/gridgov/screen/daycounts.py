"""Daily counts behind the screen's window figures (30-day funnel, rates, trends,
rankings, heat map, 民生/物业 panels), kept up to date on every case transition.

Over 1,000,000 cases the 30-day window holds ~100,000 cases, and aggregating them on each
overview request cost ~1 s on SQLite. The counts below hold the same sums per local day
and community, so the overview reads a few thousand small rows instead.

Two tables:
- `CaseContribution`, one row per case: what the case is counted as right now (its day,
  community, grid, department, 小类, h3 cell and 0/1 flags). It is the "before" of the next
  change: a transition subtracts the old contribution and adds the new one.
- `DayCount`, one row per (dimension, day, community, value) with the sums. Dimensions:
  `area` (value = the case's region code: the funnel, rates, trends and community
  rankings), `department`, `category` (小类 id), `h3` (heat cell), `closed` (keyed by
  the day the case was closed: the closed-per-day trend) and `estate` (value = estate id;
  only cases of the 智慧物业 categories, GRIDGOV_SCREEN["property_categories"], located in
  an estate: a change of that setting needs a rebuild).

Maintenance (`refresh_cases`, run by the worker over the cases marked changed,
gridgov.cases.changes): lock the cases' contribution rows, re-read the cases, apply the
summed difference. Concurrent refreshes of
one case queue on that lock, and each reads the case after acquiring it, so the last one
counts the newest state. Counts can always be rebuilt from the cases (`rebuild`,
`gridgov rebuild_screen_counts`); the demo seed does that after its quiet replay.

The figures for today come from the cases table directly (today's rows are few).
"""

import logging
from collections import defaultdict

from django.db import models, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

logger = logging.getLogger(__name__)
COMMUNITY_CODE_LENGTH = 12
COUNTERS = (
    "cases", "accepted", "dispatched", "handled", "closed", "closed_on_time",
    "rated", "satisfied", "open", "sign_clocks", "sign_on_time",
)
# Ratings that count as satisfied (gridgov.cases.models.Rating: 2 基本满意, 3 满意).
SATISFIED_RATINGS = (2, 3)
OPEN_STATUSES = ("reported", "accepted", "dispatched", "handling", "handled", "verified")


class Dimension(models.TextChoices):
    AREA = "area", _("Region")
    DEPARTMENT = "department", _("Department")
    CATEGORY = "category", _("Sub-category")
    H3 = "h3", _("Heat cell")
    CLOSED = "closed", _("Closed on the day")
    ESTATE = "estate", _("Estate")


class DayCount(models.Model):
    dim = models.CharField(_("dimension"), max_length=10, choices=Dimension.choices)
    day = models.DateField(_("day"))
    community = models.CharField(_("community code"), max_length=COMMUNITY_CODE_LENGTH, blank=True)
    value = models.CharField(_("value"), max_length=20, blank=True)
    cases = models.IntegerField(pgettext_lazy("case count", "cases"), default=0)
    accepted = models.IntegerField(_("accepted"), default=0)
    dispatched = models.IntegerField(_("dispatched"), default=0)
    handled = models.IntegerField(_("handled"), default=0)
    closed = models.IntegerField(_("closed"), default=0)
    closed_on_time = models.IntegerField(_("closed on time"), default=0)
    rated = models.IntegerField(_("rated"), default=0)
    satisfied = models.IntegerField(_("satisfied"), default=0)
    open = models.IntegerField(_("open"), default=0)
    sign_clocks = models.IntegerField(_("sign-off clocks"), default=0)
    sign_on_time = models.IntegerField(_("sign-offs on time"), default=0)

    class Meta:
        app_label = "screen"
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        constraints = [
            models.UniqueConstraint(fields=["dim", "day", "community", "value"], name="screen_daycount_key"),
        ]


class CaseContribution(models.Model):
    """What one case adds to DayCount now; `day` is null until the case is counted."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("case")
    )
    day = models.DateField(_("day"), null=True)
    closed_day = models.DateField(_("closed on"), null=True)
    region_code = models.CharField(_("region code"), max_length=15, blank=True)
    department_id_value = models.BigIntegerField(_("department"), null=True)
    category_id_value = models.BigIntegerField(_("sub-category"), null=True)
    h3_cell = models.CharField(_("H3 cell"), max_length=16, blank=True)
    # The estate under which the 智慧物业 panel counts the case (property categories only).
    estate_id_value = models.BigIntegerField(_("estate"), null=True)
    flags = models.JSONField(_("counters"), default=dict)

    class Meta:
        app_label = "screen"
        verbose_name = _("case contribution")
        verbose_name_plural = _("case contributions")


# -- what a case counts as --------------------------------------------------------------------
CASE_FIELDS = (
    "id", "created_at", "closed_at", "region_code", "department_id", "category_id", "h3_cell", "status",
    "accepted_at", "dispatched_at", "handled_at", "was_overdue", "rating", "lon", "lat",
)


def local_day(moment):
    return timezone.localtime(moment).date() if moment else None


def state_of(row, sign_clocks=0, sign_on_time=0, property_ids=frozenset()):
    """A case row (CASE_FIELDS) → the CaseContribution fields."""
    from gridgov.geo.estates import estate_at

    closed = row["closed_at"] is not None
    in_property = row["category_id"] in property_ids
    return {
        "estate_id_value": estate_at(row["lon"], row["lat"]) if in_property else None,
        "day": local_day(row["created_at"]),
        "closed_day": local_day(row["closed_at"]),
        "region_code": row["region_code"] or "",
        "department_id_value": row["department_id"],
        "category_id_value": row["category_id"],
        "h3_cell": row["h3_cell"] or "",
        "flags": {
            "cases": 1,
            "accepted": int(row["accepted_at"] is not None),
            "dispatched": int(row["dispatched_at"] is not None),
            "handled": int(row["handled_at"] is not None),
            "closed": int(closed),
            "closed_on_time": int(closed and not row["was_overdue"]),
            "rated": int(row["rating"] is not None),
            "satisfied": int(row["rating"] in SATISFIED_RATINGS),
            "open": int(row["status"] in OPEN_STATUSES),
            "sign_clocks": sign_clocks,
            "sign_on_time": sign_on_time,
        },
    }


def contributions(state):
    """{(dim, day, community, value): {counter: n}} of one case state; {} if uncounted."""
    if not state or state.get("day") is None:
        return {}
    day, region = state["day"], state["region_code"]
    community = region[:COMMUNITY_CODE_LENGTH]
    flags = {name: state["flags"].get(name, 0) for name in COUNTERS}
    keys = {(Dimension.AREA.value, day, community, region): flags}
    if state["department_id_value"] is not None:
        keys[(Dimension.DEPARTMENT.value, day, community, str(state["department_id_value"]))] = flags
    if state["category_id_value"] is not None:
        keys[(Dimension.CATEGORY.value, day, community, str(state["category_id_value"]))] = flags
    if state["h3_cell"]:
        keys[(Dimension.H3.value, day, community, state["h3_cell"])] = {"cases": 1}
    if state["closed_day"] is not None:
        keys[(Dimension.CLOSED.value, state["closed_day"], community, "")] = {"cases": 1}
    if state.get("estate_id_value") is not None:
        keys[(Dimension.ESTATE.value, day, community, str(state["estate_id_value"]))] = flags
    return keys


_property_ids = {}


def property_category_ids():
    """The 智慧物业 大类 (by name, from the screen settings) and their 小类; cached per
    process until a Category is saved or deleted here (other processes: a rebuild)."""
    from django.conf import settings

    from gridgov.catalog.models import Category

    names = tuple(settings.GRIDGOV_SCREEN["property_categories"])
    if names not in _property_ids:
        majors = Category.objects.filter(name__in=names, parent__isnull=True)
        ids = Category.objects.filter(Q(id__in=majors) | Q(parent__in=majors)).values_list("id", flat=True)
        _property_ids[names] = frozenset(ids)
    return _property_ids[names]


def forget_categories(**kwargs):
    _property_ids.clear()


def connect_signals():
    from django.db.models.signals import post_delete, post_save

    from gridgov.catalog.models import Category

    post_save.connect(forget_categories, sender=Category, dispatch_uid="screen_daycounts_category_save")
    post_delete.connect(forget_categories, sender=Category, dispatch_uid="screen_daycounts_category_delete")


def difference(old, new):
    """new − old per key and counter, zero entries dropped."""
    delta = defaultdict(dict)
    for sign, side in ((-1, old), (1, new)):
        for key, counters in side.items():
            for name, n in counters.items():
                delta[key][name] = delta[key].get(name, 0) + sign * n
    return {key: {k: v for k, v in counters.items() if v} for key, counters in delta.items() if any(counters.values())}


def sign_clock_counts(case_ids, clock_model):
    """{case id: (sign-off clocks, stopped on time)} — the response rate's inputs."""
    rows = (
        clock_model.objects.filter(case_id__in=case_ids, kind="sign")
        .values("case_id")
        .annotate(total=Count("id"), on_time=Count("id", filter=Q(stopped_at__isnull=False, overdue=False)))
        .order_by()
    )
    return {row["case_id"]: (row["total"], row["on_time"]) for row in rows}


# -- incremental maintenance ------------------------------------------------------------------
def refresh_cases(case_ids):
    """Bring the counts in line with these cases as committed now (idempotent): the
    batch refresher registered with gridgov.cases.changes, run by the worker.

    The contributions are locked in id order (concurrent refreshes of one case queue on its
    row, and each reads the case after acquiring it, so the last one counts the newest
    state); the differences of all cases are summed first, so a batch costs one UPDATE per
    touched DayCount row, not one per case."""
    from gridgov.cases.models import Case, CaseClock

    with transaction.atomic():
        # Only cases that still exist (a deleted case took its contribution with it).
        case_ids = sorted(Case.objects.filter(pk__in=set(case_ids)).values_list("pk", flat=True))
        if not case_ids:
            return
        CaseContribution.objects.bulk_create(
            [CaseContribution(case_id=case_id) for case_id in case_ids], ignore_conflicts=True, batch_size=1000
        )
        records = {
            record.case_id: record
            for record in CaseContribution.objects.select_for_update().filter(case_id__in=case_ids).order_by("case_id")
        }
        cases = list(Case.objects.filter(pk__in=case_ids).values(*CASE_FIELDS))
        # A sign-off clock starts at dispatch: no query for the cases not yet dispatched.
        dispatched = [row["id"] for row in cases if row["dispatched_at"]]
        signs = sign_clock_counts(dispatched, CaseClock) if dispatched else {}
        property_ids = property_category_ids()
        delta, changed = defaultdict(lambda: defaultdict(int)), []
        for row in cases:
            record = records[row["id"]]
            old = contributions(stored_state(record)) if record.day else {}
            new_state = state_of(row, *signs.get(row["id"], (0, 0)), property_ids=property_ids)
            new = contributions(new_state)
            for key, counters in difference(old, new).items():
                for name, n in counters.items():
                    delta[key][name] += n
            for field, value in new_state.items():
                setattr(record, field, value)
            changed.append(record)
        apply_delta({key: {k: v for k, v in c.items() if v} for key, c in delta.items() if any(c.values())})
        # One upsert per 500 rows (Django's bulk_update built a CASE per row and field: 4 ms a case).
        CaseContribution.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["case"], update_fields=CONTRIBUTION_FIELDS, batch_size=500
        )


CONTRIBUTION_FIELDS = [
    "day", "closed_day", "region_code", "department_id_value", "category_id_value", "h3_cell", "estate_id_value", "flags",
]


def refresh_case(case_id):
    """Bring the counts in line with one case (see refresh_cases)."""
    refresh_cases([case_id])


def stored_state(record):
    return {
        "day": record.day,
        "closed_day": record.closed_day,
        "region_code": record.region_code,
        "department_id_value": record.department_id_value,
        "category_id_value": record.category_id_value,
        "h3_cell": record.h3_cell,
        "estate_id_value": record.estate_id_value,
        "flags": record.flags,
    }


def apply_delta(delta):
    """Add the delta to its rows, creating missing ones: one multi-row upsert per 300 keys
    that adds to the stored sums (INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n,
    SQLite and PostgreSQL alike). Keys go in a fixed order, so two concurrent refreshes
    never wait on each other's rows crosswise (no deadlock)."""
    if not delta:
        return
    from django.db import connection

    keys = sorted(delta, key=lambda key: (key[0], key[1].isoformat(), key[2], key[3]))
    for start in range(0, len(keys), UPSERT_CHUNK):
        chunk = keys[start : start + UPSERT_CHUNK]
        params = []
        for key in chunk:
            dim, day, community, value = key
            params += [dim, connection.ops.adapt_datefield_value(day), community, value]
            params += [delta[key].get(name, 0) for name in COUNTERS]
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(len(chunk)), params)


UPSERT_CHUNK = 300
_COLUMNS = ("dim", "day", "community", "value", *COUNTERS)


def _upsert_sql(rows):
    table = DayCount._meta.db_table
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {', '.join([placeholders] * rows)} "
        f"ON CONFLICT (dim, day, community, value) DO UPDATE SET "
        + ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in COUNTERS)
    )


# -- full rebuild -----------------------------------------------------------------------------
REBUILD_CHUNK = 5_000


def rebuild(case_model=None, clock_model=None, contribution_model=None, count_model=None):
    """Recount everything from the cases (models may be a migration's historical ones)."""
    if case_model is None:
        from gridgov.cases.models import Case as case_model
        from gridgov.cases.models import CaseClock as clock_model
    contribution_model = contribution_model or CaseContribution
    count_model = count_model or DayCount
    totals = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    property_ids = property_category_ids()
    with transaction.atomic():
        count_model.objects.all().delete()
        contribution_model.objects.all().delete()
        last_id = 0
        while True:
            rows = list(case_model.objects.filter(id__gt=last_id).order_by("id").values(*CASE_FIELDS)[:REBUILD_CHUNK])
            if not rows:
                break
            last_id = rows[-1]["id"]
            signs = sign_clock_counts([row["id"] for row in rows], clock_model)
            records = []
            for row in rows:
                state = state_of(row, *signs.get(row["id"], (0, 0)), property_ids=property_ids)
                records.append(contribution_model(case_id=row["id"], **state))
                for key, counters in contributions(state).items():
                    total = totals[key]
                    for name, n in counters.items():
                        total[name] += n
            contribution_model.objects.bulk_create(records, batch_size=1000)
        count_model.objects.bulk_create(
            (count_model(dim=dim, day=day, community=community, value=value, **counters)
             for (dim, day, community, value), counters in totals.items()),
            batch_size=1000,
        )
    return len(totals)
