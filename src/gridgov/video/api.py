"""REST API of the video app (mounted under /api/v1/).

- GET  cameras/                 cameras in your scope (filters: q, status, region, vendor)
- GET  cameras/<id>/            one camera; the stream URL is masked
- GET  cameras/<id>/stream/     the clear stream URL (camera.view_stream; audit-logged)
- POST cameras/heartbeat/       a video platform reports live cameras (HMAC-signed)
- GET  alarms/, alarms/<id>/    alarms in your scope
- POST alarms/<id>/dismiss/     mark a false alarm, with a reason
- POST alarms/webhook/          a platform pushes one alarm in our format (HMAC-signed); 202:
                                stored in the inbox, processed by the worker (video.inbox)
"""

import functools
import json

from django.db import transaction
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from gridgov.core.api import compact_json
from gridgov.core.errors import DomainError, ValidationFailed

from . import permissions  # noqa: F401
from .alarms import dismiss_alarm
from .cameras import masked_stream_url, record_heartbeats, stream_url_for
from .filters import AlarmFilterSet, CameraFilterSet
from .inbox import accept
from .models import Alarm, Camera, InboxState
from .parsers import SENSOR_KINDS, moment, parse_sensor_alarm, refuse_nul_characters
from .signing import SIGNATURE_HEADER, SOURCE_HEADER, TIMESTAMP_HEADER, signing_headers, verified_source


class CameraSerializer(serializers.ModelSerializer):
    grid_name = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    stream_url = serializers.SerializerMethodField(help_text="Masked: scheme and host only. GET .../stream/ for the clear URL.")

    class Meta:
        model = Camera
        fields = ["id", "code", "name", "lon", "lat", "grid", "grid_name", "region_code", "h3", "vendor",
                  "stream_url", "status", "status_label", "last_seen_at"]
        read_only_fields = fields

    def get_grid_name(self, camera) -> str:
        return camera.grid.name if camera.grid_id else ""

    def get_stream_url(self, camera) -> str:
        return masked_stream_url(camera.stream_url)


class StreamSerializer(serializers.Serializer):
    stream_url = serializers.CharField(allow_blank=True)


