"""The dispatch classifier: training on a small synthetic corpus, the time split, the stored
model, the rulebook fallback, department suggestions, the command and the task."""

import datetime as dt
import random

import pytest
from django.core.management import call_command
from django.utils import timezone

from gridgov.cases import services
from gridgov.cases.models import Status
from gridgov.triage import classifier, rulebook
from gridgov.triage.classifier import Sample, combine_department, split_by_time, suggest, top_k_accuracy, train
from gridgov.triage.models import ClassifierModel
from gridgov.triage.tasks import TASK_PATH, next_run, retrain_classifier, schedule_retraining

from .conftest import MONDAY_9

pytestmark = pytest.mark.django_db

PLACES = ["幸福小区", "东风路", "南村街道办", "菜市场门口", "三号楼", "公交站旁", "学校东门", "滨河公园"]
TEXTS = {
    "garbage": ["{p}垃圾桶满溢没人清理", "{p}有生活垃圾散落有异味", "{p}垃圾袋堆在地上好几天"],
    "building": ["{p}有人在楼顶搭建彩钢棚", "{p}一楼住户私自扩建院墙", "{p}违法加盖房屋"],
    "water": ["{p}自来水管破裂路面冒水", "{p}地下水管爆管大量漏水", "{p}供水管道破了水流到马路上"],
}


def corpus(categories, per_class=30, seed=7):
    rng = random.Random(seed)
    samples = []
    for name, templates in TEXTS.items():
        category = getattr(categories, name)
        for i in range(per_class):
            text = rng.choice(templates).format(p=rng.choice(PLACES))
            samples.append(Sample(text, category.pk, MONDAY_9 + dt.timedelta(minutes=rng.randrange(100_000))))
    return samples


@pytest.fixture
def few_needed(settings):
    settings.GRIDGOV_TRIAGE = {"min_training_cases": 10}


def test_training_stores_a_versioned_model_that_predicts(categories, few_needed):
    model = train(corpus(categories), random_state=0, at=MONDAY_9)
    assert (model.version, model.n_samples, model.n_classes, model.trained_at) == (1, 90, 3, MONDAY_9)
    assert model.n_test == 18 and 0.9 <= model.accuracy <= 1 and model.top3_accuracy == 1.0
    found = suggest("学校门口垃圾桶满溢了")
    assert [s.source for s in found] == ["model"] * 3
    assert found[0].category == categories.garbage and found[0].confidence > found[1].confidence
    assert suggest("路上水管破裂在冒水")[0].category == categories.water
    assert train(corpus(categories), random_state=0).version == 2  # a new version, the old one kept
    assert ClassifierModel.objects.count() == 2


def test_training_is_deterministic_with_a_random_state(categories, few_needed):
    first = train(corpus(categories), random_state=3)
    probabilities = classifier.current_model()[1].predict_proba(["东风路楼顶搭建彩钢棚"])
    second = train(corpus(categories), random_state=3)
    assert (first.accuracy, first.top3_accuracy) == (second.accuracy, second.top3_accuracy)
    assert (classifier.current_model()[1].predict_proba(["东风路楼顶搭建彩钢棚"]) == probabilities).all()


def test_the_split_trains_on_older_cases_and_tests_on_newer(categories):
    samples = corpus(categories)
    older, newer = split_by_time(samples, 0.2)
    assert len(newer) == 18 and max(s.at for s in older) <= min(s.at for s in newer)


def test_top_k_counts_a_class_the_model_never_saw_as_a_miss():
    import numpy as np

    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    classes = np.array([10, 20, 30])
    assert top_k_accuracy(probabilities, classes, [10, 99], 1) == 0.5
    assert top_k_accuracy(probabilities, classes, [20, 30], 1) == 0.5
    assert top_k_accuracy(probabilities, classes, [20, 30], 2) == 1.0


def test_one_class_is_not_enough_to_train(categories):
    samples = [s for s in corpus(categories) if s.category_id == categories.garbage.pk]
    assert train(samples) is None and not ClassifierModel.objects.exists()


