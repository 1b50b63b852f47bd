"""Active 吹哨报到 for the big screen's 应急指挥 panel (screen.overview.active_whistles)."""

from django.db.models import Count, Q

from .models import Whistle

SHOWN = 8


def active_whistles(scope_code, limit=SHOWN):
    """The newest active whistles in the scope: title (case number and departments), times,
    how many departments were summoned, checked in and are late. No personal data."""
    whistles = Whistle.objects.active()
    if scope_code:
        whistles = whistles.filter(region_code__startswith=scope_code)
    rows = (
        whistles.annotate(
            summoned=Count("summonses"),
            checked_in=Count("summonses", filter=Q(summonses__checked_in_at__isnull=False)),
            late=Count("summonses", filter=Q(summonses__late=True)),
        )
        .select_related("case")
        .prefetch_related("summonses__department")
        .order_by("-blown_at", "-id")[:limit]
    )
    return [
        {
            "id": whistle.pk,
            "case_id": whistle.case_id,
            "number": whistle.case.number,
            "title": f"{whistle.case.number} · " + "、".join(s.department.name for s in whistle.summonses.all()),
            "blown_at": whistle.blown_at.isoformat(),
            "summoned": whistle.summoned,
            "checked_in": whistle.checked_in,
            "late": whistle.late,
        }
        for whistle in rows
    ]
