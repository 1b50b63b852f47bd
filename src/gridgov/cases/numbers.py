"""Case numbers (YYYYMMDD + a 5-digit daily sequence) taken from per-process blocks.

The daily counter (CaseNumberSequence) used to be bumped inside every create's transaction:
one more statement on the hot path. A process now reserves BLOCK numbers at once, in its
own short transaction before the create's transaction opens, and hands them out from
memory. A reserved block is committed and belongs to this process alone, so numbers stay
unique across processes; what a process does not use before it exits (or before the day
ends) is a gap, and numbers from two processes interleave: a number says the day and
identifies the case, the creation time orders cases.

Inside a caller's transaction (the demo replay, imports) no block is reserved: the caller
bumps the counter in its own transaction (`take` returns None), as before.
"""

import threading

from django.db import connection, transaction
from django.utils import timezone

from . import rows

BLOCK = 20
_SQL = (
    "INSERT INTO cases_casenumbersequence (day, last) VALUES (%s, %s) "
    "ON CONFLICT (day) DO UPDATE SET last = cases_casenumbersequence.last + %s RETURNING last"
)


class _Blocks(threading.local):
    """Per thread (a connection belongs to a thread): {(database, day): [next, last]}."""

    def __init__(self):
        self.open = {}


_blocks = _Blocks()


def format_number(day, sequence):
    return f"{day:%Y%m%d}{sequence:05d}"


def take(at):
    """The next number for a case created at `at`, or None inside a caller's transaction."""
    if connection.in_atomic_block:
        return None
    day = timezone.localtime(at).date()
    key = (connection.settings_dict["NAME"], day)
    block = _blocks.open.get(key)
    if block is None or block[0] > block[1]:
        with transaction.atomic():
            last = reserve(day, BLOCK)
        block = _blocks.open[key] = [last - BLOCK + 1, last]
    sequence = block[0]
    block[0] += 1
    return format_number(day, sequence)


def reserve(day, count):
    """Add `count` to the day's counter in the current transaction; returns the new last."""
    return rows.execute_returning(connection, _SQL, rows.native(_SQL, connection), [day, count, count])


def next_in_transaction(at):
    """One number, the counter moving with the caller's transaction (no gap if it rolls back)."""
    day = timezone.localtime(at).date()
    return format_number(day, reserve(day, 1))


def is_taken(number):
    from .models import Case

    return Case.objects.filter(number=number).exists()


def forget():
    """Drop the blocks in hand (after the counter was reset under this process: tests)."""
    _blocks.open.clear()
