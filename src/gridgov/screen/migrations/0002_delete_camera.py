# The camera registry moved to gridgov.video (its 0002 copies the rows first).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('screen', '0001_initial'),
        ('video', '0002_copy_screen_cameras'),
    ]

    operations = [
        migrations.DeleteModel(
            name='Camera',
        ),
    ]
