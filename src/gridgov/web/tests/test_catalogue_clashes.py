"""No two apps translate the same (msgctxt, msgid) differently.

Django merges every app's zh_Hans catalogue into one, and the app listed first in
INSTALLED_APPS wins a shared msgid: 12345's reply status "Pending" (待发送) came out as
the cases app's request status 待审批, a supervision order's "Replied" (已回复) as the
hotline's 已反馈, an assessment score (得分) as a video detection's 置信度. A string that
means something else in another app carries a context (pgettext_lazy / {% translate ...
context ... %}); synonyms use one wording everywhere. These tests read the .po files
(and check the committed .mo files say the same), then look at a few labels and template
lines in Chinese.
"""

import ast
import gettext
import re
from collections import defaultdict
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

import gridgov

ROOT = Path(gridgov.__file__).parent
CATALOGUES = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))
KEYWORD = re.compile(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def parse_po(path):
    """The entries of a .po file: {"ctxt", "id", "plural", "strs": {index: text}, "flags"}.

    Enough of the format for what makemessages writes; obsolete (#~) entries are skipped.
    """
    entries = []
    entry, last = None, None

    def fresh():
        return {"ctxt": None, "id": None, "plural": None, "strs": {}, "flags": set()}

    entry = fresh()
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry["id"] is not None:
                entries.append(entry)
            entry, last = fresh(), None
        elif line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := KEYWORD.match(line):
            keyword, index, literal = match.groups()
            value = ast.literal_eval(literal)
            if keyword.startswith("msgstr"):
                last = ("strs", int(index or 0))
                entry["strs"][last[1]] = value
            else:
                last = {"msgctxt": "ctxt", "msgid": "id", "msgid_plural": "plural"}[keyword]
                entry[last] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(last, tuple):
                entry["strs"][last[1]] += value
            else:
                entry[last] += value
        else:
            raise AssertionError(f"{path}: cannot read {raw!r}")
    return entries


def translated(path):
    """{(msgctxt, msgid, msgid_plural): msgstrs} of the entries gettext uses (not fuzzy, not empty)."""
    result = {}
    for entry in parse_po(path):
        strs = tuple(text for _, text in sorted(entry["strs"].items()))
        if entry["id"] == "" or "fuzzy" in entry["flags"] or not all(strs):
            continue
        result[(entry["ctxt"], entry["id"], entry["plural"])] = strs
    return result


def app_of(path):
    return path.relative_to(ROOT).parts[0]


def test_every_app_has_a_catalogue():
    assert len(CATALOGUES) >= 16 and {"cases", "hotline", "supervision", "web"} <= {app_of(p) for p in CATALOGUES}


def test_no_msgid_is_translated_differently_by_two_apps():
    seen = defaultdict(dict)
    for path in CATALOGUES:
        for key, strs in translated(path).items():
            seen[key][app_of(path)] = strs
    clashes = []
    for (ctxt, msgid, _plural), by_app in sorted(seen.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        if len(set(by_app.values())) > 1:
            wordings = "; ".join(f"{app}: {' | '.join(strs)}" for app, strs in by_app.items())
            clashes.append(f"  ({ctxt!r}, {msgid!r}) → {wordings}")
    assert not clashes, (
        "These strings are translated differently by several apps; in the merged catalogue only the first "
        "app in INSTALLED_APPS wins. Use one wording, or give the different meaning a context "
        "(pgettext_lazy / {% translate ... context ... %}):\n" + "\n".join(clashes)
    )


@pytest.mark.parametrize("path", CATALOGUES, ids=app_of)
def test_compiled_catalogue_matches_the_po(path):
    """The committed .mo says what the .po says (run `make messages` after editing a .po)."""
    with open(path.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for (ctxt, msgid, plural), strs in translated(path).items():
        key = msgid if ctxt is None else f"{ctxt}\x04{msgid}"
        if plural is None:
            expected[key] = strs[0]
        else:
            expected.update({(key, index): text for index, text in enumerate(strs)})
    compiled = {key: text for key, text in compiled.items() if key != ""}
    assert compiled == expected


def field(model, name):
    return model._meta.get_field(name).verbose_name


def labels():
    """(what, its label, the word it showed when another app's msgid won)."""
    from gridgov.assessment.models import AssessmentRule, ScoreLine
    from gridgov.callbacks.models import Callback
    from gridgov.cases.models import Case
    from gridgov.catalog.models import Priority
    from gridgov.hotline.models import HotlineReply, ReplyStatus, Urgency
    from gridgov.metrics.views import PART_LABELS
    from gridgov.open311.models import ApiKey
    from gridgov.screen.models import MonthlyIndicator
    from gridgov.supervision.models import Order, OrderStatus, Whistle
    from gridgov.video.models import Alarm, AlarmRule
    from gridgov.web.models import PatrolTrack

    return {
        "hotline reply status Pending": (ReplyStatus.PENDING.label, "待发送", "待审批"),
        "hotline urgency Normal": (Urgency.NORMAL.label, "一般", "普通"),
        "priority Normal": (Priority.NORMAL.label, "普通", "一般"),
        "supervision order Replied": (OrderStatus.REPLIED.label, "已回复", "已反馈"),
        "metrics Cases": (PART_LABELS["cases"], "案件数", "事件"),
        "metrics Closed": (PART_LABELS["closed"], "已结案", "结案"),
        "score sheet score": (field(ScoreLine, "score"), "得分", "置信度"),
        "alarm score": (field(Alarm, "score"), "置信度", "得分"),
        "rule points": (field(AssessmentRule, "points"), "分值", "轨迹点"),
        "patrol points": (field(PatrolTrack, "points"), "轨迹点", "分值"),
        "indicator key": (field(MonthlyIndicator, "key"), "指标代码", "密钥"),
        "open311 key": (field(ApiKey, "key"), "密钥", "指标代码"),
        "hotline reply key": (field(HotlineReply, "key"), "唯一键", "指标代码"),
        "hotline reply order": (field(HotlineReply, "order"), "工单", "顺序"),
        "alarm rule order": (field(AlarmRule, "order"), "顺序", "工单"),
        "supervision order model": (Order._meta.verbose_name, "催督办", "工单"),
        "indicator label": (field(MonthlyIndicator, "label"), "名称", "标签"),
        "alarm rule label": (field(AlarmRule, "label"), "标签", "名称"),
        "alarm label": (field(Alarm, "label"), "标签", "名称"),
        "alarm rule action": (field(AlarmRule, "action"), "处理方式", "操作"),
        "callback due at": (field(Callback, "due_at"), "应回访时间", "截止时间"),
        "case created at": (field(Case, "created_at"), "登记时间", "创建时间"),
        "reply created at": (field(HotlineReply, "created_at"), "创建时间", "登记时间"),
        "supervision reply due at": (field(Order, "reply_due_at"), "回复期限", "反馈时限"),
        "whistle closed at": (field(Whistle, "closed_at"), "结束时间", "结案时间"),
    }


LABEL_NAMES = [
    "hotline reply status Pending", "hotline urgency Normal", "priority Normal", "supervision order Replied",
    "metrics Cases", "metrics Closed", "score sheet score", "alarm score", "rule points", "patrol points",
    "indicator key", "open311 key", "hotline reply key", "hotline reply order", "alarm rule order",
    "supervision order model", "indicator label", "alarm rule label", "alarm label", "alarm rule action",
    "callback due at", "case created at", "reply created at", "supervision reply due at", "whistle closed at",
]


def test_label_list_is_complete():
    assert sorted(labels()) == sorted(LABEL_NAMES)


@pytest.mark.parametrize("name", LABEL_NAMES)
def test_shared_msgid_label_reads_as_its_app_meant(name):
    label, expected, wrong = labels()[name]
    with translation.override("zh-hans"):
        assert str(label) == expected != wrong


def template_line(relative, needle):
    for line in (ROOT / relative).read_text(encoding="utf-8").splitlines():
        if needle in line:
            return "{% load i18n %}" + line.strip()
    raise AssertionError(f"{needle!r} not in {relative}")


@pytest.mark.parametrize(
    ("relative", "needle", "expected", "wrong"),
    [
        ("metrics/templates/metrics/overview.html", "sort=cases", "案件数", "事件"),
        ("metrics/templates/metrics/cases.html", '"Registered"', "登记时间", "登记<"),
        ("cases/templates/cases/detail.html", '"Supervision"', "督办意见", "督查督办"),
        ("supervision/templates/supervision/index.html", '"Reply due"', "回复期限", "反馈时限"),
    ],
)
def test_template_line_reads_as_its_app_meant(relative, needle, expected, wrong):
    source = template_line(relative, needle)
    source += "{% endif %}" * (source.count("{% if") - source.count("{% endif"))
    source += "{% endfor %}" * (source.count("{% for") - source.count("{% endfor"))
    with translation.override("zh-hans"):
        html = Template(source).render(Context({"case": {"supervision_note": "请加快"}, "query": ""}))
    assert expected in html and wrong not in html
