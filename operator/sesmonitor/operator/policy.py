"""What a SesMonitor may ask of its exporter's pod: the operator's policy, decided purely.

The operator creates each exporter's Deployment with its own RBAC, so without a policy whoever may
create a SesMonitor could run any image (``spec.exporter.image``), under any ServiceAccount of the
namespace (``spec.aws.serviceAccountName``), on tainted nodes (``spec.exporter.tolerations``). The
policy, set by whoever installs the operator (the chart's ``exporter.policy``), bounds that:

- images: the operator's default exporter image always; others only when they match an entry of
  ``allowed_images`` (``*`` matches any run of characters except ``/``: ``reg.example/team/*``
  allows every repository directly under ``team``, ``reg.example/sesmonitor:*`` every tag,
  ``reg.example/sesmonitor@sha256:*`` every digest). References are compared as written, not
  normalised (``nginx`` is not ``docker.io/library/nginx:latest``);
- ServiceAccounts: none but the namespace's ``default`` unless they match ``allowed_service_accounts``
  (``NAME`` in any namespace, ``NAMESPACE/NAME``, ``*`` for any);
- tolerations: refused unless ``allow_tolerations``;
- ``credentialsSecretRef``: allowed unless ``allow_credentials_secrets`` is off. The kubelet reads
  the Secret for the pod, so the author needs no read access to it, and SigV4 sends the access key
  ID in clear: with ``spec.aws.endpointURL`` pointing at a host of the author's, one key of any
  Secret of the namespace leaves the cluster. Allowed by default because static keys are the only
  identity outside AWS and those who create SesMonitors can usually create Pods, which read every
  Secret of the namespace anyway; turn it off where they cannot (docs/install.md);
- pod annotations that weaken the container's confinement (AppArmor, seccomp) are always refused.

A monitor that breaks the policy gets nothing created: the reconcile stops before rendering, with
Reconciled=False / Stalled=True (it will not fix itself) and a Warning Event, naming every violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sesmonitor.api import SesMonitor

POLICY_DENIED: Final = "PolicyDenied"
# Annotations through which a pod asks for less confinement than the runtime's default.
_CONFINEMENT_ANNOTATION_PREFIXES: Final = (
    "container.apparmor.security.beta.kubernetes.io/",
    "seccomp.security.alpha.kubernetes.io/",
    "container.seccomp.security.alpha.kubernetes.io/",
)


@dataclass(frozen=True)
class ExporterPolicy:
    """What the operator lets a SesMonitor put into its exporter's pod (see the module docstring)."""

    allowed_images: tuple[str, ...] = ()
    allowed_service_accounts: tuple[str, ...] = ()
    allow_tolerations: bool = False
    allow_credentials_secrets: bool = True


@dataclass(frozen=True)
class Violation:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _pattern(entry: str) -> re.Pattern[str]:
    return re.compile("[^/]*".join(re.escape(part) for part in entry.split("*")))


def matches(entry: str, value: str) -> bool:
    """Whether ``value`` matches the policy entry (``*``: any characters but ``/``)."""
    return _pattern(entry).fullmatch(value) is not None


def image_allowed(image: str, default_image: str, policy: ExporterPolicy) -> bool:
    return image == default_image or any(matches(entry, image) for entry in policy.allowed_images)


def service_account_allowed(namespace: str, name: str, policy: ExporterPolicy) -> bool:
    if name == "default":  # what the pod runs under when the SesMonitor names none
        return True
    for entry in policy.allowed_service_accounts:
        if "/" in entry:
            if matches(entry, f"{namespace}/{name}"):
                return True
        elif matches(entry, name):
            return True
    return False


def _listed(entries: Iterable[str]) -> str:
    return ", ".join(entries) or "none"


def check(monitor: SesMonitor, policy: ExporterPolicy, default_image: str) -> tuple[Violation, ...]:
    """Every way ``monitor`` breaks ``policy``; empty when it may be rendered and applied."""
    spec = monitor.spec
    found: list[Violation] = []
    image = spec.exporter.image
    if image is not None and not image_allowed(image, default_image, policy):
        found.append(
            Violation(
                "spec.exporter.image",
                f"{image!r} is not an image this operator runs (allowed: its default {default_image!r}"
                f" and {_listed(policy.allowed_images)}; the operator's exporter.policy.allowedImages)",
            )
        )
    account = spec.aws.service_account_name
    if account is not None and not service_account_allowed(monitor.namespace, account, policy):
        found.append(
            Violation(
                "spec.aws.serviceAccountName",
                f"ServiceAccount {account!r} is not allowed (allowed:"
                f" {_listed(policy.allowed_service_accounts)}; the operator's"
                " exporter.policy.allowedServiceAccounts)",
            )
        )
    if spec.exporter.tolerations and not policy.allow_tolerations:
        found.append(
            Violation(
                "spec.exporter.tolerations",
                "tolerations are not allowed (the operator's exporter.policy.allowTolerations)",
            )
        )
    if spec.aws.credentials_secret_ref is not None and not policy.allow_credentials_secrets:
        found.append(
            Violation(
                "spec.aws.credentialsSecretRef",
                "credentials from a Secret are not allowed (the operator's"
                " exporter.policy.allowCredentialsSecrets); use IRSA or EKS Pod Identity",
            )
        )
    for key in sorted(spec.exporter.pod_annotations):
        if key.startswith(_CONFINEMENT_ANNOTATION_PREFIXES):
            found.append(
                Violation(
                    f"spec.exporter.podAnnotations[{key!r}]",
                    "annotations that change the container's AppArmor or seccomp profile are never allowed",
                )
            )
    return tuple(found)


def denial_message(violations: Iterable[Violation]) -> str:
    return "refused by the operator's exporter policy, nothing was created or changed: " + "; ".join(
        str(v) for v in violations
    )
