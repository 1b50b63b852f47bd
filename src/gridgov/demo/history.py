"""A year of cases, replayed through the real services (gridgov.cases.services, `at=`).

Every step goes through the service that the UI and API use, so the seeded timelines
obey the same rules: roles and scopes, status checks, clocks, the hash-chained events.
Steps happen in office time (add_time in working hours; natural hours for urgent classes)
and stop at "now": a case whose next step would lie in the future stays open where it is.
Cases are replayed in creation order (so case numbers follow time), 200 per transaction.

Cost: every transition is a full service call (8 statements: savepoint, lock, running
clocks, clock changes, the changed columns of the case, previous event, event, release),
about 1-2 ms of CPU on a small 2-core machine, so 1,000 cases take ~10 s and 20,000 a few
minutes (docs/benchmarks.md). That is the price of timelines that passed the same checks
as real ones. The decisions hand back `request.case`, so nothing is re-read here.
"""

import datetime as dt
import random
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.test.utils import override_settings
from django.utils import timezone
from shapely.geometry import Point
from tqdm import tqdm

from gridgov.cases import services
from gridgov.cases.models import Case, Channel, Status
from gridgov.cases.signals import case_changed, case_recorded
from gridgov.catalog import sla, worktime
from gridgov.catalog.models import Category, TimeUnit
from gridgov.core.errors import DomainError
from gridgov.org.roles import Role

from . import texts
from .plans import Planner

CASES_PER_TRANSACTION = 200
# Cases created this close to now replay with the live bus and notifications listening, so
# the screen's feed shows the latest activity; older history replays quietly.
LIVE_WINDOW = dt.timedelta(days=2)
# The anchor time on a given --today: a weekday afternoon with the centre at work.
ANCHOR_TIME = dt.time(16, 30)
MIN_STEP = dt.timedelta(minutes=1)


def anchor_now(today=None):
    """The moment history ends: the real now, or 16:30 local on `today` (never in the future)."""
    now = timezone.localtime()
    if today is None:
        return now.replace(microsecond=0)
    anchor = timezone.make_aware(dt.datetime.combine(today, ANCHOR_TIME))
    return min(anchor, now.replace(microsecond=0))


@dataclass
class HistorySummary:
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)  # (plan serial, time of the step, error)
    seconds: float = 0.0

    def summary(self):
        statuses = ", ".join(f"{Status(s).label} {n}" for s, n in sorted(self.statuses.items()))
        text = f"{self.cases} cases in {self.seconds:.1f} s ({statuses})"
        if self.failures:
            text += f"; {len(self.failures)} timelines cut short by errors"
        return text


class StopTimeline(Exception):
    """The next step would happen after now: the case stays where it is."""


class Schedule:
    """The moving clock of one case's timeline."""

    def __init__(self, start, now, rng, squeeze):
        self.at = start
        self.now = now
        self.rng = rng
        self.squeeze = squeeze  # held cases: fit the remaining steps in before now

    def after(self, value, unit=TimeUnit.WORKING_HOURS):
        return self.until(worktime.add_time(self.at, value, unit))

    def until(self, moment):
        moment = max(moment.replace(microsecond=0), self.at + MIN_STEP)
        if moment > self.now:
            if not self.squeeze or self.now - self.at < 2 * MIN_STEP:
                raise StopTimeline
            moment = self.at + (self.now - self.at) * self.rng.uniform(0.2, 0.6)
        self.at = moment
        return moment


