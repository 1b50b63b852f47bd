"""Reading a period (month, quarter, custom range) from query parameters."""

from django.utils import timezone

from . import services


def period_from_params(params):
    """(start, end) from period=month|quarter|range with month / quarter / start+end;
    default: the current month."""
    kind = params.get("period") or "month"
    today = timezone.localdate()
    if kind == "month":
        return services.parse_period("month", params.get("month") or f"{today:%Y-%m}")
    if kind == "quarter":
        return services.parse_period("quarter", params.get("quarter") or f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    return services.parse_period(kind, start=params.get("start") or "", end=params.get("end") or "")

