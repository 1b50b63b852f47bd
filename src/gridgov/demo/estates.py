"""Demo estates (小区): three per community, each inside one of its grids, with a property company."""

from shapely import affinity
from shapely.geometry import mapping, shape

from gridgov.geo.locator import locate
from gridgov.geo.models import Estate, Place, PlaceKind

ESTATE_NAMES = (
    "阳光花园", "幸福家园", "锦绣苑", "和谐小区", "金色港湾", "翠竹园", "书香门第", "滨河嘉园",
    "丽景华庭", "泉城名居", "绿地新城", "明珠小区", "紫薇苑", "康乐新村", "御景湾", "春晖里",
    "福泰花园", "天泰家园", "馨园小区", "柳岸人家", "银座花园", "华润置地", "鲁能小区", "东方名苑",
)
PROPERTY_COMPANIES = ("万科物业", "绿城服务", "碧桂园服务", "保利物业", "中海物业", "天桥区房管物业中心")
PER_COMMUNITY = 3
SHRINK = 0.7  # an estate covers the middle of its grid


def seed_demo_estates(geography):
    """Idempotent: estates that exist (by community and name) are left as they are."""
    names = iter(ESTATE_NAMES * 2)
    companies = iter(PROPERTY_COMPANIES * 10)
    made = 0
    for community in geography.communities:
        grids = [grid for grid in geography.grids_by_community.get(community.code, []) if grid.boundary]
        for grid in grids[:PER_COMMUNITY]:
            outline = affinity.scale(shape(grid.boundary), SHRINK, SHRINK)
            centre = outline.centroid
            _estate, created = Estate.objects.get_or_create(
                community=community,
                name=next(names),
                defaults={
                    "boundary": mapping(outline),
                    "centre_lon": round(centre.x, 6),
                    "centre_lat": round(centre.y, 6),
                    "property_company": next(companies),
                    "households": grid.households // 2,
                },
            )
            made += created
    return made


def seed_demo_places(geography):
    """One Place (kind estate) per demo estate, in the grid containing its centre, so
    address text naming the estate places a case. Idempotent."""
    made = 0
    for estate in Estate.objects.filter(community__in=geography.communities):
        grid_id = locate(estate.centre_lon, estate.centre_lat).grid_id
        if grid_id is None:
            continue
        _place, created = Place.objects.get_or_create(
            grid_id=grid_id, name=estate.name,
            defaults={"kind": PlaceKind.ESTATE, "lon": estate.centre_lon, "lat": estate.centre_lat},
        )
        made += created
    return made
