"""spec.protection end to end: a SesMonitor in Enforce mode on the e2e stack, its exporter a Pod from our
image, against a simulated account (scenario `protect`) whose configuration set marketing is at 12%
bounces and transactional at 0.5%. Marketing is paused within refresh + hold time, transactional never;
the Protection condition, the Event and the SESConfigurationSetPaused alert (at the webhook) appear;
the sesmonitor.io/resume annotation resumes it, through the operator and the exporter's ConfigMap (the
kubelet refreshes the mounted key; this node's kubelet syncs pods every 10 s, the default is 1 minute),
without restarting the exporter, and the cooldown holds."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from e2e_helpers import E2E, PROTECT
from e2e_helpers import PROTECT_SETS as SETS

from support.live_ses import SesAccountProcess
from support.waiting import wait_for

REFRESH_SECONDS, HOLD_SECONDS = 60, 120
# Annotation -> operator (a watch event) -> ConfigMap -> kubelet's volume refresh (its pod sync, 10 s on
# this node, up to ~90 s with the default 1m) -> the exporter's look at the file (every 5 s) -> SESv2.
RESUME_SECONDS = 150


@pytest.fixture(scope="module")
def protected(e2e: E2E) -> tuple[E2E, SesAccountProcess, float]:
    """The story the e2e fixture staged with the others (PROTECT): its exporter Ready since e2e.started."""
    assert PROTECT in e2e.side_stories
    return e2e, e2e.accounts["protect"], e2e.started


def sending(account: SesAccountProcess) -> dict[str, bool]:
    switches: dict[str, bool] = account.control("GET", "sending")
    return {name: switches.get(name, True) for name in SETS}


def puts(account: SesAccountProcess) -> int:
    counts: dict[str, int] = account.control("GET", "requests")["counts"]
    return counts.get("PutConfigurationSetSendingOptions", 0)


def condition(env: E2E) -> dict[str, Any] | None:
    found = [c for c in env.status(PROTECT).get("conditions", []) if c["type"] == "Protection"]
    return found[0] if found else None


def exporter_pods(env: E2E) -> list[tuple[str, int]]:
    """(uid, restarts) of the exporter's pods: a resume must neither replace nor restart it."""
    doc = env.stack.require_cluster().kubectl_json(
        "-n", PROTECT[0], "get", "pods", "-l", f"app.kubernetes.io/instance={PROTECT[1]}"
    )
    return [
        (
            item["metadata"]["uid"],
            sum(c.get("restartCount", 0) for c in item["status"].get("containerStatuses", [])),
        )
        for item in doc["items"]
    ]


def resume_requests(env: E2E) -> dict[str, str]:
    doc = env.stack.require_cluster().kubectl_json(
        "-n", PROTECT[0], "get", "configmap", f"sesmon-{PROTECT[1]}"
    )
    requests: dict[str, str] = json.loads((doc.get("data") or {}).get("resume.json", '{"requests": {}}'))[
        "requests"
    ]
    return requests


def events(env: E2E) -> list[str]:
    doc = env.stack.require_cluster().kubectl_json(
        "-n", PROTECT[0], "get", "events", "--field-selector", f"involvedObject.name={PROTECT[1]}"
    )
    return [item.get("reason", "") for item in doc["items"]]


def test_protect_pauses_the_offending_set_once_and_the_annotation_resumes_it(protected):
    env, account, ready_at = protected
    wait_for(
        lambda: sending(account)["marketing"] is False, REFRESH_SECONDS + HOLD_SECONDS, "marketing paused"
    )
    print(f"[e2e] marketing paused {time.time() - ready_at:.0f}s after the exporter Pod was Ready")
    assert sending(account)["transactional"] is True
    paused = wait_for(
        lambda: (c := condition(env)) and c["reason"] == "Paused" and c, 60, "the Protection condition"
    )
    assert paused["status"] == "False"
    assert "marketing paused by sesmonitor" in paused["message"]
    assert f"sesmonitor resume -n {PROTECT[0]} {PROTECT[1]} marketing" in paused["message"]
    wait_for(lambda: "ConfigurationSetPaused" in events(env), 60, "the ConfigurationSetPaused Event")
    notified = env.wait_notification(PROTECT, "SESConfigurationSetPaused", timeout=180)
    assert notified["labels"]["configuration_set"] == "marketing"
    assert notified["labels"]["paused_by"] == "sesmonitor"
    assert "bounce rate 12.00%" in notified["labels"]["reason"]
    assert "sesmonitor resume" in notified["annotations"]["description"]
    assert puts(account) == 1  # once, whatever the number of refreshes since
    # The owner in the set's record names this cluster: the operator read kube-system's UID (issue 20).
    cluster = env.stack.require_cluster()
    uid = cluster.kubectl_json("get", "namespace", "kube-system")["metadata"]["uid"]
    config_map = cluster.kubectl_json("-n", PROTECT[0], "get", "configmap", f"sesmon-{PROTECT[1]}")
    assert json.loads(config_map["data"]["config.json"])["protection"]["cluster_id"] == uid
    mine = [s for s in env.status(PROTECT).get("protection", []) if s["configurationSet"] == "marketing"]
    assert "alsoProtectedBy" not in mine[0]  # one monitor on the set

    pods = exporter_pods(env)
    annotated = time.time()
    env.stack.require_cluster().kubectl(
        "-n", PROTECT[0], "annotate", "sesmonitor", PROTECT[1], "sesmonitor.io/resume=marketing"
    )
    wait_for(lambda: "marketing" in resume_requests(env), 60, "the request in the exporter's ConfigMap")
    print(f"[e2e] resume request in the ConfigMap {time.time() - annotated:.0f}s after the annotation")
    wait_for(lambda: sending(account)["marketing"] is True, RESUME_SECONDS, "marketing resumed")
    print(f"[e2e] marketing resumed {time.time() - annotated:.0f}s after the annotation")
    wait_for(lambda: "ResumeRequested" in events(env), 30, "the ResumeRequested Event")
    wait_for(lambda: "ConfigurationSetResumed" in events(env), 60, "the ConfigurationSetResumed Event")
    annotations = env.stack.sesmonitor(PROTECT)["metadata"].get("annotations") or {}
    assert "sesmonitor.io/resume" not in annotations
    states = {s["configurationSet"]: s["state"] for s in env.status(PROTECT).get("protection", [])}
    assert states == {"marketing": "cooldown", "transactional": "watching"}
    resumed = [s for s in env.status(PROTECT).get("protection", []) if s["configurationSet"] == "marketing"]
    assert resumed[0]["resumedBy"].startswith(f"sesmonitor ({uid}/")
    time.sleep(REFRESH_SECONDS + 10)  # a refresh at 12% more: the cooldown holds
    assert sending(account)["marketing"] is True
    assert puts(account) == 2  # the pause and the resume
    assert exporter_pods(env) == pods  # neither rolled nor restarted: the config hash is unchanged
    assert env.prometheus_alerts(PROTECT, "SESMonitorProtectionFailed") == []
