import django.db.models.deletion
from django.db import migrations, models

# 部件 (point objects such as 井盖, 路灯, 消防栓): a report 30 m away is another object.
POINT_OBJECT_RULE = {"radius_m": 30, "window_hours": 72}


def point_object_rules(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    DuplicateRule = apps.get_model("triage", "DuplicateRule")
    for category in Category.objects.filter(kind="component", parent__isnull=False):
        DuplicateRule.objects.get_or_create(category=category, defaults=POINT_OBJECT_RULE)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("cases", "0006_case_merged_into"),
        ("catalog", "0003_standard_categories"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClassifierModel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.PositiveIntegerField(unique=True, verbose_name="version")),
                ("trained_at", models.DateTimeField(verbose_name="trained at")),
                ("n_samples", models.PositiveIntegerField(verbose_name="training cases")),
                ("n_classes", models.PositiveIntegerField(verbose_name="classes")),
                ("accuracy", models.FloatField(blank=True, null=True, verbose_name="top-1 accuracy (held out)")),
                ("top3_accuracy", models.FloatField(blank=True, null=True, verbose_name="top-3 accuracy (held out)")),
                ("n_test", models.PositiveIntegerField(default=0, verbose_name="held-out cases")),
                ("blob", models.BinaryField(verbose_name="model")),
            ],
            options={
                "verbose_name": "classifier model",
                "verbose_name_plural": "classifier models",
                "ordering": ["-version"],
            },
        ),
        migrations.CreateModel(
            name="DuplicateRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("radius_m", models.PositiveIntegerField(verbose_name="duplicate radius (m)")),
                ("window_hours", models.PositiveIntegerField(verbose_name="duplicate window (hours)")),
                (
                    "category",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="duplicate_rule",
                        to="catalog.category",
                        verbose_name="category",
                    ),
                ),
            ],
            options={"verbose_name": "duplicate rule", "verbose_name_plural": "duplicate rules"},
        ),
        migrations.CreateModel(
            name="MergedReporter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(blank=True, max_length=50, verbose_name="reporter name")),
                ("phone", models.CharField(blank=True, max_length=30, verbose_name="reporter phone")),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("grid_patrol", "Grid patrol"),
                            ("hotline", "12345 hotline"),
                            ("window", "Walk-in window"),
                            ("resident", "Resident report"),
                            ("video_alarm", "Video alarm"),
                            ("iot", "IoT sensor"),
                            ("proactive", "Proactive discovery"),
                        ],
                        max_length=20,
                        verbose_name="channel",
                    ),
                ),
                ("reported_at", models.DateTimeField(verbose_name="reported at")),
                ("merged_at", models.DateTimeField(verbose_name="merged at")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="merged_reporters",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                (
                    "source_case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.case",
                        verbose_name="reported in case",
                    ),
                ),
            ],
            options={
                "verbose_name": "reporter of a merged case",
                "verbose_name_plural": "reporters of merged cases",
                "ordering": ["reported_at", "id"],
            },
        ),
        migrations.RunPython(point_object_rules, migrations.RunPython.noop),
    ]
