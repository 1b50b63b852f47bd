"""Case numbers from per-process blocks (gridgov.cases.numbers)."""

import threading

import pytest
from django.db import connection

from gridgov.cases import numbers, services
from gridgov.cases.models import Case, CaseNumberSequence
from gridgov.cases.tests.conftest import IN_GRID_11, MONDAY_9

pytestmark = pytest.mark.django_db(transaction=True)


def create(staff, **extra):
    case, _created = services.create_case(
        staff.clerk, channel="window", description="路灯不亮", lon=IN_GRID_11[0], lat=IN_GRID_11[1], at=MONDAY_9, **extra
    )
    return case


def sequence(case):
    return int(case.number[-5:])


def test_numbers_come_from_a_reserved_block_outside_a_transaction(staff, categories):
    numbers.forget()
    first, second = create(staff), create(staff)
    assert first.number[:8] == "20261130" and sequence(second) == sequence(first) + 1
    assert CaseNumberSequence.objects.get().last == numbers.BLOCK  # reserved once, not per case


def test_another_connection_gets_the_next_block(staff, categories):
    numbers.forget()
    mine = create(staff)
    theirs = []

    def other_process():
        try:
            theirs.append(create(staff))
        finally:
            connection.close()

    thread = threading.Thread(target=other_process)
    thread.start()
    thread.join()
    assert sequence(theirs[0]) == numbers.BLOCK + 1 and sequence(mine) == 1
    assert CaseNumberSequence.objects.get().last == 2 * numbers.BLOCK


def test_a_block_left_from_a_reset_counter_is_dropped_and_the_create_retried(staff, categories):
    numbers.forget()
    first = create(staff)
    CaseNumberSequence.objects.all().delete()  # the counter restarts, the block in hand is stale
    Case.objects.filter(pk=first.pk).update(number=numbers.format_number(MONDAY_9.date(), sequence(first) + 1))
    second = create(staff)
    assert second.number != Case.objects.get(pk=first.pk).number
    assert Case.objects.count() == 2


def test_inside_a_callers_transaction_the_counter_moves_with_it(staff, categories):
    from django.db import transaction

    numbers.forget()
    with pytest.raises(RuntimeError), transaction.atomic():
        create(staff)
        raise RuntimeError("the caller fails")
    assert not CaseNumberSequence.objects.exists() and not Case.objects.exists()