class Replayer:
    """Plays one CasePlan through the services, with plausible staff at each step."""

    def __init__(self, geography, organisation, now, seed):
        self.seed = seed
        self.rng = None  # one Random per case (see replay): a cut-short case shifts no other
        self.geography = geography
        self.org = organisation
        self.now = now

    # -- who -----------------------------------------------------------------------------
    def _any(self, role):
        return self.rng.choice(self.org.by_role[role])

    def _centre(self):
        """Dispatching is mostly the dispatchers' work; the shift lead helps out."""
        return self._any(Role.SHIFT_LEAD if self.rng.random() < 0.2 else Role.DISPATCHER)

    def _reporter(self, plan):
        if plan.grid is not None and plan.channel == Channel.GRID_PATROL:
            return self.rng.choice(self.org.inspectors[plan.grid.code])
        if plan.grid is not None and plan.channel == Channel.PROACTIVE:
            return self.org.community_staff[(plan.grid.code[:12], Role.GRID_LEAD)]
        return self._any(Role.INTAKE_CLERK)

    def _verifier(self, grid):
        if self.rng.random() < 0.15:
            return self.org.community_staff[(grid.code[:12], Role.GRID_LEAD)]
        return self.org.inspectors[grid.code][0]

    def _supervisor(self, grid):
        if grid is not None and self.rng.random() < 0.3:
            return self.org.community_staff[(grid.code[:12], Role.COMMUNITY_SECRETARY)]
        return self._any(Role.SUBDISTRICT_LEADER)

    def _nearest_grid(self, lon, lat):
        point = Point(lon, lat)
        return min(self.geography.grids, key=lambda grid: self.geography.shapes[grid.code].distance(point))

    # -- the timeline ----------------------------------------------------------------------
    def replay(self, plan, summary):
        """Create the case and take it as far as its fate and now allow.

        A service refusing a step (it should not) ends that case's timeline there; the
        refused transition rolled back alone, so the case keeps a valid history.
        """
        self.rng = random.Random(f"{self.seed}-replay-{plan.serial}")
        schedule = Schedule(plan.created_at, self.now, self.rng, plan.forced)
        try:
            case = self._create(plan)
            summary.cases += 1
            self._progress(case, plan, schedule)
        except StopTimeline:
            pass
        except DomainError as error:
            summary.failures.append((plan.serial, schedule.at.isoformat(), f"{error.code}: {error.message}"))

    def _create(self, plan):
        case, _created = services.create_case(
            self._reporter(plan),
            channel=plan.channel,
            description=plan.description,
            category=plan.category,
            lon=plan.lon,
            lat=plan.lat,
            address=plan.address,
            reporter_name=plan.reporter_name,
            reporter_phone=plan.reporter_phone,
            at=plan.created_at,
        )
        return case

    def _progress(self, case, plan, schedule):
        fate = plan.fate
        urgent = sla.clock_limit("handle", plan.category)[1] == TimeUnit.NATURAL_HOURS
        unit = TimeUnit.NATURAL_HOURS if urgent else TimeUnit.WORKING_HOURS
        grid = plan.grid
        if grid is None:
            if fate.stays_unplaced:
                return
            grid = self._nearest_grid(plan.lon, plan.lat)
            case = services.place(case, self._centre(), grid=grid, note="根据地址人工定位", at=schedule.after(0.2, unit))
        if fate.hold == Status.REPORTED:
            return
        case = self._accept(case, plan, schedule, unit)
        if case.status == Status.REJECTED or fate.hold == Status.ACCEPTED:
            return
        case = self._dispatch(case, plan, schedule, unit)
        if fate.hold == Status.DISPATCHED:
            return
        handler = self.rng.choice(self.org.handlers[case.department.code])
        delay = self.rng.uniform(1.2, 4) if fate.late_sign else self.rng.uniform(0.05, 0.8)
        case = services.sign(case, handler, at=schedule.after(delay, unit))
        if fate.supervise:
            note = self.rng.choice(texts.SUPERVISION_NOTES)
            case = services.supervise(case, self._supervisor(grid), note=note, at=schedule.after(self.rng.uniform(0.5, 6), unit))
        if fate.hold == Status.HANDLING:
            return
        if fate.park:
            case = self._park(case, fate, handler, schedule, unit)
            if case.status == Status.PARKED:
                return
        if fate.extension:
            case = self._extend(case, handler, schedule, unit)
        case = self._handle_and_verify(case, plan, handler, grid, schedule, unit)
        if case.status != Status.VERIFIED or fate.hold == Status.VERIFIED:
            return
        note = self.rng.choice(texts.CLOSE_NOTES)
        case = services.close(case, self._any(Role.SHIFT_LEAD), note=note, at=schedule.after(self.rng.uniform(0.1, 2), unit))
        if fate.rating is not None:
            comment = self.rng.choice(texts.RATING_COMMENTS[fate.rating])
            services.rate(case, self._any(Role.INTAKE_CLERK), rating=fate.rating, comment=comment,
                          at=schedule.after(self.rng.uniform(2, 10)))

    def _accept(self, case, plan, schedule, unit):
        fate = plan.fate
        delay = self.rng.uniform(1.1, 3) if fate.late_dispatch else self.rng.uniform(0.05, 0.6)
        at = schedule.after(delay, unit)
        if fate.reject:
            return services.reject(case, self._centre(), reason=self.rng.choice(texts.REJECT_REASONS), at=at)
        return services.accept(case, self._centre(), at=at)

    def _dispatch(self, case, plan, schedule, unit):
        right = plan.category.default_department or self.org.departments["CGZF"]
        if plan.fate.wrong_department:
            wrong = self.rng.choice([d for d in self.org.departments.values() if d != right])
            case = services.dispatch(case, self._centre(), department=wrong, at=schedule.after(self.rng.uniform(0.02, 0.2), unit))
            handler = self.rng.choice(self.org.handlers[wrong.code])
            reason = self.rng.choice(texts.RETURN_REASONS)
            case = services.return_case(case, handler, reason=reason, at=schedule.after(self.rng.uniform(0.2, 1.5), unit))
        note = self.rng.choice(texts.DISPATCH_NOTES)
        return services.dispatch(case, self._centre(), department=right, note=note,
                                 at=schedule.after(self.rng.uniform(0.02, 0.3), unit))

    def _park(self, case, fate, handler, schedule, unit):
        reason = self.rng.choice(texts.PARK_REASONS)
        request = services.request_park(case, handler, reason=reason, at=schedule.after(self.rng.uniform(1, 8), unit))
        decision = services.decide_park(request, self._any(Role.SHIFT_LEAD), approve=True, note="同意挂账。",
                                        at=schedule.after(self.rng.uniform(0.2, 2), unit))
        case = decision.case  # the parked case, as the service left it (no re-read)
        if fate.hold == Status.PARKED or not fate.unpark:
            return case
        return services.unpark(case, self._any(Role.SHIFT_LEAD), note="条件具备，恢复办理。",
                               at=schedule.after(self.rng.uniform(3, 30), TimeUnit.WORKING_DAYS))

    def _extend(self, case, handler, schedule, unit):
        reason = self.rng.choice(texts.EXTENSION_REASONS)
        extra_value, extra_unit = (self.rng.choice((4, 8, 24)), TimeUnit.NATURAL_HOURS) if unit == TimeUnit.NATURAL_HOURS \
            else (self.rng.choice((2, 3, 5)), TimeUnit.WORKING_DAYS)
        request = services.request_extension(case, handler, reason=reason, extra_value=extra_value, extra_unit=extra_unit,
                                             at=schedule.after(self.rng.uniform(0.5, 4), unit))
        approve = self.rng.random() < 0.85
        decision = services.decide_extension(request, self._any(Role.SHIFT_LEAD), approve=approve,
                                             note=self.rng.choice(texts.DECISION_NOTES),
                                             at=schedule.after(self.rng.uniform(0.2, 2), unit))
        return decision.case

    def _handle_and_verify(self, case, plan, handler, grid, schedule, unit):
        fate = plan.fate
        handle_unit = sla.clock_limit("handle", plan.category)[1]
        for attempt in range(fate.reworks + 1):
            if attempt == 0:
                used = self.rng.uniform(1.05, 2.2) if fate.late_handling else self.rng.uniform(0.1, 0.9)
                moment = worktime.fraction_point(case.dispatched_at, case.handle_due_at, handle_unit, used)
                at = schedule.until(moment)
            else:
                at = schedule.after(self.rng.uniform(1, 8), unit)
            note = texts.handling_note(self.rng, plan.category.name)
            case = services.submit_handling(case, handler, note=note, at=at)
            if fate.hold == Status.HANDLED and attempt == fate.reworks:
                return case
            passed = attempt == fate.reworks
            note = self.rng.choice(texts.VERIFY_PASS_NOTES if passed else texts.VERIFY_FAIL_NOTES)
            delay = self.rng.uniform(9, 20) if fate.late_verify else self.rng.uniform(0.3, 6)
            case = services.verify(case, self._verifier(grid), passed=passed, note=note, at=schedule.after(delay, unit))
        return case


