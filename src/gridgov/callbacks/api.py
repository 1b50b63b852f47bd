"""REST API of the callbacks app (mounted under /api/v1/).

- GET  callbacks/                 callbacks in your scope (state, result, q, reopened, sort)
- GET  callbacks/<id>/            one callback; ?reveal=reporter shows the phone (audit-logged)
- POST callbacks/<id>/result/     record 满意 / 基本满意 / 不满意 (optionally reopen the case)
"""

from django.urls import path
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from gridgov.cases.models import Status
from gridgov.core.audit import log_sensitive_read
from gridgov.core.masking import mask_name, mask_phone
from gridgov.org.permissions import allowed, require

from . import services
from .filters import CallbackFilterSet, state_of
from .models import CallbackResult

REPORTER_FIELDS = ["reporter_name", "reporter_phone"]


class CallbackCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    channel = serializers.CharField()
    rating = serializers.IntegerField(allow_null=True)
    rework_count = serializers.IntegerField()


class CallbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = CallbackCaseSerializer()
    closed_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=["due_today", "overdue", "pending", "done"])
    result = serializers.ChoiceField(choices=[("", "")] + CallbackResult.choices, allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    done_at = serializers.DateTimeField(allow_null=True)
    done_by = serializers.CharField(allow_blank=True)
    reopened = serializers.BooleanField()
    reopen_reason = serializers.CharField(allow_blank=True)
    reporter_name = serializers.CharField(allow_blank=True)
    reporter_phone = serializers.CharField(allow_blank=True)
    revealed = serializers.BooleanField(help_text=gettext_lazy("False: name and phone are masked."))

    def to_representation(self, callback):
        case = callback.case
        revealed = bool(self.context.get("reveal_reporter"))
        return {
            "id": callback.pk,
            "case": {
                "id": case.pk, "number": case.number, "description": case.description, "status": case.status,
                "channel": case.channel, "rating": case.rating, "rework_count": case.rework_count,
            },
            "closed_at": self.fields["closed_at"].to_representation(callback.closed_at),
            "due_at": self.fields["due_at"].to_representation(callback.due_at),
            "state": state_of(callback),
            "result": callback.result,
            "note": callback.note,
            "done_at": self.fields["done_at"].to_representation(callback.done_at) if callback.done_at else None,
            "done_by": (callback.done_by.display_name or callback.done_by.username) if callback.done_by_id else "",
            "reopened": callback.reopened,
            "reopen_reason": callback.reopen_reason,
            "reporter_name": case.reporter_name if revealed else mask_name(case.reporter_name),
            "reporter_phone": case.reporter_phone if revealed else mask_phone(case.reporter_phone),
            "revealed": revealed,
        }


class ResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=CallbackResult.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    reopen = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CallbackList(generics.ListAPIView):
    """Callbacks in your scope; `state` picks due today, overdue, pending or done."""

    permission_classes = [IsAuthenticated]
    serializer_class = CallbackSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CallbackFilterSet

    def get_queryset(self):
        return services.visible_callbacks(self.request.user).order_by("due_at", "id")

    @extend_schema(summary="Callbacks (回访) in your scope")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CallbackDetail(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = CallbackSerializer

    def get_queryset(self):
        return services.visible_callbacks(self.request.user)

    @extend_schema(
        summary="One callback; the reporter is masked unless revealed",
        parameters=[OpenApiParameter("reveal", OpenApiTypes.STR, enum=["reporter"], description="Show the reporter in the clear (needs case.view_reporter; recorded).")],
    )
    def get(self, request, *args, **kwargs):
        callback = self.get_object()
        reveal = request.query_params.get("reveal") == "reporter"
        if reveal:
            require(request.user, "case.view_reporter", callback.case)
            log_sensitive_read(request.user, callback.case, REPORTER_FIELDS, purpose="api callback", channel="api")
        return Response(self.get_serializer(callback, context={**self.get_serializer_context(), "reveal_reporter": reveal}).data)


class RecordResult(generics.GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ResultSerializer

    def get_queryset(self):
        return services.visible_callbacks(self.request.user)

    @extend_schema(summary="Record the callback result (rates the case; 不满意 may reopen it)", request=ResultSerializer, responses={200: CallbackSerializer})
    def post(self, request, pk):
        callback = self.get_object()
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = services.record_result(callback, request.user, **data.validated_data)
        done = services.visible_callbacks(request.user).get(pk=done.pk)
        return Response(CallbackSerializer(done, context=self.get_serializer_context()).data)


def can_reveal(user):
    return allowed(user, "case.view_reporter")


urlpatterns = [
    path("callbacks/", CallbackList.as_view(), name="callback-list"),
    path("callbacks/<int:pk>/", CallbackDetail.as_view(), name="callback-detail"),
    path("callbacks/<int:pk>/result/", RecordResult.as_view(), name="callback-result"),
]
