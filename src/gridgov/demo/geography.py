"""The demo region tree: 济南市天桥区 → 南村街道 → 8 communities → 61 grids.

The grids tile the subdistrict without gaps or overlaps because they are built from one
lattice of jittered vertices: neighbouring cells share the very same corner and edge-middle
points, so their polygons share edges exactly. A hand-drawn layout assigns each cell to a
community (a contiguous block of cells); the community and subdistrict boundaries are
unions of their grids.
"""

from dataclasses import dataclass, field

from shapely.geometry import Polygon, mapping
from shapely.ops import unary_union

from gridgov.geo import services as geo_services
from gridgov.geo.models import GridType, Level, Region

from . import DEMO_SUBDISTRICT_CODE, DEMO_SUBDISTRICT_NAME

DISTRICT_CODE = "370105"
DISTRICT_NAME = "天桥区"

# One letter per community, "." outside the subdistrict; row 0 is the north edge.
LAYOUT = (
    "..AAABBB..",
    "CAAABBBBD.",
    "CCAAEBBDDD",
    "CCCEEEFDDD",
    "CCGEEEFFD.",
    ".GGGEFFFHH",
    ".GGGHHHHH.",
)

# letter -> (3-digit community code, name)
COMMUNITIES = {
    "A": ("001", "象霞社区"),
    "B": ("002", "北苑社区"),
    "C": ("003", "西区社区"),
    "D": ("004", "东区社区"),
    "E": ("005", "南村社区"),
    "F": ("006", "朝霞社区"),
    "G": ("007", "和乐社区"),
    "H": ("008", "新苑社区"),
}

# (row, col) -> name of a dedicated grid (专属网格) covering one institution.
DEDICATED_GRIDS = {
    (1, 6): "南村小学",
    (3, 8): "天桥区第二人民医院",
    (3, 4): "南村农贸市场",
}

# Lattice geometry: about 250 m x 280 m per cell around 117.00E 36.69N, so the
# subdistrict is about 2.5 km x 2 km.
CENTRE_LON, CENTRE_LAT = 117.00, 36.69
CELL_DLON, CELL_DLAT = 0.0028, 0.0025
CORNER_JITTER = 0.18  # fraction of a cell: keeps every cell a simple polygon
MIDPOINT_JITTER = 0.08
DISTRICT_MARGIN = 0.03  # degrees of district around the subdistrict
COORD_DIGITS = 6  # ~0.1 m; shared points round identically


@dataclass
class Cell:
    row: int
    col: int
    letter: str
    polygon: Polygon
    code: str = ""
    name: str = ""
    grid_type: str = GridType.BASIC
    households: int = 0


@dataclass
class DemoGeography:
    """What build_geography() created, for the later steps."""

    district: Region
    subdistrict: Region
    communities: list = field(default_factory=list)  # Regions, by code
    grids: list = field(default_factory=list)  # Regions, by code
    grids_by_community: dict = field(default_factory=dict)  # community code -> [grid Regions]
    shapes: dict = field(default_factory=dict)  # region code -> shapely geometry


class Lattice:
    """Jittered lattice points shared by neighbouring cells."""

    def __init__(self, rng, rows, cols):
        self.rows, self.cols = rows, cols
        self.lon0 = CENTRE_LON - cols / 2 * CELL_DLON
        self.lat0 = CENTRE_LAT + rows / 2 * CELL_DLAT  # north edge
        self.corners = {
            (r, c): self._point(r + self._jitter(rng, CORNER_JITTER), c + self._jitter(rng, CORNER_JITTER))
            for r in range(rows + 1)
            for c in range(cols + 1)
        }
        # A middle point on every edge, jittered across the edge so borders are not straight.
        self.h_mids = {
            (r, c): self._point(r + self._jitter(rng, MIDPOINT_JITTER), c + 0.5)
            for r in range(rows + 1)
            for c in range(cols)
        }
        self.v_mids = {
            (r, c): self._point(r + 0.5, c + self._jitter(rng, MIDPOINT_JITTER))
            for r in range(rows)
            for c in range(cols + 1)
        }

    @staticmethod
    def _jitter(rng, amount):
        return rng.uniform(-amount, amount)

    def _point(self, row, col):
        return (round(self.lon0 + col * CELL_DLON, COORD_DIGITS), round(self.lat0 - row * CELL_DLAT, COORD_DIGITS))

    def cell_ring(self, r, c):
        """Counter-clockwise ring (GeoJSON exterior) of cell (r, c): SW, S, SE, E, NE, N, NW, W."""
        return [
            self.corners[(r + 1, c)],
            self.h_mids[(r + 1, c)],
            self.corners[(r + 1, c + 1)],
            self.v_mids[(r, c + 1)],
            self.corners[(r, c + 1)],
            self.h_mids[(r, c)],
            self.corners[(r, c)],
            self.v_mids[(r, c)],
        ]


