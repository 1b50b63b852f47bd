"""REST API for cases (/api/v1/cases/ and /api/v1/case-requests/).

Serializers check the shape of a request; gridgov.cases.services decides everything else
and its DomainError becomes {code, message, fields} (gridgov.core.api).

Visibility and refusals, the same for reads and actions:
- a case outside the user's scope is 404 (it is not visible: its existence is not revealed),
  on detail, timeline and every action alike;
- a visible case whose action the user's role (or department) may not take is 403;
- an action the case's status does not allow is 409, as is a stale `expected_version`.
"""

import json
from typing import NamedTuple

from django.db.models import Prefetch
from django.urls import URLPattern, get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from gridgov.catalog.models import Priority, TimeUnit
from gridgov.core.audit import log_sensitive_read
from gridgov.core.api import compact_json
from gridgov.core.api import exception_handler as api_exception_handler
from gridgov.core.errors import DomainError, Forbidden
from gridgov.core.masking import mask_name, mask_phone
from gridgov.org.authentication import TokenAuthentication
from gridgov.org.permissions import allowed

from . import services
from .clocks import clock_state
from .detail import event_label
from .filters import CaseFilterSet
from .models import (
    Case,
    CaseAttachment,
    CaseClock,
    CaseEvent,
    CaseRequest,
    Channel,
    ClockState,
    Rating,
    RequestKind,
    RequestStatus,
    Status,
)

REPORTER_FIELDS = ["reporter_name", "reporter_phone"]
CRS_CHOICES = [("wgs84", "WGS84"), ("gcj02", "GCJ-02"), ("bd09", "BD-09")]

# --- Output serializers ---------------------------------------------------------------------


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class CategoryRefSerializer(RefSerializer):
    kind = serializers.CharField(read_only=True)
    major = serializers.SerializerMethodField()

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_major(self, category):
        parent = category.parent
        return {"id": parent.pk, "code": parent.code, "name": parent.name} if parent else None


class StaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(source="__str__", read_only=True)


class CaseListSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    priority_display = serializers.CharField(source="get_priority_display", read_only=True)
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    grid = RefSerializer(read_only=True, allow_null=True)
    department = RefSerializer(read_only=True, allow_null=True)
    clock_state = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "number", "status", "status_display", "channel", "channel_display", "priority", "priority_display",
            "category", "description", "address", "lon", "lat", "region_code", "grid", "department",
            "needs_placement", "supervised", "due_at", "clock_state", "created_at", "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ClockState.choices, allow_null=True))
    def get_clock_state(self, case):
        return clock_state(case, self.context.get("now"))


class ClockSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = CaseClock
        fields = [
            "kind", "kind_display", "limit_value", "limit_unit", "started_at", "due_at", "warn_at", "stopped_at",
            "paused", "overdue", "state",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ClockState.choices))
    def get_state(self, clock):
        """A stopped clock keeps the state it ended in; a running one is judged against now."""
        if clock.stopped_at is not None:
            return ClockState.OVERDUE if clock.overdue else ClockState.NORMAL
        now = self.context.get("now") or timezone.now()
        if now > clock.due_at:
            return ClockState.OVERDUE
        return ClockState.WARNING if now >= clock.warn_at else ClockState.NORMAL


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = CaseAttachment
        fields = ["id", "kind", "url", "content_type", "size", "width", "height", "sha256", "event", "uploaded_at"]
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        request = self.context.get("request")
        url = attachment.file.url
        return request.build_absolute_uri(url) if request else url


class CaseRequestSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = StaffRefSerializer(read_only=True)
    decided_by = StaffRefSerializer(read_only=True, allow_null=True)
    # Blank for parking requests; declared so the schema's enum admits "".
    extra_unit = serializers.ChoiceField(choices=TimeUnit.choices, allow_blank=True, read_only=True)

    class Meta:
        model = CaseRequest
        fields = [
            "id", "case", "kind", "kind_display", "status", "status_display", "reason", "extra_value", "extra_unit",
            "requested_by", "requested_at", "decided_by", "decided_at", "decision_note",
        ]
        read_only_fields = fields


class ReporterSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    revealed = serializers.BooleanField(read_only=True, help_text=gettext_lazy("False: name and phone are masked."))


