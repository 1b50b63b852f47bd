"""Demo data of the screen: cameras spread over the grids and sample monthly indicators.

Both are deterministic (the same grids give the same cameras) and idempotent, so the demo
seed (`gridgov seed --demo`) can call them every time.
"""

import datetime as dt
import random
from decimal import Decimal

import h3
from django.db import transaction
from django.utils import timezone
from shapely.geometry import Point, shape

from gridgov.geo.models import Region
from gridgov.video.models import Camera, CameraStatus

from .models import IndicatorModule, MonthlyIndicator

DEMO_CAMERA_COUNT = 642  # the Nancun centre's video feeds (seed article)
CAMERA_SPOTS = ["小区东门", "小区西门", "主路口", "沿街商铺", "停车场", "文化广场", "背街小巷", "学校周边", "农贸市场", "公交站"]
OFFLINE_SHARE = 0.06


@transaction.atomic
def seed_demo_cameras(count=DEMO_CAMERA_COUNT, *, seed=642, now=None):
    """Spread `count` cameras over all grids, round-robin by grid code; returns how many were added."""
    grids = list(Region.objects.grids().exclude(boundary=None).order_by("code").values("id", "code", "name", "boundary"))
    if not grids:
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)
    existing = set(Camera.objects.filter(code__startswith="CAM-").values_list("code", flat=True))
    shapes = [shape(grid["boundary"]) for grid in grids]
    cameras = []
    for index in range(count):
        grid, area = grids[index % len(grids)], shapes[index % len(grids)]
        lon, lat = point_inside(area, rng)
        online = rng.random() >= OFFLINE_SHARE
        code = f"CAM-{index + 1:04d}"
        spot = CAMERA_SPOTS[rng.randrange(len(CAMERA_SPOTS))]
        if code in existing:
            continue
        cameras.append(Camera(
            code=code,
            name=f"{grid['name']}{spot}{index // len(grids) + 1}号",
            lon=lon,
            lat=lat,
            grid_id=grid["id"],
            region_code=grid["code"],
            h3=h3.latlng_to_cell(lat, lon, 9),
            status=CameraStatus.ONLINE if online else CameraStatus.OFFLINE,
            last_seen_at=now if online else now - dt.timedelta(minutes=rng.randrange(30, 3000)),
        ))
    Camera.objects.bulk_create(cameras, batch_size=500)
    return len(cameras)


def point_inside(area, rng, tries=50):
    """A random point inside the polygon (rejection sampling in its bounding box)."""
    min_x, min_y, max_x, max_y = area.bounds
    for _ in range(tries):
        lon, lat = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if area.contains(Point(lon, lat)):
            return round(lon, 6), round(lat, 6)
    point = area.representative_point()
    return round(point.x, 6), round(point.y, 6)


# key, label, unit, base value, monthly growth; sources say the figures are demo values.
PARTY_INDICATORS = [
    ("party_members", "党员人数", "人", 1862, 4),
    ("party_branches", "基层党组织", "个", 46, 0.1),
    ("service_positions", "党群服务阵地", "个", 27, 0.05),
    ("volunteer_hours", "党员志愿服务时长", "小时", 5200, 60),
    ("theme_days", "主题党日活动", "场", 38, 0.5),
    ("partner_units", "共建合伙人单位", "家", 96, 0.5),
    ("cobuild_projects", "共建项目", "个", 28, 0.3),
    ("social_organisations", "社会组织", "个", 92, 0.5),
]
ECONOMY_INDICATORS = [
    ("tax_revenue", "税收收入", "万元", 3850, 40),
    ("retail_sales", "社会消费品零售额", "万元", 21600, 180),
    ("fixed_investment", "固定资产投资", "万元", 9400, 120),
    ("new_market_entities", "新增市场主体", "户", 162, 2),
    ("above_scale_firms", "规上企业", "家", 41, 0.2),
    ("investment_attracted", "招商引资到位资金", "万元", 5200, 70),
    ("new_jobs", "城镇新增就业", "人", 214, 3),
]
SOURCES = {
    IndicatorModule.PARTY: "街道党工委组织办（演示数据）",
    IndicatorModule.ECONOMY: "街道经济发展办公室（演示数据）",
}


@transaction.atomic
def seed_demo_indicators(*, months=12, today=None, seed=2026):
    """Sample rows for the last `months` complete months of both modules; returns rows written."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    latest = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    month_list = [shift_month(latest, -offset) for offset in reversed(range(months))]
    written = 0
    for module, specs in ((IndicatorModule.PARTY, PARTY_INDICATORS), (IndicatorModule.ECONOMY, ECONOMY_INDICATORS)):
        for step, month in enumerate(month_list):
            for order, (key, label, unit, base, growth) in enumerate(specs):
                noise = 1 + rng.uniform(-0.04, 0.04) if growth >= 1 else 1
                value = Decimal(str(round((base + growth * step) * noise, 0 if growth >= 1 else 0)))
                MonthlyIndicator.objects.update_or_create(
                    module=module, month=month, key=key,
                    defaults={"label": label, "value": value, "unit": unit, "source": SOURCES[module], "sort_order": order},
                )
                written += 1
    return written


def shift_month(month, delta):
    index = month.year * 12 + month.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)
