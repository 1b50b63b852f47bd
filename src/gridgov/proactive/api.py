"""REST API of the proactive app (mounted under /api/v1/).

- GET  proactive/hot-topics/?month=YYYY-MM&months=3&top=10   the monthly hot-topics report
- POST proactive/cases/                 open a proactive case for a hot topic (idempotent)
- GET/POST proactive/projects/          projects in your scope / start one
- GET  proactive/projects/{id}/         one project with its linked case ids
- POST proactive/projects/{id}/status/  move it on (in progress, completed, cancelled)
"""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.assessment.months import add_months, current_month
from gridgov.core.errors import NotFound
from gridgov.org.permissions import require

from . import services
from .hot_topics import DEFAULT_MONTHS, DEFAULT_TOP, MAX_MONTHS, MAX_TOP, report_for
from .models import Project, ProjectStatus

ID_RANGE = {"min_value": 1, "max_value": 2**31 - 1}


class RowSerializer(serializers.Serializer):
    label = serializers.CharField(allow_blank=True)
    category_id = serializers.IntegerField(allow_null=True)
    h3_cell = serializers.CharField(allow_blank=True)
    grid_id = serializers.IntegerField(allow_null=True)
    grid_name = serializers.CharField(allow_blank=True)
    current = serializers.IntegerField()
    previous = serializers.IntegerField()
    change_pct = serializers.FloatField(allow_null=True)
    is_new = serializers.BooleanField()


class SeriesSerializer(serializers.Serializer):
    name = serializers.CharField()
    data = serializers.ListField(child=serializers.IntegerField())


class TrendSerializer(serializers.Serializer):
    months = serializers.ListField(child=serializers.CharField())
    total = serializers.ListField(child=serializers.IntegerField())
    series = SeriesSerializer(many=True)


class ReportSerializer(serializers.Serializer):
    month = serializers.DateField(format="%Y-%m-%d")
    months = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    previous_start = serializers.DateTimeField()
    total_current = serializers.IntegerField()
    total_previous = serializers.IntegerField()
    change_pct = serializers.FloatField(allow_null=True)
    topics = RowSerializer(many=True)
    categories = RowSerializer(many=True)
    cells = RowSerializer(many=True)
    grids = RowSerializer(many=True)
    new_hot_spots = RowSerializer(many=True)
    trend = TrendSerializer()


class ProactiveCaseInput(serializers.Serializer):
    month = serializers.CharField(max_length=7, help_text="YYYY-MM of the report")
    category = serializers.IntegerField(help_text="the 小类", **ID_RANGE)
    h3_cell = serializers.CharField(max_length=16, help_text="H3 cell, resolution 9")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ProactiveCaseResult(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    created = serializers.BooleanField()


class IdListField(serializers.ListField):
    """Ids in, ids out (a many-to-many manager is read as its sorted primary keys)."""

    def to_representation(self, data):
        if hasattr(data, "values_list"):
            return sorted(data.values_list("pk", flat=True))
        return super().to_representation(data)


class ProjectSerializer(serializers.ModelSerializer):
    month = serializers.DateField()
    cells = serializers.ListField(child=serializers.CharField(max_length=16), required=False, max_length=50)
    grids = IdListField(child=serializers.IntegerField(**ID_RANGE), required=False, max_length=200)
    category = serializers.IntegerField(source="category_id", required=False, allow_null=True, **ID_RANGE)
    owner_department = serializers.IntegerField(source="owner_department_id", **ID_RANGE)
    topic = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True, write_only=True)
    cases = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "title", "topic", "month", "category", "cells", "grids", "owner_department", "status",
                  "cases", "created_at", "idempotency_key", "version"]
        read_only_fields = ["status", "created_at", "version"]

    def get_cases(self, project) -> list[int]:
        return sorted(project.cases.values_list("pk", flat=True))


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProjectStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class HotTopics(APIView):
    @extend_schema(
        summary="The monthly hot-topics report (每月一题) over the cases in your scope",
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM, the last month of the period (default: last month)"),
            OpenApiParameter("months", int, description=f"length of the period, 1..{MAX_MONTHS} (default {DEFAULT_MONTHS})"),
            OpenApiParameter("top", int, description=f"rows per ranking, 1..{MAX_TOP} (default {DEFAULT_TOP})"),
        ],
        responses=ReportSerializer,
    )
    def get(self, request):
        require(request.user, "hot_topic.view")
        params = request.query_params
        report = report_for(
            request.user, params.get("month") or add_months(current_month(), -1),
            months=params.get("months"), top=params.get("top"),
        )
        return Response(ReportSerializer(report).data)


class OpenProactiveCase(APIView):
    @extend_schema(
        summary="Open a proactive case (主动发现) for a hot topic; the same topic again returns the first case",
        request=ProactiveCaseInput,
        responses={201: ProactiveCaseResult, 200: ProactiveCaseResult},
    )
    def post(self, request):
        body = ProactiveCaseInput(data=request.data)
        body.is_valid(raise_exception=True)
        case, created = services.open_proactive_case(request.user, **body.validated_data)
        return Response(
            {"id": case.pk, "number": case.number, "created": created},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ProjectList(generics.ListCreateAPIView):
    serializer_class = ProjectSerializer
    filter_backends = []

    def get_queryset(self):
        return Project.objects.restrict(self.request.user).order_by("-created_at", "-id")

    @extend_schema(summary="Proactive projects in your scope")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Start a project; the matching cases of the period are linked",
                   responses={201: ProjectSerializer, 200: ProjectSerializer})
    def post(self, request, *args, **kwargs):
        body = ProjectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        project, created = services.create_project(
            request.user, title=data["title"], topic=data.get("topic", ""), month=data["month"],
            owner_department=data["owner_department_id"], category=data.get("category_id"),
            cells=data.get("cells", []), grids=data.get("grids", []), idempotency_key=data.get("idempotency_key"),
        )
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _project(request, pk):
    project = Project.objects.restrict(request.user).filter(pk=pk).first()
    if project is None:
        raise NotFound(code="project_not_found")
    return project


class ProjectDetail(APIView):
    @extend_schema(summary="One proactive project", responses=ProjectSerializer)
    def get(self, request, pk):
        return Response(ProjectSerializer(_project(request, pk)).data)


class ProjectStatusChange(APIView):
    @extend_schema(summary="Move a project on", request=StatusInput, responses=ProjectSerializer)
    def post(self, request, pk):
        project = _project(request, pk)
        body = StatusInput(data=request.data)
        body.is_valid(raise_exception=True)
        project = services.change_project_status(project, request.user, **body.validated_data)
        return Response(ProjectSerializer(project).data)


urlpatterns = [
    path("proactive/hot-topics/", HotTopics.as_view(), name="proactive-hot-topics"),
    path("proactive/cases/", OpenProactiveCase.as_view(), name="proactive-cases"),
    path("proactive/projects/", ProjectList.as_view(), name="proactive-projects"),
    path("proactive/projects/<int:pk>/", ProjectDetail.as_view(), name="proactive-project"),
    path("proactive/projects/<int:pk>/status/", ProjectStatusChange.as_view(), name="proactive-project-status"),
]
