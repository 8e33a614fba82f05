"""One retry policy for every client: Retry-After in both of its forms, capped; jittered backoff."""

from __future__ import annotations

import email.utils

import pytest

from akslogin.retry import RetryPolicy, retry_after_seconds

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("value", "expected"), [
    ("7", 7.0), (" 2.5 ", 2.5), ("-3", 0.0), ("600", 30.0), (None, None), ("", None), ("soon", None),
    ("nan", None),
    (email.utils.formatdate(NOW + 12, usegmt=True), 12.0),  # the HTTP-date form (RFC 9110)
    (email.utils.formatdate(NOW - 60, usegmt=True), 0.0),  # a date in the past: retry now
    (email.utils.formatdate(NOW + 3600, usegmt=True), 30.0),
])
def test_retry_after_in_both_forms_is_capped(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, cap=30.0, now=lambda: NOW) == expected


def test_backoff_doubles_is_capped_and_never_zero() -> None:
    low = RetryPolicy(base=0.5, cap=4.0, jitter=lambda: 0.0)
    high = RetryPolicy(base=0.5, cap=4.0, jitter=lambda: 0.999999)
    assert [low.backoff(a) for a in (1, 2, 3, 4, 5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [round(high.backoff(a), 3) for a in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert high.backoff(3, "9") == 9.0 and high.backoff(3, "later") == pytest.approx(2.0, abs=1e-3)


def test_the_policy_honours_an_http_date_retry_after() -> None:
    """Before, RetryPolicy.backoff read Retry-After as seconds only and fell back to its backoff for a date."""
    import time

    policy = RetryPolicy(base=0.5, cap=4.0, max_retry_after=30.0, jitter=lambda: 0.0)
    wait = policy.backoff(1, email.utils.formatdate(time.time() + 12, usegmt=True))
    assert 10.0 <= wait <= 12.0
