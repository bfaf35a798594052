"""`make demo`'s bad-list story (spec.events) end to end: `scripts/demo.py --once --scenario bad-list`.

On a cluster of its own (another slot): the chart, the exporter Pod from our image consuming the
simulated account's SQS queue (SES-shaped events published through SNS each minute), Prometheus
evaluating the rendered rules, Alertmanager, the webhook. A bad list drives permanent NoEmail bounces from
one domain: SESPermanentBouncesRising must fire before SESBounceRateHigh (CloudWatch's reputation rate
lags), both reach the webhook, and the SesMonitor's status.bounceBreakdown names the domain.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from e2e_helpers import ROOT

from support.moto_ses import BAD_LIST_DOMAIN


def test_bad_list_warns_early_and_names_the_domain(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBECONFIG"))}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--once", "--scenario", "bad-list",
         "--timeout", "1200", "--workdir", str(tmp_path / "state")],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=3000, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert re.search(r"fired in order: SESPermanentBouncesRising \(\+0s\), then SESBounceRateHigh \(\+\d+s\)",
                     output), output[-4000:]  # fmt: skip
    assert "status.bounceBreakdown: permanent 9" in output, output[-4000:]
    assert f"top domain {BAD_LIST_DOMAIN}" in output
    assert re.search(
        r"\[FIRING\] -> \S+: SESPermanentBouncesRising severity=warning sesmonitor=mail/prod", output
    )
    assert "OK: SESPermanentBouncesRising, SESBounceRateHigh" in output
    assert "stopped everything" in output
