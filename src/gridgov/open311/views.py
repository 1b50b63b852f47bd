"""Open311 GeoReport v2 server at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

Services are our active 小类 (service_code = the 小类 code, group = the 大类 name). POST
requests need an api_key (ApiKey, managed in the admin) and create a case with channel
居民上报 through cases.services.create_case as the key's service account. The public GETs
show only requests that came in through Open311, without any contact data of the reporter;
phone and ID numbers typed into the text are masked. Plain Django views, not DRF: they are
outside the OpenAPI schema (their format is the Open311 spec's).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from gridgov.catalog.models import Category
from gridgov.cases import services as case_services
from gridgov.cases.models import Channel, Status
from gridgov.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from gridgov.screen.api import mask_text

from .formats import errors, render
from .models import ApiKey, ServiceRequest

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00+08:00"
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
CLOSED = (Status.CLOSED, Status.REJECTED)
# Field names of our services → the Open311 parameter the client sent.
FIELD_NAMES = {"lon": "long", "reporter_phone": "phone", "reporter_name": "first_name", "address": "address_string"}
CRS_VALUES = [("wgs84", "WGS-84 (GPS)"), ("gcj02", "GCJ-02 (Amap, Tencent)"), ("bd09", "BD-09 (Baidu)")]


def _subcategories():
    return Category.objects.filter(parent__isnull=False, is_active=True, parent__is_active=True).select_related("parent")


def _service(code):
    return _subcategories().filter(code=code).order_by("kind", "pk").first()


# --- discovery and services ---------------------------------------------------------------
@require_GET
def discovery(request, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": CHANGESET,
        "contact": _("The operations centre of the governance platform."),
        "key_service": _("API keys are issued by the centre's system administrator."),
        "endpoints": [
            {"specification": SPECIFICATION, "url": base, "changeset": CHANGESET, "type": "production",
             "formats": ["text/xml", "application/json"]},
        ],
    }
    return render(data, fmt, "discovery")


@require_GET
def services(request, fmt):
    data = [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.accept_criteria or category.name,
            "metadata": True,
            "type": "realtime",
            "keywords": category.keywords,
            "group": category.parent.name,
        }
        for category in _subcategories().order_by("code", "kind")
    ]
    return render(data, fmt, "services")


@require_GET
def service_definition(request, code, fmt):
    category = _service(code)
    if category is None:
        return errors(fmt, 404, _("Service code %(code)s was not found.") % {"code": code})
    attributes = [
        {
            "variable": True, "code": "crs", "datatype": "singlevaluelist", "required": False,
            "datatype_description": _("Coordinate system of lat and long; WGS-84 if not given."),
            "order": 1, "description": _("Coordinate system"),
            "values": [{"key": key, "name": name} for key, name in CRS_VALUES],
        },
        {
            "variable": True, "code": "client_key", "datatype": "string", "required": False,
            "datatype_description": _("Any unique text; a resend with the same key creates no second request."),
            "order": 2, "description": _("Client request key (idempotency)"),
        },
    ]
    return render({"service_code": category.code, "attributes": attributes}, fmt, "service_definition")


# --- requests ---------------------------------------------------------------------------
@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_view(request, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    return _list_requests(request, fmt)


def _post_request(request, fmt):
    data = request.POST
    api_key = ApiKey.objects.select_related("user").filter(key=data.get("api_key") or "", is_active=True).first()
    if api_key is None:
        return errors(fmt, 403, _("A valid api_key is required to submit a service request."))
    problems = _check_post(data)
    if problems:
        return errors(fmt, 400, *problems)
    try:
        service_request, created = _create(api_key, data, request.headers.get("Idempotency-Key"))
    except DomainError as failure:
        return errors(fmt, _status(failure), *_descriptions(failure))
    answer = {
        "service_request_id": service_request.case.number,
        "token": service_request.token,
        "service_notice": "" if created else _("This request was received before."),
        "account_id": service_request.account_id,
    }
    return render([answer], fmt, "service_requests", status=201 if created else 200)


def _check_post(data):
    problems = []
    code = (data.get("service_code") or "").strip()
    if not code:
        problems.append(_("service_code was not provided."))
    elif _service(code) is None:
        problems.append(_("service_code %(code)s was not found.") % {"code": code})
    has_point = bool(data.get("lat") or data.get("long"))
    if not has_point and not (data.get("address_string") or data.get("address_id")):
        problems.append(_("A location is required: lat and long, or address_string."))
    if has_point:
        problems.extend(_check_coordinates(data.get("lat"), data.get("long")))
    return problems


def _check_coordinates(lat, lon):
    try:
        lat_value, lon_value = float(lat), float(lon)
    except (TypeError, ValueError):
        return [_("lat and long must both be decimal numbers.")]
    if not (-90 <= lat_value <= 90 and -180 <= lon_value <= 180):
        return [_("lat must lie between -90 and 90, long between -180 and 180.")]
    return []


def _attribute(data, code):
    return (data.get(f"attribute[{code}]") or "").strip()


def _create(api_key, data, header_key):
    category = _service(data["service_code"].strip())
    client_key = (header_key or _attribute(data, "client_key")).strip()
    key = f"open311:{api_key.pk}:{client_key}"[:100] if client_key else None
    name = "".join(part.strip() for part in (data.get("last_name", ""), data.get("first_name", "")))
    description = (data.get("description") or "").strip() or category.name
    with transaction.atomic():
        case, created = case_services.create_case(
            api_key.user,
            channel=Channel.RESIDENT,
            description=description,
            category=category,
            lon=data.get("long") or None,
            lat=data.get("lat") or None,
            crs=_attribute(data, "crs") or "wgs84",
            address=data.get("address_string", ""),
            reporter_name=name[:50],
            reporter_phone=data.get("phone", ""),
            idempotency_key=key,
        )
        if not created:
            existing = ServiceRequest.objects.filter(case=case).first()
            if existing is None:
                raise ValidationFailed(_("This client_key was already used for another report."), code="key_reused")
            return existing, False
        service_request = ServiceRequest.objects.create(
            case=case,
            api_key=api_key,
            service_code=category.code,
            attributes={k[10:-1]: v for k, v in data.items() if k.startswith("attribute[") and k.endswith("]")},
            email=(data.get("email") or "")[:100],
            device_id=(data.get("device_id") or "")[:100],
            account_id=(data.get("account_id") or "")[:100],
            media_url=(data.get("media_url") or "")[:500] if (data.get("media_url") or "").startswith(("http://", "https://")) else "",
            created_at=case.created_at,
        )
    return service_request, True


def _status(failure):
    if isinstance(failure, Forbidden):
        return 403
    if isinstance(failure, NotFound):
        return 404
    return 400


def _descriptions(failure):
    """Each field at fault, named as the client sent it."""
    if not failure.fields:
        return [str(failure.message)]
    return [
        f"{FIELD_NAMES.get(name, name)}: {message}"
        for name, messages in failure.fields.items()
        for message in (messages if isinstance(messages, (list, tuple)) else [messages])
    ]


def _list_requests(request, fmt):
    params = request.GET
    queryset = ServiceRequest.objects.select_related("case", "case__category", "case__department")
    ids = [value.strip() for value in (params.get("service_request_id") or "").split(",") if value.strip()]
    if ids:
        queryset = queryset.filter(case__number__in=ids)
    else:
        try:
            queryset = _filter(queryset, params)
        except ValueError as problem:
            return errors(fmt, 400, str(problem))
    rows = [_request_data(item) for item in queryset.order_by("-created_at", "-id")[:MAX_RESULTS]]
    return render(rows, fmt, "service_requests")


def _filter(queryset, params):
    codes = [code.strip() for code in (params.get("service_code") or "").split(",") if code.strip()]
    if codes:
        queryset = queryset.filter(service_code__in=codes)
    statuses = {value.strip() for value in (params.get("status") or "").split(",") if value.strip()}
    if statuses - {"open", "closed"}:
        raise ValueError(_("status must be open or closed."))
    if statuses == {"open"}:
        queryset = queryset.exclude(case__status__in=CLOSED)
    elif statuses == {"closed"}:
        queryset = queryset.filter(case__status__in=CLOSED)
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start is None and end is None:
        start = timezone.now() - DEFAULT_WINDOW
    if start is not None:
        queryset = queryset.filter(created_at__gte=start)
    if end is not None:
        queryset = queryset.filter(created_at__lte=end)
    return queryset


def _date(params, name):
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value.replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(_("%(name)s must be a date and time in ISO 8601, e.g. 2026-01-31T08:00:00Z.") % {"name": name})
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _iso(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _request_data(item):
    """One request as the public sees it: no reporter name, phone or email."""
    case = item.case
    closed = case.status in CLOSED
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": str(case.get_status_display()),
        "service_name": case.category.name if case.category_id else "",
        "service_code": item.service_code,
        "description": mask_text(case.description),
        "agency_responsible": case.department.name if case.department_id else "",
        "service_notice": "",
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.handle_due_at or case.due_at) if not closed else "",
        "address": mask_text(case.address),
        "address_id": "",
        "zipcode": "",
        "lat": case.lat if case.lat is not None else "",
        "long": case.lon if case.lon is not None else "",
        "media_url": item.media_url,
    }


@require_GET
def request_detail(request, request_id, fmt):
    item = ServiceRequest.objects.select_related("case", "case__category", "case__department").filter(
        case__number=request_id
    ).first()
    if item is None:
        return errors(fmt, 404, _("Service request %(id)s was not found.") % {"id": request_id})
    return render([_request_data(item)], fmt, "service_requests")


@require_GET
def token_detail(request, token, fmt):
    item = ServiceRequest.objects.select_related("case").filter(token=token).first()
    if item is None:
        return errors(fmt, 404, _("Token %(token)s was not found.") % {"token": token})
    return render([{"service_request_id": item.case.number, "token": item.token}], fmt, "service_requests")
