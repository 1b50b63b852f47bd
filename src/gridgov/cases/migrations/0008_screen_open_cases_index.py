from django.db import migrations, models


class Migration(migrations.Migration):
    """The big screen's pass over the open cases (per grid: open, overdue, warning, urgent)
    reads only this index, not the table rows (gridgov.screen.overview.open_summary)."""

    dependencies = [
        ("cases", "0007_changed_case"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["status", "grid", "due_at", "warn_at", "priority", "category"], name="case_screen_open_idx"
            ),
        ),
    ]
