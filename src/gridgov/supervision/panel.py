"""The supervision panel on the case page (cases.detail.DETAIL_PANELS): the whistle with
its departments' check-ins, the orders with replies, and the forms this user may use."""

from gridgov.cases.models import OPEN_STATUSES, Status
from gridgov.org.models import Department
from gridgov.org.permissions import allowed

from .models import Order, OrderStatus, Summons, Whistle

FINAL = (Status.CLOSED, Status.REJECTED)


def case_panel(case, user, now):
    whistles = list(Whistle.objects.filter(case=case).select_related("blown_by").order_by("-blown_at"))
    summonses = list(Summons.objects.filter(case=case).select_related("department", "checked_in_by"))
    orders = list(Order.objects.filter(case=case).select_related("issued_by", "replied_by", "department"))
    open_case = case.status in OPEN_STATUSES
    active = next((whistle for whistle in whistles if whistle.closed_at is None), None)
    can_blow = open_case and active is None and allowed(user, "whistle.blow")
    my_summons = next(
        (s for s in summonses if s.department_id == user.department_id and s.checked_in_at is None and s.released_at is None),
        None,
    )
    can_order = case.status not in FINAL and case.department_id is not None
    panel = {
        "template": "supervision/_case_panel.html",
        "whistles": whistles,
        "summonses": summonses,
        "orders": orders,
        "active_whistle": active,
        "can_blow": can_blow,
        "departments": list(Department.objects.filter(is_active=True, regions__isnull=False).distinct()) if can_blow else [],
        "my_summons": my_summons if my_summons and allowed(user, "whistle.check_in") and case.status not in FINAL else None,
        "can_urge": can_order and allowed(user, "supervision_order.urge"),
        "can_supervise": can_order and allowed(user, "supervision_order.supervise"),
        "my_open_orders": [
            order for order in orders
            if order.status == OrderStatus.OPEN and order.department_id == user.department_id
            and allowed(user, "supervision_order.reply")
        ],
        "now": now,
    }
    if not (whistles or orders or can_blow or panel["can_urge"] or panel["can_supervise"]):
        return None
    return panel