class CaseDetailSerializer(CaseListSerializer):
    reporter = serializers.SerializerMethodField()
    handler = StaffRefSerializer(read_only=True, allow_null=True)
    reported_by = StaffRefSerializer(read_only=True, allow_null=True)
    clocks = ClockSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    pending_requests = CaseRequestSerializer(many=True, read_only=True)
    available_actions = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "reporter", "h3_cell", "handler", "reported_by", "warn_at", "handle_due_at", "was_overdue",
            "rework_count", "return_count", "extension_count", "supervision_note", "reject_reason",
            "rating", "rating_comment", "accepted_at", "dispatched_at", "signed_at", "handled_at", "closed_at",
            "rated_at", "updated_at", "clocks", "attachments", "pending_requests", "available_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(ReporterSerializer)
    def get_reporter(self, case):
        if self.context.get("reveal_reporter"):
            return {"name": case.reporter_name, "phone": case.reporter_phone, "revealed": True}
        return {"name": mask_name(case.reporter_name), "phone": mask_phone(case.reporter_phone), "revealed": False}

    def get_available_actions(self, case) -> list[str]:
        return services.available_actions(case, self.context["request"].user)


class CaseCreatedSerializer(serializers.Serializer):
    """The answer to a create: what the reporter needs, from the case in hand (no queries;
    the full detail cost more than the creation itself, bench/create_cases_http.py)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    region_code = serializers.CharField()
    grid_id = serializers.IntegerField(allow_null=True)
    needs_placement = serializers.BooleanField()
    due_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, case) -> str:
        path = reverse("api:case-detail", args=[case.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


_TIMESTAMP = serializers.DateTimeField()


def created_summary(case, request):
    """CaseCreatedSerializer's output, built directly: a serializer instance deep-copies
    all its declared fields first, a tenth of an API create (bench/create_cases_http.py).
    tests/test_api.py checks that both give the same answer."""
    return {
        "id": case.pk,
        "number": case.number,
        "status": str(case.status),
        "version": case.version,
        "created_at": _TIMESTAMP.to_representation(case.created_at),
        "region_code": case.region_code,
        "grid_id": case.grid_id,
        "needs_placement": case.needs_placement,
        "due_at": _TIMESTAMP.to_representation(case.due_at) if case.due_at is not None else None,
        "url": request.build_absolute_uri(_detail_path(case.pk)),
    }


_detail_paths = {}


def _detail_path(pk):
    """reverse("api:case-detail") through a cached template (reverse cost ~0.1 ms a call)."""
    prefix = get_script_prefix()
    template = _detail_paths.get(prefix)
    if template is None:
        template = _detail_paths[prefix] = reverse("api:case-detail", args=[987654321]).replace("987654321", "{}")
    return template.format(pk)


class EventSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    actor = StaffRefSerializer(read_only=True, allow_null=True)
    attachments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["seq", "at", "action", "label", "actor", "from_status", "to_status", "note", "data", "attachments", "prev_hash", "hash"]
        read_only_fields = fields

    def get_label(self, event) -> str:
        return str(event_label(event.action, event.data))


# --- Input serializers (shape only) ---------------------------------------------------------


class VersionedSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False, min_value=1, help_text=gettext_lazy("The case version you acted on; 409 if it changed since.")
    )


def text(**kwargs):
    """A free-text field: services clean, limit and require it."""
    kwargs.setdefault("required", False)
    return serializers.CharField(allow_blank=True, trim_whitespace=False, **kwargs)


def photo_list():
    return serializers.ListField(child=serializers.FileField(), required=False, default=list)


class CaseCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    description = text(required=True)
    category = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy("Id of a sub-category (小类)."))
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    crs = serializers.ChoiceField(choices=CRS_CHOICES, default="wgs84")
    address = text()
    reporter_name = text()
    reporter_phone = text()
    photos = photo_list()
    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("Or the Idempotency-Key header: a repeated key returns the first case.")
    )

    @property
    def fields(self):
        # DRF deep-copies the declared fields for every instance: a fifth of an API create
        # (bench/create_cases_http.py). These fields keep no per-request state, so one bound
        # copy per process serves every request.
        cls = type(self)
        if "_shared_fields" not in cls.__dict__:
            cls._shared_fields = super().fields
        return cls._shared_fields


class NoteSerializer(VersionedSerializer):
    note = text()


class RequiredNoteSerializer(VersionedSerializer):
    note = text(required=True)


class ReasonSerializer(VersionedSerializer):
    reason = text(required=True)


class AcceptSerializer(NoteSerializer):
    category = serializers.IntegerField(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)


class PlaceSerializer(NoteSerializer):
    grid = serializers.IntegerField(help_text=gettext_lazy("Id of the grid (网格)."))


class DispatchSerializer(NoteSerializer):
    department = serializers.IntegerField()
    due_at = serializers.DateTimeField(required=False, allow_null=True, help_text=gettext_lazy("Replaces the sub-category's handling deadline."))


class HandleSerializer(RequiredNoteSerializer):
    photos = photo_list()


class VerifySerializer(NoteSerializer):
    passed = serializers.BooleanField()
    photos = photo_list()


class RateSerializer(VersionedSerializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = text()


class ExtensionSerializer(ReasonSerializer):
    extra_value = serializers.IntegerField(min_value=1)
    extra_unit = serializers.ChoiceField(choices=TimeUnit.choices)


class DecideSerializer(NoteSerializer):
    approve = serializers.BooleanField()


# --- Transitions ----------------------------------------------------------------------------


class Transition:
    """One POST /cases/{id}/<url_path>/: its body shape, service and what it returns."""

    def __init__(self, url_path, body, service, summary, *, returns_request=False):
        self.url_path = url_path
        self.body = body
        self.service = service
        self.summary = summary
        self.returns_request = returns_request


TRANSITIONS = {
    "accept": Transition("accept", AcceptSerializer, services.accept, "Accept (立案)"),
    "reject": Transition("reject", ReasonSerializer, services.reject, "Do not accept (不予立案)"),
    "place": Transition("place", PlaceSerializer, services.place, "Place an unplaced case on a grid"),
    "dispatch": Transition("dispatch", DispatchSerializer, services.dispatch, "Dispatch to a department (派遣)"),
    "sign": Transition("sign", NoteSerializer, services.sign, "Sign for the case (签收)"),
    "return": Transition("return", ReasonSerializer, services.return_case, "Return the case (退单)"),
    "handle": Transition("handle", HandleSerializer, services.submit_handling, "Report the handling (处置反馈)"),
    "verify": Transition("verify", VerifySerializer, services.verify, "Verify on site (核查)"),
    "close": Transition("close", NoteSerializer, services.close, "Close (结案)"),
    "rate": Transition("rate", RateSerializer, services.rate, "Rate (评价)"),
    "request_extension": Transition(
        "request-extension", ExtensionSerializer, services.request_extension, "Request an extension (延期)", returns_request=True
    ),
    "request_park": Transition("request-park", ReasonSerializer, services.request_park, "Request parking (挂账)", returns_request=True),
    "unpark": Transition("unpark", NoteSerializer, services.unpark, "Resume a parked case"),
    "supervise": Transition("supervise", RequiredNoteSerializer, services.supervise, "Supervise (督办)"),
}

ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    403: OpenApiResponse(description="Your role or department may not do this"),
    404: OpenApiResponse(description="No such case in your scope"),
    409: OpenApiResponse(description="Not allowed in the current status, or the case changed (stale)"),
}


def transition_view(name, transition):
    """The viewset method behind one transition (a function so each gets its own schema)."""

    def view(self, request, pk=None):
        return self.run_transition(transition)

    # Prefixed: a method named "dispatch" would replace APIView.dispatch.
    view.__name__ = f"do_{name}"
    view.__doc__ = transition.summary
    response = CaseRequestSerializer if transition.returns_request else CaseDetailSerializer
    success = status.HTTP_201_CREATED if transition.returns_request else status.HTTP_200_OK
    view = extend_schema(request=transition.body, responses={success: response, **ERRORS}, summary=transition.summary)(view)
    return action(detail=True, methods=["post"], url_path=transition.url_path, url_name=transition.url_path)(view)


# --- Views ----------------------------------------------------------------------------------


class StableOrderingFilter(OrderingFilter):
    """Any ordering ends with the id, so pages never repeat or skip rows with equal keys."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and ordering[-1].lstrip("-") != "id":
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering


