"""Smart dispatch: suggest the 小类 and the department from the complaint text.

A linear model (jieba tokens → TF-IDF → SGDClassifier with log loss, so it gives
probabilities) is trained on the platform's own closed cases and stored in the database
(triage.ClassifierModel: version, trained_at, n_samples, held-out accuracy, the pickled
pipeline). A new install, or one with fewer than `min_training_cases` closed cases, uses the
keyword rulebook instead (gridgov.triage.rulebook); so does a model whose best guess is
below `min_confidence`, when the rulebook recognises the text.

The department of a suggestion combines the 小类's default department with where the
centre actually dispatched such cases during the last year.
"""

import io
import logging
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

import jieba
import joblib
import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from gridgov.catalog.models import Category
from gridgov.cases.models import Case, Status
from gridgov.org.models import Department

from . import rulebook
from .models import ClassifierModel

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

DEFAULTS = {
    "min_training_cases": 200,  # fewer closed cases: the rulebook answers
    "min_confidence": 0.15,  # a weaker best guess from the model: the rulebook, if it knows better
    "test_fraction": 0.2,  # the newest share of cases held out for the accuracy figures
    "department_history_days": 365,
    "default_department_weight": 0.5,  # the rest goes to where such cases were dispatched
    "retrain_hour": 2,  # the scheduled task retrains daily at this local hour
    "rules_weight": 0.3,  # share of the rulebook in the model's answer (0: the model alone)
}
TOP_K = 3
RULES_CONSIDERED = 10


def option(name):
    return getattr(settings, "GRIDGOV_TRIAGE", {}).get(name, DEFAULTS[name])


# -- text ------------------------------------------------------------------------------------
_PUNCTUATION = set("，。！？、；：“”‘’（）《》【】…—,.!?;:'\"()[]{}<>/\\|-_=+*&^%$#@~` \t\r\n")


def tokenize(text):
    """jieba words without punctuation and whitespace (module level: the pickled model needs it)."""
    return [word for word in jieba.lcut(text or "") if word.strip() and not set(word) <= _PUNCTUATION]


def build_pipeline(random_state=0):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    vectorizer = TfidfVectorizer(
        tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2), sublinear_tf=True, min_df=1
    )
    model = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, tol=1e-4, random_state=random_state)
    return make_pipeline(vectorizer, model)


# -- training --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    text: str
    category_id: int
    at: object = None


def closed_case_samples(until=None):
    """(text, 小类) of every closed case with a 小类, oldest first."""
    rows = Case.objects.filter(status=Status.CLOSED, category__isnull=False, category__parent__isnull=False)
    if until is not None:
        rows = rows.filter(closed_at__lte=until)
    rows = rows.order_by("created_at", "id").values_list("description", "category_id", "created_at")
    return [Sample(text, category_id, at) for text, category_id, at in rows.iterator(chunk_size=5000)]


def split_by_time(samples, test_fraction):
    """Train on the older cases, test on the newer ones (what the model will face)."""
    ordered = sorted(samples, key=lambda sample: (sample.at is None, sample.at))
    cut = int(round(len(ordered) * (1 - test_fraction)))
    return ordered[:cut], ordered[cut:]


def top_k_accuracy(probabilities, classes, truth, k):
    """Share of `truth` found among the k most probable `classes` (an unseen class is a miss)."""
    if not len(truth):
        return None
    best = np.argsort(-probabilities, axis=1)[:, :k]
    hits = sum(1 for row, label in zip(best, truth) if label in set(classes[row]))
    return hits / len(truth)


def evaluate(pipeline, samples, *, with_rules=True):
    """(top-1, top-3) accuracy on `samples`: the answer `suggest` gives (the model mixed with
    the rulebook), or the bare model with `with_rules=False`."""
    truth = [sample.category_id for sample in samples]
    if not with_rules:
        probabilities = pipeline.predict_proba([sample.text for sample in samples])
        classes = pipeline.classes_
        return top_k_accuracy(probabilities, classes, truth, 1), top_k_accuracy(probabilities, classes, truth, TOP_K)
    ranked = [[category_id for category_id, _score in blend(pipeline, sample.text)] for sample in samples]
    top1 = sum(1 for best, label in zip(ranked, truth) if best and best[0] == label) / len(truth)
    top3 = sum(1 for best, label in zip(ranked, truth) if label in best) / len(truth)
    return top1, top3


def fit(samples, random_state=0):
    pipeline = build_pipeline(random_state)
    pipeline.fit([sample.text for sample in samples], [sample.category_id for sample in samples])
    return pipeline


def train(samples=None, *, random_state=0, test_fraction=None, at=None):
    """Evaluate on a time split, refit on everything and store a new model version.

    Returns the ClassifierModel, or None when the cases name fewer than two 小类.
    """
    samples = closed_case_samples() if samples is None else list(samples)
    if len({sample.category_id for sample in samples}) < 2:
        return None
    train_part, test_part = split_by_time(samples, option("test_fraction") if test_fraction is None else test_fraction)
    accuracy = top3 = None
    if test_part and len({sample.category_id for sample in train_part}) >= 2:
        accuracy, top3 = evaluate(fit(train_part, random_state), test_part)
    pipeline = fit(samples, random_state)
    return _store(pipeline, len(samples), accuracy, top3, len(test_part), at or timezone.now())


def _store(pipeline, n_samples, accuracy, top3, n_test, at):
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    with transaction.atomic():
        latest = ClassifierModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        return ClassifierModel.objects.create(
            version=latest + 1,
            trained_at=at,
            n_samples=n_samples,
            n_classes=len(pipeline.classes_),
            accuracy=accuracy,
            top3_accuracy=top3,
            n_test=n_test,
            blob=buffer.getvalue(),
        )