class AlarmSerializer(serializers.ModelSerializer):
    camera_name = serializers.SerializerMethodField()
    case_number = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    labels = serializers.ListField(child=serializers.CharField())
    zones = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Alarm
        fields = ["id", "source", "origin", "external_id", "camera", "camera_name", "label", "labels", "sub_label",
                  "zones", "severity", "score", "value", "threshold", "lon", "lat", "region_code", "status",
                  "status_label", "rule", "case", "case_number", "started_at", "ended_at", "updates", "received_at"]
        read_only_fields = fields

    def get_camera_name(self, alarm) -> str:
        return alarm.camera.name if alarm.camera_id else ""

    def get_case_number(self, alarm) -> str:
        return alarm.case.number if alarm.case_id else ""


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CameraViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CameraSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = CameraFilterSet
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["code", "name", "status", "last_seen_at"]
    ordering = ["code"]

    def get_queryset(self):
        return Camera.objects.restrict(self.request.user, "view").select_related("grid").order_by("code")

    @extend_schema(summary="The clear stream URL (roles with camera.view_stream; every read is logged)", responses={200: StreamSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def stream(self, request, pk=None):
        camera = self.get_object()
        return Response({"stream_url": stream_url_for(request.user, camera)})


class AlarmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AlarmSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = AlarmFilterSet
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["started_at", "status", "source"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self):
        return Alarm.objects.restrict(self.request.user, "view").select_related("camera", "case").order_by("-started_at", "-id")

    @extend_schema(summary="Dismiss a false alarm (reason required)", request=DismissSerializer, responses={200: AlarmSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def dismiss(self, request, pk=None):
        alarm = self.get_object()
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        alarm = dismiss_alarm(alarm, request.user, reason=reason if isinstance(reason, str) else "")
        return Response(AlarmSerializer(Alarm.objects.select_related("camera", "case").get(pk=alarm.pk)).data)


SIGNED_HEADERS_DOC = (
    f"Signed with the source's secret: headers {SOURCE_HEADER}, {TIMESTAMP_HEADER} (Unix seconds) and "
    f"{SIGNATURE_HEADER} = sha256=hex(HMAC-SHA256(secret, timestamp + '.' + body)). See docs/alarms.md."
)


WEBHOOK_ACCEPTED_DOC = (
    " 202: the push passed every check and is stored durably; the worker records the alarm (dedup, rules, case)"
    " within about a second. A replay (same source and body) gets the same id. Errors (4xx) store nothing."
)


def signed_json(request):
    """(source, parsed body) of a signed request; the signature covers the raw bytes."""
    body = request.body
    source = verified_source(signing_headers(request), body)
    try:
        message = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.field("body", _("Send a JSON object."), code="invalid_json") from None
    if not isinstance(message, dict):
        raise ValidationFailed.field("body", _("Send a JSON object."), code="invalid_json")
    refuse_nul_characters(message, body)
    return source, message


class WebhookAlarmSerializer(serializers.Serializer):
    """Our own alarm format (docs/alarms.md), also used on MQTT gridgov/alarms/<device>."""

    event_id = serializers.CharField(max_length=100)
    device_id = serializers.CharField(max_length=60, required=False)
    camera = serializers.CharField(max_length=40, required=False, help_text="A camera code, for camera AI platforms.")
    kind = serializers.CharField(help_text=f"Sensors: one of {', '.join(SENSOR_KINDS)}; cameras: the detected label.")
    value = serializers.FloatField(required=False)
    threshold = serializers.FloatField(required=False)
    lon = serializers.FloatField(required=False)
    lat = serializers.FloatField(required=False)
    at = serializers.DateTimeField(required=False)
    zones = serializers.ListField(child=serializers.CharField(), required=False)
    snapshot = serializers.CharField(required=False, help_text="A JPEG or PNG, base64.")


class WebhookAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The push's id in the inbox; a replay of the same push gets the same id.")
    status = serializers.ChoiceField(
        choices=InboxState.choices,
        help_text="queued: stored, the worker records the alarm within about a second; a replay also sees processed or refused.",
    )


class AlarmWebhookView(APIView):
    """Its POST is answered by `lean_webhook` (below); the class gives the endpoint its
    schema, and its other methods DRF's answers (405 in the API's error format)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(summary="Push one alarm (HMAC-signed)", description=SIGNED_HEADERS_DOC + WEBHOOK_ACCEPTED_DOC,
                   request=WebhookAlarmSerializer, responses={202: WebhookAcceptedSerializer}, auth=[])
    def post(self, request):
        return Response(push_alarm(request), status=202)


def push_alarm(request):
    """Check the signature and the alarm, store the push in the inbox: the answer (202).

    Everything a caller must hear about at once is checked here, with the errors of the
    synchronous path (signature, replay window, JSON object, NUL characters, every field
    of the alarm: the parser runs now and again in the worker). The alarm itself is
    recorded by the worker from the inbox (video.inbox, decision 0014)."""
    source, message = signed_json(request)
    body = request.body
    parse_sensor_alarm(message, source=source.code, size=len(body))  # size: no payload trimming for a check
    inbox_id, state = accept(source.code, body, message)
    return {"id": inbox_id, "status": state}


def lean_webhook(view):
    """POST alarms/webhook/ without DRF's request cycle: the endpoint needs none of it (no
    authentication, permissions, parsers or content negotiation: the signature covers the
    raw body), and wrapping the request, negotiating and rendering took a sixth of a
    push's CPU (bench/webhook.py). The same work (push_alarm) and the same JSON, errors
    included ({code, message, fields} with the status of the DomainError, as
    core.api.exception_handler renders them). The wrapper carries the view's attributes
    (csrf_exempt, cls), so CSRF handling and the OpenAPI schema are unchanged."""

    @functools.wraps(view)
    def webhook(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        try:
            return compact_json(push_alarm(request), 202)
        except DomainError as error:
            return compact_json(error.as_dict(), error.status)

    return webhook



class HeartbeatView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Cameras that are alive (HMAC-signed)", description=SIGNED_HEADERS_DOC, auth=[],
        request=inline_serializer("HeartbeatRequest", {"cameras": serializers.ListField(child=serializers.CharField()), "at": serializers.DateTimeField(required=False)}),
        responses={200: inline_serializer("HeartbeatResult", {"known": serializers.IntegerField()})},
    )
    def post(self, request):
        _source, message = signed_json(request)
        codes = message.get("cameras")
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise ValidationFailed.field("cameras", _("Send a list of camera codes."), code="invalid")
        at = min(moment(message.get("at"), "at") or timezone.now(), timezone.now())  # never in the future
        with transaction.atomic():
            known = record_heartbeats(codes, at=at)
        return Response({"known": known})


router = SimpleRouter()
router.register("cameras", CameraViewSet, basename="camera")
router.register("alarms", AlarmViewSet, basename="alarm")

# Mounted by gridgov.urls ahead of every other API pattern (the hot path of alarm pushes).
webhook_path = path("alarms/webhook/", lean_webhook(AlarmWebhookView.as_view()), name="alarm-webhook")

urlpatterns = [
    path("cameras/heartbeat/", HeartbeatView.as_view(), name="camera-heartbeat"),
    *router.urls,
]
