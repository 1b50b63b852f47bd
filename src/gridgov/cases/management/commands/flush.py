"""Django's `flush`, allowed to empty the case timeline too.

The timeline triggers refuse DELETE on case events (migration 0005). Emptying the whole
database (tests, `flush` before a fresh demo) is the one sanctioned exception; on SQLite
the triggers ask gridgov_timeline_unlocked(), which answers 1 only inside this command.
PostgreSQL's flush uses TRUNCATE, which row triggers do not see.
"""

from django.core.management.commands import flush

from gridgov.cases.timeline import unlocked_for_flush


class Command(flush.Command):
    def handle(self, **options):
        with unlocked_for_flush():
            return super().handle(**options)
