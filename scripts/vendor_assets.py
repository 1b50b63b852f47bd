"""Copy the front-end files we serve from node_modules into src/gridgov/static/vendor.

npm installs the packages named in package.json (with its lockfile); only the built files
below are served, so collectstatic never walks the whole node_modules tree.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
TARGET = ROOT / "src" / "gridgov" / "static" / "vendor"

FILES = {
    "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images": "leaflet/dist/images",
    "markercluster/leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markercluster/MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "echarts/echarts.min.js": "echarts/dist/echarts.min.js",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui-standalone-preset.js": "swagger-ui-dist/swagger-ui-standalone-preset.js",
    "swagger-ui/favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
}


def main():
    missing = [src for src in FILES.values() if not (NODE_MODULES / src).exists()]
    if missing:
        sys.exit("missing front-end files (run `npm ci` first): " + ", ".join(missing))
    for dest, src in FILES.items():
        source, target = NODE_MODULES / src, TARGET / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    print(f"vendored {len(FILES)} front-end assets into {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
