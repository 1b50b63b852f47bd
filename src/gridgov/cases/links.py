"""Links to the case detail page, in one place for the list, the map and intake."""

from django.urls import reverse

_PLACEHOLDER_PK = 999_999_999_999


def case_url(case):
    return reverse("cases:detail", args=[case.pk])


def case_url_template():
    """The detail URL with `__pk__` in place of the key: one reverse() for thousands of rows."""
    return reverse("cases:detail", args=[_PLACEHOLDER_PK]).replace(str(_PLACEHOLDER_PK), "__pk__")
