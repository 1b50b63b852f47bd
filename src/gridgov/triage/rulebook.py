"""The keyword rulebook: a 小类 scores the summed length of its keywords found in the text.

Keywords of a 小类: its name, catalog.Category.keywords, and the colloquial words in
data/rulebook.json. Longer words are more specific, so they weigh more. The confidence is
the 小类's share of all scores plus a constant for "none of these" (`UNSURE`), so a single
short match never claims certainty.
"""

import json
import time
from functools import cache
from pathlib import Path

from django.db.models.signals import post_delete, post_save

from gridgov.catalog.models import Category

DATA_PATH = Path(__file__).parent / "data" / "rulebook.json"
UNSURE = 2.0
CACHE_SECONDS = 60.0


@cache
def extra_keywords():
    """{(kind, code): [word, ...]} from the data file."""
    data = json.loads(DATA_PATH.read_text(encoding="utf-8"))["keywords"]
    return {tuple(key.split(":", 1)): words for key, words in data.items()}


def keywords_of(category):
    words = {category.name}
    words.update(word.strip() for word in (category.keywords or "").replace("，", ",").split(",") if word.strip())
    words.update(extra_keywords().get((category.kind, category.code), ()))
    # A 小类 named 其他 ("other") must not match every text containing 其他.
    words.discard("其他")
    return sorted(words)


class _Table:
    """(category id, keywords) of every active 小类, rebuilt at most once a minute."""

    def __init__(self):
        self.rows, self.expires = [], 0.0

    def get(self):
        if time.monotonic() >= self.expires:
            categories = Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
            self.rows = [(category.pk, keywords_of(category)) for category in categories]
            self.expires = time.monotonic() + CACHE_SECONDS
        return self.rows

    def clear(self):
        self.expires = 0.0


table = _Table()


def score(text, keywords):
    return float(sum(len(word) for word in keywords if word and word in text))


def rank(text, k=3):
    """[(category id, confidence)] of the best `k` 小类 whose keywords occur in `text`."""
    scores = [(category_id, score(text, words)) for category_id, words in table.get()]
    scores = [(category_id, value) for category_id, value in scores if value > 0]
    if not scores:
        return []
    total = sum(value for _id, value in scores) + UNSURE
    scores.sort(key=lambda item: (-item[1], item[0]))
    return [(category_id, value / total) for category_id, value in scores[:k]]


def _clear(**kwargs):
    table.clear()


post_save.connect(_clear, sender=Category, dispatch_uid="triage_rulebook_save")
post_delete.connect(_clear, sender=Category, dispatch_uid="triage_rulebook_delete")
