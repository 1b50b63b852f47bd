"""Strings whose msgid another app translates differently keep their own meaning.

Django merges every app's zh_Hans catalogue into one, and the app listed first in
INSTALLED_APPS wins a shared msgid: proactive's "Place" (地点, a noun) came out as the cases
app's "确定定位" (the verb of manual placement), supervision's whistle "closed" (已结束) as the
screen's "结案数". Such strings carry a context; these tests render the template lines.
"""

from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

import gridgov

ROOT = Path(gridgov.__file__).parent


def template_line(relative, needle):
    """The line of an app template that contains `needle`, with the template's i18n library."""
    for line in (ROOT / relative).read_text(encoding="utf-8").splitlines():
        if needle in line:
            return "{% load i18n %}" + line
    raise AssertionError(f"{needle!r} not in {relative}")


@pytest.mark.parametrize(
    ("relative", "needle", "context", "expected", "wrong"),
    [
        ("proactive/templates/proactive/hot_topics.html", "rows=report.new_hot_spots", {"report": {}}, "地点", "确定定位"),
        ("supervision/templates/supervision/_case_panel.html", "whistle.closed_at", {"whistle": {"closed_at": 1}}, "已结束", "结案数"),
    ],
)
def test_shared_msgid_keeps_its_meaning(relative, needle, context, expected, wrong):
    source = template_line(relative, needle)
    # hot_topics.html's line only assigns the title; show it instead of including the rows.
    source = source.split("{% include", 1)[0] + ("{{ title }}" if "as title" in source else "")
    with translation.override("zh-hans"):
        html = Template(source + ("{% endif %}" * (source.count("{% if") - source.count("{% endif"))))
        html = html.render(Context(context))
    assert expected in html and wrong not in html
