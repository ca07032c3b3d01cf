"""The client's connection state: every change goes through StateReporter.saw and its table."""

from __future__ import annotations

from bridge.qq.client.state import TRANSITIONS, ConnectionState, Happening, StateReporter


async def _reporter() -> tuple[StateReporter, list[tuple[ConnectionState, str]]]:
    told: list[tuple[ConnectionState, str]] = []

    async def on_state(state: ConnectionState, detail: str) -> None:
        told.append((state, detail))

    return StateReporter(10001, on_state), told


def test_every_happening_has_a_rule() -> None:
    assert set(TRANSITIONS) == set(Happening)


async def test_a_login_then_a_lost_connection_then_an_answer() -> None:
    reporter, told = await _reporter()
    await reporter.saw(Happening.LOGIN_STARTED)
    await reporter.saw(Happening.LOGIN_ACCEPTED)
    await reporter.saw(Happening.CONNECTION_LOST, "timed out")
    await reporter.saw(Happening.CONNECTION_LOST, "timed out again")  # a repeat: not told
    await reporter.saw(Happening.SERVER_ANSWERED, "back")
    assert told == [
        (ConnectionState.LOGGING_IN, ""),
        (ConnectionState.ONLINE, ""),
        (ConnectionState.RECONNECTING, "timed out"),
        (ConnectionState.ONLINE, "back"),
    ]


async def test_a_network_error_while_logging_in_is_left_to_the_login() -> None:
    reporter, told = await _reporter()
    await reporter.saw(Happening.LOGIN_STARTED)
    await reporter.saw(Happening.CONNECTION_LOST, "refused")
    assert reporter.current is ConnectionState.LOGGING_IN
    await reporter.saw(Happening.LOGIN_FAILED, "refused")
    assert told[-1] == (ConnectionState.LOGGED_OUT, "refused")


async def test_an_answer_does_not_undo_bad_credentials_or_a_logout() -> None:
    reporter, _ = await _reporter()
    for end, state in [
        (Happening.CREDENTIALS_REFUSED, ConnectionState.BAD_CREDENTIALS),
        (Happening.LOGGED_OUT, ConnectionState.LOGGED_OUT),
    ]:
        await reporter.saw(Happening.LOGIN_ACCEPTED)
        await reporter.saw(end)
        await reporter.saw(Happening.SERVER_ANSWERED)
        assert reporter.current is state


async def test_a_broken_listener_does_not_stop_the_change() -> None:
    async def broken(state: ConnectionState, detail: str) -> None:
        raise RuntimeError("listener bug")

    reporter = StateReporter(10001, broken)
    await reporter.saw(Happening.SESSION_DROPPED, "dropped")
    assert reporter.current is ConnectionState.RECONNECTING