def test_a_new_install_answers_from_the_rulebook(categories):
    categories.building.keywords = "蓝色铁皮房,扩建"
    categories.building.save()
    found = suggest("三号楼楼顶又搭了个蓝色铁皮房")
    assert found[0].category == categories.building and found[0].source == "rules"
    assert 0 < found[0].confidence < 1
    assert suggest("今天天气不错") == []


def test_the_rulebook_data_file_adds_colloquial_words():
    assert "满溢" in rulebook.extra_keywords()[("event", "0102")]
    found = suggest("楼下垃圾桶满溢，异味很大")  # standard catalogue, no model yet
    assert found[0].category.name == "暴露垃圾" and found[0].source == "rules"


def test_too_few_training_cases_keep_the_rulebook(categories, settings):
    train(corpus(categories, per_class=5))
    settings.GRIDGOV_TRIAGE = {"min_training_cases": 100}
    categories.garbage.keywords = "垃圾桶"
    categories.garbage.save()
    assert suggest("幸福小区垃圾桶满溢没人清理")[0].source == "rules"
    settings.GRIDGOV_TRIAGE = {"min_training_cases": 10}
    assert suggest("幸福小区垃圾桶满溢没人清理")[0].source == "model"


def test_an_unsure_model_gives_way_to_the_rulebook(categories, settings):
    train(corpus(categories))
    categories.water.keywords = "煤气"
    categories.water.save()
    settings.GRIDGOV_TRIAGE = {"min_training_cases": 10, "min_confidence": 0.99}
    assert suggest("闻到很重的煤气味")[0].source == "rules"
    settings.GRIDGOV_TRIAGE = {"min_training_cases": 10, "min_confidence": 0.0}
    assert suggest("闻到很重的煤气味")[0].source == "model"


def test_department_weighs_the_default_against_history():
    assert combine_department(1, None) == (1, 1.0)
    assert combine_department(None, {2: 1.0}) == (2, 1.0)
    assert combine_department(1, {1: 0.5, 2: 0.5}) == (1, 0.75)
    # Cases of the class went elsewhere nearly always: history outweighs the default.
    department, confidence = combine_department(1, {2: 1.0})
    assert department == 1 and confidence == 0.5  # a tie is settled for the default
    assert combine_department(1, {2: 0.9, 1: 0.1})[0] == 1
    assert combine_department(1, {3: 0.05, 2: 0.95}) == (1, 0.5)


def test_suggested_department_follows_the_dispatch_history(flow, staff, categories, department, other_department, few_needed):
    train(corpus(categories))
    assert suggest("学校门口垃圾桶满溢了")[0].department == department  # the 小类's default
    for minute in range(3):
        case = services.accept(flow.new(at=MONDAY_9 + dt.timedelta(minutes=minute)), staff.dispatcher)
        services.dispatch(case, staff.dispatcher, department=other_department)
    categories.garbage.default_department = None
    categories.garbage.save()
    top = suggest("学校门口垃圾桶满溢了")[0]
    assert top.department == other_department and top.department_confidence == 1.0


def test_the_command_trains_on_closed_cases(flow, staff, categories):
    flow.to(Status.CLOSED)
    flow.to(Status.CLOSED, category=categories.water, description="路上自来水管破裂")
    from io import StringIO

    out = StringIO()
    call_command("train-classifier", stdout=out)
    model = ClassifierModel.objects.get()
    assert model.n_samples == 2 and model.n_classes == 2
    assert "v1" in out.getvalue() and "rulebook" in out.getvalue()


def test_the_task_retrains_and_queues_its_next_run(flow, staff, categories, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    flow.to(Status.CLOSED)
    flow.to(Status.CLOSED, category=categories.water, description="路上自来水管破裂")
    assert retrain_classifier.call(reschedule=True) == {"version": 1, "n_samples": 2}
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get(task_path=TASK_PATH)
    assert queued.run_after > timezone.now() and timezone.localtime(queued.run_after).hour == 2
    assert queued.args_kwargs["kwargs"] == {"reschedule": True}
    assert schedule_retraining() is None  # one chain only
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1


def test_next_run_is_the_next_retrain_hour():
    assert next_run(MONDAY_9).hour == 2 and next_run(MONDAY_9).date() == dt.date(2026, 12, 1)
    one_am = MONDAY_9.replace(hour=1)
    assert next_run(one_am) == one_am.replace(hour=2)
