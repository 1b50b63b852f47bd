"""The roll-up of (小类, cell, grid) groups into rankings, over generated groups."""

from hypothesis import given
from hypothesis import strategies as st

from gridgov.proactive.hot_topics import HOT_SPOT_MIN_CASES, Report, _places

# (category_id, h3_cell, grid_id, current, previous) as the place query returns them.
groups = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1, 4)),
        st.sampled_from(["", "8931aa", "8931bb", "8931cc"]),
        st.one_of(st.none(), st.integers(10, 12)),
        st.integers(0, 9),
        st.integers(0, 9),
    ),
    max_size=40,
)


def rolled_up(rows, top):
    report = Report(month=None, months=1, start=None, end=None, previous_start=None)
    _places(report, rows, top)
    return report


def current_totals(rows, key):
    """Hand roll-up: this period's count per key, keys with none left out (as the rankings do)."""
    totals = {}
    for row in rows:
        if (name := key(row)) is not None:
            totals[name] = totals.get(name, 0) + row[3]
    return {name: count for name, count in totals.items() if count > 0}


@given(groups)
def test_every_case_counts_once_in_each_ranking(rows):
    report = rolled_up(rows, 100)
    assert {row.h3_cell: row.current for row in report.cells} == current_totals(rows, lambda r: r[1] or None)
    assert {row.grid_id: row.current for row in report.grids} == current_totals(rows, lambda r: r[2])
    assert {(row.category_id, row.h3_cell): row.current for row in report.topics} == current_totals(
        rows, lambda r: (r[0], r[1]) if r[0] is not None and r[1] else None
    )


@given(groups, st.integers(1, 5))
def test_rankings_are_top_n_in_descending_order(rows, top):
    report = rolled_up(rows, top)
    for ranking in (report.cells, report.grids, report.topics):
        assert len(ranking) <= top
        assert [row.current for row in ranking] == sorted((row.current for row in ranking), reverse=True)
    assert all(row.current >= HOT_SPOT_MIN_CASES > row.previous for row in report.new_hot_spots)
