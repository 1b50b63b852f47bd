"""Messages of triage code that lives in other apps' files (gridgov.cases.merge and the
suggestion hooks in gridgov.cases.forms), so that this app's catalogue translates them:
`makemessages` run in this app only sees this app's files."""

from django.utils.translation import gettext_noop

MESSAGES = (
    gettext_noop("A case cannot be merged into itself."),
    gettext_noop("No such case."),
    gettext_noop("Someone changed case %(number)s first (now version %(version)d); reload and try again."),
    gettext_noop("Case %(number)s cannot be merged: its status is “%(status)s”."),
    gettext_noop("Merged"),
    gettext_noop("Suggested: %(hint)s"),
    gettext_noop("Suggested with %(percent)d%% confidence"),
    gettext_noop("merged into"),
    gettext_noop("merged at"),
)
