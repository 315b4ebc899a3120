"""The statistics behind the health figures, on hand-built numbers."""

from datetime import UTC, date, datetime

import pytest

from forum.health import stats


def test_median_is_the_middle_value_or_the_mean_of_the_two_middle_values():
    assert stats.median([7, 1, 3]) == 3
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.median([5]) == 5
    assert stats.median([]) is None


@pytest.mark.parametrize(("values", "expected"), [
    (list(range(1, 11)), 9),  # n = 10: rank ceil(9.0) = 9
    (list(range(1, 12)), 10),  # n = 11: rank ceil(9.9) = 10
    (list(range(1, 21)), 18),  # n = 20: rank 18
    ([12.5], 12.5),  # a single value is every percentile
    ([3, 1, 2], 3),  # n = 3: rank ceil(2.7) = 3, the largest
    ([40, 10, 30, 20], 40),  # n = 4: rank ceil(3.6) = 4
])
def test_the_90th_percentile_is_the_nearest_rank_value(values, expected):
    assert stats.percentile(values, 90) == expected


def test_nearest_rank_percentiles_at_the_edges():
    values = [10, 20, 30, 40, 50]
    assert stats.percentile(values, 100) == 50
    assert stats.percentile(values, 1) == 10  # rank ceil(0.05) = 1
    assert stats.percentile(values, 50) == 30
    assert stats.percentile([], 90) is None
    for bad in (0, -5, 101):
        with pytest.raises(ValueError):
            stats.percentile(values, bad)


def test_summarise_gives_count_median_and_p90():
    summary = stats.summarise([2.0, 4.0, 6.0, 8.0, 100.0])
    assert summary == stats.Summary(count=5, median=6.0, p90=100.0)
    assert stats.summarise([]) == stats.Summary(0, None, None)


def test_days_between_counts_fractional_days():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert stats.days_between(start, datetime(2026, 1, 11, 12, tzinfo=UTC)) == 10.5


def test_month_starts_cross_the_year_boundary():
    assert stats.month_starts(date(2026, 2, 17), 4) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


def test_per_month_counts_each_month_and_ignores_moments_outside():
    moments = [
        datetime(2026, 1, 31, 23, 59, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, tzinfo=UTC),  # before the first month: ignored
    ]
    assert stats.per_month(moments, date(2026, 3, 20), 3) == [
        (date(2026, 1, 1), 2), (date(2026, 2, 1), 0), (date(2026, 3, 1), 1)]


def test_share_of_nothing_is_none():
    assert stats.share(1, 4) == 0.25
    assert stats.share(0, 0) is None
