"""gridgov import-regions FILE.geojson: load the region tree, all or nothing."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from gridgov.core.errors import ValidationFailed
from gridgov.geo.geojson import ImportFailed, import_regions, load_feature_collection


class Command(BaseCommand):
    help = "Import regions and grids from a GeoJSON FeatureCollection (one transaction: all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="GeoJSON FeatureCollection in WGS84")
        parser.add_argument("--no-progress", action="store_true", help="do not show the progress bar")

    def handle(self, *args, file, no_progress=False, **options):
        try:
            features = load_feature_collection(file.read_bytes())
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error}") from None
        except ValidationFailed as error:
            raise CommandError(f"{file}: {'; '.join(error.fields.get('file', [str(error.message)]))}") from None
        with tqdm(total=len(features), unit="region", disable=True if no_progress else None, file=sys.stderr) as bar:
            try:
                result = import_regions(features, progress=bar.update)
            except ImportFailed as failure:
                bar.close()
                for error in failure.errors:
                    self.stderr.write(f"feature {error}")
                raise CommandError(f"{len(failure.errors)} feature(s) with errors; nothing was imported.") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {file}: {result.created} created, {result.updated} updated."))
