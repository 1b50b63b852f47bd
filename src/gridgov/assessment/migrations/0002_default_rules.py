"""Default duties of 网格员 and 网格长 (domain.md §4 marks them [U]: shipped as editable defaults)."""

from django.db import migrations

DEFAULTS = [
    # role, measure, target, points, description
    ("grid_inspector", "reports", 20, 25, "每月巡查上报事件 20 件"),
    ("grid_inspector", "verification_on_time_rate", 0.95, 20, "核查按时率 95%"),
    ("grid_inspector", "patrol_coverage", 0.8, 25, "网格巡查覆盖率 80%"),
    ("grid_inspector", "meetings_attended", 4, 15, "每周参加网格例会"),
    ("grid_inspector", "trainings_attended", 1, 15, "每月参加网格学堂"),
    ("grid_lead", "reports", 10, 20, "每月巡查上报事件 10 件"),
    ("grid_lead", "verification_on_time_rate", 0.95, 20, "核查按时率 95%"),
    ("grid_lead", "patrol_coverage", 0.6, 20, "社区网格巡查覆盖率 60%"),
    ("grid_lead", "meetings_attended", 4, 20, "每周主持或参加网格例会"),
    ("grid_lead", "trainings_attended", 1, 20, "每月参加网格学堂"),
]


def add_defaults(apps, schema_editor):
    Rule = apps.get_model("assessment", "AssessmentRule")
    if Rule.objects.exists():
        return
    Rule.objects.bulk_create(
        Rule(role=role, measure=measure, target=target, points=points, weight=1.0, description=text)
        for role, measure, target, points, text in DEFAULTS
    )


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
