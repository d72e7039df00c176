"""The retry backoff policy: how long a task's next attempt waits after its attempts failed."""

from __future__ import annotations

import random

from propeller.config import EngineConfig, RetryBackoff, RetryBackoffOverride


def test_by_default_a_retry_does_not_wait_as_in_flyte() -> None:
    policy = EngineConfig().retry_backoff
    assert [policy.delay(failed) for failed in (1, 2, 10)] == [0.0, 0.0, 0.0]


def test_the_wait_grows_by_the_factor_after_each_failed_attempt_up_to_the_maximum() -> None:
    policy = RetryBackoff(base_seconds=2, factor=2, max_seconds=10)
    assert [policy.delay(failed) for failed in (1, 2, 3, 4, 500)] == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_jitter_only_lengthens_the_wait_by_at_most_its_fraction() -> None:
    policy = RetryBackoff(base_seconds=4, factor=1, max_seconds=100, jitter=0.5)
    rng = random.Random(7)
    waits = [policy.delay(1, rng) for _ in range(200)]
    assert all(4.0 <= wait <= 6.0 for wait in waits)
    assert len(set(waits)) > 100


def test_the_most_specific_override_wins_and_keeps_what_it_does_not_name() -> None:
    policy = RetryBackoff(
        base_seconds=1,
        factor=3,
        overrides={"p": RetryBackoffOverride(base_seconds=5, factor=1), "p/prod": RetryBackoffOverride(factor=2)},
    )
    assert policy.for_scope("p", "prod").delay(2) == 10.0  # base from "p", factor from "p/prod"
    assert policy.for_scope("p", "dev").delay(2) == 5.0
    assert policy.for_scope("q", "prod").delay(2) == 3.0
