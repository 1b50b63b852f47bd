"""Validation of free text that users and devices send."""

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_ALLOWED_CONTROLS = {"\n", "\t", "\r"}


def clean_text(value, field, *, max_length=None, required=False, multiline=True):
    """Return `value` stripped, or raise ValidationFailed naming `field`.

    HTML tags and control characters are refused rather than silently removed, so the
    sender learns that the text did not go through as written.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed.field(field, _("Must be text."), code="not_text")
    value = unicodedata.normalize("NFC", value).strip()
    if required and not value:
        raise ValidationFailed.field(field, _("This field is required."), code="required")
    for char in value:
        if unicodedata.category(char) in {"Cc", "Cf"} and char not in _ALLOWED_CONTROLS:
            raise ValidationFailed.field(field, _("Contains control characters."), code="control_characters")
        if not multiline and char in "\n\r":
            raise ValidationFailed.field(field, _("Must be a single line."), code="multiline")
    if _TAG.search(value):
        raise ValidationFailed.field(field, _("HTML markup is not allowed."), code="html_not_allowed")
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed.field(
            field, _("At most %(n)d characters.") % {"n": max_length}, code="too_long"
        )
    return value
