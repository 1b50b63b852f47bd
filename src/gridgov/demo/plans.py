"""What each demo case will be: when, where, what, by which channel, and how it goes.

Plans are pure data drawn from one Random; history.py replays them through the services.
Besides the bulk spread over the year, two small blocks make the workbenches useful
whatever the count: recent cases held in each open status, and stalled cases from the
last weeks that are overdue now.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from gridgov.cases.models import Channel, Status
from gridgov.catalog import sla, worktime
from gridgov.geo.models import GridType

from . import texts
from .names import NameMaker, resident_phone
from .places import place_in, point_outside, random_point_in

HISTORY_DAYS = 365

CHANNEL_WEIGHTS = {
    Channel.GRID_PATROL: 44,
    Channel.HOTLINE: 20,
    Channel.RESIDENT: 12,
    Channel.WINDOW: 8,
    Channel.VIDEO_ALARM: 6,
    Channel.PROACTIVE: 6,
    Channel.IOT: 4,
}
# Channels whose cases the centre's intake clerks register.
CLERK_CHANNELS = (Channel.HOTLINE, Channel.RESIDENT, Channel.WINDOW, Channel.VIDEO_ALARM, Channel.IOT)
CALLER_CHANNELS = (Channel.HOTLINE, Channel.RESIDENT, Channel.WINDOW)

# 小类 name -> relative frequency; every other 小类 gets OTHER_WEIGHT, "其他" less.
CATEGORY_WEIGHTS = {
    "暴露垃圾": 12, "乱堆物料": 9, "店外经营": 9, "机动车乱停放": 8, "邻里纠纷": 7,
    "非法小广告": 5, "非机动车乱停放": 5, "道路不洁": 4, "楼道堆物": 4, "积存垃圾渣土": 3,
    "小区环境卫生": 3, "物业纠纷": 3, "生活噪音扰民": 3, "电动车违规充电": 3, "无照经营游商": 3,
    "占道废品收购": 2, "绿地脏乱": 2, "废弃家具设备": 2, "道路破损": 2, "油烟污染": 2,
    "露天烧烤": 2, "商业噪音": 2, "停车管理": 2, "私搭乱建": 2, "消防隐患": 2,
    "房屋租赁纠纷": 1.5, "下水道堵塞或破损": 1.5, "供水问题": 1.5, "电梯故障": 1.5, "路灯": 1.5,
    "公共设施维修": 1.5, "施工扰民": 1.2, "沿街晾挂": 1, "劳资纠纷": 1, "养老服务": 1,
}
OTHER_WEIGHT = 0.3
CATCH_ALL_WEIGHT = 0.05
# What cameras and sensors can see.
VIDEO_CATEGORIES = ("店外经营", "机动车乱停放", "暴露垃圾", "乱堆物料", "非机动车乱停放", "无照经营游商", "露天烧烤")
IOT_CATEGORIES = ("下水道堵塞或破损", "道路积水", "雨水井盖", "污水井盖", "消防隐患", "电动车违规充电", "燃气隐患")

# Hour-of-day profiles (0-23): patrols and the window in office hours, calls into the evening.
OFFICE_PROFILE = [0] * 8 + [3, 6, 6, 5, 1, 1, 5, 6, 5, 2] + [0] * 6
CALL_PROFILE = [0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 1, 2, 4, 6, 6, 5, 3, 3, 5, 5, 5, 4, 3, 3, 3, 2, 1, 0.5]
ALWAYS_PROFILE = [1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 2, 2, 1]
HOUR_PROFILES = {
    Channel.GRID_PATROL: OFFICE_PROFILE,
    Channel.PROACTIVE: OFFICE_PROFILE,
    Channel.WINDOW: OFFICE_PROFILE,
    Channel.HOTLINE: CALL_PROFILE,
    Channel.RESIDENT: CALL_PROFILE,
    Channel.VIDEO_ALARM: ALWAYS_PROFILE,
    Channel.IOT: ALWAYS_PROFILE,
}

# The open statuses a recent case can be held in (the workbench queues), and where the
# stalled ones got stuck.
HELD_STATUSES = (
    Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.HANDLING, Status.HANDLED, Status.VERIFIED, Status.PARKED,
)
STALLED_STATUSES = (Status.ACCEPTED, Status.DISPATCHED, Status.HANDLING, Status.HANDLED)


@dataclass
class Fate:
    """How a case's timeline goes; `hold` is the status it stays in (None: to the end)."""

    hold: str | None = None
    reject: bool = False
    stays_unplaced: bool = False
    wrong_department: bool = False
    extension: bool = False
    extension_approved: bool = True
    reworks: int = 0
    park: bool = False
    unpark: bool = False
    supervise: bool = False
    late_dispatch: bool = False
    late_sign: bool = False
    late_handling: bool = False
    late_verify: bool = False
    rating: int | None = None  # None: not rated


