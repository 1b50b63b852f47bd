"""REST API of the region tree (/api/v1/): regions, grids, GeoJSON export and locate.

Reads are restricted with `.restrict(user, "view")`; writes go through
gridgov.geo.services, which only system administrators ("region.change") pass.
"""

from dataclasses import asdict

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from gridgov.org.permissions import allowed, require

from . import services
from .coords import CRS_CHOICES, to_wgs84
from .filters import GridFilterSet, RegionFilterSet
from .geojson import feature_collection
from .locator import locate
from .models import GridType, Level, Region

# --- Serializers -------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    grid_type_display = serializers.CharField(source="get_grid_type_display", read_only=True)
    parent_code = serializers.CharField(source="parent.code", read_only=True, allow_null=True, default=None)
    # Only grids have a type; other levels answer "" (declared so the schema allows it).
    grid_type = serializers.ChoiceField(choices=GridType.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Region
        fields = [
            "id", "code", "name", "level", "level_display", "parent", "parent_code", "grid_type",
            "grid_type_display", "households", "boundary", "centroid_lon", "centroid_lat", "bbox", "area_m2",
            "updated_at",
        ]
        read_only_fields = fields


class RegionWriteSerializer(serializers.Serializer):
    """Shape of a region as sent by a system administrator; the service checks the rest."""

    code = serializers.CharField(max_length=15)
    name = serializers.CharField(max_length=100)
    level = serializers.ChoiceField(choices=Level.choices)
    parent_code = serializers.CharField(max_length=15, required=False, allow_blank=True, default="",
                                        help_text=_("Derived from the code when left out."))
    boundary = serializers.JSONField(required=False, allow_null=True, default=None,
                                     help_text=_("GeoJSON Polygon or MultiPolygon in WGS84."))
    grid_type = serializers.ChoiceField(choices=GridType.choices, required=False, allow_blank=True, default="")
    households = serializers.IntegerField(min_value=0, required=False, default=0)


class LocationSerializer(serializers.Serializer):
    grid_id = serializers.IntegerField(allow_null=True)
    grid_code = serializers.CharField(allow_blank=True)
    region_code = serializers.CharField(allow_blank=True)
    h3_cell = serializers.CharField()
    inside_grid = serializers.BooleanField()
    lon = serializers.FloatField(help_text=_("WGS84 longitude"))
    lat = serializers.FloatField(help_text=_("WGS84 latitude"))


def _written(request, *, partial=False):
    """The validated body, renamed for save_region; on PATCH only the fields sent."""
    serializer = RegionWriteSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    if partial:
        data = {key: value for key, value in data.items() if key in request.data}
    if "parent_code" in data:
        data["parent"] = data.pop("parent_code") or None
    return data


# --- Views -------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(request=RegionWriteSerializer, responses={201: RegionSerializer}),
    update=extend_schema(request=RegionWriteSerializer, responses=RegionSerializer),
    partial_update=extend_schema(request=RegionWriteSerializer, responses=RegionSerializer),
)
class RegionViewSet(viewsets.ModelViewSet):
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    ordering_fields = ["code", "name", "level", "households", "area_m2", "updated_at"]
    ordering = ["code"]
    search_fields = ["code", "name"]

    def get_queryset(self):
        return Region.objects.restrict(self.request.user, "view").select_related("parent")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Refuse writes by role before looking at the body (the services check again).
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            require(request.user, "region.change")

    def create(self, request, *args, **kwargs):
        region = services.save_region(request.user, **_written(request))
        return Response(self._render(region), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.get("partial", False)
        region = services.save_region(request.user, region=self.get_object(), **_written(request, partial=partial))
        return Response(self._render(region))

    def destroy(self, request, *args, **kwargs):
        services.delete_region(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _render(self, region):
        region = Region.objects.select_related("parent").get(pk=region.pk)
        return RegionSerializer(region, context=self.get_serializer_context()).data


class GridViewSet(viewsets.ReadOnlyModelViewSet):
    """Grids only (level=grid); change them through /regions/."""

    serializer_class = RegionSerializer
    filterset_class = GridFilterSet
    ordering_fields = ["code", "name", "households", "area_m2"]
    ordering = ["code"]
    search_fields = ["code", "name"]

    def get_queryset(self):
        return Region.objects.restrict(self.request.user, "view").grids().select_related("parent")


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class RegionExportView(APIView):
    """The regions you may see as a GeoJSON FeatureCollection (same filters as /regions/)."""

    renderer_classes = [GeoJSONRenderer, JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=Level.values),
            OpenApiParameter("within", OpenApiTypes.STR, description="Region code: its subtree only."),
        ],
        responses={(200, "application/geo+json"): OpenApiTypes.OBJECT},
        summary="Export regions as GeoJSON",
    )
    def get(self, request):
        queryset = Region.objects.restrict(request.user, "view").order_by("code")
        filterset = RegionFilterSet(request.query_params, queryset=queryset, request=request)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        response = Response(feature_collection(filterset.qs))
        response["Content-Disposition"] = 'attachment; filename="regions.geojson"'
        return response


class LocateView(APIView):
    """Which grid is this point in? (map clicks, device reports)"""

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", OpenApiTypes.NUMBER, required=True),
            OpenApiParameter("lat", OpenApiTypes.NUMBER, required=True),
            OpenApiParameter("crs", OpenApiTypes.STR, enum=list(CRS_CHOICES), default="wgs84"),
        ],
        responses=LocationSerializer,
        summary="Locate a point in the grid system",
    )
    def get(self, request):
        if not allowed(request.user, "region.view"):
            raise PermissionDenied()
        params = request.query_params
        lon, lat = to_wgs84(params.get("lon"), params.get("lat"), params.get("crs") or "wgs84")
        location = locate(lon, lat)
        data = {**asdict(location), "lon": lon, "lat": lat}
        return Response(LocationSerializer(data).data)


router = SimpleRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("grids", GridViewSet, basename="grid")

urlpatterns = [
    # Before the router: "export.geojson" would otherwise read as a region id.
    path("regions/export.geojson", RegionExportView.as_view(), name="region-export"),
    path("locate/", LocateView.as_view(), name="locate"),
    *router.urls,
]
