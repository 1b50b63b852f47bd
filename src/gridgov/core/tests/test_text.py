"""clean_text refuses exactly what a character-by-character check refuses, in the same order."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov.core.errors import ValidationFailed
from gridgov.core.text import clean_text


def reference_refusal(value, multiline):
    """The check as first written: one unicodedata lookup per character."""
    for char in value:
        if unicodedata.category(char) in {"Cc", "Cf"} and char not in {"\n", "\t", "\r"}:
            return "control_characters"
        if not multiline and char in "\n\r":
            return "multiline"
    return None


def refusal(value, multiline):
    try:
        clean_text(value, "field", multiline=multiline)
    except ValidationFailed as failure:
        return failure.code
    return None


# Text with the characters that matter over-represented: controls, format characters
# (including ones beyond the Basic Multilingual Plane), newlines, Chinese and emoji.
SPECIAL = st.sampled_from(["\n", "\r", "\t", "\x00", "\x0b", "\x7f", "\x85", "\u200b", "\u202e", "\ufeff",
                           "\U000110bd", "\U000e0001", "\U0001f600", "垃", "a", " "])
TEXT = st.lists(st.one_of(SPECIAL, st.characters()), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(value=TEXT, multiline=st.booleans())
def test_the_same_characters_are_refused_with_the_same_error(value, multiline):
    value = unicodedata.normalize("NFC", value).strip()
    assert refusal(value, multiline) == reference_refusal(value, multiline)


@pytest.mark.parametrize(
    "value, multiline, code",
    [
        ("路灯\n不亮", True, None),
        ("路灯\n不亮", False, "multiline"),
        ("路灯\r\n不亮", False, "multiline"),
        ("a\n\x00", False, "multiline"),  # the first refused character decides
        ("a\x00\n", False, "control_characters"),
        ("垃圾\u202e堆", True, "control_characters"),
        ("标签\U000e0041", True, "control_characters"),  # a format character beyond the BMP
        ("笑脸\U0001f600", True, None),
        ("tab\there", False, None),
    ],
)
def test_examples(value, multiline, code):
    assert refusal(value, multiline) == code
