"""compute() against a plain-Python reading of docs/metrics.md, over generated fact tables."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov.metrics import services
from gridgov.metrics.models import CaseFact, MetricsConfig

DAY0 = dt.date(2026, 11, 1)

facts = st.lists(
    st.fixed_dictionaries({
        "day": st.integers(0, 45),
        "department_id": st.sampled_from([None, 1, 2, 3]),
        "rejected": st.booleans(),
        "dispatched": st.booleans(),
        "response_minutes": st.one_of(st.none(), st.integers(0, 4000)),
        "closed": st.booleans(),
        "closed_on_time": st.booleans(),
        "rating": st.sampled_from([None, 1, 2, 3]),
        "reworked": st.booleans(),
        "extended": st.booleans(),
    }),
    max_size=40,
)
configs = st.fixed_dictionaries({
    "response_hours": st.integers(1, 72),
    "resolution_basis": st.sampled_from(["closed", "not_unsatisfied"]),
    "basic_satisfied_weight": st.sampled_from(["0", "0.5", "0.8", "1"]),
    "weights": st.sampled_from([(30, 35, 35), (100, 0, 0), (0, 50, 50), (34, 33, 33)]),
})


def expected(rows, config):
    """docs/metrics.md, literally."""
    cohort = [r for r in rows if not r["rejected"] and r["day"] < 30]  # November
    by_unit = {}
    for row in cohort:
        by_unit.setdefault(row["department_id"], []).append(row)
    result = {}
    for unit, group in by_unit.items():
        dispatched = [r for r in group if r["dispatched"]]
        responded = [r for r in dispatched if r["response_minutes"] is not None and r["response_minutes"] <= config["response_hours"] * 60]
        resolved = [r for r in dispatched if r["closed"] and (config["resolution_basis"] == "closed" or r["rating"] != 1)]
        rated = [r for r in group if r["rating"] is not None]
        weight = float(config["basic_satisfied_weight"])
        satisfied = sum(1 for r in rated if r["rating"] == 3) + weight * sum(1 for r in rated if r["rating"] == 2)
        closed = [r for r in group if r["closed"]]
        rates = {
            "response_rate": pct(len(responded), len(dispatched)),
            "resolution_rate": pct(len(resolved), len(dispatched)),
            "satisfaction_rate": pct(satisfied, len(rated)),
            "on_time_rate": pct(sum(1 for r in closed if r["closed_on_time"]), len(closed)),
            "rework_rate": pct(sum(1 for r in dispatched if r["reworked"]), len(dispatched)),
            "extension_rate": pct(sum(1 for r in dispatched if r["extended"]), len(dispatched)),
        }
        parts = [(rates["response_rate"], config["weights"][0]), (rates["resolution_rate"], config["weights"][1]),
                 (rates["satisfaction_rate"], config["weights"][2])]
        present = [(v, w) for v, w in parts if v is not None and w]
        score = sum(v * w for v, w in present) / sum(w for _v, w in present) if present else None
        result[unit] = {**{k: rnd(v) for k, v in rates.items()}, "score": rnd(score), "cases": len(group)}
    return result


def pct(numerator, denominator):
    return 100.0 * numerator / denominator if denominator else None


def rnd(value):
    return None if value is None else round(value, 2)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=facts, config=configs)
def test_compute_matches_the_written_formulas(rows, config):
    CaseFact.objects.all().delete()
    CaseFact.objects.bulk_create([
        CaseFact(
            case_id=index + 1, created_day=DAY0 + dt.timedelta(days=row["day"]), department_id=row["department_id"],
            **{k: v for k, v in row.items() if k not in ("day", "department_id")},
        )
        for index, row in enumerate(rows)
    ])
    settings_row = MetricsConfig(
        response_hours=config["response_hours"], resolution_basis=config["resolution_basis"],
        basic_satisfied_weight=config["basic_satisfied_weight"], weight_response=config["weights"][0],
        weight_resolution=config["weights"][1], weight_satisfaction=config["weights"][2],
    )
    got = services.compute("department", dt.date(2026, 11, 1), dt.date(2026, 11, 30), config=settings_row)
    want = expected(rows, config)
    assert {row["key"] for row in got} == set(want)
    for row in got:
        assert {k: row[k] for k in want[row["key"]]} == want[row["key"]]
    scores = [row["score"] for row in got if row["score"] is not None]
    assert scores == sorted(scores, reverse=True)  # ranked best first


@given(year=st.integers(2000, 2100), month=st.integers(1, 12))
def test_month_and_quarter_ranges_cover_the_calendar(year, month):
    start, end = services.parse_period("month", f"{year}-{month:02d}")
    assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1 and start.month == end.month == month
    quarter = (month - 1) // 3 + 1
    q_start, q_end = services.parse_period("quarter", f"{year}-Q{quarter}")
    assert q_start <= start and end <= q_end and q_start.month == 3 * quarter - 2
