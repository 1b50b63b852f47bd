"""API plumbing shared by every app: pagination, the JSON error format, and the compact JSON
answer of the lean endpoints (the hot POSTs answered without DRF's request cycle)."""

import json

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


_DRF_CODES = {
    exceptions.NotAuthenticated: ("not_authenticated", status.HTTP_401_UNAUTHORIZED),
    exceptions.AuthenticationFailed: ("authentication_failed", status.HTTP_401_UNAUTHORIZED),
    exceptions.PermissionDenied: ("forbidden", status.HTTP_403_FORBIDDEN),
    exceptions.NotFound: ("not_found", status.HTTP_404_NOT_FOUND),
    exceptions.MethodNotAllowed: ("method_not_allowed", status.HTTP_405_METHOD_NOT_ALLOWED),
    exceptions.NotAcceptable: ("not_acceptable", status.HTTP_406_NOT_ACCEPTABLE),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    exceptions.Throttled: ("throttled", status.HTTP_429_TOO_MANY_REQUESTS),
    exceptions.ParseError: ("parse_error", status.HTTP_400_BAD_REQUEST),
}


def compact_json(data, status):
    """What DRF's JSONRenderer sends for `data` (compact, non-ASCII kept as UTF-8)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(body, status=status, content_type="application/json")


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: [str(item) for item in (value if isinstance(value, list) else [value])] for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {}


def exception_handler(exc, context):
    """Render every error as {code, message, fields}."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = {"code": "validation_failed", "message": _("Some fields are invalid."), "fields": fields}
        return response
    code, _status = next(
        ((c, s) for cls, (c, s) in _DRF_CODES.items() if isinstance(exc, cls)),
        (getattr(exc, "default_code", "error"), response.status_code),
    )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"code": code, "message": str(detail), "fields": {}}
    return response


def not_found(request, exception=None):
    """handler404: JSON in the error format under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": _("Not found."), "fields": {}}, status=404)
    return page_not_found(request, exception)


# --- OpenAPI ----------------------------------------------------------------------------
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a machine code, a message for people and the fields at fault.",
    "properties": {
        "code": {"type": "string", "example": "validation_failed"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["code", "message", "fields"],
}
ERROR_RESPONSES = {
    "400": "Invalid input; `fields` names each field at fault.",
    "401": "Not signed in (send `Authorization: Token <key>`).",
    "403": "Your role, department or scope does not allow this.",
    "404": "Not found, or not visible to you.",
    "409": "Not allowed in the current state, or the record changed since you read it.",
    "415": "Unsupported content type of the request body.",
    "429": "Too many requests (e.g. sign-in lockout).",
}
_BODY_METHODS = {"post", "put", "patch"}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error format to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"schema": {"$ref": "#/components/schemas/Error"}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            # Errors come out of the operation's own renderers (e.g. application/geo+json).
            media_types = _success_media_types(responses) or ["application/json"]
            for code, description in ERROR_RESPONSES.items():
                if code in ("409", "415") and method not in _BODY_METHODS:
                    continue
                response = responses.setdefault(code, {"description": description})
                response.setdefault("content", {media_type: error for media_type in media_types})
    return result


def _success_media_types(responses):
    for code, response in responses.items():
        if str(code).startswith("2") and response.get("content"):
            return list(response["content"])
    return []

