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
    refused = _first_refused_character(value, multiline)
    if refused is not None:
        if refused in "\n\r":
            raise ValidationFailed.field(field, _("Must be a single line."), code="multiline")
        raise ValidationFailed.field(field, _("Contains control characters."), code="control_characters")
    if _TAG.search(value):
        raise ValidationFailed.field(field, _("HTML markup is not allowed."), code="html_not_allowed")
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed.field(
            field, _("At most %(n)d characters.") % {"n": max_length}, code="too_long"
        )
    return value


def _first_refused_character(value, multiline):
    """The first control or format character (Unicode Cc, Cf) other than newline, tab and
    carriage return in `value` (with `multiline` false, newlines count too), or None.

    One regular-expression search instead of a unicodedata lookup per character (intake
    runs this on every text field of every report). The Basic Multilingual Plane's refused
    characters are listed once from unicodedata; the few beyond it are checked one by one,
    only in text that has any character beyond it."""
    pattern = _REFUSED_MULTILINE if multiline else _REFUSED_SINGLE_LINE
    found = pattern.search(value)
    position = found.start() if found else len(value)
    astral = _ASTRAL.search(value, 0, position)
    while astral is not None:
        if unicodedata.category(astral.group()) in _REFUSED_CATEGORIES:
            return astral.group()
        astral = _ASTRAL.search(value, astral.end(), position)
    return found.group() if found else None


_REFUSED_CATEGORIES = {"Cc", "Cf"}


def _refused_patterns():
    """(multi-line pattern, single-line pattern) from one pass over the plane."""
    refused = [
        chr(code) for code in range(0x10000) if unicodedata.category(chr(code)) in _REFUSED_CATEGORIES
    ]

    def pattern(allowed):
        return re.compile("[" + "".join(re.escape(char) for char in refused if char not in allowed) + "]")

    return pattern(_ALLOWED_CONTROLS), pattern({"\t"})  # single line: newline and CR refused too


_REFUSED_MULTILINE, _REFUSED_SINGLE_LINE = _refused_patterns()
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
