# Loads the standard taxonomy (data/categories.json) so a fresh install has it; the
# classes stay editable in the admin afterwards.

from django.db import migrations


def load(apps, schema_editor):
    from gridgov.catalog.standard import load_standard_categories

    load_standard_categories(
        category_model=apps.get_model("catalog", "Category"),
        department_model=apps.get_model("org", "Department"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_initial"),
        ("org", "0001_initial"),
    ]

    operations = [
        # Reversing keeps the rows: cases may already refer to them.
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
