"""Roads, estates and random points inside the demo grids, for case locations and addresses."""

from shapely.geometry import Point

# Per community (by name): estates and roads in it. Invented but plausible for 南村.
COMMUNITY_PLACES = {
    "象霞社区": (("象霞小区", "象霞花园", "南村铁路宿舍"), ("象霞路", "南村路", "象霞北街")),
    "北苑社区": (("北苑小区", "北苑新村", "明湖嘉园"), ("北苑街", "南村北路", "北园大街辅路")),
    "西区社区": (("西区小区", "西区一区", "西区二区"), ("西区一路", "西区二路", "南村西街")),
    "东区社区": (("东区小区", "东苑公寓", "医院家属院"), ("南村东街", "东区路", "堤口路")),
    "南村社区": (("南村一区", "南村二区", "南村商住楼"), ("南村路", "南村中街", "市场东巷")),
    "朝霞社区": (("朝霞花园", "朝霞里", "朝阳公寓"), ("朝霞街", "朝霞南路", "南村南路")),
    "和乐社区": (("和乐家园", "和乐新苑", "工友宿舍"), ("和乐巷", "和乐路", "南村西街")),
    "新苑社区": (("南村新苑", "新苑小区", "新苑商业街"), ("新苑路", "南村南路", "济泺路辅路")),
}
EDGE_MARGIN = 0.00002  # degrees, about 2 m
SPOTS = ("东门", "西门", "南门", "北门", "门口", "路口", "停车场", "垃圾桶旁", "公交站", "绿化带", "沿街商铺前")
ESTATE_SPOTS = ("楼下", "东侧", "西侧", "南侧", "北侧", "车棚", "小广场")


def places_of(community_name):
    return COMMUNITY_PLACES.get(community_name, (("南村小区",), ("南村路",)))


def place_in(rng, community_name):
    """(address, spoken place) in the community, e.g. ("象霞小区3号楼", "象霞小区3号楼东侧")."""
    estates, roads = places_of(community_name)
    if rng.random() < 0.55:
        address = f"{rng.choice(estates)}{rng.randint(1, 24)}号楼"
        return address, address + rng.choice(ESTATE_SPOTS)
    road = rng.choice(roads)
    return f"{road}{rng.randint(1, 180)}号", road + rng.choice(SPOTS)


def random_point_in(rng, polygon):
    """A uniformly random point strictly inside `polygon` (rejection sampling in its box)."""
    west, south, east, north = polygon.bounds
    inner = polygon.buffer(-EDGE_MARGIN)  # keep clear of edges: no tie with the neighbour
    for _ in range(1000):
        lon, lat = round(rng.uniform(west, east), 6), round(rng.uniform(south, north), 6)
        if inner.contains(Point(lon, lat)):
            return lon, lat
    point = polygon.representative_point()
    return round(point.x, 6), round(point.y, 6)


def point_outside(rng, area, distance=0.0015):
    """A point a little outside `area` (beyond its edge): for cases that need placement."""
    ring = area.exterior
    for _ in range(100):
        on_edge = ring.interpolate(rng.uniform(0, ring.length))
        lon = on_edge.x + rng.uniform(-distance, distance)
        lat = on_edge.y + rng.uniform(-distance, distance)
        if not area.buffer(0.0002).contains(Point(lon, lat)):
            return round(lon, 6), round(lat, 6)
    west, south, east, north = area.bounds
    return round(east + distance, 6), round(north + distance, 6)
