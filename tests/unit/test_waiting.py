"""support.waiting: the harness's one wait helper returns the value and, on timeout, says why."""

from __future__ import annotations

import itertools

import pytest

from support.waiting import NotYet, WaitTimeout, wait_for


def test_returns_the_first_truthy_value_and_retries_errors() -> None:
    answers = iter([NotYet("0 of 2 Ready"), RuntimeError("API busy"), None, {"ready": 2}])

    def probe() -> dict[str, int] | NotYet | None:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for(probe, 5, "two pods", interval=0) == {"ready": 2}


def test_a_timeout_names_what_and_the_last_reason() -> None:
    count = itertools.count()
    with pytest.raises(WaitTimeout) as failed:
        wait_for(lambda: NotYet(f"{next(count)} of 3 Ready"), 0.2, "three pods", interval=0.05)
    message = str(failed.value)
    assert message.startswith("timed out after 0s waiting for three pods; last: ")
    assert message.endswith(" of 3 Ready")
    assert not message.endswith(": 0 of 3 Ready")  # the newest reason, not the first


def test_an_error_type_of_the_callers_choice() -> None:
    def probe() -> None:
        raise FileNotFoundError("audit.log")

    with pytest.raises(RuntimeError, match=r"the audit log; last: FileNotFoundError: audit.log"):
        wait_for(probe, 0.1, "the audit log", interval=0.05, error=RuntimeError)
