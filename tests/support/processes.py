"""Child processes for the local stack (demo and e2e tests): started with a log file, stopped for sure.

Every child gets its own session (Ctrl-C in the terminal reaches only the parent, which then stops the
children in order) and, on Linux, a parent-death signal, so a crashed test or demo leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

__all__ = ["ManagedProcess", "ProcessError", "die_with_parent", "http_ok", "tail"]


class ProcessError(RuntimeError):
    """A child did not start or exited; the message carries the tail of its log."""


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when GET `url` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_child_ready(
    proc: subprocess.Popen[bytes] | None,
    ready: Callable[[], bool],
    *,
    name: str,
    log_path: Path,
    timeout: float,
    what: str = "ready",
    error: type[Exception] = ProcessError,
    log_lines: int = 30,
) -> None:
    """Poll `ready()` (an exception counts as not yet) until true. `error`, with the log's tail, when the
    child exits first (or never started) or after `timeout` seconds: the one startup wait of the harness."""
    deadline = time.monotonic() + timeout
    while True:
        code = None if proc is None else proc.poll()
        if proc is None or code is not None:
            raise error(f"{name} exited with {code} before it was {what}; {_log_tail(log_path, log_lines)}")
        with contextlib.suppress(Exception):
            if ready():
                return
        if time.monotonic() > deadline:
            raise error(f"{name} not {what} after {timeout}s; {_log_tail(log_path, log_lines)}")
        time.sleep(0.2)


def _log_tail(path: Path, lines: int) -> str:
    return f"log {path}:\n{tail(path, lines)}"


class ManagedProcess:
    """One child process with its stdout+stderr in `log_path`."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> ManagedProcess:
        if self.running():
            raise ProcessError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log.write(f"$ {' '.join(self.args)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only ctypes.prctl, no locks taken
        )
        return self

    def wait_ready(self, ready: Callable[[], bool], timeout: float = 60, what: str = "ready") -> None:
        """Poll `ready()` until true; ProcessError (with the log tail) if the child exits or time runs out."""
        wait_child_ready(self.proc, ready, name=self.name, log_path=self.log_path, timeout=timeout, what=what)

    def signal(self, sig: int) -> None:
        if self.running() and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; idempotent. Returns the exit code."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return None if proc is None else proc.returncode

    def kill(self) -> None:
        """SIGKILL at once (a crash, as far as its peers can tell)."""
        if self.running() and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait(timeout=10)
        self.stop()
