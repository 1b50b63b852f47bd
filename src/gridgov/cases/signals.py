"""Signals of the cases app.

`case_recorded(sender=Case, case=<Case>, event=<CaseEvent>)` is sent INSIDE the transaction
of every transition, after its timeline event was written: for outbox writers only (the live
feed), which must be quick and only write rows; an exception rolls the transition back.

`cases_recorded(sender=Case, pairs=[(case, event), ...])` is its bulk form, sent once for cases
created in bulk (gridgov.cases.bulk).

`case_changed(sender=Case, case=<Case>, event=<CaseEvent>)` is sent after the transaction of
every transition commits (notifications, callbacks, hotline replies); a failing receiver is
logged, never turned into an error for the person who acted.

Figures derived from many cases (daily counts, metrics facts) use neither: they register a
batch refresher with gridgov.cases.changes, run by the worker.
"""

from django.dispatch import Signal

case_recorded = Signal()
cases_recorded = Signal()
case_changed = Signal()
