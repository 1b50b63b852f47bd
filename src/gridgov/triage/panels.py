"""The case page's merge panel (registered in gridgov.cases.detail.DETAIL_PANELS): the
links between a merged duplicate and its surviving case, the reporters kept from merged
duplicates (masked), and the likely duplicates with a merge action for dispatchers."""

from gridgov.cases.merge import MERGEABLE
from gridgov.core.masking import mask_name, mask_phone
from gridgov.org.permissions import allowed

from .duplicates import duplicates_of
from .models import MergedReporter

CANDIDATES_SHOWN = 5


def masked_reporters(case):
    rows = list(MergedReporter.objects.filter(case=case).select_related("source_case"))
    for row in rows:
        row.masked_name, row.masked_phone = mask_name(row.name), mask_phone(row.phone)
    return rows


def merge_panel(case, user, now):
    """Context of triage/case_panel.html, or None when there is nothing to show."""
    can_merge = allowed(user, "case.merge") and case.status in MERGEABLE and case.merged_into_id is None
    context = {
        "template": "triage/case_panel.html",
        "merged_into": case.merged_into if case.merged_into_id else None,
        "merged_cases": list(case.merged_cases.order_by("merged_at", "id")),
        "reporters": masked_reporters(case),
        "can_reveal": allowed(user, "case.view_reporter"),
        "can_merge": can_merge,
        "candidates": duplicates_of(user, case, limit=CANDIDATES_SHOWN) if can_merge else [],
    }
    if not any(context[key] for key in ("merged_into", "merged_cases", "reporters", "candidates")):
        return None
    return context