@dataclass
class CasePlan:
    created_at: dt.datetime
    channel: str
    category: object  # a 小类 (catalog.Category)
    grid: object  # the Region the point lies in; None when outside every grid
    lon: float
    lat: float
    community_name: str
    address: str
    description: str
    reporter_name: str = ""
    reporter_phone: str = ""
    fate: Fate = field(default_factory=Fate)
    forced: bool = False  # a held or stalled case: squeeze its steps in before now
    serial: int = 0  # position in creation order


class Planner:
    def __init__(self, rng, geography, categories, now):
        self.rng = rng
        self.geography = geography
        self.now = now
        self.callers = NameMaker(rng)
        self.categories = [c for c in categories if c.parent_id is not None and c.is_active]
        self.by_name = {}
        for category in self.categories:
            self.by_name.setdefault(category.name, category)
        self.category_weights = [self._category_weight(c) for c in self.categories]
        self.grids = geography.grids
        self.grid_weights = [g.households + (250 if g.grid_type == GridType.DEDICATED else 0) for g in self.grids]
        self.community_names = {c.pk: c.name for c in geography.communities}

    # -- the whole list ------------------------------------------------------------------
    def plan(self, count):
        """`count` plans in creation order."""
        held = min(count, max(len(HELD_STATUSES) * 2, round(count * 0.006)))
        stalled = min(count - held, max(len(STALLED_STATUSES), round(count * 0.004)))
        bulk = count - held - stalled
        channels = self._channels(bulk)
        plans = [
            self._case(moment, channel, self._bulk_fate())
            for moment, channel in zip(self._bulk_moments(bulk, channels), channels)
        ]
        for i in range(stalled):
            fate = Fate(hold=STALLED_STATUSES[i % len(STALLED_STATUSES)], supervise=i % 2 == 0)
            plans.append(self._case(self._stalled_moment(), self._weighted_channel(), fate, forced=True))
        for i in range(held):
            fate = self._held_fate(HELD_STATUSES[i % len(HELD_STATUSES)], i)
            channel = Channel.HOTLINE if fate.stays_unplaced else self._weighted_channel()
            plan = self._case(self._recent_moment(), channel, fate, forced=True)
            if fate.hold == Status.HANDLING and (i // len(HELD_STATUSES)) % 2 == 0:
                plan.created_at = self._moment_in_warning(plan.category)
            plans.append(plan)
        plans.sort(key=lambda plan: plan.created_at)
        for serial, plan in enumerate(plans):
            plan.serial = serial
        return plans

    def _channels(self, count):
        """Every channel at least once, the rest by weight, in a shuffled order."""
        names, weights = zip(*CHANNEL_WEIGHTS.items())
        channels = list(names)[:count] + self.rng.choices(names, weights, k=max(0, count - len(names)))
        self.rng.shuffle(channels)
        return channels

    def _weighted_channel(self):
        return self.rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]

    # -- when ----------------------------------------------------------------------------
    def _bulk_moments(self, count, channels):
        """Creation times over the past year: workdays busier, a gentle seasonal swing."""
        today = self.now.date()
        days = [today - dt.timedelta(days=n) for n in range(1, HISTORY_DAYS)]
        weights = [self._day_weight(day) for day in days]
        moments = []
        for day, channel in zip(self.rng.choices(days, weights, k=count), channels):
            moments.append(self._at(day, channel))
        return moments

    @staticmethod
    def _day_weight(day):
        season = 1 + 0.25 * math.sin((day.timetuple().tm_yday - 100) / 365 * 2 * math.pi)  # summer peak
        return season * (1.0 if worktime.official_workday(day) else 0.45)

    def _at(self, day, channel):
        hour = self.rng.choices(range(24), HOUR_PROFILES[channel])[0]
        local = dt.datetime.combine(day, dt.time(hour, self.rng.randrange(60), self.rng.randrange(60)))
        return local.replace(tzinfo=self.now.tzinfo)

    def _recent_moment(self):
        """Between 20 minutes and two days before now."""
        return (self.now - dt.timedelta(minutes=self.rng.uniform(20, 48 * 60))).replace(microsecond=0)

    def _moment_in_warning(self, category):
        """A creation time that puts the handling clock in its warning band (70-100%) now.

        Bisects over the start: the later the start, the less of the limit is used now.
        Dispatch follows creation by about half a working hour, hence the small lead.
        """
        value, unit = sla.clock_limit("handle", category)
        target = self.rng.uniform(0.75, 0.92)
        early, late = self.now - dt.timedelta(days=60), self.now
        for _ in range(30):
            start = early + (late - early) / 2
            used = worktime.elapsed_fraction(start, worktime.add_time(start, value, unit), unit, self.now)
            early, late = (start, late) if used > target else (early, start)
        return (early - dt.timedelta(minutes=30)).replace(microsecond=0)

    def _stalled_moment(self):
        days_back = self.rng.randint(4, 20)
        day = self.now.date() - dt.timedelta(days=days_back)
        return self._at(day, Channel.GRID_PATROL)

    # -- what and where ------------------------------------------------------------------
    def _category_weight(self, category):
        if category.code.endswith("99"):
            return CATCH_ALL_WEIGHT
        return CATEGORY_WEIGHTS.get(category.name, OTHER_WEIGHT)

    def _category(self, channel):
        names = {Channel.VIDEO_ALARM: VIDEO_CATEGORIES, Channel.IOT: IOT_CATEGORIES}.get(channel)
        if names:
            available = [self.by_name[name] for name in names if name in self.by_name]
            if available:
                return self.rng.choice(available)
        return self.rng.choices(self.categories, self.category_weights)[0]

    def _case(self, moment, channel, fate, forced=False):
        category = self._category(channel)
        grid = self.rng.choices(self.grids, self.grid_weights)[0]
        community_name = self.community_names[grid.parent_id]
        if fate.stays_unplaced or (channel in CALLER_CHANNELS and self.rng.random() < 0.02 and not forced):
            # A caller's address that geocodes just outside the subdistrict: needs placement.
            lon, lat = point_outside(self.rng, self.geography.shapes[self.geography.subdistrict.code])
            grid = None
        else:
            lon, lat = random_point_in(self.rng, self.geography.shapes[grid.code])
        address, place = place_in(self.rng, community_name)
        plan = CasePlan(
            created_at=moment,
            channel=channel,
            category=category,
            grid=grid,
            lon=lon,
            lat=lat,
            community_name=community_name,
            address=address,
            description=texts.describe(self.rng, category.name, place),
            fate=fate,
            forced=forced,
        )
        if channel in CALLER_CHANNELS:
            plan.reporter_name, plan.reporter_phone = self._caller(channel)
        return plan

    def _caller(self, channel):
        name = self.callers.name()
        if channel == Channel.HOTLINE and self.rng.random() < 0.6:
            name = name[0] + self.rng.choice(("先生", "女士"))  # callers often give only this
        return name, resident_phone(self.rng)

    # -- how it goes ---------------------------------------------------------------------
    def _bulk_fate(self):
        r = self.rng.random
        fate = Fate(
            reject=r() < 0.05,
            wrong_department=r() < 0.04,
            extension=r() < 0.04,
            extension_approved=r() < 0.85,
            reworks=self.rng.choices((0, 1, 2), (93, 6, 1))[0],
            park=r() < 0.008,
            unpark=r() < 0.4,
            supervise=r() < 0.03,
            late_dispatch=r() < 0.03,
            late_sign=r() < 0.04,
            late_handling=r() < 0.07,
            late_verify=r() < 0.02,
        )
        if r() < 0.85:
            fate.rating = self._rating(fate)
        return fate

    def _rating(self, fate):
        troubled = fate.reworks or fate.late_handling or fate.wrong_department
        weights = (25, 30, 45) if troubled else (5, 17, 78)  # 不满意, 基本满意, 满意
        return self.rng.choices((1, 2, 3), weights)[0]

    def _held_fate(self, status, index):
        fate = Fate(hold=status, late_sign=index % 3 == 0, supervise=index % 5 == 0)
        if status == Status.PARKED:
            fate.park = True
        if status == Status.REPORTED and index % 2 == 0:
            fate.stays_unplaced = True
        return fate

