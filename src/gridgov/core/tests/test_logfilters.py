"""The server log: a refused or missing page is one line; a server error keeps its traceback."""

import io
import logging

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.log import log_response

from gridgov.core.logfilters import RefusalsWithoutTraceback


def console_handler():
    """The root logger's console handler as settings.LOGGING configures it."""
    for handler in logging.getLogger().handlers:
        if any(isinstance(f, RefusalsWithoutTraceback) for f in handler.filters):
            return handler
    raise AssertionError("settings.LOGGING's console handler has no RefusalsWithoutTraceback filter")


def logged(status, error):
    """What the console handler writes for Django's request log of `status` raised by `error`."""
    handler = console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        try:
            raise error
        except Exception as raised:
            log_response(
                "Refused: %s", "/hotline/", response=HttpResponse(status=status),
                request=RequestFactory().get("/hotline/"), exception=raised,
            )
    finally:
        handler.setStream(previous)
    return stream.getvalue()


def test_a_refused_page_logs_one_line():
    output = logged(403, PermissionDenied("not for this role"))
    assert "Refused: /hotline/" in output
    assert "Traceback" not in output
    assert output.count("\n") == 1


def test_a_server_error_keeps_its_traceback():
    output = logged(500, RuntimeError("boom"))
    assert "Refused: /hotline/" in output
    assert "Traceback" in output and "RuntimeError: boom" in output
