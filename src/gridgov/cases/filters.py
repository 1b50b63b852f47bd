"""CaseFilterSet: the case list's filters, shared by the API (/api/v1/cases/) and the pages.

Apply it to `Case.objects.restrict(user, "view")`: the filters narrow a scoped queryset,
they never widen it.
"""

import datetime as dt
import re

import django_filters
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.models import Category, CategoryKind, Priority
from gridgov.geo.models import Region
from gridgov.org.models import Department
from gridgov.org.permissions import allowed

from .clocks import filter_clock_state
from .models import Case, Channel, ClockState, Status


def major_category_choices():
    """(code, "code name") of the active 大类; a code shared by two kinds appears once."""
    choices = {}
    for code, name in Category.objects.filter(parent__isnull=True, is_active=True).values_list("code", "name"):
        choices.setdefault(code, f"{code} {name}")
    return sorted(choices.items())


# Querysets as functions: a FilterSet deep-copies its filters per request, and copying a
# QuerySet costs far more than copying a function.
def subcategories(request):
    return Category.objects.filter(parent__isnull=False)


def grids(request):
    return Region.objects.grids()


def departments(request):
    return Department.objects.all()


# A case number (YYYYMMDD + sequence, or an imported code) or a phone number: no spaces, no CJK.
EXACT_KEY = re.compile(r"[A-Za-z]{0,4}[0-9][0-9-]{5,29}")


def search_days():
    return getattr(settings, "GRIDGOV_CASE_SEARCH_DAYS", 30)


def search_window_start():
    """Free-text search looks at the cases reported since this local midnight."""
    today = timezone.localdate()
    return start_of_day(today - dt.timedelta(days=search_days() - 1))


def search_help():
    return gettext(
        "A case number or a reporter's phone number finds the case at any date; other text is looked for "
        "in number, description and address of the cases reported in the last %(days)s days, or since "
        "'Reported from' when that is set."
    ) % {"days": search_days()}


def lazy_str(function):
    """A text computed when shown (in the language of the request), not at import."""
    return lazy(function, str)()


def start_of_day(day):
    """The first instant of a local calendar day (Asia/Shanghai by default)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class CaseFilterSet(django_filters.FilterSet):
    # Multiple-choice filters here never join a to-many relation: no DISTINCT over wide rows.
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        help_text=lazy_str(search_help),
    )
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Status.choices, distinct=False)
    category = django_filters.ModelChoiceFilter(label=_("Sub-category"), queryset=subcategories)
    major_category = django_filters.ChoiceFilter(
        label=_("Major category"),
        choices=major_category_choices,
        field_name="category__parent__code",
        help_text=_("Code of a major category (大类), e.g. 01."),
    )
    kind = django_filters.ChoiceFilter(label=_("Category kind"), choices=CategoryKind.choices, field_name="category__kind")
    channel = django_filters.MultipleChoiceFilter(label=_("Channel"), choices=Channel.choices, distinct=False)
    region = django_filters.CharFilter(
        label=_("Region code"),
        field_name="region_code",
        lookup_expr="startswith",
        help_text=_("Cases in this region and everything below it, e.g. 370105001001."),
    )
    grid = django_filters.ModelChoiceFilter(label=_("Grid"), queryset=grids)
    department = django_filters.ModelChoiceFilter(label=_("Department"), queryset=departments)
    clock_state = django_filters.ChoiceFilter(
        label=_("Deadline"),
        choices=ClockState.choices,
        method="filter_clock_state",
        help_text=_("State of the running clock: normal, warning (from 70 percent of the time used) or overdue."),
    )
    priority = django_filters.MultipleChoiceFilter(label=_("Priority"), choices=Priority.choices, distinct=False)
    supervised = django_filters.BooleanFilter(label=_("Under supervision"))
    needs_placement = django_filters.BooleanFilter(label=_("Needs placement"))
    created_after = django_filters.DateFilter(
        label=_("Reported from"), method="filter_created_after", help_text=_("First day, inclusive (YYYY-MM-DD).")
    )
    created_before = django_filters.DateFilter(
        label=_("Reported until"), method="filter_created_before", help_text=_("Last day, inclusive (YYYY-MM-DD).")
    )

    class Meta:
        model = Case
        fields = [
            "q", "status", "category", "major_category", "kind", "channel", "region", "grid", "department",
            "clock_state", "priority", "supervised", "needs_placement", "created_after", "created_before",
        ]

    def filter_q(self, queryset, name, value):
        """Exact keys through their indexes; free text only within a bounded window.

        A substring search cannot use a B-tree index on either database, and a trigram or
        full-text index exists only on PostgreSQL. So: a case number or a phone number
        (what the hotline has in hand) is matched exactly by index over all years, and other
        text scans only the recent window (docs/decisions/0006-case-text-search.md).
        """
        value = value.strip()
        if not value:
            return queryset
        if EXACT_KEY.fullmatch(value):
            exact = Q(number=value)
            if self._may_search_phones():
                exact |= Q(reporter_phone=value)
            return queryset.filter(exact)
        text = Q(number__contains=value) | Q(description__icontains=value) | Q(address__icontains=value)
        if not self.data.get("created_after"):
            text &= Q(created_at__gte=search_window_start())
        return queryset.filter(text)

    def _may_search_phones(self):
        # Finding cases by phone reveals who reported them: only for roles that may see reporters.
        user = getattr(self.request, "user", None)
        return user is not None and allowed(user, "case.view_reporter")

    def filter_clock_state(self, queryset, name, value):
        return filter_clock_state(queryset, value)

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_created_before(self, queryset, name, value):
        return queryset.filter(created_at__lt=start_of_day(value + dt.timedelta(days=1)))
