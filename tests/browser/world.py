"""A small but realistic world for the staff-UI browser tests (import the fixtures by name).

南村街道 from the shared `region_tree` (two communities, four grids), the standard 大类/小类
catalogue linked to the centre's departments, one account per role with a known password,
and `populate_cases(world)`, which drives a dozen cases through the real services into
every state a workbench shows (for the layout checks and the README screenshots).
"""

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from gridgov.catalog.models import Category
from gridgov.catalog.standard import link_default_departments, load_standard_categories
from gridgov.org.models import Department
from gridgov.org.roles import Role

PASSWORD = "pass-1234"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Generous: the CI machine may be busy. Playwright waits only as long as needed.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)

# Points of the conftest region tree: community 1 spans lon 117.00-117.02 (grids 11, 12),
# community 2 lon 117.02-117.04 (grids 21, 22), all at lat 36.68-36.70.
IN_GRID_11 = (117.0052, 36.6913)
IN_GRID_12 = (117.0147, 36.6871)
IN_GRID_21 = (117.0263, 36.6935)
IN_GRID_22 = (117.0338, 36.6842)


@pytest.fixture
def fast_passwords(settings):
    """PBKDF2 costs seconds per account on a busy machine; the live server shares settings."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def world(transactional_db, fast_passwords, region_tree, department, make_user, settings, tmp_path):
    """Departments, the standard catalogue and one account per role (username = role name)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # A transactional test flushes the tables afterwards, the migration's catalogue included.
    if not Category.objects.filter(code="0102").exists():
        load_standard_categories()
    departments = SimpleNamespace(
        urban=department,  # CGZF 城管执法中队
        sanitation=Department.objects.create(code="HW", name="南村街道环卫所", type="sanitation"),
        water=Department.objects.create(code="SW", name="区水务局排水管理所", type="utility"),
        works=Department.objects.create(code="ZJ", name="南村街道住建办", type="construction"),
    )
    link_default_departments()
    subdistrict = region_tree["subdistrict"]
    users = SimpleNamespace(
        clerk=make_user([Role.INTAKE_CLERK], scope=subdistrict, username="clerk", display_name="张晓燕"),
        dispatcher=make_user([Role.DISPATCHER], scope=subdistrict, username="dispatcher", display_name="王建国"),
        lead=make_user([Role.SHIFT_LEAD], scope=subdistrict, username="lead", display_name="陈志刚"),
        handler=make_user([Role.DEPT_HANDLER], department=departments.sanitation, username="handler", display_name="刘海涛"),
        urban_handler=make_user([Role.DEPT_HANDLER], department=departments.urban, username="urban", display_name="孙立军"),
        inspector=make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"], username="inspector", display_name="李娜"),
        inspector2=make_user([Role.GRID_INSPECTOR], scope=region_tree["grid21"], username="inspector2", display_name="赵磊"),
    )
    handlers = {
        departments.urban.pk: users.urban_handler,
        departments.sanitation.pk: users.handler,
        departments.water.pk: make_user([Role.DEPT_HANDLER], department=departments.water, display_name="周明"),
        departments.works.pk: make_user([Role.DEPT_HANDLER], department=departments.works, display_name="吴国华"),
    }
    return SimpleNamespace(regions=region_tree, departments=departments, users=users, handlers=handlers)


def category(code, kind="event"):
    return Category.objects.select_related("parent").get(kind=kind, code=code)


def photo_bytes(fmt="PNG", size=(320, 240), seed=0):
    """A small scene-like picture: sky, a wall, a road and a heap (enough to look like a photo)."""
    width, height = size
    image = Image.new("RGB", size, (168, 196, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, int(height * 0.25), width, int(height * 0.62)], fill=(196, 184, 164))
    for column in range(0, width, 46):
        draw.rectangle([column + 8, int(height * 0.32), column + 30, int(height * 0.45)], fill=(120, 138, 160))
    draw.rectangle([0, int(height * 0.62), width, height], fill=(112, 112, 108))
    heap = (60 + 40 * (seed % 3), 150 - 30 * (seed % 2), 40)
    draw.ellipse([int(width * 0.35), int(height * 0.55), int(width * 0.75), int(height * 0.9)], fill=heap)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def png_upload(name="scene.png", seed=0):
    """A file for Playwright's set_input_files."""
    return {"name": name, "mimeType": "image/png", "buffer": photo_bytes("PNG", seed=seed)}


# --- sign-in -----------------------------------------------------------------------------


def sign_in(new_page, username, width=1280, height=800):
    """A page in a fresh browser context, signed in through the real login form.

    The form's own submit button, not the first one on the page: the language switch in
    the top bar is a submit button too.
    """
    page = new_page(width=width, height=height)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    expect(page.locator(".usermenu")).to_be_visible()
    return page


# --- realistic cases ---------------------------------------------------------------------