LIST_COLUMNS = [
    "id", "number", "status", "channel", "priority", "description", "address", "lon", "lat", "region_code",
    "needs_placement", "supervised", "due_at", "warn_at", "created_at", "version",
    "category__id", "category__code", "category__name", "category__kind",
    "category__parent__id", "category__parent__code", "category__parent__name",
    "grid__id", "grid__code", "grid__name", "department__id", "department__code", "department__name",
]
class PagedRows:
    """What the paginator sees: COUNT on the filtered cases alone (no joins to the related
    tables), and each page fetched as `.values(*LIST_COLUMNS)` rows."""

    ordered = True  # the view always orders (StableOrderingFilter)

    def __init__(self, queryset):
        self.queryset = queryset

    def count(self):
        return self.queryset.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        return list(self.queryset.values(*LIST_COLUMNS)[item])


class _Deadline(NamedTuple):
    due_at: object
    warn_at: object


class ListRows:
    """List rows built straight from `.values(*LIST_COLUMNS)`, equal to CaseListSerializer's
    output (a test checks): DRF's field-by-field serialization and model instances cost
    about 20 ms of CPU per page of 20 (bench/server_choice.py)."""

    def __init__(self, now):
        self.now = now
        self.labels = {
            field: {value: str(label) for value, label in choices.choices}
            for field, choices in (("status", Status), ("channel", Channel), ("priority", Priority))
        }
        self.datetime = serializers.DateTimeField()

    def render(self, row):
        out = {field: row[field] for field in ("id", "number", "status", "channel", "priority")}
        for field in ("status", "channel", "priority"):
            out[f"{field}_display"] = self.labels[field].get(row[field], str(row[field]))
        out["category"] = self.category(row)
        for field in ("description", "address", "lon", "lat", "region_code"):
            out[field] = row[field]
        out["grid"] = self.ref(row, "grid")
        out["department"] = self.ref(row, "department")
        out["needs_placement"] = row["needs_placement"]
        out["supervised"] = row["supervised"]
        out["due_at"] = self.time(row["due_at"])
        out["clock_state"] = clock_state(_Deadline(row["due_at"], row["warn_at"]), self.now)
        out["created_at"] = self.time(row["created_at"])
        out["version"] = row["version"]
        return out

    def time(self, value):
        return None if value is None else self.datetime.to_representation(value)

    @staticmethod
    def ref(row, prefix):
        if row[f"{prefix}__id"] is None:
            return None
        return {"id": row[f"{prefix}__id"], "code": row[f"{prefix}__code"], "name": row[f"{prefix}__name"]}

    def category(self, row):
        category = self.ref(row, "category")
        if category is not None:
            category["kind"] = row["category__kind"]
            category["major"] = self.ref(row, "category__parent")
        return category