def load_categories():
    return list(
        Category.objects.filter(parent__isnull=False, is_active=True, parent__is_active=True)
        .select_related("parent", "default_department")
        .order_by("kind", "code")
    )


def build_history(geography, organisation, *, seed, count, now, progress=True):
    """Plan and replay `count` cases ending at `now`; return a HistorySummary."""
    started = time.monotonic()
    planner = Planner(random.Random(f"{seed}-plans"), geography, load_categories(), now)
    plans = planner.plan(count)
    replayer = Replayer(geography, organisation, now, seed)
    summary = HistorySummary()
    # Query logging (DEBUG) would format and keep every one of some million statements.
    with override_settings(DEBUG=False), tqdm(total=len(plans), disable=not progress, unit="case", desc="cases") as bar:
        for batch, live in _batches(plans, now - LIVE_WINDOW):
            with nullcontext() if live else quiet(case_changed, case_recorded), transaction.atomic():
                for plan in batch:
                    replayer.replay(plan, summary)
            bar.update(len(batch))
    summary.seconds = time.monotonic() - started
    summary.statuses = Counter(dict(Case.objects.order_by().values_list("status").annotate(n=Count("id"))))
    return summary


def _batches(plans, live_from):
    """(plans, live) chunks of at most CASES_PER_TRANSACTION, split where `live` turns on."""
    quiet_plans = [plan for plan in plans if plan.created_at < live_from]
    live_plans = plans[len(quiet_plans) :]
    for group, live in ((quiet_plans, False), (live_plans, True)):
        for start in range(0, len(group), CASES_PER_TRANSACTION):
            yield group[start : start + CASES_PER_TRANSACTION], live


@contextmanager
def quiet(*signals):
    """Hold back signals' receivers (the live bus, notifications) while old history replays.

    The services still send them; nobody listens, so last year's events do not flood
    today's screen feed and bells. Receivers are restored afterwards.
    """
    saved = [signal.receivers for signal in signals]
    for signal in signals:
        signal.receivers = []
        signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        for signal, receivers in zip(signals, saved):
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()
