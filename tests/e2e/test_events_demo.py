"""`make demo`'s bad-list story (spec.events) end to end: `scripts/demo.py --once --scenario bad-list`.

Started in the background when pytest has collected the session (tests/conftest.py,
``background_demo``), on a cluster of its own (another slot): the chart, the exporter Pod from our
image consuming the simulated account's SQS queue (SES-shaped events published through SNS each
minute), Prometheus evaluating the rendered rules, Alertmanager, the webhook. A bad list drives
permanent NoEmail bounces from one domain: SESPermanentBouncesRising must fire before
SESBounceRateHigh (CloudWatch's reputation rate lags), both reach the webhook, and the SesMonitor's
status.bounceBreakdown names the domain.
"""

from __future__ import annotations

import re

from support.demo_runs import DemoRun
from support.moto_ses import BAD_LIST_DOMAIN


def test_bad_list_warns_early_and_names_the_domain(background_demo: DemoRun) -> None:
    code, output = background_demo.finish()
    assert code == 0, output[-6000:]
    assert re.search(r"fired in order: SESPermanentBouncesRising \(\+0s\), then SESBounceRateHigh \(\+\d+s\)",
                     output), output[-4000:]  # fmt: skip
    assert "status.bounceBreakdown: permanent 9" in output, output[-4000:]
    assert f"top domain {BAD_LIST_DOMAIN}" in output
    assert re.search(
        r"\[FIRING\] -> \S+: SESPermanentBouncesRising severity=warning sesmonitor=mail/prod", output
    )
    assert "OK: SESPermanentBouncesRising, SESBounceRateHigh" in output
    assert "stopped everything" in output
