"""Calendar months as used by score sheets and the hot-topics report."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed

# Reports reach back up to two years before the month: keep every date computable.
MIN_YEAR, MAX_YEAR = 1970, 2999


def parse_month(value, field="month"):
    """'2026-10' (or a date) -> date(2026, 10, 1); ValidationFailed naming `field` otherwise."""
    if isinstance(value, dt.date):
        return value.replace(day=1)
    try:
        year, month = str(value).strip().split("-")
        if len(year) != 4 or not MIN_YEAR <= int(year) <= MAX_YEAR:
            raise ValueError
        return dt.date(int(year), int(month), 1)
    except (TypeError, ValueError):
        raise ValidationFailed.field(field, _("Enter a month as YYYY-MM."), code="invalid_month") from None


def next_month(month):
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_start(month):
    """The first moment of a month, aware, in the local time zone."""
    return dt.datetime.combine(month, dt.time.min, tzinfo=timezone.get_current_timezone())


def month_bounds(month):
    """[start, end) of a month as aware datetimes in the local time zone."""
    return month_start(month), month_start(next_month(month))


def current_month():
    return timezone.localdate().replace(day=1)
