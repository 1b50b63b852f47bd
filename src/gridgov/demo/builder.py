"""Runs the demo steps in order and reports what it made."""

import random
from dataclasses import dataclass

from django.db import transaction

from gridgov.cases import changes
from gridgov.catalog.models import Category
from gridgov.catalog.standard import load_standard_categories
from gridgov.geo.models import Region
from gridgov.screen.seed import seed_demo_cameras, seed_demo_indicators

from . import DEMO_SUBDISTRICT_CODE
from .estates import seed_demo_estates, seed_demo_places
from .geography import build_geography
from .history import anchor_now, build_history
from .logins import write_logins
from .organisation import build_organisation

DEFAULT_SEED = 20240601


@dataclass
class DemoOptions:
    seed: int = DEFAULT_SEED
    cases: int = 20000
    today: object = None  # a date; None means the real today
    progress: bool = True
    logins_file: object = None  # a path; None means var/demo-logins.txt


@dataclass
class DemoResult:
    geography: object
    organisation: object
    logins_path: object
    logins_text: str
    history: object = None


def demo_exists():
    return Region.objects.filter(code=DEMO_SUBDISTRICT_CODE).exists()


def build_demo(options):
    """Build the whole demo. Each part draws from its own Random so they stay independent."""
    now = anchor_now(options.today)
    with transaction.atomic():
        if not Category.objects.exists():  # emptied by `flush`; the migration loaded them once
            load_standard_categories()
        geography = build_geography(random.Random(f"{options.seed}-geography"))
        seed_demo_estates(geography)
        seed_demo_places(geography)
        organisation = build_organisation(geography, random.Random(f"{options.seed}-organisation"))
        # The big screen's own demo data: cameras over the grids, monthly indicators.
        seed_demo_cameras(now=now)
        seed_demo_indicators(today=now.date())
    path, text = write_logins(organisation.logins, options.logins_file)
    result = DemoResult(geography, organisation, path, text)
    if options.cases:
        result.history = build_history(
            geography, organisation, seed=options.seed, count=options.cases, now=now, progress=options.progress
        )
        # What the worker would do next: the daily counts and metrics facts of every case.
        changes.refresh_all()
    return result
