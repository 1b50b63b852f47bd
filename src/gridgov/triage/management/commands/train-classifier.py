"""gridgov train-classifier: train the dispatch classifier on the closed cases now."""

from django.core.management.base import BaseCommand

from gridgov.triage.classifier import option, train
from gridgov.triage.tasks import schedule_retraining


def percent(value):
    return "—" if value is None else f"{value * 100:.1f}%"


class Command(BaseCommand):
    help = "Train the 小类/department classifier on the closed cases and store a new version."

    def add_arguments(self, parser):
        parser.add_argument("--random-state", type=int, default=0)
        parser.add_argument("--schedule", action="store_true", help="also queue the daily retraining task")

    def handle(self, *args, random_state, schedule, **options):
        model = train(random_state=random_state)
        if model is None:
            self.stdout.write("Not enough closed cases with a sub-category to train on; the keyword rulebook stays in use.")
        else:
            in_use = model.n_samples >= option("min_training_cases")
            self.stdout.write(
                f"Model v{model.version}: {model.n_samples} cases, {model.n_classes} sub-categories; "
                f"held-out newest {model.n_test}: top-1 {percent(model.accuracy)}, top-3 {percent(model.top3_accuracy)}"
                + ("" if in_use else f" (below {option('min_training_cases')} cases: the rulebook answers)")
            )
        if schedule:
            run_after = schedule_retraining()
            self.stdout.write(f"Next retraining queued for {run_after:%Y-%m-%d %H:%M}." if run_after else "Retraining already queued.")
