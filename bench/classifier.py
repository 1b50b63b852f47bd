"""Benchmark: accuracy of the dispatch classifier (gridgov.triage.classifier).

Run from the repository root:  .venv/bin/python bench/classifier.py

A temporary SQLite database is migrated (the standard catalogue of 小类 comes with it).
Complaint texts are generated the way the demo seed writes them (gridgov.demo.texts and
gridgov.demo.places: a template per 小类 and a spoken place), with report times spread
over a year. Two held-out evaluations, both against the keyword rulebook (the fallback of
a new install) on the very same test texts:

A. time split: train on the oldest 80 % of the cases, test on the newest 20 %.
B. unseen phrasing: for every 小类 with at least two templates, one template never
   occurs in training; the test set is made of it only. This is the honest figure for
   templated texts: in A the test texts repeat the training templates with another place.

Figures: top-1 and top-3 accuracy, training time, prediction time per text (wall time on
this machine; the machine is shared, so the times are indicative).
"""

import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
WORKDIR = Path(tempfile.mkdtemp(prefix="gridgov-bench-classifier-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
os.environ["GRIDGOV_VAR"] = str(WORKDIR)
os.environ["DEBUG"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

N = int(os.environ.get("BENCH_CASES", 6000))
SEED = 20261128
START = datetime(2025, 11, 1, tzinfo=timezone.utc)


def subcategories():
    from gridgov.catalog.models import Category

    return list(Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent").order_by("kind", "code"))


def templates_of(category):
    from gridgov.demo import texts

    return list(texts.DESCRIPTIONS.get(category.name, texts.GENERIC))


def spoken_place(rng):
    from gridgov.demo.places import COMMUNITY_PLACES, place_in

    return place_in(rng, rng.choice(list(COMMUNITY_PLACES)))[1]


def text_from(rng, template, category):
    return template.format(place=spoken_place(rng), name=category.name, n=rng.randint(2, 12))


def demo_like_corpus(categories, rng):
    from gridgov.triage.classifier import Sample

    samples = []
    for _ in range(N):
        category = rng.choice(categories)
        at = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        samples.append(Sample(text_from(rng, rng.choice(templates_of(category)), category), category.pk, at))
    return samples


def unseen_phrasing_split(categories, rng):
    """(train, test): the last template of each 小类 with >= 2 templates is test-only."""
    from gridgov.triage.classifier import Sample

    train, test = [], []
    eligible = [c for c in categories if len(templates_of(c)) >= 2]
    for _ in range(N):
        category = rng.choice(categories)
        templates = templates_of(category)
        seen = templates[:-1] if category in eligible else templates
        train.append(Sample(text_from(rng, rng.choice(seen), category), category.pk))
    for category in eligible:
        for _ in range(10):
            test.append(Sample(text_from(rng, templates_of(category)[-1], category), category.pk))
    return train, test, len(eligible)


def rulebook_accuracy(samples):
    from gridgov.triage import rulebook

    top1 = top3 = 0
    for sample in samples:
        ranked = [category_id for category_id, _score in rulebook.rank(sample.text, 3)]
        top1 += bool(ranked) and ranked[0] == sample.category_id
        top3 += sample.category_id in ranked
    return top1 / len(samples), top3 / len(samples)


def model_accuracy(train, test):
    """(deployed: model + rulebook mix, bare model, training seconds, ms per suggestion)."""
    from gridgov.triage.classifier import blend, evaluate, fit

    started = time.perf_counter()
    pipeline = fit(train, random_state=0)
    train_seconds = time.perf_counter() - started
    deployed = evaluate(pipeline, test)
    bare = evaluate(pipeline, test, with_rules=False)
    started = time.perf_counter()
    for sample in test[:500]:
        blend(pipeline, sample.text)
    per_text_ms = (time.perf_counter() - started) / min(len(test), 500) * 1000
    return deployed, bare, train_seconds, per_text_ms


def report(title, n_train, n_test, model, rules):
    deployed, bare, train_seconds, per_text_ms = model
    print(f"\n{title}: {n_train} training texts, {n_test} test texts")
    print(f"  model+rules top-1 {deployed[0]:6.1%}   top-3 {deployed[1]:6.1%}   (as `suggest` answers; {per_text_ms:.2f} ms per text)")
    print(f"  model alone top-1 {bare[0]:6.1%}   top-3 {bare[1]:6.1%}   (training {train_seconds:.1f} s)")
    print(f"  rulebook    top-1 {rules[0]:6.1%}   top-3 {rules[1]:6.1%}   (baseline)")
    ratio = deployed[0] / rules[0] if rules[0] else float("inf")
    print(f"  ratio (model+rules)/rulebook, top-1: {ratio:.2f}")


def main():
    call_command("migrate", verbosity=0)
    from gridgov.triage.classifier import split_by_time

    categories = subcategories()
    print(f"{len(categories)} active 小类 in the standard catalogue; N = {N}")
    rng = random.Random(SEED)
    older, newer = split_by_time(demo_like_corpus(categories, rng), 0.2)
    report("A. demo-like texts, time split", len(older), len(newer), model_accuracy(older, newer), rulebook_accuracy(newer))
    train, test, eligible = unseen_phrasing_split(categories, rng)
    report(
        f"B. unseen phrasing ({eligible} 小类 with >= 2 templates)",
        len(train), len(test), model_accuracy(train, test), rulebook_accuracy(test),
    )


if __name__ == "__main__":
    main()
