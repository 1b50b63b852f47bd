"""`gridgov import-places FILE.xlsx`: create or update places (名称, 类型, 别名, 网格编码, 经度, 纬度), all or nothing."""

from gridgov.core.management.imports import FileImportCommand
from gridgov.geo.addresses import import_places
from gridgov.video.importing import xlsx_table


class Command(FileImportCommand):
    help = "Import places (columns 名称, 类型, 别名, 网格编码, 经度, 纬度) from an .xlsx file, all or nothing."
    noun = "places"

    def run_import(self, actor, data, filename):
        return import_places(actor, xlsx_table(data))
