"""A clock's "Normal" is 正常; the bare msgid "Normal" collides with the priority 普通."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from gridgov.cases.models import ClockState
from gridgov.cases.tests.ui_fixtures import clerk, login  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_map_legend_says_normal_as_a_clock_state(clerk, login):
    html = login(clerk).get(reverse("web:map"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    legend = re.search(r'<i class="dot dot--normal"></i>([^<]*)</span>', html)
    assert legend and legend.group(1) == "正常"
    assert "普通" not in html


def test_clock_state_labels_are_clock_words():
    with translation.override("zh-hans"):
        assert str(ClockState.NORMAL.label) == "正常"
        assert translation.pgettext("clock state", "Normal") == "正常"
