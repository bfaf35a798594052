"""kstatus's abnormal-true conditions, Stalled and Reconciling, from what a pass saw. Pure.

kstatus (``sigs.k8s.io/cli-utils`` ``status.Compute``: Flux's health checks, ``kpt``) reads a
custom resource by a lagging ``observedGeneration`` (InProgress), then these two (Stalled=True is
Failed, Reconciling=True InProgress), and only without either by Ready (True is Current, anything else
InProgress: a failure that needs a person would wait out every timeout). So whenever Ready is not
True exactly one of them is set, saying which way it goes (``kubectl wait --for=condition=Stalled``
and Argo CD's health.lua, deploy/gitops/argocd/, read them too):

- Stalled: only a person can fix it. An apply refused for good (invalid spec, RBAC, policy, a missing
  CRD); AWS refusing the exporter's identity (access denied, keys AWS does not know, expired or absent
  credentials, a role it cannot assume); the exporter's pod unable to start its container (an image
  that cannot be pulled, a Secret or ConfigMap key that is missing) or crash-looping past
  CRASH_LOOP_RESTARTS. The reason and message are the condition's that said so: AWS's or the kubelet's
  own words.
- Reconciling: it is on its way or retrying by itself: a retried apply (conflict, API server errors),
  AWS throttling, an unreachable or failing AWS endpoint, the exporter's first reads, its pods starting
  or being scheduled, and a rollout of its Deployment (which leaves Ready True while the old pod
  serves: the monitor works, but is not yet what the spec says).

A stalling pod wins over Ready=True: a new pod that cannot pull its image stalls the rollout although
the old one still serves. Messages hold no counts that change on every attempt, so a steady failure
writes nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sesmonitor.api.status import RECONCILING, STALLED
from sesmonitor.operator.shapes import Condition, ExporterReading, PodProblem, ReconcileOutcome
from sesmonitor.operator.status.aws_errors import (
    AWS_ACCESS_DENIED,
    AWS_CREDENTIALS_EXPIRED,
    AWS_INVALID_CREDENTIALS,
    AWS_NO_CREDENTIALS,
)

# The reason of the Reconciling condition while the exporter's Deployment rolls out.
ROLLING_OUT: Final = "RollingOut"
# Ready reasons (from ExporterReady: sesmonitor.operator.status.aws_errors) AWS will not change by itself.
STALLED_AWS_REASONS: Final = frozenset(
    {AWS_ACCESS_DENIED, AWS_INVALID_CREDENTIALS, AWS_CREDENTIALS_EXPIRED, AWS_NO_CREDENTIALS}
)
# Container waiting reasons the kubelet will keep retrying in vain until the spec or a Secret changes.
STALLED_POD_REASONS: Final = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
    }
)
CRASH_LOOP: Final = "CrashLoopBackOff"
# A crash loop stalls once the container has restarted this often: with the kubelet's back-off
# (10s, 20s, 40s, ...) about a minute after the first crash; fewer may be a dependency starting.
CRASH_LOOP_RESTARTS: Final = 3


@dataclass(frozen=True)
class Progress:
    """One abnormal-true condition: ``type`` is Stalled or Reconciling, its status True."""

    type: str
    reason: str
    message: str


def _stalling_pod(workload: PodProblem | None) -> Progress | None:
    if workload is None:
        return None
    if workload.reason in STALLED_POD_REASONS:
        return Progress(STALLED, workload.reason, workload.message)
    if workload.reason == CRASH_LOOP and workload.restarts >= CRASH_LOOP_RESTARTS:
        return Progress(
            STALLED,
            workload.reason,
            f"{workload.message} (restarted {CRASH_LOOP_RESTARTS} times or more: Stalled from"
            f" {CRASH_LOOP_RESTARTS})",
        )
    return None


def progress(
    outcome: ReconcileOutcome, ready: Condition | None = None, reading: ExporterReading | None = None
) -> Progress | None:
    """Stalled, Reconciling or nothing, from the apply's outcome, the Ready condition and the exporter
    reading (``ready`` and ``reading`` are None when the spec is invalid: the outcome alone decides)."""
    if not outcome.ok:
        if outcome.transient:
            return Progress(RECONCILING, outcome.reason, f"retrying: {outcome.message}")
        return Progress(STALLED, outcome.reason, outcome.message)
    if ready is None or reading is None:
        return None
    stalled = _stalling_pod(reading.workload)
    if stalled is not None:
        return stalled
    if ready.status != "True":
        kind = STALLED if ready.reason in STALLED_AWS_REASONS else RECONCILING
        return Progress(kind, ready.reason, ready.message)
    if reading.rollout is not None:
        pod = f" ({reading.workload.message})" if reading.workload is not None else ""
        return Progress(RECONCILING, ROLLING_OUT, f"the exporter is rolling out: {reading.rollout}{pod}")
    return None
