"""`gridgov import-cameras FILE`: create or update cameras from CSV or Excel, all or nothing."""

from gridgov.core.management.imports import FileImportCommand
from gridgov.video.cameras import save_cameras
from gridgov.video.importing import read_rows


class Command(FileImportCommand):
    help = "Import cameras (columns code, name, lon, lat[, crs, vendor, stream_url]) from a .csv or .xlsx file."
    noun = "cameras"

    def run_import(self, actor, data, filename):
        return save_cameras(actor, read_rows(data, filename))
