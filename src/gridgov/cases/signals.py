"""Signals of the cases app.

`case_changed(sender=Case, case=<Case>, event=<CaseEvent>)` is sent after the transaction of
every transition commits (live screen, notifications).
"""

from django.dispatch import Signal

case_changed = Signal()
