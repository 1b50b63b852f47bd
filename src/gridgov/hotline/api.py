"""REST API of the hotline app (mounted under /api/v1/).

- POST hotline/orders/        the 12345 platform sends one work order (201 new, 200 resend)
- GET  hotline/orders/        orders in your scope (filters as on the hotline page)
- GET  hotline/orders/{id}/   one order with its deadlines, case and replies

The platform authenticates as a service account: `gridgov hotline-account` creates it (role
intake clerk, scope given) and prints its token; send `Authorization: Token <key>`.
"""

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from gridgov.core.errors import ValidationFailed
from gridgov.core.masking import mask_name, mask_phone

from . import services
from .filters import HotlineOrderFilterSet, deadline_state
from .models import HotlineOrder, HotlineReply, OrderType, ReplyKind, ReplyStatus, Urgency


class HotlineOrderInSerializer(serializers.Serializer):
    """The order as the hotline platform sends it (services check and clean every field)."""

    order_number = serializers.CharField(help_text=gettext_lazy("The hotline's work order number (工单编号); idempotency key."))
    order_type = serializers.CharField(help_text=gettext_lazy("consult/help/complaint/report/suggestion or 咨询/求助/投诉/举报/建议."))
    urgency = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy("normal/urgent or 一般/紧急."))
    caller_name = serializers.CharField(required=False, allow_blank=True)
    caller_phone = serializers.CharField(required=False, allow_blank=True)
    content = serializers.CharField()
    address = serializers.CharField(required=False, allow_blank=True)
    hotline_deadline = serializers.DateTimeField(
        required=False, allow_null=True, help_text=gettext_lazy("The hotline's own reply deadline (ISO 8601).")
    )
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)


class HotlineReplySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ReplyKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=ReplyStatus.choices, read_only=True)

    class Meta:
        model = HotlineReply
        fields = ["id", "kind", "status", "attempts", "last_error", "next_retry_at", "created_at", "sent_at"]
        read_only_fields = fields


class HotlineOrderSerializer(serializers.ModelSerializer):
    case_id = serializers.IntegerField(read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)
    case_status = serializers.CharField(source="case.status", read_only=True)
    order_type = serializers.ChoiceField(choices=OrderType.choices, read_only=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, read_only=True)
    caller_name = serializers.SerializerMethodField()
    caller_phone = serializers.SerializerMethodField()
    deadline_state = serializers.SerializerMethodField()

    class Meta:
        model = HotlineOrder
        fields = [
            "id", "order_number", "case_id", "case_number", "case_status", "order_type", "urgency",
            "caller_name", "caller_phone", "content", "address", "received_at", "hotline_deadline",
            "response_due_at", "reply_due_at", "reply_warn_at", "replied_at", "deadline_state",
        ]
        read_only_fields = fields

    def get_caller_name(self, order) -> str:
        return mask_name(order.caller_name)

    def get_caller_phone(self, order) -> str:
        return mask_phone(order.caller_phone)

    def get_deadline_state(self, order) -> str:
        return deadline_state(order)


class HotlineOrderDetailSerializer(HotlineOrderSerializer):
    replies = HotlineReplySerializer(many=True, read_only=True)

    class Meta(HotlineOrderSerializer.Meta):
        fields = [*HotlineOrderSerializer.Meta.fields, "replies"]
        read_only_fields = fields


def visible_orders(user):
    return HotlineOrder.objects.restrict(user, "view").select_related("case")


@extend_schema_view(
    get=extend_schema(summary="Hotline orders in your scope"),
    post=extend_schema(
        summary="Receive a 12345 work order (the hotline platform's service account)",
        request=HotlineOrderInSerializer,
        responses={
            201: HotlineOrderSerializer,
            200: OpenApiResponse(HotlineOrderSerializer, description="A resend of an order already received: the same order."),
        },
    ),
)
class OrderListView(generics.ListAPIView):
    serializer_class = HotlineOrderSerializer
    filterset_class = HotlineOrderFilterSet
    ordering_fields = ["received_at", "reply_due_at", "order_number"]
    ordering = ["-received_at", "-id"]

    def get_queryset(self):
        return visible_orders(self.request.user)

    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationFailed(code="invalid_body")
        order, created = services.receive_order(request.user, dict(request.data.items()))
        return Response(
            HotlineOrderSerializer(order).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


@extend_schema_view(get=extend_schema(summary="One hotline order with its deadlines and replies"))
class OrderDetailView(generics.RetrieveAPIView):
    serializer_class = HotlineOrderDetailSerializer

    def get_queryset(self):
        return visible_orders(self.request.user).prefetch_related("replies")


urlpatterns = [
    path("hotline/orders/", OrderListView.as_view(), name="hotline-orders"),
    path("hotline/orders/<int:pk>/", OrderDetailView.as_view(), name="hotline-order-detail"),
]
