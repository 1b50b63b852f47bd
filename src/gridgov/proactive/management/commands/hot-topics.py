"""gridgov hot-topics --month 2026-10 [--months 3] [--top 10] [--region CODE] [--json]

Prints the monthly hot-topics report (每月一题) over all cases, or those of one region subtree.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from gridgov.cases.models import Case
from gridgov.core.errors import ValidationFailed
from gridgov.proactive.hot_topics import DEFAULT_MONTHS, DEFAULT_TOP, build_report

SECTIONS = [
    ("topics", "Recurring problems (sub-category x H3 cell)"),
    ("categories", "Sub-categories"),
    ("cells", "H3 cells (resolution 9)"),
    ("grids", "Grids"),
    ("new_hot_spots", "New hot spots"),
]


class Command(BaseCommand):
    help = "Print the monthly hot-topics report (recurring problems by sub-category and place, with the trend)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM, the last month of the period")
        parser.add_argument("--months", type=int, default=DEFAULT_MONTHS, help="length of the period in months")
        parser.add_argument("--top", type=int, default=DEFAULT_TOP, help="rows per ranking")
        parser.add_argument("--region", default="", help="only cases whose region code starts with this")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        cases = Case.objects.all()
        if options["region"]:
            cases = cases.filter(region_code__startswith=options["region"])
        try:
            report = build_report(cases, options["month"], months=options["months"], top=options["top"])
        except ValidationFailed as error:
            raise CommandError(f"{error.message} {error.as_dict()['fields']}") from None
        if options["json"]:
            self.stdout.write(json.dumps(_as_dict(report), ensure_ascii=False, indent=2))
            return
        self._print(report)

    def _print(self, report):
        change = "n/a" if report.change_pct is None else f"{report.change_pct:+.1f}%"
        self.stdout.write(
            f"Hot topics {report.month:%Y-%m}, {report.months} month(s) from {report.start:%Y-%m-%d}: "
            f"{report.total_current} cases (previous period {report.total_previous}, {change})"
        )
        for name, title in SECTIONS:
            self.stdout.write(f"\n{title}")
            for rank, row in enumerate(getattr(report, name), 1):
                pct = "new" if row.change_pct is None else f"{row.change_pct:+.1f}%"
                place = f" [{row.h3_cell}]" if row.h3_cell else ""
                self.stdout.write(f"{rank:>3}. {row.label}{place}: {row.current} (previous {row.previous}, {pct})")
        self.stdout.write("\nTrend: " + ", ".join(f"{m} {n}" for m, n in zip(report.trend["months"], report.trend["total"])))


def _as_dict(report):
    def rows(items):
        return [
            {"label": row.label, "category_id": row.category_id, "h3_cell": row.h3_cell, "grid_id": row.grid_id,
             "current": row.current, "previous": row.previous, "change_pct": row.change_pct}
            for row in items
        ]

    return {
        "month": f"{report.month:%Y-%m}", "months": report.months,
        "total_current": report.total_current, "total_previous": report.total_previous,
        **{name: rows(getattr(report, name)) for name, _title in SECTIONS},
        "trend": report.trend,
    }