# -- the model in use ------------------------------------------------------------------------
class _Loaded:
    """The newest stored model, unpickled once per process and version."""

    def __init__(self):
        self.lock = threading.Lock()
        self.version = None
        self.record = None
        self.pipeline = None

    def get(self):
        record = ClassifierModel.objects.defer("blob").order_by("-version").first()
        if record is None:
            return None, None
        with self.lock:
            if record.version != self.version:
                blob = ClassifierModel.objects.filter(pk=record.pk).values_list("blob", flat=True).get()
                self.pipeline = joblib.load(io.BytesIO(bytes(blob)))
                self.version, self.record = record.version, record
            return self.record, self.pipeline


_loaded = _Loaded()


def current_model():
    """(ClassifierModel without its blob, pipeline) of the newest version, or (None, None)."""
    return _loaded.get()


# -- suggestions -----------------------------------------------------------------------------
@dataclass
class Suggestion:
    category: Category
    confidence: float
    source: str  # "model" | "rules"
    department: Department | None = None
    department_confidence: float = 0.0


def suggest(text, k=TOP_K):
    """Up to `k` suggestions for `text`, best first, each with its department."""
    text = (text or "").strip()
    if not text:
        return []
    ranked, source = _model_ranking(text, k)
    if not ranked or ranked[0][1] < option("min_confidence"):
        by_rules = rulebook.rank(text, k)
        if by_rules:
            ranked, source = by_rules, "rules"
    categories = Category.objects.select_related("parent").in_bulk([category_id for category_id, _score in ranked])
    suggestions = [
        Suggestion(categories[category_id], round(float(score), 4), source)
        for category_id, score in ranked
        if category_id in categories and categories[category_id].is_active
    ]
    _add_departments(suggestions)
    return suggestions


def _model_ranking(text, k):
    record, pipeline = current_model()
    if record is None or record.n_samples < option("min_training_cases"):
        return [], "rules"
    return blend(pipeline, text, k), "model"


def blend(pipeline, text, k=TOP_K):
    """The model's probabilities mixed with the rulebook's confidences (weight `rules_weight`).

    The catalogue's keywords know phrasings the training cases never used: on texts in an
    unseen phrasing the mix beats both the model and the rulebook alone (bench/classifier.py).
    """
    weight = option("rules_weight")
    probabilities = pipeline.predict_proba([text])[0]
    scores = {int(label): (1 - weight) * float(p) for label, p in zip(pipeline.classes_, probabilities)}
    for category_id, confidence in rulebook.rank(text, RULES_CONSIDERED):
        scores[category_id] = scores.get(category_id, 0.0) + weight * confidence
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


def department_shares(category_ids, now=None):
    """{category id: Counter(department id → share)} of dispatches in the history window."""
    since = (now or timezone.now()) - timedelta(days=option("department_history_days"))
    rows = (
        Case.objects.filter(category_id__in=category_ids, department__isnull=False, created_at__gte=since)
        .values_list("category_id", "department_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = defaultdict(Counter)
    for category_id, department_id, n in rows:
        counts[category_id][department_id] += n
    shares = {}
    for category_id, counter in counts.items():
        total = sum(counter.values())
        shares[category_id] = Counter({department: n / total for department, n in counter.items()})
    return shares


def combine_department(default_department_id, shares):
    """(department id, confidence): the default department weighted against the history."""
    weight = option("default_department_weight")
    scores = Counter()
    if default_department_id:
        scores[default_department_id] += weight if shares else 1.0
    for department_id, share in (shares or {}).items():
        scores[department_id] += (1 - weight if default_department_id else 1.0) * share
    if not scores:
        return None, 0.0
    department_id, score = max(scores.items(), key=lambda item: (item[1], item[0] == default_department_id))
    return department_id, round(score, 4)


def _add_departments(suggestions):
    if not suggestions:
        return
    shares = department_shares([s.category.pk for s in suggestions])
    chosen = []
    for suggestion in suggestions:
        category = suggestion.category
        default = category.default_department_id or (category.parent.default_department_id if category.parent else None)
        chosen.append(combine_department(default, shares.get(category.pk)))
    active = Department.objects.filter(pk__in=[d for d, _c in chosen if d], is_active=True).in_bulk()
    for suggestion, (department_id, confidence) in zip(suggestions, chosen):
        suggestion.department = active.get(department_id)
        suggestion.department_confidence = confidence if suggestion.department else 0.0


# -- hints for the dispatcher's forms --------------------------------------------------------
def format_suggestions(suggestions):
    """"暴露垃圾 62% · 积存垃圾渣土 20%" for a form's help text."""
    return " · ".join(f"{item.category.name} {round(item.confidence * 100)}%" for item in suggestions)


def category_hint(text):
    """(the best 小类's pk or None, a help text listing the top 3 with confidences)."""
    found = suggest(text)
    if not found:
        return None, ""
    return found[0].category.pk, format_suggestions(found)


def department_hint(category):
    """(department pk or None, its confidence) for a case of `category`: default and history."""
    if category is None:
        return None, 0.0
    default = category.default_department_id or (category.parent.default_department_id if category.parent_id else None)
    department_id, confidence = combine_department(default, department_shares([category.pk]).get(category.pk))
    if department_id and not Department.objects.filter(pk=department_id, is_active=True).exists():
        return None, 0.0
    return department_id, confidence
