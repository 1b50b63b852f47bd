"""Intake (受理登记) for phone calls and the walk-in window, with its htmx helpers:
earlier cases of a phone number, category search and the location check (grid + likely
duplicates nearby)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gridgov.catalog.models import Category
from gridgov.core.audit import log_sensitive_read
from gridgov.core.errors import Forbidden, ValidationFailed
from gridgov.geo.coords import to_wgs84
from gridgov.geo.models import Region
from gridgov.org.permissions import allowed

from . import services
from .forms_intake import IntakeForm, add_domain_error, normalize_phone
from .links import case_url
from .models import Case

EARLIER_CASES_SHOWN = 10
CATEGORY_MATCHES_SHOWN = 20
DUPLICATES_SHOWN = 10


def _require_intake(user):
    if not allowed(user, "case.create"):
        raise PermissionDenied(_("Your role may not register cases."))


@login_required
@require_http_methods(["GET", "POST"])
def intake(request):
    _require_intake(request.user)
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES)
        if form.is_valid():
            case = _create(request, form)
            if case is not None:
                return redirect(case_url(case))
    else:
        # The key is minted once per rendered form: a double click or a resent POST
        # carries the same key, and create_case returns the first case for it.
        form = IntakeForm(initial={"idempotency_key": uuid.uuid4().hex})
    context = {"form": form, "map_config": _map_config(), "chosen_category": _chosen_category(form)}
    return render(request, "cases/intake.html", context)


def _chosen_category(form):
    """The category to show beside the search box when the form comes back with errors."""
    return getattr(form, "cleaned_data", {}).get("category") if form.is_bound else None


def _create(request, form):
    """Call the service; on refusal put its messages on the form and return None."""
    try:
        case, created = services.create_case(request.user, **form.service_kwargs())
    except ValidationFailed as error:
        add_domain_error(form, error)
        return None
    except Forbidden as error:
        raise PermissionDenied(str(error.message)) from error
    if created:
        messages.success(request, _("Case %(number)s registered.") % {"number": case.number})
    else:
        messages.info(request, _("This form was already submitted: case %(number)s.") % {"number": case.number})
    return case


def _map_config():
    from django.conf import settings

    return {
        "tileUrl": settings.GRIDGOV_MAP_TILE_URL,
        "tileAttribution": getattr(settings, "GRIDGOV_MAP_TILE_ATTRIBUTION", ""),
        "boundariesUrl": reverse("web:map_boundaries"),
    }


@login_required
@require_GET
def reporter_cases(request):
    """Earlier cases of the phone number being typed (htmx partial).

    Linking a phone number to its cases is personal data: only roles that may see the
    reporter get the list, and each case shown is audit-logged.
    """
    _require_intake(request.user)
    phone = normalize_phone(request.GET.get("reporter_phone", ""))
    context = {"phone": phone, "cases": [], "allowed": allowed(request.user, "case.view_reporter")}
    if context["allowed"] and len(phone.lstrip("+")) >= 5:
        cases = list(
            Case.objects.restrict(request.user, "view")
            .filter(reporter_phone=phone)
            .select_related("category")
            .order_by("-created_at", "-id")[:EARLIER_CASES_SHOWN]
        )
        for case in cases:
            log_sensitive_read(request.user, case, ["reporter_phone"], purpose="intake: earlier cases of a caller")
        context["cases"] = cases
    return render(request, "cases/intake_reporter.html", context)


@login_required
@require_GET
def category_search(request):
    """Search-as-you-type over active 小类 by name, code, keyword or 大类 name (htmx partial)."""
    _require_intake(request.user)
    query = request.GET.get("q", "").strip()[:50]
    categories = []
    if query:
        categories = (
            Category.objects.restrict(request.user, "view")
            .filter(is_active=True, parent__isnull=False)
            .filter(
                Q(name__icontains=query)
                | Q(code__startswith=query)
                | Q(keywords__icontains=query)
                | Q(parent__name__icontains=query)
            )
            .select_related("parent")
            .order_by("kind", "code")[:CATEGORY_MATCHES_SHOWN]
        )
    return render(request, "cases/intake_categories.html", {"query": query, "categories": categories})


@login_required
@require_GET
def location_check(request):
    """Where the point falls and which open cases of the same category lie near it."""
    _require_intake(request.user)
    context = {"point": None, "location": None, "grid_name": "", "duplicates": [], "category": None, "error": ""}
    lon, lat, crs = (request.GET.get(name, "").strip() for name in ("lon", "lat", "crs"))
    if lon and lat:
        try:
            context["point"] = to_wgs84(lon, lat, crs or "wgs84")
        except ValidationFailed as error:
            context["error"] = "; ".join(str(m) for msgs in error.fields.values() for m in msgs) or str(error.message)
    if context["point"]:
        context["location"] = _locate(*context["point"])
        context["grid_name"] = _grid_name(context["location"])
        context["category"] = _category(request.GET.get("category"))
        if context["category"]:
            context["duplicates"] = likely_duplicates(request.user, context["category"], *context["point"])
            context["rule"] = duplicate_rule(context["category"])
    return render(request, "cases/intake_check.html", context)


def _locate(lon, lat):
    from gridgov.geo.locator import locate

    return locate(lon, lat)


def _grid_name(location):
    if not location.grid_id:
        return ""
    return Region.objects.filter(pk=location.grid_id).values_list("name", flat=True).first() or ""


def _category(value):
    if not value or not str(value).isdigit():
        return None
    return Category.objects.filter(pk=value, is_active=True).first()


def likely_duplicates(user, category, lon, lat, *, now=None):
    """Open cases of `category` in the user's scope within the 小类's duplicate radius and
    time window, nearest first, each with its `distance_m` (gridgov.triage.duplicates)."""
    from gridgov.triage.duplicates import find_duplicates

    return find_duplicates(user, category, lon, lat, at=now, limit=DUPLICATES_SHOWN)[0]


def duplicate_rule(category):
    from gridgov.triage.duplicates import rule_for

    return rule_for(category)
