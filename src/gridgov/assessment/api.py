"""REST API of the assessment app (mounted under /api/v1/).

- GET  assessment/rules/                      the active rules (role, measure, target, points, weight)
- GET  assessment/sheets/?month=YYYY-MM       score sheets in your scope (an inspector: their own)
- GET  assessment/sheets/{id}/                one sheet with its lines and manual items
- POST assessment/sheets/generate/            compute the month's sheets of your area
- POST assessment/sheets/{id}/manual-items/   add or deduct points with a reason
- POST assessment/sheets/{id}/lock/           confirm and lock (community secretary)
- GET/POST assessment/meetings/               例会 and 网格学堂 records with attendance
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.core.errors import NotFound

from . import services
from .measures import MEASURES
from .models import AssessmentRule, AttendanceStatus, ManualItem, Meeting, ScoreLine, ScoreSheet
from .months import parse_month


class RuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentRule
        fields = ["id", "role", "measure", "target", "points", "weight", "description"]


class LineSerializer(serializers.ModelSerializer):
    measure_label = serializers.CharField()
    note = serializers.CharField(allow_blank=True)

    class Meta:
        model = ScoreLine
        fields = ["measure", "measure_label", "target", "points", "weight", "value", "score", "note"]


class ManualItemSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField()

    class Meta:
        model = ManualItem
        fields = ["id", "points", "reason", "created_by", "created_at"]


class SheetSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__")
    month = serializers.SerializerMethodField()

    class Meta:
        model = ScoreSheet
        fields = ["id", "user", "user_name", "month", "region_code", "status", "computed_score", "manual_score",
                  "total_score", "generated_at", "locked_at", "version"]


    @extend_schema_field(OpenApiTypes.STR)
    def get_month(self, sheet):
        return f"{sheet.month:%Y-%m}"


class SheetDetailSerializer(SheetSerializer):
    lines = LineSerializer(many=True)
    manual_items = ManualItemSerializer(many=True)

    class Meta(SheetSerializer.Meta):
        fields = [*SheetSerializer.Meta.fields, "lines", "manual_items"]


class GenerateSerializer(serializers.Serializer):
    month = serializers.CharField(max_length=7, help_text="YYYY-MM")


class GenerateResultSerializer(serializers.Serializer):
    generated = serializers.IntegerField()
    skipped_locked = serializers.IntegerField()


class ManualItemInput(serializers.Serializer):
    points = serializers.FloatField(min_value=-100, max_value=100)
    reason = serializers.CharField(max_length=500)
    idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True)


ID_RANGE = {"min_value": 1, "max_value": 2**31 - 1}


class AttendanceSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id", **ID_RANGE)
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)


class MeetingSerializer(serializers.ModelSerializer):
    attendance = AttendanceSerializer(many=True, required=False)
    minutes = serializers.CharField(allow_blank=True, required=False, max_length=20000)
    idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True, write_only=True)
    region = serializers.IntegerField(source="region_id", **ID_RANGE)

    class Meta:
        model = Meeting
        fields = ["id", "kind", "date", "region", "topic", "minutes", "attendance", "idempotency_key", "recorded_at"]
        read_only_fields = ["recorded_at"]


MONTH = OpenApiParameter("month", str, description="YYYY-MM; all months when absent")


class RuleList(generics.ListAPIView):
    serializer_class = RuleSerializer
    pagination_class = None

    def get_queryset(self):
        return AssessmentRule.objects.restrict(self.request.user).filter(is_active=True, measure__in=list(MEASURES))

    @extend_schema(summary="The active assessment rules")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SheetList(generics.ListAPIView):
    serializer_class = SheetSerializer
    filter_backends = []

    def get_queryset(self):
        sheets = ScoreSheet.objects.restrict(self.request.user).select_related("user").order_by("-month", "-total_score", "id")
        if self.request.query_params.get("month"):
            sheets = sheets.filter(month=parse_month(self.request.query_params["month"]))
        return sheets

    @extend_schema(summary="Score sheets in your scope, best first", parameters=[MONTH])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _sheet(request, pk):
    sheet = ScoreSheet.objects.restrict(request.user).filter(pk=pk).first()
    if sheet is None:
        raise NotFound(code="sheet_not_found")
    return sheet


class SheetDetail(APIView):
    @extend_schema(summary="One score sheet with its lines and manual items", responses=SheetDetailSerializer)
    def get(self, request, pk):
        return Response(SheetDetailSerializer(_sheet(request, pk)).data)


class GenerateSheets(APIView):
    @extend_schema(summary="Compute the month's score sheets of your area", request=GenerateSerializer,
                   responses=GenerateResultSerializer)
    def post(self, request):
        body = GenerateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.generate_sheets(request.user, body.validated_data["month"])
        return Response({"generated": len(result["generated"]), "skipped_locked": len(result["skipped_locked"])})


class AddManualItem(APIView):
    @extend_schema(summary="Add or deduct points by hand, with a reason", request=ManualItemInput,
                   responses={201: ManualItemSerializer})
    def post(self, request, pk):
        sheet = _sheet(request, pk)
        body = ManualItemInput(data=request.data)
        body.is_valid(raise_exception=True)
        item = services.add_manual_item(sheet, request.user, **body.validated_data)
        return Response(ManualItemSerializer(item).data, status=status.HTTP_201_CREATED)


class LockSheet(APIView):
    @extend_schema(summary="Confirm and lock a score sheet", request=None, responses=SheetSerializer)
    def post(self, request, pk):
        return Response(SheetSerializer(services.lock_sheet(_sheet(request, pk), request.user)).data)


class MeetingList(generics.ListCreateAPIView):
    serializer_class = MeetingSerializer
    filter_backends = []

    def get_queryset(self):
        return Meeting.objects.restrict(self.request.user).distinct().prefetch_related("attendance").order_by("-date", "-id")

    @extend_schema(summary="Meetings and training sessions in your scope")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Record a meeting or training session with its attendance")
    def post(self, request, *args, **kwargs):
        body = MeetingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        meeting, created = services.record_meeting(
            request.user, kind=data["kind"], region=data["region_id"], date=data["date"], topic=data["topic"],
            minutes=data.get("minutes", ""), attendance={row["user_id"]: row["status"] for row in data.get("attendance", [])},
            idempotency_key=data.get("idempotency_key"),
        )
        return Response(MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


urlpatterns = [
    path("assessment/rules/", RuleList.as_view(), name="assessment-rules"),
    path("assessment/sheets/", SheetList.as_view(), name="assessment-sheets"),
    path("assessment/sheets/generate/", GenerateSheets.as_view(), name="assessment-generate"),
    path("assessment/sheets/<int:pk>/", SheetDetail.as_view(), name="assessment-sheet"),
    path("assessment/sheets/<int:pk>/manual-items/", AddManualItem.as_view(), name="assessment-manual-items"),
    path("assessment/sheets/<int:pk>/lock/", LockSheet.as_view(), name="assessment-lock"),
    path("assessment/meetings/", MeetingList.as_view(), name="assessment-meetings"),
]
