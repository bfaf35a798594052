"""The e2e tier: the whole alert path as a user runs it, once per session, several SesMonitors side by side.

One `UserStack` on the session's real cluster (`kube_cluster`): our chart installed with helm (the
operator Pod), prometheus-operator running Prometheus and Alertmanager as kube-prometheus-stack sets
them up, the simulated SES accounts and the webhook receiver on the host end of the node's veth. Six
SesMonitors, each in its own namespace, applied with kubectl; their exporters are Pods from our image.
The slow parts (the exporter reads "AWS" every 60s, the CRD's minimum) run concurrently and the tests
only check where each story has got to:

- e2e-bursts/seed: the seed story compressed to 1-minute bursts every 2 minutes (so CloudWatch has a
  datapoint in every other minute only); the bounce alert, which must not resolve between bursts;
- e2e-healthy/steady: a healthy account; nothing happens;
- e2e-down/steady: the same healthy account; its exporter Pod is deleted once scraped (the Deployment
  restores it);
- e2e-review/probe: a healthy account, switched to PROBATION once the exporter has read it HEALTHY;
- e2e-blind/aws: a healthy account whose process (moto) is killed once the exporter has read it;
- e2e-unlabelled/steady: like e2e-healthy, but without the `release` label on its ServiceMonitor and
  PrometheusRule: Prometheus must not pick it up;
- e2e-protect/guard (when `test_protection_on_cluster.py` is selected): spec.protection in Enforce,
  staged here so that its refresh and 2-minute hold run beside the alert path's stories;
- the operator itself: installed with its ServiceMonitor and PrometheusRule (`OPERATOR_MONITORING`);
  once Prometheus has seen it reconcile every monitor (their children applied), its Deployment is
  scaled to 0 while the exporters start and the stories are staged (they need the exporters and
  Prometheus, not the operator), and back to 1 once SESMonitorOperatorDown reached the webhook, before
  any test reads a status (test_operator_self_monitoring.py checks what happened).
- e2e-missing/guard and e2e-quiet/events (when `test_sets_and_queues_on_cluster.py` is selected):
  a protected set at 12% beside a listed set SES does not have; spec.events on a queue nothing
  publishes to, held for three long polls.
- e2e-tenants/saas (when `test_tenants_on_cluster.py` is selected): the demo's `tenants` account, one
  SES tenant of three paused by AWS and a finding open on it, with spec.tenants and spec.findings.

Time is compressed where the API allows it: window 5m (its minimum), `for` 30s, scrapes every 5s, rules
every 2s (the `Prometheus` object), the operator reconciles every 5s (the chart's reconcileInterval). The
bursts monitor has lookback 5m (2h scaled down like its bursts; the exporter needs lookback >= window)
and no keep_firing_for, so nothing but the rendered design holds its alert between bursts. A control
rule (the seed post's naive one, see `naive_rule_file`), a PrometheusRule with the release label, runs
beside it and must flap.

`demo_once` runs `scripts/demo.py --once` in the background from the start of the session (its own
cluster in another slot, and its own directory), so it costs little extra wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from e2e_helpers import (
    ALL,
    BLIND,
    BURST_EVERY_MINUTES,
    BURSTS,
    DEMO_TEST,
    DOWN,
    E2E,
    HEALTHY,
    MISSING,
    OPERATOR_DOWN_WITHIN_SECONDS,
    OPERATOR_JOB,
    OPERATOR_MONITORING,
    PROTECT,
    PROTECT_SETS,
    PROTECTION_TESTS,
    QUIET,
    REVIEW,
    SETS_AND_QUEUES_TESTS,
    TENANTS,
    TENANTS_TESTS,
    UNLABELLED,
    key,
    manifest,
    missing_manifest,
    naive_rule,
    parse_time,
    protect_manifest,
    quiet_manifest,
    tenants_manifest,
)

from support.demo_runs import DemoRun, start_demo
from support.kube_cluster import NodeCluster
from support.user_stack import OPERATOR_NAMESPACE, MonitorRef, UserStack
from support.waiting import wait_for


@pytest.fixture(scope="session")
def e2e(
    kube_cluster: NodeCluster, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[E2E]:
    workdir = tmp_path_factory.mktemp("e2e")
    stack = UserStack(
        workdir,
        cluster=kube_cluster,
        chart_values=OPERATOR_MONITORING,
        log=lambda m: print(f"[e2e] {m}", flush=True),
    )
    try:
        accounts = {
            "bursts": stack.add_account(
                "seed", name="ses-bursts", burst_every=BURST_EVERY_MINUTES, burst_minutes=1, wait=False
            ),
            "healthy": stack.add_account("healthy", name="ses-healthy", wait=False),
            "review": stack.add_account("healthy", name="ses-review", wait=False),
            "blind": stack.add_account("healthy", name="ses-blind", wait=False),
        }
        manifests = {
            BURSTS: manifest(BURSTS, accounts["bursts"].endpoint_url, lookback="5m", keep_firing_for="0s"),
            HEALTHY: manifest(HEALTHY, accounts["healthy"].endpoint_url),
            DOWN: manifest(DOWN, accounts["healthy"].endpoint_url),
            REVIEW: manifest(REVIEW, accounts["review"].endpoint_url),
            BLIND: manifest(BLIND, accounts["blind"].endpoint_url),
            UNLABELLED: manifest(UNLABELLED, accounts["healthy"].endpoint_url, release_label=False),
        }
        # The protection story's 2-minute hold runs while the alert path's stories do, not after them.
        side_stories: tuple[MonitorRef, ...] = ()
        if _selected(request, PROTECTION_TESTS):
            side_stories += (PROTECT,)
            accounts["protect"] = stack.add_account(
                "protect", name="ses-protect", configuration_sets=PROTECT_SETS, wait=False
            )
            manifests[PROTECT] = protect_manifest(accounts["protect"].endpoint_url)
        sets_and_queues = _selected(request, SETS_AND_QUEUES_TESTS)
        if sets_and_queues:
            side_stories += (MISSING, QUIET)
            accounts["missing"] = stack.add_account(
                "protect", name="ses-missing", configuration_sets=["marketing"], wait=False
            )
            manifests[MISSING] = missing_manifest(accounts["missing"].endpoint_url)
            accounts["quiet"] = stack.add_account("healthy", name="ses-quiet", quiet_queue=True, wait=False)
        if _selected(request, TENANTS_TESTS):  # nothing to stage later: AWS paused the tenant already
            side_stories += (TENANTS,)
            accounts["tenants"] = stack.add_account("tenants", name="ses-tenants", wait=False)
            manifests[TENANTS] = tenants_manifest(accounts["tenants"].endpoint_url)
        stack.start()
        if sets_and_queues:  # the queue's URL is known once the account is seeded
            queue_url = accounts["quiet"].events_queue_url
            assert queue_url is not None
            manifests[QUIET] = quiet_manifest(accounts["quiet"].endpoint_url, queue_url)
        for doc in manifests.values():
            stack.apply_monitor(doc)
        # Once every monitor's children are applied the operator may stop: the exporters start, are
        # scraped and staged without it.
        before = _stop_operator(stack, len(manifests))
        for ref in manifests:
            stack.wait_exporter_ready(ref)
        for ref in ALL:
            stack.wait_scraped(ref)
        started = time.time()
        env = E2E(stack, accounts, started, side_stories=side_stories, operator_before=before)
        _stage_events(env)
        phase = wait_for(
            lambda: env.stack.prometheus.query_value(
                f'sesmonitor_last_successful_refresh_timestamp_seconds{{sesmonitor="{key(BURSTS)}",'
                ' api="GetMetricData"}'
            ),
            60,
            "the first refresh of e2e-bursts",
        )
        kube_cluster.apply(naive_rule(phase % 60))
        _restore_operator(env)
        print(f"[e2e] stories staged {time.time() - started:.0f}s after the exporters were scraped")
        yield env
    finally:
        stack.stop()


def _stop_operator(stack: UserStack, monitors: int) -> dict[str, float]:
    """Once Prometheus scrapes the operator and has seen it reconcile each of ``monitors`` SesMonitors
    (so their children are applied), scale it to 0; what Prometheus had seen, and when the operator
    was stopped (``stopped``)."""
    prometheus = stack.prometheus
    selector = f'job="{OPERATOR_JOB}", namespace="{OPERATOR_NAMESPACE}"'
    successes = f'sum(sesmonitor_operator_reconciles_total{{{selector}, result="success"}})'
    reconciled = f"count(sesmonitor_operator_last_successful_reconcile_timestamp_seconds{{{selector}}})"
    before: dict[str, float] = wait_for(
        lambda: (
            (up := prometheus.query_value(f"up{{{selector}}}")) == 1
            and (prometheus.query_value(reconciled) or 0) >= monitors
            and (done := prometheus.query_value(successes))
            and {"up": up, "reconciles": done}
        ),
        120,
        f"Prometheus to scrape the operator and see it reconcile {monitors} SesMonitors",
    )
    stack.scale_operator(0)
    before["stopped"] = time.time()
    print(f"[e2e] operator scraped ({before['reconciles']:.0f} reconciles) and stopped", flush=True)
    return before


def _restore_operator(env: E2E) -> None:
    """Wait for SESMonitorOperatorDown at the webhook (it fired after the stop), then run the
    operator again: every test after the fixture finds it reconciling."""
    stopped = env.operator_before["stopped"]
    waiting = time.time()
    try:
        env.operator_down_alert = wait_for(
            lambda: next(
                (
                    {**a, "_seen": time.time()}
                    for a in env.operator_notifications("firing")
                    if parse_time(a["startsAt"]) >= stopped
                ),
                None,
            ),
            max(10.0, stopped + OPERATOR_DOWN_WITHIN_SECONDS - time.time()),
            "SESMonitorOperatorDown at the webhook after the operator was stopped",
        )
        seen = env.operator_down_alert["_seen"]
        print(
            f"[e2e] SESMonitorOperatorDown at the webhook {seen - stopped:.0f}s after the operator was"
            f" stopped (the staging waited {seen - waiting:.0f}s of it)",
            flush=True,
        )
    finally:
        env.stack.scale_operator(1)
        env.operator_before["restored"] = time.time()
        print(f"[e2e] operator restored in {time.time() - waiting:.1f}s", flush=True)


def _selected(request: pytest.FixtureRequest, module: str) -> bool:
    return any(item.path.name == module for item in request.session.items)


def _stage_events(env: E2E) -> None:
    """The changes the stories need, done as early as possible so their alerts run concurrently."""
    prometheus = env.stack.prometheus

    def scraped(ref: MonitorRef, expr: str) -> bool:
        return bool(prometheus.query(expr.replace("KEY", key(ref))))

    # e2e-down: delete the exporter Pod once Prometheus has scraped it; its Deployment makes another.
    wait_for(
        lambda: scraped(DOWN, 'aws_ses_account_sending_enabled{sesmonitor="KEY"}'), 60, "a scrape of e2e-down"
    )
    (pod,) = env.stack.exporter_pods(DOWN)
    env.deleted_pod = pod["metadata"]["name"]
    env.stack.require_cluster().kubectl("-n", DOWN[0], "delete", "pod", env.deleted_pod, "--wait=false")
    env.events["down_deleted"] = time.time()
    # e2e-blind: AWS goes away once the exporter has read it.
    wait_for(
        lambda: scraped(
            BLIND,
            'sesmonitor_last_successful_refresh_timestamp_seconds{sesmonitor="KEY",api="GetMetricData"}',
        ),
        60,
        "a successful refresh of e2e-blind",
    )
    env.accounts["blind"].kill()
    env.events["blind_killed"] = time.time()
    # e2e-review: PROBATION once the exporter has seen HEALTHY.
    wait_for(
        lambda: scraped(REVIEW, 'aws_ses_account_enforcement_status{sesmonitor="KEY",status="HEALTHY"} == 1'),
        60,
        "e2e-review read as HEALTHY",
    )
    env.accounts["review"].set_account(EnforcementStatus="PROBATION")
    env.events["probation"] = time.time()


# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def demo_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoRun | None]:
    """`scripts/demo.py --once`, started with the session when `test_demo_once` is selected."""
    if not any(item.name == DEMO_TEST for item in request.session.items):
        yield None
        return
    run = start_demo("seed", tmp_path_factory.mktemp("demo"), timeout=420)
    try:
        yield run
    finally:
        run.stop()
