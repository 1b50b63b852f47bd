"""REST API of the supervision app (mounted under /api/v1/).

- GET  supervision/whistles/                  whistles in your scope (?active=true)
- POST supervision/whistles/                  吹哨: summon a lead and co-handling departments
- GET  supervision/summonses/                 summoned departments and their check-ins (?late=true)
- POST supervision/summonses/{id}/check-in/   报到
- GET  supervision/orders/                    催办/督办 orders (?kind=&status=)
- POST supervision/orders/                    issue an order
- POST supervision/orders/{id}/reply/         the department's reply
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from . import services
from .models import Order, OrderKind, OrderStatus, Summons, SummonsRole, Whistle

ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    403: OpenApiResponse(description="Your role or department may not do this"),
    404: OpenApiResponse(description="No such case, summons or order in your scope"),
    409: OpenApiResponse(description="Not allowed in the current state"),
}


# -- output ------------------------------------------------------------------------------------
class SummonsSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    role = serializers.ChoiceField(choices=SummonsRole.choices, read_only=True)

    class Meta:
        model = Summons
        fields = [
            "id", "whistle", "case", "department", "department_name", "role", "summoned_at", "check_in_due_at",
            "checked_in_at", "checked_in_by", "check_in_note", "late", "released_at",
        ]
        read_only_fields = fields


class WhistleSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    summonses = SummonsSerializer(many=True, read_only=True)

    class Meta:
        model = Whistle
        fields = ["id", "case", "case_number", "blown_by", "blown_at", "reason", "check_in_minutes", "closed_at", "summonses"]
        read_only_fields = fields


class SupervisionOrderSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    kind = serializers.ChoiceField(choices=OrderKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)
    late = serializers.BooleanField(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "case", "case_number", "kind", "status", "department", "issued_by", "issued_at", "note",
            "reply_due_at", "reply", "replied_by", "replied_at", "overdue_at", "late",
        ]
        read_only_fields = fields


# -- input -------------------------------------------------------------------------------------
class WhistleCreateSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    lead_department = serializers.IntegerField()
    co_departments = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=50)
    reason = serializers.CharField(max_length=2000, trim_whitespace=False)
    check_in_minutes = serializers.IntegerField(required=False, allow_null=True, default=None)


class SummonsCheckInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", trim_whitespace=False)


class SupervisionOrderCreateSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=OrderKind.choices)
    note = serializers.CharField(max_length=2000, trim_whitespace=False)
    reply_hours = serializers.IntegerField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=100,
        help_text="A retry with the same key returns the first order (200) instead of a second one.",
    )


class SupervisionReplySerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=2000, trim_whitespace=False)


def _flag(request, name):
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


# -- views -------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Whistles (吹哨) in your scope",
        parameters=[OpenApiParameter("active", bool, description="Only whistles whose case is not finished")],
    ),
    retrieve=extend_schema(summary="One whistle with its summoned departments"),
)
class WhistleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WhistleSerializer

    def get_queryset(self):
        whistles = Whistle.objects.restrict(self.request.user, "view").select_related("case").prefetch_related("summonses__department")
        if _flag(self.request, "active"):
            whistles = whistles.active()
        return whistles.order_by("-blown_at", "-id")

    @extend_schema(summary="Blow the whistle (吹哨): summon departments", request=WhistleCreateSerializer,
                   responses={201: WhistleSerializer, **ERRORS})
    def create(self, request):
        body = WhistleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        whistle = services.blow_whistle(
            data["case"], request.user, lead_department=data["lead_department"], co_departments=data["co_departments"],
            reason=data["reason"], check_in_minutes=data["check_in_minutes"],
        )
        whistle = self.get_queryset().get(pk=whistle.pk)
        return Response(WhistleSerializer(whistle).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="Summoned departments and their check-ins (报到)",
        parameters=[OpenApiParameter("late", bool, description="Only late check-ins")],
    ),
    retrieve=extend_schema(summary="One summoned department"),
)
class SummonsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SummonsSerializer

    def get_queryset(self):
        summonses = Summons.objects.restrict(self.request.user, "view").select_related("department")
        if _flag(self.request, "late"):
            summonses = summonses.filter(late=True)
        return summonses.order_by("-summoned_at", "id")

    @extend_schema(summary="Check in (报到)", request=SummonsCheckInSerializer, responses={200: SummonsSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="check-in", url_name="check-in")
    def check_in(self, request, pk=None):
        summons = self.get_object()
        body = SummonsCheckInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.check_in(summons, request.user, note=body.validated_data["note"])
        return Response(SummonsSerializer(self.get_queryset().get(pk=result.pk)).data)


@extend_schema_view(
    list=extend_schema(
        summary="催办 and 督办 orders in your scope",
        parameters=[
            OpenApiParameter("kind", str, enum=OrderKind.values, description="urge (催办) or supervision (督办)"),
            OpenApiParameter("status", str, enum=OrderStatus.values),
        ],
    ),
    retrieve=extend_schema(summary="One order with its reply"),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SupervisionOrderSerializer

    def get_queryset(self):
        orders = Order.objects.restrict(self.request.user, "view").select_related("case")
        kind = self.request.query_params.get("kind")
        if kind in OrderKind.values:
            orders = orders.filter(kind=kind)
        state = self.request.query_params.get("status")
        if state in OrderStatus.values:
            orders = orders.filter(status=state)
        return orders.order_by("-issued_at", "-id")

    @extend_schema(
        summary="Issue a 催办 or 督办 order",
        request=SupervisionOrderCreateSerializer,
        responses={201: SupervisionOrderSerializer, 200: SupervisionOrderSerializer, **ERRORS},
    )
    def create(self, request):
        body = SupervisionOrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        order, created = services.issue_order(
            data["case"], request.user, kind=data["kind"], note=data["note"], reply_hours=data["reply_hours"],
            idempotency_key=data["idempotency_key"],
        )
        body = SupervisionOrderSerializer(Order.objects.select_related("case").get(pk=order.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(summary="Reply to an order", request=SupervisionReplySerializer, responses={200: SupervisionOrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        order = self.get_object()
        body = SupervisionReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.reply_order(order, request.user, reply=body.validated_data["reply"])
        return Response(SupervisionOrderSerializer(self.get_queryset().get(pk=result.pk)).data)


router = SimpleRouter()
router.register("supervision/whistles", WhistleViewSet, basename="supervision-whistle")
router.register("supervision/summonses", SummonsViewSet, basename="supervision-summons")
router.register("supervision/orders", OrderViewSet, basename="supervision-order")

urlpatterns = router.urls
