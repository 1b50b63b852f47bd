"""The table of demo logins, written to var/demo-logins.txt and printed by the seed."""

import unicodedata
from pathlib import Path

from django.conf import settings

from . import DEMO_PASSWORD

HEADER = ("username", "password", "role", "scope", "name")


def _width(text):
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width):
    return text + " " * (width - _width(text))


def format_logins(logins):
    """A plain aligned table; `logins` rows are (username, role in Chinese, scope, name)."""
    rows = [HEADER] + [(username, DEMO_PASSWORD, role, scope, name) for username, role, scope, name in logins]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def logins_path():
    return Path(settings.VAR_DIR) / "demo-logins.txt"


def write_logins(logins, path=None):
    path = Path(path) if path else logins_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = format_logins(logins)
    path.write_text(text, encoding="utf-8")
    return path, text
