import random

from hypothesis import given
from hypothesis import strategies as st

from bridge.qq.client.backoff import Backoff


def test_base_delay_doubles_from_initial_up_to_the_maximum() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_reset_starts_again_from_initial() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, jitter=0.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_jitter_spreads_delays_over_the_whole_band_and_never_past_it() -> None:
    rng = random.Random(7)
    delays = []
    for _ in range(2000):
        backoff = Backoff(initial=10.0, maximum=60.0, jitter=0.2, rng=rng)
        delays.append(backoff.next_delay())
    assert min(delays) >= 8.0 and max(delays) <= 12.0
    # Spread, not a constant: both ends of the band are reached within a few percent.
    assert min(delays) < 8.2 and max(delays) > 11.8


@given(
    initial=st.floats(0.01, 10),
    maximum=st.floats(10, 600),
    jitter=st.floats(0, 0.9),
    failures=st.integers(1, 200),
    seed=st.integers(0, 2**32),
)
def test_every_delay_is_within_jitter_of_its_capped_base(
    initial: float, maximum: float, jitter: float, failures: int, seed: int
) -> None:
    backoff = Backoff(initial, maximum, jitter, rng=random.Random(seed))
    for failure in range(1, failures + 1):
        delay = backoff.next_delay()
        base = min(initial * 2 ** (failure - 1), maximum)
        assert base * (1 - jitter) - 1e-9 <= delay <= base * (1 + jitter) + 1e-9
        assert delay > 0
