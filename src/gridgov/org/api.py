"""REST API for departments, staff, the current user and token sign-in (/api/v1/).

Reads are restricted with `.restrict(user, "view")`; writes go through gridgov.org.services,
which only system administrators pass.
"""

from django.contrib.auth import authenticate
from django.db.models import Prefetch
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.authtoken.models import Token
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from gridgov.core.errors import DomainError, ValidationFailed
from gridgov.core.masking import mask_phone
from gridgov.geo.models import Region

from . import services
from .authentication import HEAVY_REGION_FIELDS
from .filters import DepartmentFilterSet, StaffFilterSet
from .models import Department, DepartmentType, StaffRole, User
from .permissions import ROLE_ACTIONS, allowed
from .roles import Role

# --- Serializers ----------------------------------------------------------------------------


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "level"]
        read_only_fields = fields


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]
        read_only_fields = fields


class DepartmentSerializer(serializers.ModelSerializer):
    type_display = serializers.CharField(source="get_type_display", read_only=True)
    regions = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Department
        fields = ["id", "code", "name", "type", "type_display", "contact_person", "contact_phone", "regions", "is_active"]
        read_only_fields = fields


class RegionCodeField(serializers.SlugRelatedField):
    """A region named by its code. Text no code can contain (NUL) is refused before the
    lookup: PostgreSQL rejects it in a query with an error rather than finding nothing."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Region.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if "\x00" in str(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data).replace("\x00", ""))
        return super().to_internal_value(data)


class DepartmentWriteSerializer(serializers.Serializer):
    """Shape of a department as sent by a system administrator."""

    code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=DepartmentType.choices, default=DepartmentType.OTHER)
    contact_person = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    regions = RegionCodeField(many=True, required=False, default=list)
    is_active = serializers.BooleanField(required=False, default=True)


def role_codes(user):
    """Role codes from the prefetched assignments (no query per row in lists)."""
    codes = {assignment.role for assignment in user.role_assignments.all()}
    if user.is_superuser:
        codes.add(Role.SYSADMIN)
    return sorted(codes)


class StaffSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    email = serializers.CharField(read_only=True)  # may be blank, so not documented as format "email"
    scope = RegionRefSerializer(read_only=True, allow_null=True)
    department = DepartmentRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "phone", "email", "is_active", "roles", "scope", "department", "last_login"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)))
    def get_roles(self, user):
        return role_codes(user)

    def get_phone(self, user) -> str:
        viewer = self.context["request"].user
        if user.pk == viewer.pk or allowed(viewer, "user.view_phone"):
            return user.phone
        return mask_phone(user.phone)


class StaffWriteSerializer(serializers.Serializer):
    """Shape of a staff account as sent by a system administrator; `roles` replaces the set."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    display_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    scope = RegionCodeField(required=False, allow_null=True, default=None)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False, allow_null=True, default=None)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), required=False, default=list)
    is_active = serializers.BooleanField(required=False, default=True)


class MeSerializer(StaffSerializer):
    permissions = serializers.SerializerMethodField(help_text=gettext_lazy("Actions your roles allow, e.g. case.dispatch."))

    class Meta(StaffSerializer.Meta):
        fields = [*StaffSerializer.Meta.fields, "permissions"]
        read_only_fields = fields

    def get_permissions(self, user) -> list[str]:
        return [action for action in ROLE_ACTIONS if allowed(user, action)]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    user = StaffSerializer(read_only=True)


# --- Views ----------------------------------------------------------------------------------


class LockedOut(DomainError):
    status = 429
    default_code = "locked_out"
    default_message = gettext_lazy("Too many failed sign-in attempts; try again later.")


def _written(serializer_class, request, *, partial=False):
    """Validate the request body's shape and return only the fields actually sent on PATCH."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    if partial:
        return {key: value for key, value in data.items() if key in request.data}
    return dict(data)


class ReadCreateUpdateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """List, detail, create and PATCH; there is no delete (set is_active instead)."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    # `q` in the FilterSets is the search; no separate ?search= parameter.
    filter_backends = [DjangoFilterBackend, OrderingFilter]


@extend_schema_view(
    create=extend_schema(request=DepartmentWriteSerializer, responses={201: DepartmentSerializer}),
    partial_update=extend_schema(request=DepartmentWriteSerializer, responses=DepartmentSerializer),
)
class DepartmentViewSet(ReadCreateUpdateViewSet):
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilterSet
    ordering_fields = ["code", "name", "type"]
    ordering = ["code"]

    def get_queryset(self):
        return Department.objects.restrict(self.request.user, "view").prefetch_related(
            Prefetch("regions", queryset=Region.objects.only("id", "code"))
        )

    def create(self, request, *args, **kwargs):
        department = services.create_department(request.user, **_written(DepartmentWriteSerializer, request))
        return Response(DepartmentSerializer(department, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        changes = _written(DepartmentWriteSerializer, request, partial=True)
        department = services.update_department(self.get_object(), request.user, **changes)
        return Response(DepartmentSerializer(department, context=self.get_serializer_context()).data)


@extend_schema_view(
    create=extend_schema(request=StaffWriteSerializer, responses={201: StaffSerializer}),
    partial_update=extend_schema(request=StaffWriteSerializer, responses=StaffSerializer),
)
class StaffViewSet(ReadCreateUpdateViewSet):
    serializer_class = StaffSerializer
    filterset_class = StaffFilterSet
    ordering_fields = ["username", "display_name", "date_joined"]
    ordering = ["username"]

    def get_queryset(self):
        return with_staff_relations(User.objects.restrict(self.request.user, "view"))

    def create(self, request, *args, **kwargs):
        user = services.create_staff(request.user, **_written(StaffWriteSerializer, request))
        return Response(self._render(user), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        changes = _written(StaffWriteSerializer, request, partial=True)
        user = services.update_staff(self.get_object(), request.user, **changes)
        return Response(self._render(user))

    def _render(self, user):
        user = with_staff_relations(User.objects).get(pk=user.pk)
        return StaffSerializer(user, context=self.get_serializer_context()).data


def with_staff_relations(queryset):
    """Scope (without its boundary polygon), department and roles, in two queries."""
    return (
        queryset.select_related("scope", "department")
        .defer(*(f"scope__{field}" for field in HEAVY_REGION_FIELDS))
        .prefetch_related(Prefetch("role_assignments", queryset=StaffRole.objects.only("id", "user_id", "role")))
    )


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, summary="The signed-in user: roles, scope and permitted actions")
    def get(self, request):
        user = with_staff_relations(User.objects).get(pk=request.user.pk)
        return Response(MeSerializer(user, context={"request": request}).data)


class TokenView(APIView):
    """Exchange a user name and password for an API token (django-axes lockout applies)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer, summary="Sign in and get an API token")
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # axes reads the client address from `request` and marks it on lockout.
        user = authenticate(request=request, **serializer.validated_data)
        if getattr(request, "axes_locked_out", False):
            raise LockedOut()
        if user is None or not user.is_active:
            raise ValidationFailed(_("Wrong user name or password."), code="invalid_credentials")
        token, _created = Token.objects.get_or_create(user=user)
        user = with_staff_relations(User.objects).get(pk=user.pk)
        data = {"token": token.key, "user": StaffSerializer(user, context={"request": _AsUser(request, user)}).data}
        return Response(data)


class _AsUser:
    """A stand-in request whose user is the one just signed in (for phone unmasking)."""

    def __init__(self, request, user):
        self.user = user
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)


router = SimpleRouter()
router.register("departments", DepartmentViewSet, basename="department")
router.register("staff", StaffViewSet, basename="staff")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    *router.urls,
]
