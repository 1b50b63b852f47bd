"""Logging filters named in settings.LOGGING."""

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """A refused or missing page (403, 404 and other 4xx) logs one line, not a traceback.

    Django's request handler logs these with the exception attached, so every denied page
    printed a full stack into the server log (the demo's log was mostly such stacks). The
    line keeps the status and path; server errors (5xx) keep their traceback.
    """

    def filter(self, record):
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
