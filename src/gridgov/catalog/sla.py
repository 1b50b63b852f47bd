"""Clock limits (时限) of the case workflow, domain.md §2 and docs/contracts.md.

Clock kinds: ``accept_dispatch`` (立案+派遣), ``sign`` (签收), ``handle`` (处置), ``verify``
(核查). The handling limit comes from the 小类 (``time_limit_value`` / ``time_limit_unit``);
the others from ``settings.GRIDGOV_SLA``, as does ``handle`` for a case without a class.

Urgent rule: when ``settings.GRIDGOV_SLA_URGENT_NATURAL`` is true (the default) every clock
of an urgent case (``Priority.URGENT``; without an explicit priority, the class's default
priority decides) counts wall-clock time, nights and holidays included: N working hours
become N natural hours and N working days become N x 24 natural hours. An emergency such
as a burst water main cannot wait for Monday morning.
"""

from django.conf import settings

from .models import Priority, TimeUnit

CLOCK_KINDS = ("accept_dispatch", "sign", "handle", "verify")
# Used when settings.GRIDGOV_SLA lacks a kind.
DEFAULT_LIMITS = {
    "accept_dispatch": (1, TimeUnit.WORKING_HOURS),
    "sign": (1, TimeUnit.WORKING_HOURS),
    "handle": (5, TimeUnit.WORKING_DAYS),
    "verify": (1, TimeUnit.WORKING_DAYS),
}
_NATURAL_HOURS_PER = {TimeUnit.WORKING_HOURS: 1, TimeUnit.WORKING_DAYS: 24, TimeUnit.NATURAL_HOURS: 1}


def clock_limit(kind, category=None, priority=None):
    """(value, TimeUnit) allowed for clock `kind` of a case in `category` with `priority`."""
    if kind not in CLOCK_KINDS:
        raise ValueError(f"unknown clock kind {kind!r}; expected one of {', '.join(CLOCK_KINDS)}")
    if kind == "handle" and category is not None:
        value, unit = category.time_limit_value, category.time_limit_unit
    else:
        value, unit = getattr(settings, "GRIDGOV_SLA", {}).get(kind, DEFAULT_LIMITS[kind])
    unit = TimeUnit(unit)
    if _is_urgent(category, priority) and getattr(settings, "GRIDGOV_SLA_URGENT_NATURAL", True):
        return value * _NATURAL_HOURS_PER[unit], TimeUnit.NATURAL_HOURS
    return value, unit


def _is_urgent(category, priority):
    if priority is None and category is not None:
        priority = category.default_priority
    return priority is not None and int(priority) == Priority.URGENT
