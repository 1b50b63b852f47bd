"""REST API of the taxonomy, mounted under /api/v1/.

GET  categories/           flat list (filters: kind, parent, major, q, active; ordering)
GET  categories/tree/      大类 with their 小类 nested (same filters)
GET  categories/{id}/      one class
POST categories/, PATCH categories/{id}/   system administrators only (category.change)

There is no delete: cases keep referring to old classes, so retire one with is_active=false.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from gridgov.org.models import Department
from gridgov.org.permissions import require

from . import services
from .filters import CategoryFilterSet
from .models import Category, CategoryKind, Priority, TimeUnit

# --- Serializers ----------------------------------------------------------------------------


class CategoryDepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    parent_code = serializers.CharField(source="parent.code", read_only=True, allow_null=True, default=None)
    parent_name = serializers.CharField(source="parent.name", read_only=True, allow_null=True, default=None)
    is_major = serializers.BooleanField(read_only=True)
    time_limit_unit_display = serializers.CharField(source="get_time_limit_unit_display", read_only=True)
    default_priority_display = serializers.CharField(source="get_default_priority_display", read_only=True)
    default_department = CategoryDepartmentSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = [
            "id", "kind", "kind_display", "code", "name", "parent", "parent_code", "parent_name", "is_major",
            "accept_criteria", "close_criteria", "time_limit_value", "time_limit_unit", "time_limit_unit_display",
            "default_priority", "default_priority_display", "default_department",
            "duplicate_radius_m", "duplicate_window_hours", "keywords", "is_active", "sort_order",
        ]  # fmt: skip
        read_only_fields = fields


class CategoryTreeSerializer(CategorySerializer):
    children = CategorySerializer(many=True, read_only=True, source="tree_children")

    class Meta(CategorySerializer.Meta):
        fields = [*CategorySerializer.Meta.fields, "children"]
        read_only_fields = fields


class CategoryWriteSerializer(serializers.Serializer):
    """Shape of a class as sent by a system administrator; services validate the rules."""

    kind = serializers.ChoiceField(choices=CategoryKind.choices, required=False)
    code = serializers.CharField(max_length=10)
    name = serializers.CharField(max_length=50)
    parent = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    accept_criteria = serializers.CharField(required=False, allow_blank=True)
    close_criteria = serializers.CharField(required=False, allow_blank=True)
    time_limit_value = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    time_limit_unit = serializers.ChoiceField(choices=TimeUnit.choices, required=False)
    default_priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    default_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    duplicate_radius_m = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    duplicate_window_hours = serializers.IntegerField(min_value=0, max_value=24 * 365, required=False)
    keywords = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(min_value=0, required=False)


def _written(request, *, partial):
    """The validated fields the request actually sent."""
    serializer = CategoryWriteSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return {key: value for key, value in serializer.validated_data.items() if key in request.data}


# --- Views ----------------------------------------------------------------------------------


class ChangeNeedsCategoryRole(BasePermission):
    """Writes need category.change; refused with 403 before the body is even looked at."""

    def has_permission(self, request, view):
        if request.method not in SAFE_METHODS:
            require(request.user, "category.change")
        return True


@extend_schema_view(
    create=extend_schema(request=CategoryWriteSerializer, responses={201: CategorySerializer}),
    partial_update=extend_schema(request=CategoryWriteSerializer, responses=CategorySerializer),
)
class CategoryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    serializer_class = CategorySerializer
    filterset_class = CategoryFilterSet
    permission_classes = [IsAuthenticated, ChangeNeedsCategoryRole]
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["kind", "code", "name", "sort_order", "time_limit_value", "default_priority"]
    ordering = ["kind", "code"]

    def get_queryset(self):
        return Category.objects.restrict(self.request.user, "view").select_related("parent", "default_department")

    def create(self, request, *args, **kwargs):
        category = services.create_category(request.user, **_written(request, partial=False))
        return Response(self._render(category), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        category = services.update_category(self.get_object(), request.user, **_written(request, partial=True))
        return Response(self._render(category))

    def _render(self, category):
        category = Category.objects.select_related("parent", "default_department").get(pk=category.pk)
        return CategorySerializer(category, context=self.get_serializer_context()).data

    @extend_schema(responses=CategoryTreeSerializer(many=True), summary="Major classes with their minor classes")
    @action(detail=False, pagination_class=None)
    def tree(self, request):
        """The filtered classes as a tree: each matching 小类 appears under its 大类."""
        matches = list(self.filter_queryset(self.get_queryset()))
        majors = {c.pk: c for c in matches if c.parent_id is None}
        missing = {c.parent_id for c in matches if c.parent_id is not None} - majors.keys()
        majors.update({c.pk: c for c in self.get_queryset().filter(pk__in=missing)})
        for major in majors.values():
            major.tree_children = []
        for category in matches:
            if category.parent_id is not None:
                majors[category.parent_id].tree_children.append(category)
        ordered = sorted(majors.values(), key=lambda c: (c.kind, c.code))
        return Response(CategoryTreeSerializer(ordered, many=True, context=self.get_serializer_context()).data)


router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = router.urls
