"""The cases tests' fixtures (staff of every role, a catalogue, the Flow driver) reused here."""

from gridgov.cases.tests.conftest import (  # noqa: F401
    categories,
    flow,
    other_department,
    quick_user,
    staff,
)
