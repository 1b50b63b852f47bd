"""No catalogue entry is left fuzzy: compilemessages drops fuzzy entries, so their text shows
in English (and their suggested translation was guessed from a different msgid)."""

from pathlib import Path

from django.utils import translation

import gridgov

CATALOGUES = sorted(Path(gridgov.__file__).parent.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))


def fuzzy_entries(path):
    entries = path.read_text(encoding="utf-8").split("\n\n")[1:]  # the header may be fuzzy
    return [entry for entry in entries if "#, fuzzy" in entry]


def test_the_catalogues_are_found():
    assert len(CATALOGUES) >= 10


def test_no_catalogue_entry_is_fuzzy():
    found = {path.parts[-5]: len(fuzzy_entries(path)) for path in CATALOGUES if fuzzy_entries(path)}
    assert found == {}


def test_merge_texts_are_chinese():
    with translation.override("zh-hans"):
        assert translation.gettext("merged at") == "合并时间"
        merged = translation.gettext("Case %(number)s cannot be merged: its status is “%(status)s”.")
    assert merged % {"number": "2026112900001", "status": "已结案"} == "案件 2026112900001 不能合并：当前状态为“已结案”。"
