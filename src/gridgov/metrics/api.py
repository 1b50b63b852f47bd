"""REST API of the metrics app (mounted under /api/v1/).

- GET   metrics/          the figures of one level and period, ranked, with the total
                          (level, period=month|quarter|range, month, quarter, start, end)
- GET   metrics/config/   the definitions and weights in use
- PATCH metrics/config/   change them (subdistrict leader; weights must add up to 100)
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.org.permissions import require

from . import services
from .models import MetricsConfig, ResolutionBasis
from .periods import period_from_params


class MetricRowSerializer(serializers.Serializer):
    level = serializers.CharField()
    key = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_blank=True)
    rank = serializers.IntegerField(required=False)
    cases = serializers.IntegerField()
    dispatched = serializers.IntegerField()
    responded = serializers.IntegerField()
    resolved = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.FloatField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    reworked = serializers.IntegerField()
    extended = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True)
    resolution_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    rework_rate = serializers.FloatField(allow_null=True)
    extension_rate = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(allow_null=True)


class ConfigSerializer(serializers.ModelSerializer):
    resolution_basis = serializers.ChoiceField(choices=ResolutionBasis.choices, required=False)
    basic_satisfied_weight = serializers.DecimalField(max_digits=3, decimal_places=2, min_value=0, max_value=1, required=False, coerce_to_string=False)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)  # None until first saved

    class Meta:
        model = MetricsConfig
        fields = ["response_hours", "resolution_basis", "basic_satisfied_weight", "weight_response",
                  "weight_resolution", "weight_satisfaction", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {name: {"required": False} for name in fields}


class MetricsResultSerializer(serializers.Serializer):
    level = serializers.CharField(help_text="department, grid, community, staff or reporter")
    start = serializers.DateField()
    end = serializers.DateField()
    config = ConfigSerializer()
    total = MetricRowSerializer()
    rows = MetricRowSerializer(many=True)


PERIOD_PARAMETERS = [
    OpenApiParameter("level", OpenApiTypes.STR, enum=list(services.LEVELS), description="Default: department."),
    OpenApiParameter("period", OpenApiTypes.STR, enum=["month", "quarter", "range"], description="Default: month."),
    OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (period=month; default: this month)."),
    OpenApiParameter("quarter", OpenApiTypes.STR, description="YYYY-Qn (period=quarter)."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (period=range)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive (period=range)."),
]


class MetricsView(APIView):
    """The 三率, 按期结案率, 返工率, 延期率 and the composite score of the cases in your scope."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Metrics of one level and period, ranked", parameters=PERIOD_PARAMETERS, responses={200: MetricsResultSerializer})
    def get(self, request):
        require(request.user, "metrics.view")
        level = services.check_level(request.query_params.get("level") or "department")
        start, end = period_from_params(request.query_params)
        config = services.get_config()
        payload = {
            "level": level,
            "start": start,
            "end": end,
            "config": config,
            "total": services.total(start, end, request.user, config=config),
            "rows": services.compute(level, start, end, request.user, config=config),
        }
        return Response(MetricsResultSerializer(payload).data)


class ConfigView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="The metric definitions and weights in use", responses={200: ConfigSerializer})
    def get(self, request):
        require(request.user, "metrics.view")
        return Response(ConfigSerializer(services.get_config()).data)

    @extend_schema(summary="Change the metric definitions and weights", request=ConfigSerializer, responses={200: ConfigSerializer})
    def patch(self, request):
        require(request.user, "metrics.configure")
        incoming = ConfigSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        config = services.update_config(request.user, **incoming.validated_data)
        return Response(ConfigSerializer(config).data)


urlpatterns = [
    path("metrics/", MetricsView.as_view(), name="metrics"),
    path("metrics/config/", ConfigView.as_view(), name="metrics-config"),
]
