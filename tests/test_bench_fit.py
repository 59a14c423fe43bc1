"""The soak benchmark's leak rate: a least-squares slope per hour over samples taken every 10 s."""

from __future__ import annotations

import pytest

from bench.measure import growth_per_hour


def test_a_steady_leak_is_its_rate_per_hour() -> None:
    seconds = [10.0 * i for i in range(13)]  # two minutes of samples
    rss = [300 + 0.5 * t / 60 for t in seconds]  # 0.5 MB a minute
    assert growth_per_hour(seconds, rss) == pytest.approx(30.0)


def test_a_flat_curve_with_one_spike_grows_far_less_than_the_spike() -> None:
    seconds = [10.0 * i for i in range(61)]
    rss = [300.0] * 61
    rss[30] = 340.0  # one garbage-collection hiccup in the middle
    assert abs(growth_per_hour(seconds, rss)) < 1e-9
    rss[60] = 340.0  # at the end it does tilt the line, but by far less than 40 MB per 10 min
    assert 0 < growth_per_hour(seconds, rss) < 40 * 6


def test_a_shrinking_count_has_a_negative_rate() -> None:
    assert growth_per_hour([0.0, 1800.0, 3600.0], [120.0, 110.0, 100.0]) == pytest.approx(-20.0)


@pytest.mark.parametrize(
    ("seconds", "values"),
    [([], []), ([0.0], [1.0]), ([5.0, 5.0], [1.0, 2.0]), ([0.0, 1.0], [1.0])],
)
def test_too_few_or_mismatched_samples_have_no_rate(seconds: list[float], values: list[float]) -> None:
    with pytest.raises(ValueError, match="sample"):
        growth_per_hour(seconds, values)


def test_the_rate_does_not_depend_on_when_the_clock_started() -> None:
    values = [1.0, 1.0, 2.0, 2.0]
    early = growth_per_hour([0.0, 10.02, 20.05, 29.98], values)
    late = growth_per_hour([86400.0, 86410.02, 86420.05, 86429.98], values)
    assert late == pytest.approx(early)