DETAIL_RELATED = ["category", "category__parent", "grid", "department", "handler", "reported_by"]
EVENT_COLUMNS = [
    "id", "case_id", "seq", "at", "action", "from_status", "to_status", "note", "data", "prev_hash", "hash",
    "actor__id", "actor__username", "actor__display_name",
]


@extend_schema_view(
    list=extend_schema(summary="Cases in your scope, filtered and ordered"),
    retrieve=extend_schema(
        summary="One case with clocks, attachments and the actions you may take",
        parameters=[
            OpenApiParameter(
                "reveal", OpenApiTypes.STR, enum=["reporter"],
                description="reporter: show the reporter's name and phone in the clear (needs case.view_reporter; audit-logged).",
            )
        ],
        responses={200: CaseDetailSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Register a case (受理)",
        request=CaseCreateSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        description="Returns the new case in brief (201), or the case first created with the same "
        "idempotency key (200); GET its `url` for the full detail.",
        responses={201: CaseCreatedSerializer, 200: CaseCreatedSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = CaseListSerializer
    filterset_class = CaseFilterSet
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["created_at", "due_at", "priority", "number", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        visible = Case.objects.restrict(self.request.user, "view")
        if self.action == "retrieve":
            return detail_queryset(visible)
        return visible

    def filter_queryset(self, queryset):
        # Filters and ordering narrow the list only, never the lookup of one case.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    # -- reads ---------------------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(PagedRows(self.filter_queryset(self.get_queryset())))
        rows = ListRows(timezone.now())
        return self.get_paginated_response([rows.render(row) for row in page])

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        reveal = request.query_params.get("reveal") == "reporter"
        if reveal:
            if not allowed(request.user, "case.view_reporter"):
                raise Forbidden(_("Your role may not see the reporter's details."), code="reporter_not_allowed")
            log_sensitive_read(request.user, case, REPORTER_FIELDS, purpose="api case detail", channel="api")
        context = {**self.get_serializer_context(), "reveal_reporter": reveal}
        return Response(CaseDetailSerializer(case, context=context).data)

    @extend_schema(summary="The case's timeline", responses={200: EventSerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request, pk=None):
        case = self.get_object()
        events = (
            CaseEvent.objects.filter(case=case)
            .select_related("actor")
            .only(*EVENT_COLUMNS)
            .prefetch_related(Prefetch("attachments", queryset=CaseAttachment.objects.only("id", "event_id")))
            .order_by("seq")
        )
        return Response(EventSerializer(events, many=True, context=self.get_serializer_context()).data)

    def render_detail(self, case):
        """The detail of a case just written (masked reporter), fetched with its relations."""
        case = detail_queryset(Case.objects.all()).get(pk=case.pk)
        return CaseDetailSerializer(case, context=self.get_serializer_context()).data

    # -- writes --------------------------------------------------------------------------

    def create(self, request, *args, **kwargs):
        body = CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        fields["idempotency_key"] = request.headers.get("Idempotency-Key") or fields.get("idempotency_key") or None
        case, created = services.create_case(request.user, **fields)
        body = created_summary(case, request)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def run_transition(self, transition):
        case = self.get_object()  # 404 outside the user's scope
        body = transition.body(data=self.request.data)
        body.is_valid(raise_exception=True)
        result = transition.service(case, self.request.user, **body.validated_data)
        if transition.returns_request:
            return Response(CaseRequestSerializer(result).data, status=status.HTTP_201_CREATED)
        return Response(self.render_detail(result))


for _name, _transition in TRANSITIONS.items():
    setattr(CaseViewSet, f"do_{_name}", transition_view(_name, _transition))


def detail_queryset(queryset):
    pending = CaseRequest.objects.filter(status=RequestStatus.PENDING).select_related("requested_by", "decided_by")
    return (
        queryset.select_related(*DETAIL_RELATED)
        .defer("grid__boundary", "grid__bbox")  # the detail names the grid; its polygon can be large
        .prefetch_related("clocks", "attachments", Prefetch("requests", queryset=pending, to_attr="pending_requests"))
    )


@extend_schema_view(retrieve=extend_schema(summary="One extension or parking request"))
class CaseRequestViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CaseRequestSerializer
    filter_backends = []

    def get_queryset(self):
        visible = Case.objects.restrict(self.request.user, "view")
        return CaseRequest.objects.filter(case__in=visible).select_related("requested_by", "decided_by")

    @extend_schema(
        summary="Approve or refuse an extension (延期) or parking (挂账) request",
        request=DecideSerializer,
        responses={200: CaseRequestSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        case_request = self.get_object()
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decide = services.decide_extension if case_request.kind == RequestKind.EXTENSION else services.decide_park
        result = decide(case_request, request.user, **body.validated_data)
        return Response(CaseRequestSerializer(result).data)


# -- the intake hot path ------------------------------------------------------------------
def with_lean_create(viewset_view):
    """POST /api/v1/cases/ with a JSON body and an API token, answered without DRF's request
    cycle (bench/create_cases_http.py: a tenth of an API create went to wrapping the request,
    negotiating content and rendering). The same checks and answers: the token through the
    same authentication class, the body through CaseCreateSerializer, errors in the API's
    format. Anything else — GET, multipart with photos, a session, a refused token — takes
    the full viewset path. The wrapper carries the viewset's attributes, so the OpenAPI
    schema is unchanged."""

    def view(request, *args, **kwargs):
        if request.method == "POST" and request.content_type == "application/json":
            user = _token_user(request)
            if user is not None:
                return _lean_create(request, user)
        return viewset_view(request, *args, **kwargs)

    for attribute in ("cls", "initkwargs", "actions", "csrf_exempt"):
        setattr(view, attribute, getattr(viewset_view, attribute))
    return view


def _token_user(request):
    try:
        found = TokenAuthentication().authenticate(request)  # reads only the Authorization header
    except exceptions.AuthenticationFailed:
        return None  # the full path answers 401 with its headers
    return found[0] if found else None


def _lean_create(request, user):
    try:
        data = json.loads(request.body or b"{}")
        body = CaseCreateSerializer(data=data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        fields["idempotency_key"] = request.headers.get("Idempotency-Key") or fields.get("idempotency_key") or None
        case, created = services.create_case(user, **fields)
    except ValueError as error:  # json.JSONDecodeError and UnicodeDecodeError, worded as DRF's parser does
        return _error(exceptions.ParseError("JSON parse error - %s" % error))
    except (DomainError, exceptions.APIException) as error:
        return _error(error)
    answer = created_summary(case, request)
    return compact_json(answer, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _error(error):
    response = api_exception_handler(error, {})
    return compact_json(response.data, response.status_code)




router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("case-requests", CaseRequestViewSet, basename="case-request")

urlpatterns = [
    URLPattern(pattern.pattern, with_lean_create(pattern.callback), pattern.default_args, pattern.name)
    if pattern.name == "case-list" else pattern
    for pattern in router.urls
]
