"""Domain errors: every refusal carries a machine code, a message for people and the fields.

Services raise these; the API turns them into JSON {code, message, fields} with the status
below, and the UI shows the message beside the named field.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    default_code = "invalid"
    default_message = _("The request is invalid.")

    def __init__(self, message=None, *, code=None, fields=None):
        self.code = code or self.default_code
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        super().__init__(str(self.message))

    def as_dict(self):
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {name: [str(m) for m in _as_list(msgs)] for name, msgs in self.fields.items()},
        }


def _as_list(value):
    return value if isinstance(value, (list, tuple)) else [value]


class ValidationFailed(DomainError):
    status = 400
    default_code = "validation_failed"
    default_message = _("Some fields are invalid.")

    @classmethod
    def field(cls, name, message, code=None):
        """Shortcut for the common case of one bad field."""
        return cls(message, code=code or cls.default_code, fields={name: [message]})


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"
    default_message = _("You may not do this.")


class NotFound(DomainError):
    status = 404
    default_code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    status = 409
    default_code = "conflict"
    default_message = _("The record changed; reload and try again.")


class IllegalTransition(Conflict):
    default_code = "illegal_transition"
    default_message = _("This action is not allowed in the current status.")
