"""support.waiting and the startup wait of support.processes: they return when ready and say why not."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from support.processes import ProcessError, wait_child_ready
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


def _child(code: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT)


def test_a_child_that_exits_first_fails_with_its_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    proc = _child("print('bad flag'); raise SystemExit(3)", log)
    proc.wait()
    with pytest.raises(ProcessError, match=r"child exited with 3 before it was serving; log .*\nbad flag"):
        wait_child_ready(proc, lambda: False, name="child", log_path=log, timeout=5, what="serving")


def test_a_child_waits_until_ready_or_times_out(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    proc = _child("import time; time.sleep(30)", log)
    try:
        polls = itertools.count()
        wait_child_ready(proc, lambda: next(polls) == 2, name="child", log_path=log, timeout=5)
        with pytest.raises(RuntimeError, match=r"^child not ready after 0.3s; log "):
            wait_child_ready(proc, lambda: 1 / 0, name="child", log_path=log, timeout=0.3, error=RuntimeError)
    finally:
        proc.kill()
        proc.wait()
