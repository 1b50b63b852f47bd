# Written by hand: only the daily counts (other screen model changes get their own migration).
# Existing cases are counted by 0004 (after the estate column exists).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0006_case_merged_into"),
        ("screen", "0002_delete_camera"),
    ]

    operations = [
        migrations.CreateModel(
            name="DayCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("dim", models.CharField(choices=[("area", "Region"), ("department", "Department"), ("category", "Sub-category"), ("h3", "Heat cell"), ("closed", "Closed on the day")], max_length=10, verbose_name="dimension")),
                ("day", models.DateField(verbose_name="day")),
                ("community", models.CharField(blank=True, max_length=12, verbose_name="community code")),
                ("value", models.CharField(blank=True, max_length=20, verbose_name="value")),
                ("cases", models.IntegerField(default=0, verbose_name="cases")),
                ("accepted", models.IntegerField(default=0, verbose_name="accepted")),
                ("dispatched", models.IntegerField(default=0, verbose_name="dispatched")),
                ("handled", models.IntegerField(default=0, verbose_name="handled")),
                ("closed", models.IntegerField(default=0, verbose_name="closed")),
                ("closed_on_time", models.IntegerField(default=0, verbose_name="closed on time")),
                ("rated", models.IntegerField(default=0, verbose_name="rated")),
                ("satisfied", models.IntegerField(default=0, verbose_name="satisfied")),
                ("open", models.IntegerField(default=0, verbose_name="open")),
                ("sign_clocks", models.IntegerField(default=0, verbose_name="sign-off clocks")),
                ("sign_on_time", models.IntegerField(default=0, verbose_name="sign-offs on time")),
            ],
            options={
                "verbose_name": "daily count",
                "verbose_name_plural": "daily counts",
                "constraints": [models.UniqueConstraint(fields=("dim", "day", "community", "value"), name="screen_daycount_key")],
            },
        ),
        migrations.CreateModel(
            name="CaseContribution",
            fields=[
                ("case", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="+", serialize=False, to="cases.case", verbose_name="case")),
                ("day", models.DateField(null=True, verbose_name="day")),
                ("closed_day", models.DateField(null=True, verbose_name="closed on")),
                ("region_code", models.CharField(blank=True, max_length=15, verbose_name="region code")),
                ("department_id_value", models.BigIntegerField(null=True, verbose_name="department")),
                ("category_id_value", models.BigIntegerField(null=True, verbose_name="sub-category")),
                ("h3_cell", models.CharField(blank=True, max_length=16, verbose_name="H3 cell")),
                ("flags", models.JSONField(default=dict, verbose_name="counters")),
            ],
            options={
                "verbose_name": "case contribution",
                "verbose_name_plural": "case contributions",
            },
        ),
    ]
