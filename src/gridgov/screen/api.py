"""REST API of the big screen, mounted under /api/v1/.

- GET  screen/overview/        everything the screen shows at start-up (kiosk token or leader)
- GET  screen/cases/<id>/      the detail card of one case, personal data masked
- POST screen/positions/       a grid inspector's phone reports its position
"""

import re

from django.conf import settings
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.cases.clocks import clock_state
from gridgov.cases.models import Channel, Status
from gridgov.core.errors import NotFound
from gridgov.core.masking import mask_id_number, mask_name, mask_phone
from gridgov.live import tickets

from .access import viewer_for
from .overview import cached_overview, scope_cases
from .services import record_position


TOKEN_PARAMETER = OpenApiParameter(
    "token", str, description="A kiosk token (or send `Authorization: Kiosk <token>`); leaders sign in instead."
)


class OverviewView(APIView):
    """The screen's initial data; `ticket` and `events_url` open the live stream."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Everything the big screen shows, for a kiosk token or a signed-in leader",
        parameters=[TOKEN_PARAMETER],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        viewer = viewer_for(request)
        payload = dict(cached_overview(viewer.scope_code))
        ticket, expires_at = tickets.issue(viewer.scope_code)
        payload.update(
            scope={"code": viewer.scope_code, "name": viewer.scope_name, "kiosk": viewer.kiosk_token_id is not None},
            live={"ticket": ticket, "expires_at": expires_at, "events_url": settings.GRIDGOV_EVENTS_URL},
            rotate_seconds=settings.GRIDGOV_SCREEN["rotate_seconds"],
        )
        response = Response(payload)
        response["Cache-Control"] = "no-store"
        return response


PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def mask_text(text):
    """Phone and ID numbers that reporters typed into free text, masked like the fields."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text or "")
    return PHONE.sub(lambda m: mask_phone(m.group()), text)


class CaseCardSerializer(serializers.Serializer):
    """The detail card of a case on the screen: personal data masked."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    channel_label = serializers.CharField()
    priority = serializers.IntegerField()
    category = serializers.CharField(allow_blank=True)
    grid = serializers.CharField(allow_blank=True)
    department = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    reporter_name = serializers.CharField(allow_blank=True)
    reporter_phone = serializers.CharField(allow_blank=True)
    created_at = serializers.CharField()
    due_at = serializers.CharField(allow_null=True)
    clock = serializers.CharField(allow_null=True)
    supervised = serializers.BooleanField()


class CaseCardView(APIView):
    permission_classes = [AllowAny]
    DESCRIPTION_LENGTH = 160

    @extend_schema(summary="A case's detail card on the big screen", parameters=[TOKEN_PARAMETER], responses={200: CaseCardSerializer})
    def get(self, request, pk):
        viewer = viewer_for(request)
        case = scope_cases(viewer.scope_code).select_related("category", "grid", "department").filter(pk=pk).first()
        if case is None:
            raise NotFound(code="case_not_found")
        return Response(CaseCardSerializer(case_card(case, self.DESCRIPTION_LENGTH)).data)


def case_card(case, description_length):
    description = mask_text(case.description)
    if len(description) > description_length:
        description = description[:description_length] + "…"
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "status_label": str(Status(case.status).label),
        "channel_label": str(Channel(case.channel).label),
        "priority": case.priority,
        "category": case.category.name if case.category_id else "",
        "grid": case.grid.name if case.grid_id else "",
        "department": case.department.name if case.department_id else "",
        "address": mask_text(case.address),
        "description": description,
        "reporter_name": mask_name(case.reporter_name),
        "reporter_phone": mask_phone(case.reporter_phone),
        "created_at": case.created_at.isoformat(),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "clock": clock_state(case),
        "supervised": case.supervised,
    }


class PositionSerializer(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    accuracy = serializers.FloatField(required=False, allow_null=True)
    crs = serializers.ChoiceField(choices=["wgs84", "gcj02", "bd09"], default="wgs84")
    at = serializers.DateTimeField(required=False)


class PositionOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    at = serializers.CharField()
    grid_id = serializers.IntegerField(allow_null=True)


class PositionView(APIView):
    """A patrol position from the inspector's phone (WGS84 unless `crs` says otherwise)."""

    permission_classes = [IsAuthenticated]
    serializer_class = PositionSerializer

    @extend_schema(summary="Report a grid inspector's patrol position", request=PositionSerializer, responses={201: PositionOutSerializer})
    def post(self, request):
        serializer = PositionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        position = record_position(request.user, **serializer.validated_data)
        body = {"id": position.pk, "lon": position.lon, "lat": position.lat, "at": position.at.isoformat(), "grid_id": position.grid_id}
        return Response(body, status=201)


urlpatterns = [
    path("screen/overview/", OverviewView.as_view(), name="screen-overview"),
    path("screen/cases/<int:pk>/", CaseCardView.as_view(), name="screen-case"),
    path("screen/positions/", PositionView.as_view(), name="screen-positions"),
]
