"""Move the camera registry from screen.Camera to video.Camera, keeping the rows (ids too,
so links and live events stay valid). screen.0002 then drops the old table."""

import h3
from django.db import migrations
from django.db.models import Max


def copy_forward(apps, schema_editor):
    Old = apps.get_model("screen", "Camera")
    New = apps.get_model("video", "Camera")
    rows = []
    for old in Old.objects.select_related("grid").order_by("id").iterator():
        rows.append(New(
            id=old.id, code=old.code, name=old.name, lon=old.lon, lat=old.lat, grid_id=old.grid_id,
            region_code=old.grid.code if old.grid_id else "",
            h3=h3.latlng_to_cell(old.lat, old.lon, 9) if -90 <= old.lat <= 90 and -180 <= old.lon <= 180 else "",
            status="online" if old.online else "offline", last_seen_at=old.last_seen_at,
        ))
    New.objects.bulk_create(rows, batch_size=500)
    reset_sequence(schema_editor, New)


def copy_back(apps, schema_editor):
    Old = apps.get_model("screen", "Camera")
    New = apps.get_model("video", "Camera")
    Old.objects.bulk_create([
        Old(id=new.id, code=new.code, name=new.name, lon=new.lon, lat=new.lat, grid_id=new.grid_id,
            online=new.status == "online", last_seen_at=new.last_seen_at)
        for new in New.objects.order_by("id").iterator()
    ], batch_size=500)
    reset_sequence(schema_editor, Old)


def reset_sequence(schema_editor, model):
    """Explicit ids leave PostgreSQL's sequence behind; move it past the largest id."""
    if schema_editor.connection.vendor != "postgresql":
        return
    top = model.objects.aggregate(top=Max("id"))["top"]
    if top:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, top])


class Migration(migrations.Migration):
    dependencies = [
        ("video", "0001_initial"),
        ("screen", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_forward, copy_back)]
