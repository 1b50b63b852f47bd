# Merging duplicate cases across channels (gridgov.cases.merge, triage app).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0005_timeline_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_cases",
                to="cases.case",
                verbose_name="merged into",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="merged_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="merged at"),
        ),
    ]
