"""One-time login links and the rate limiter, on a clock the test moves."""

from __future__ import annotations

from bridge.web.links import MAX_ATTEMPTS, LoginLinks
from bridge.web.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_link_is_bound_to_its_user_and_used_once() -> None:
    links = LoginLinks(Clock())
    token = links.issue("@a:x")
    assert links.owner(token) == "@a:x"
    assert links.owner(token + "x") is None
    links.used(token)
    assert links.owner(token) is None


def test_a_link_expires() -> None:
    clock = Clock()
    links = LoginLinks(clock, lifetime=60)
    token = links.issue("@a:x")
    clock.now += 59
    assert links.owner(token) == "@a:x"
    clock.now += 1
    assert links.owner(token) is None


def test_a_new_link_replaces_the_old_one_and_attempts_are_counted() -> None:
    links = LoginLinks(Clock())
    first = links.issue("@a:x")
    second = links.issue("@a:x")
    assert links.owner(first) is None and links.owner(second) == "@a:x"
    for _ in range(MAX_ATTEMPTS):
        assert links.attempt(second) == "@a:x"
    assert links.attempt(second) is None


def test_only_a_hash_of_the_token_is_kept() -> None:
    links = LoginLinks(Clock())
    token = links.issue("@a:x")
    assert token not in repr(vars(links))


def test_the_rate_limiter_allows_a_burst_then_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(capacity=3, rate=0.5, now=clock)
    assert [limiter.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("5.6.7.8")  # each client has its own bucket
    assert limiter.retry_after("1.2.3.4") == 2.0
    clock.now += 2
    assert limiter.allow("1.2.3.4")
    assert not limiter.allow("1.2.3.4")
