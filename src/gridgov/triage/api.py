"""REST API of the triage app (mounted under /api/v1/).

- POST triage/suggest/                  top 3 {category, department, confidence, source} for a text
- GET  triage/duplicates/               likely duplicates of a report (category, lon, lat[, crs, at])
- GET  triage/cases/{id}/duplicates/    likely duplicates of an existing case
- POST triage/merge/                    merge a duplicate into another case
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.catalog.models import Category
from gridgov.cases.merge import merge_cases
from gridgov.cases.models import Case, Status
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.geo.coords import to_wgs84
from gridgov.org.permissions import require

from .classifier import current_model, suggest
from .duplicates import duplicates_of, find_duplicates

ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    403: OpenApiResponse(description="Your role may not do this, or a case is outside your area"),
    404: OpenApiResponse(description="No such case in your scope"),
}
CRS_CHOICES = [("wgs84", "WGS84"), ("gcj02", "GCJ-02"), ("bd09", "BD-09")]


class TriageRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TriageCategoryRefSerializer(TriageRefSerializer):
    code = serializers.CharField()


# --- suggest --------------------------------------------------------------------------------
class SuggestRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=True)


class SuggestionSerializer(serializers.Serializer):
    category = TriageCategoryRefSerializer()
    department = TriageRefSerializer(allow_null=True)
    confidence = serializers.FloatField(min_value=0, max_value=1)
    department_confidence = serializers.FloatField(min_value=0, max_value=1)
    source = serializers.ChoiceField(choices=[("model", "model"), ("rules", "rules")])


class ClassifierInfoSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    trained_at = serializers.DateTimeField()
    n_samples = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    top3_accuracy = serializers.FloatField(allow_null=True)


class SuggestResponseSerializer(serializers.Serializer):
    suggestions = SuggestionSerializer(many=True)
    model = ClassifierInfoSerializer(allow_null=True)


class SuggestView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Suggest the sub-category (小类) and department for a complaint text",
        request=SuggestRequestSerializer,
        responses={200: SuggestResponseSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    )
    def post(self, request):
        require(request.user, "triage.suggest")
        body = SuggestRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record, _pipeline = current_model()
        found = suggest(body.validated_data["text"])
        return Response(SuggestResponseSerializer({"suggestions": [_row(item) for item in found], "model": record}).data)


def _row(item):
    return {
        "category": item.category,
        "department": item.department,
        "confidence": item.confidence,
        "department_confidence": item.department_confidence,
        "source": item.source,
    }


# --- duplicates -----------------------------------------------------------------------------
class DuplicateCandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    created_at = serializers.DateTimeField()
    distance_m = serializers.FloatField()
    description = serializers.CharField()
    version = serializers.IntegerField()


class DuplicateQuerySerializer(serializers.Serializer):
    category = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.ChoiceField(choices=CRS_CHOICES, default="wgs84")
    at = serializers.DateTimeField(required=False, help_text=_("Report time (default now)."))


class DuplicatesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Likely duplicates of a report: same sub-category within its radius and time window",
        parameters=[DuplicateQuerySerializer],
        responses={200: DuplicateCandidateSerializer(many=True), 400: ERRORS[400], 403: ERRORS[403]},
    )
    def get(self, request):
        require(request.user, "case.view")
        query = DuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        category = Category.objects.filter(pk=data["category"], parent__isnull=False).first()
        if category is None:
            raise ValidationFailed.field("category", _("Choose a sub-category (小类)."), code="unknown_category")
        lon, lat = to_wgs84(data["lon"], data["lat"], data["crs"])
        found, _rule = find_duplicates(request.user, category, lon, lat, at=data.get("at"))
        return Response(DuplicateCandidateSerializer(found, many=True).data)


class CaseDuplicatesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Likely duplicates of an existing case",
        responses={200: DuplicateCandidateSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    def get(self, request, pk):
        case = _visible(request.user, pk)
        return Response(DuplicateCandidateSerializer(duplicates_of(request.user, case), many=True).data)


def _visible(user, pk, field=None):
    in_range = 0 < pk < 2**63
    case = Case.objects.restrict(user, "view").select_related("category").filter(pk=pk).first() if in_range else None
    if case is None:
        raise NotFound(_("No such case."), code="case_not_found", fields={field: [_("No such case.")]} if field else None)
    return case


# --- merge ----------------------------------------------------------------------------------
class MergeRequestSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("The case that is merged away."))
    into = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("The case that remains."))
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    into_expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class MergeResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Status.choices)
    merged = serializers.ListField(child=serializers.CharField(), help_text=_("Numbers of the cases merged into it."))


class MergeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Merge a duplicate case into another (dispatcher, shift lead)",
        request=MergeRequestSerializer,
        responses={
            200: MergeResultSerializer,
            **ERRORS,
            409: OpenApiResponse(description="A case is closed, rejected or already merged, or changed (stale)"),
        },
    )
    def post(self, request):
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        duplicate = _visible(request.user, data["duplicate"], "duplicate")
        into = _visible(request.user, data["into"], "into")
        survivor = merge_cases(
            duplicate,
            into,
            request.user,
            note=data["note"],
            expected_version=data.get("expected_version"),
            into_expected_version=data.get("into_expected_version"),
        )
        survivor.merged = list(survivor.merged_cases.order_by("merged_at", "id").values_list("number", flat=True))
        return Response(MergeResultSerializer(survivor).data)


urlpatterns = [
    path("triage/suggest/", SuggestView.as_view(), name="triage-suggest"),
    path("triage/duplicates/", DuplicatesView.as_view(), name="triage-duplicates"),
    path("triage/cases/<int:pk>/duplicates/", CaseDuplicatesView.as_view(), name="triage-case-duplicates"),
    path("triage/merge/", MergeView.as_view(), name="triage-merge"),
]