def layout_cells(rng):
    """The cells of LAYOUT as shapely polygons on one shared lattice."""
    lattice = Lattice(rng, rows=len(LAYOUT), cols=len(LAYOUT[0]))
    cells = []
    for r, line in enumerate(LAYOUT):
        for c, letter in enumerate(line):
            if letter != ".":
                cells.append(Cell(r, c, letter, Polygon(lattice.cell_ring(r, c))))
    return cells


def number_cells(cells, rng):
    """Give each cell its 15-digit code, name, type and households.

    Sequence numbers run west→east, north→south within each community (domain.md §2).
    """
    subdistrict_code = DEMO_SUBDISTRICT_CODE
    for letter, (community_suffix, community_name) in COMMUNITIES.items():
        members = sorted((cell for cell in cells if cell.letter == letter), key=lambda cell: (cell.row, cell.col))
        for sequence, cell in enumerate(members, start=1):
            cell.code = f"{subdistrict_code}{community_suffix}{sequence:03d}"
            dedicated = DEDICATED_GRIDS.get((cell.row, cell.col))
            if dedicated:
                cell.name = f"{dedicated}专属网格"
                cell.grid_type = GridType.DEDICATED
                cell.households = rng.randint(0, 40)  # staff dormitories at most
            else:
                cell.name = f"{community_name}第{sequence}网格"
                cell.households = rng.randint(300, 500)
    return cells


def geojson(geometry):
    """Shapely geometry -> GeoJSON dict with lists (JSONField round-trips lists, not tuples)."""
    return _listify(mapping(geometry))


def _listify(value):
    if isinstance(value, (list, tuple)):
        return [_listify(item) for item in value]
    if isinstance(value, dict):
        return {key: _listify(item) for key, item in value.items()}
    return value


def district_shape(subdistrict_shape):
    """A simple stand-in for the district: the subdistrict's box with a margin."""
    west, south, east, north = subdistrict_shape.bounds
    m = DISTRICT_MARGIN
    return Polygon([(west - m, south - m), (east + m, south - m), (east + m, north + m), (west - m, north + m)])


def plan_geography(rng):
    """Everything about the tree except the database: a list of region specs, root first."""
    cells = number_cells(layout_cells(rng), rng)
    community_shapes = {
        letter: unary_union([cell.polygon for cell in cells if cell.letter == letter]) for letter in COMMUNITIES
    }
    subdistrict = unary_union(list(community_shapes.values()))
    specs = [
        dict(level=Level.DISTRICT, code=DISTRICT_CODE, name=DISTRICT_NAME, shape=district_shape(subdistrict)),
        dict(level=Level.SUBDISTRICT, code=DEMO_SUBDISTRICT_CODE, name=DEMO_SUBDISTRICT_NAME, shape=subdistrict),
    ]
    for letter, (suffix, name) in COMMUNITIES.items():
        specs.append(
            dict(level=Level.COMMUNITY, code=DEMO_SUBDISTRICT_CODE + suffix, name=name, shape=community_shapes[letter])
        )
    for cell in sorted(cells, key=lambda cell: cell.code):
        specs.append(
            dict(
                level=Level.GRID,
                code=cell.code,
                name=cell.name,
                shape=cell.polygon,
                grid_type=cell.grid_type,
                households=cell.households,
            )
        )
    return specs


def save_region(spec, parent):
    """Create one region through the geo service: the same validation as imported data."""
    return geo_services.save_region(
        geo_services.SYSTEM,
        level=spec["level"],
        code=spec["code"],
        name=spec["name"],
        parent=parent,
        boundary=geojson(spec["shape"]),
        grid_type=spec.get("grid_type", ""),
        households=spec.get("households", 0),
    )


def build_geography(rng):
    """Create the tree (the district is reused if it exists) and return a DemoGeography."""
    specs = plan_geography(rng)
    by_code = {}
    shapes = {}
    for spec in specs:
        parent = by_code.get(spec["code"][: len(spec["code"]) - 3]) if spec["level"] != Level.DISTRICT else None
        existing = Region.objects.filter(code=spec["code"]).first() if spec["level"] == Level.DISTRICT else None
        region = existing or save_region(spec, parent)
        by_code[region.code] = region
        shapes[region.code] = spec["shape"]
    return _summarise(by_code, shapes)


def _summarise(by_code, shapes):
    regions = sorted(by_code.values(), key=lambda region: region.code)
    geography = DemoGeography(district=by_code[DISTRICT_CODE], subdistrict=by_code[DEMO_SUBDISTRICT_CODE], shapes=shapes)
    geography.communities = [region for region in regions if region.level == Level.COMMUNITY]
    geography.grids = [region for region in regions if region.level == Level.GRID]
    for community in geography.communities:
        geography.grids_by_community[community.code] = [g for g in geography.grids if g.parent_id == community.pk]
    return geography