# (key, 小类 (kind, code), point, channel, description, address, steps after registration);
# registered in this order over the last two days, so the newest cases are the open ones.
MAIN_LINE = ["accept", "dispatch", "sign", "handle", "verify", "close", "rate"]
CASES = [
    ("mud", ("event", "0104"), IN_GRID_11, "proactive",
     "象霞路公交站周边路面有大片泥沙和污渍，影响市容。", "象霞路公交站", MAIN_LINE),
    ("cars", ("event", "0107"), IN_GRID_21, "grid_patrol",
     "滨河小区南门外一辆无牌废弃轿车长期停放，车身积灰，轮胎瘪气。", "滨河小区南门外", MAIN_LINE[:6]),
    ("pension", ("event", "0199"), IN_GRID_12, "hotline",
     "来电咨询社保缴费年限计算，不属于网格事件受理范围。", "", ["reject"]),
    ("toilet", ("component", "0301"), IN_GRID_11, "hotline",
     "光明巷公厕冲水设施损坏，异味明显，周边商户反映强烈。", "光明巷公厕",
     ["accept", "dispatch", "sign", "handle", "rework", "handle", "verify"]),
    ("rubble", ("event", "0103"), IN_GRID_11, "resident",
     "纬八路绿化带内有人倾倒装修建筑垃圾，约两车，已占用部分人行道。", "纬八路绿化带", MAIN_LINE[:4]),
    ("lamp", ("component", "0107"), IN_GRID_12, "window",
     "建设路小学门口路灯连续三晚不亮，学生放学时段存在安全隐患。", "建设路小学门口", MAIN_LINE[:3]),
    ("ads", ("event", "0201"), IN_GRID_21, "grid_patrol",
     "和平街45号至51号沿街墙面、电线杆上张贴大量小广告。", "和平街45号至51号", MAIN_LINE[:2]),
    ("bikes", ("event", "0506"), IN_GRID_11, "grid_patrol",
     "幸福里小区4号楼楼道口电动车乱停放，堵塞消防通道。", "幸福里小区4号楼", ["accept", "dispatch", "return"]),
    ("sewer", ("event", "0405"), IN_GRID_12, "hotline",
     "南村路12号门前下水道堵塞，污水外溢到路面，过往行人需绕行。", "南村路12号", MAIN_LINE[:1]),
    ("vendors", ("event", "0501"), IN_GRID_21, "resident",
     "西区菜市场北门流动摊贩占道经营，早高峰时段堵塞人行道。", "西区菜市场北门", MAIN_LINE[:1]),
    ("noise", ("event", "0301"), IN_GRID_22, "hotline",
     "西区社区8号楼旁工地夜间22点后仍在打桩施工，噪音扰民，居民无法休息。", "西区社区8号楼旁", []),
    ("pavement", ("event", "0110"), IN_GRID_12, "window",
     "纬六路与经七路交叉口人行道砖松动破损约2平方米，老人行走容易绊倒。", "纬六路与经七路交叉口", []),
    ("garbage", ("event", "0102"), IN_GRID_11, "hotline",
     "象霞小区3号楼东侧垃圾桶满溢，垃圾散落在地面，气味较大，居民多次反映。", "象霞小区3号楼东侧", []),
]
HANDLING_NOTES = ["已安排人员到场处置，现场已恢复整洁。", "已更换损坏部件，复查正常。"]


def populate_cases(world, now=None):
    """The CASES through the real services, registered over the last two days; {key: case}."""
    from gridgov.cases import changes, services

    now = now or timezone.now()
    users, regions = world.users, world.regions
    grid_staff = {regions["grid11"].pk: users.inspector, regions["grid21"].pk: users.inspector2}
    made = {}
    for index, (key, (kind, code), point, channel, description, address, steps) in enumerate(CASES):
        sub = category(code, kind)
        at = now - dt.timedelta(hours=46 - 3.5 * index)
        phone_call = channel in ("hotline", "window")
        reporter = users.clerk
        if channel == "grid_patrol":
            reporter = users.inspector if point == IN_GRID_11 else users.inspector2
        # Spread over the grid (each grid is 0.01° x 0.02°, the points sit near its middle).
        lon = point[0] + ((index * 3) % 7 - 3) * 0.0008
        lat = point[1] + ((index * 5) % 9 - 4) * 0.0015
        case, _created = services.create_case(
            reporter, channel=channel, description=description, category=sub, lon=lon, lat=lat,
            address=address, reporter_name="王秀兰" if phone_call else "",
            reporter_phone=f"1391234{5600 + index:04d}" if phone_call else "",
            photos=[photo_bytes("JPEG", seed=index)] if index % 3 == 0 else (), at=at,
        )
        department = sub.default_department or world.departments.urban
        handler = world.handlers[department.pk]
        for number, step in enumerate(steps, 1):
            moment = at + dt.timedelta(minutes=23 * number)
            if step == "reject":
                case = services.reject(case, users.dispatcher, reason="非网格事件，已告知来电人拨打社保服务热线。", at=moment)
            elif step == "accept":
                case = services.accept(case, users.dispatcher, at=moment)
            elif step == "dispatch":
                case = services.dispatch(case, users.dispatcher, department=department, at=moment)
            elif step == "return":
                case = services.return_case(case, handler, reason="该点位属物业管理区域，非本部门职责。", at=moment)
            elif step == "sign":
                case = services.sign(case, handler, at=moment)
            elif step == "handle":
                photos = [photo_bytes("PNG", seed=index + number)]
                case = services.submit_handling(case, handler, note=HANDLING_NOTES[case.rework_count], photos=photos, at=moment)
            elif step == "rework":
                case = services.verify(case, grid_staff[case.grid_id], passed=False, note="冲水阀仍漏水，请继续维修。", at=moment)
            elif step == "verify":
                case = services.verify(case, grid_staff[case.grid_id], passed=True, note="现场核查，已处置到位。", at=moment)
            elif step == "close":
                case = services.close(case, users.lead, at=moment)
            elif step == "rate":
                case = services.rate(case, users.clerk, rating=3, comment="处理及时，非常满意。", at=moment)
        made[key] = case
    changes.refresh_all()  # the worker's refresh of the daily counts and metrics facts
    return made
