"""Figures of the 三率 and the rest (docs/metrics.md), per department, grid, community,
staff member and period; the definitions and weights live in MetricsConfig.

`compute(level, period_start, period_end, scope_user=None)` is the contract other apps use
(docs/contracts.md).
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.core.errors import ValidationFailed
from gridgov.geo.models import Region
from gridgov.org.models import Department, User
from gridgov.org.permissions import require
from gridgov.org.roles import Role

from . import permissions  # noqa: F401  (registers the actions before any check)
from .models import CaseFact, MetricsConfig, ResolutionBasis

# level → the fact column it groups by
LEVELS = {
    "department": "department_id",
    "grid": "grid_id",
    "community": "community_id",
    "staff": "handler_id",
    "reporter": "reporter_id",
}
LEVEL_LABELS = {
    "department": gettext_lazy("Department"),
    "grid": gettext_lazy("Grid"),
    "community": gettext_lazy("Community"),
    "staff": gettext_lazy("Handler"),
    "reporter": gettext_lazy("Reporter"),
}
# rate → (numerator, denominator)
RATES = {
    "response_rate": ("responded", "dispatched"),
    "resolution_rate": ("resolved", "dispatched"),
    "satisfaction_rate": ("satisfied", "rated"),
    "on_time_rate": ("closed_on_time", "closed"),
    "rework_rate": ("reworked", "dispatched"),
    "extension_rate": ("extended", "dispatched"),
}
COUNTS = ["cases", "dispatched", "responded", "resolved", "rated", "satisfied", "closed", "closed_on_time", "reworked", "extended"]
MAX_RANGE_DAYS = 3700


# -- configuration -----------------------------------------------------------------------
def get_config():
    config = MetricsConfig.objects.filter(pk=1).first()
    return config if config is not None else MetricsConfig(pk=1)


def check_weights(response, resolution, satisfaction, *, as_django_error=False):
    """The three weights are whole numbers 0..100 that sum to 100."""
    values = {"weight_response": response, "weight_resolution": resolution, "weight_satisfaction": satisfaction}
    total = sum(int(value or 0) for value in values.values())
    if total == 100:
        return
    message = _("The weights of the three rates must add up to 100 (now %(total)d).") % {"total": total}
    if as_django_error:
        raise ValidationError({name: message for name in values})
    raise ValidationFailed(message, code="weights_not_100", fields={name: [message] for name in values})


def update_config(actor, *, at=None, **values):
    """Change the definitions and weights (sysadmin or subdistrict leader); returns the config."""
    require(actor, "metrics.configure")
    with transaction.atomic():
        config = get_config()
        allowed = {"response_hours", "resolution_basis", "basic_satisfied_weight", "weight_response",
                   "weight_resolution", "weight_satisfaction"}
        unknown = set(values) - allowed
        if unknown:
            raise ValidationFailed.field(sorted(unknown)[0], _("Unknown setting."), code="unknown_field")
        for name, value in values.items():
            setattr(config, name, value)
        _validate_config(config)
        config.updated_by = actor
        config.save()
        return config


def _validate_config(config):
    problems = {}
    try:
        config.full_clean(exclude=["updated_by"], validate_constraints=False)
    except ValidationError as error:
        problems = {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
    if problems:
        weights = [m for name in ("weight_response",) for m in problems.get(name, [])]
        code = "weights_not_100" if weights and "100" in weights[0] else "invalid"
        raise ValidationFailed(next(iter(problems.values()))[0], code=code, fields=problems)


# -- periods ---------------------------------------------------------------------------------
def month_range(year, month):
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def quarter_range(year, quarter):
    start, _end = month_range(year, 3 * quarter - 2)
    _start, end = month_range(year, 3 * quarter)
    return start, end


def parse_period(kind, value="", start="", end=""):
    """(start, end) dates of a period: kind "month" ("2026-11"), "quarter" ("2026-Q4") or
    "range" (start and end, ISO dates)."""
    try:
        if kind == "month":
            year, month = (int(part) for part in value.split("-"))
            return month_range(year, month)
        if kind == "quarter":
            year, quarter = value.upper().split("-Q")
            if not 1 <= int(quarter) <= 4:
                raise ValueError(value)
            return quarter_range(int(year), int(quarter))
        if kind == "range":
            return check_range(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    except (ValueError, TypeError, AttributeError):
        field = "period" if kind in ("month", "quarter") else "start"
        raise ValidationFailed.field(field, _("Enter a valid period."), code="invalid_period") from None
    raise ValidationFailed.field("kind", _("Choose month, quarter or range."), code="invalid_choice")


def check_range(start, end):
    if end < start:
        raise ValidationFailed.field("end", _("The end lies before the start."), code="invalid_period")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed.field("end", _("The period may span at most ten years."), code="invalid_period")
    return start, end


# -- computing ------------------------------------------------------------------------------
def period_facts(period_start, period_end, scope_user=None):
    """The facts of the cases created in the period (rejected ones excluded), in scope."""
    queryset = CaseFact.objects.filter(created_day__gte=period_start, created_day__lte=period_end, rejected=False)
    if scope_user is not None:
        queryset = queryset.filter(scope_q(scope_user))
    return queryset


def scope_q(user):
    """Mirror of CaseQuerySet.scope_q on the fact table (nothing for users without a scope)."""
    if Role.SYSADMIN in user.roles:
        return Q()
    condition = Q(pk__in=[])
    if user.scope_code is not None:
        condition = Q(region_code__startswith=user.scope_code) if user.scope_code else Q()
    if user.department_id:
        condition |= Q(department_id=user.department_id)
    return condition


def part_q(part, config):
    """The condition that makes a fact count in one of COUNTS (the definitions applied)."""
    resolved = Q(closed=True)
    if config.resolution_basis == ResolutionBasis.NOT_UNSATISFIED:
        resolved &= ~Q(rating=1) | Q(rating__isnull=True)
    return {
        "cases": Q(),
        "dispatched": Q(dispatched=True),
        "responded": Q(dispatched=True, response_minutes__lte=config.response_hours * 60),
        "resolved": Q(dispatched=True) & resolved,
        "rated": Q(rating__isnull=False),
        "satisfied": Q(rating=3),
        "basically_satisfied": Q(rating=2),
        "unsatisfied": Q(rating=1),
        "closed": Q(closed=True),
        "closed_on_time": Q(closed=True, closed_on_time=True),
        "reworked": Q(dispatched=True, reworked=True),
        "extended": Q(dispatched=True, extended=True),
    }[part]


def _aggregates(config):
    parts = [part for part in COUNTS if part != "satisfied"] + ["satisfied", "basically_satisfied"]
    # "n_" prefix: several parts share their name with a fact column.
    return {f"n_{part}": Count("pk", filter=part_q(part, config)) if part != "cases" else Count("pk") for part in parts}


def check_level(level):
    if level not in LEVELS:
        raise ValidationFailed.field(
            "level", _("Choose department, grid, community, staff or reporter."), code="invalid_choice"
        )
    return level


def compute(level, period_start, period_end, scope_user=None, *, config=None):
    """One ranked row per unit of `level` with cases in the period (docs/contracts.md)."""
    check_level(level)
    config = config or get_config()
    column = LEVELS[level]
    grouped = period_facts(period_start, period_end, scope_user).values(column).annotate(**_aggregates(config)).order_by()
    names = unit_names(level, [group[column] for group in grouped])
    return rank([finish_row(level, group[column], names.get(group[column], ""), group, config) for group in grouped])


def compute_levels(levels, period_start, period_end, scope_user=None, *, config=None):
    """{level: ranked rows} for several levels, one grouped query each (on SQLite two
    one-column scans beat one scan grouped by both columns: bench/metrics.py)."""
    config = config or get_config()
    return {level: compute(level, period_start, period_end, scope_user, config=config) for level in levels}


def total(period_start, period_end, scope_user=None, *, config=None):
    """The same figures for everything in scope as one row (level "all")."""
    config = config or get_config()
    counts = period_facts(period_start, period_end, scope_user).aggregate(**_aggregates(config))
    return finish_row("all", None, _("All"), counts, config)


def finish_row(level, key, name, counts, config):
    row = {"level": level, "key": key, "name": name}
    row.update({part: counts[f"n_{part}"] or 0 for part in COUNTS if part != "satisfied"})
    weight = Decimal(config.basic_satisfied_weight)
    row["satisfied"] = float((counts["n_satisfied"] or 0) + weight * (counts["n_basically_satisfied"] or 0))
    exact = {name: percent(row[numerator], row[denominator]) for name, (numerator, denominator) in RATES.items()}
    row.update({name: _round(value) for name, value in exact.items()})
    row["score"] = _round(score(exact, config))  # from the unrounded rates
    return row


def percent(numerator, denominator):
    return 100.0 * numerator / denominator if denominator else None


def _round(value):
    return None if value is None else round(value, 2)


def score(row, config):
    """Weighted composite of the 三率; a rate without cases drops out and its weight with it."""
    parts = [
        (row["response_rate"], config.weight_response),
        (row["resolution_rate"], config.weight_resolution),
        (row["satisfaction_rate"], config.weight_satisfaction),
    ]
    present = [(value, weight) for value, weight in parts if value is not None and weight]
    weights = sum(weight for _value, weight in present)
    if not weights:
        return None
    return sum(value * weight for value, weight in present) / weights


def rank(rows):
    """Best score first (ties: more cases first, then name); rank 1..n, unscored last."""
    rows.sort(key=lambda row: (row["score"] is None, -(row["score"] or 0), -row["cases"], str(row["name"])))
    for index, row in enumerate(rows, start=1):
        row["rank"] = index
    return rows


def unit_names(level, keys):
    keys = [key for key in keys if key is not None]
    if level == "department":
        names = dict(Department.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif level in ("grid", "community"):
        names = dict(Region.objects.filter(pk__in=keys).values_list("pk", "name"))
    else:
        names = {pk: display or username for pk, display, username in
                 User.objects.filter(pk__in=keys).values_list("pk", "display_name", "username")}
    names[None] = _("(none)")
    return names


def drill_down(level, key, part, period_start, period_end, scope_user=None, *, config=None):
    """The case ids behind one figure: unit `key` of `level` (None: everything in scope)."""
    config = config or get_config()
    if part not in COUNTS and part not in ("basically_satisfied", "unsatisfied"):
        raise ValidationFailed.field("part", _("Choose a figure."), code="invalid_choice")
    condition = part_q(part, config)
    if part == "satisfied" and config.basic_satisfied_weight:
        condition |= part_q("basically_satisfied", config)  # both count towards the figure
    queryset = period_facts(period_start, period_end, scope_user).filter(condition)
    if level != "all":
        check_level(level)
        queryset = queryset.filter(**{LEVELS[level]: key}) if key is not None else queryset.filter(**{f"{LEVELS[level]}__isnull": True})
    return queryset.values_list("case_id", flat=True)


def check_ins(period_start, period_end, scope_user=None):
    """吹哨报到 per department: the departments summoned by whistles blown in the period
    (local days, inclusive), how many checked in on time, how many were late, and the
    check-in rate (on time / summoned, %). Ranked by rate, lowest first: who to chase."""
    from gridgov.supervision.models import Summons

    start, end = (_local_midnight(period_start), _local_midnight(period_end + dt.timedelta(days=1)))
    summonses = Summons.objects.filter(summoned_at__gte=start, summoned_at__lt=end)
    if scope_user is not None:
        summonses = summonses.filter(scope_q(scope_user))  # same region_code / department_id columns
    grouped = (
        summonses.values("department_id")
        .annotate(
            summoned=Count("pk"),
            on_time=Count("pk", filter=Q(checked_in_at__isnull=False, late=False)),
            late=Count("pk", filter=Q(late=True)),
        )
        .order_by()
    )
    names = unit_names("department", [group["department_id"] for group in grouped])
    rows = [
        {
            "key": group["department_id"],
            "name": names.get(group["department_id"], ""),
            "summoned": group["summoned"],
            "on_time": group["on_time"],
            "late": group["late"],
            "check_in_rate": _round(percent(group["on_time"], group["summoned"])),
        }
        for group in grouped
    ]
    rows.sort(key=lambda row: (row["check_in_rate"], -row["summoned"], str(row["name"])))
    return rows


def _local_midnight(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def monthly_trend(months, end_month, scope_user=None, *, config=None):
    """The 'all' row of each of the `months` months up to `end_month` (a date in it)."""
    config = config or get_config()
    year, month = end_month.year, end_month.month
    series = []
    for _index in range(months):
        start, end = month_range(year, month)
        series.append({"month": f"{year}-{month:02d}", **total(start, end, scope_user, config=config)})
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(series))
