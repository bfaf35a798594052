"""`scripts/demo.py --once` as a background process: each run brings up a cluster of its own (another
node slot) and spends most of its minutes waiting on the wall clock (alerts' `for`, SES events each
minute), so the tests start it early and only check its output at the end.

    run = start_demo("bad-list", workdir, timeout=1200)   # returns at once
    code, output = run.finish()                            # waits for it (at most its timeout)
    run.stop()                                             # ends it if it is still running
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Past its own --timeout the demo still tears its cluster down: give it this long to finish.
TEARDOWN_SECONDS = 120


@dataclass
class DemoRun:
    proc: subprocess.Popen[str]
    log_path: Path
    started: float
    timeout: float

    def finish(self, timeout: float | None = None) -> tuple[int, str]:
        """Its exit code and output, once it exits (terminated when it outlives ``timeout``, by default
        its own --timeout and the tear-down)."""
        if timeout is None:
            timeout = max(60.0, self.started + self.timeout + TEARDOWN_SECONDS - time.time())
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        return self.proc.returncode, self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # demo.py stops its cluster on SIGTERM
            try:
                self.proc.wait(timeout=TEARDOWN_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def start_demo(scenario: str, workdir: Path, timeout: float) -> DemoRun:
    """`demo.py --once --scenario SCENARIO` in the background; its state and output under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "demo.out"
    # The demo's own simulated account, not whatever AWS or cluster the caller's environment names.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBECONFIG"))}
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "demo.py"), "--once", "--scenario", scenario,
             "--timeout", str(timeout), "--workdir", str(workdir / "state")],
            stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
    return DemoRun(proc, log_path, time.time(), timeout)
