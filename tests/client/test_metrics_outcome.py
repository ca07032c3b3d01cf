"""The ``outcome`` label of a QQ request, and the penalty count that goes with it."""

from __future__ import annotations

import pytest

from bridge.qq.client import TransportError
from bridge.qq.client.metrics import PENALTIES, REQUESTS, count_request, outcome
from bridge.qq.wire import MalformedReply, NoReply, Penalty
from bridge.qq.wire.replies import NotLoggedIn, ServerRefused


@pytest.mark.parametrize(
    ("error", "label"),
    [
        (None, "res_0"),
        (Penalty(), "res_3"),
        (NotLoggedIn(), "res_20"),
        (ServerRefused(7, "refused"), "res_7"),
        (NoReply(), "no_reply"),
        (MalformedReply("no CMD", "x"), "unreadable"),
        (TransportError("connection refused"), "network_error"),
    ],
)
def test_outcome(error: BaseException | None, label: str) -> None:
    assert outcome(error) == label


def test_a_penalty_counts_as_a_request_and_a_penalty() -> None:
    requests, penalties = REQUESTS.labels("CLTMSG", "res_3"), PENALTIES
    before = requests._value.get(), penalties._value.get()
    count_request("CLTMSG", Penalty())
    assert (requests._value.get(), penalties._value.get()) == (before[0] + 1, before[1] + 1)
