"""``sesmonitor-operator``: run the kopf operator, in the cluster or outside it with a kubeconfig.

Every flag has an environment variable (``SESMONITOR_*``, see `sesmonitor.operator.settings`);
flags win. Outside the cluster the kubeconfig comes from ``KUBECONFIG``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from sesmonitor.operator.peering import MAX_CONFIGURED_PRIORITY
from sesmonitor.operator.policy import ExporterPolicy
from sesmonitor.operator.settings import (
    OperatorSettings,
    SettingsError,
    from_environment,
    parse_exporter_resources,
    parse_seconds,
    validate,
)


def _priority(text: str) -> int:
    """--priority: an integer within what `peering.replica_priority` keeps exact."""
    value = int(text)
    if abs(value) > MAX_CONFIGURED_PRIORITY:
        raise argparse.ArgumentTypeError(
            f"{value} is outside -{MAX_CONFIGURED_PRIORITY}..{MAX_CONFIGURED_PRIORITY}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sesmonitor-operator",
        description="Reconcile SesMonitor objects into exporters, ServiceMonitors and PrometheusRules.",
    )
    scope = p.add_mutually_exclusive_group()
    scope.add_argument(
        "-n", "--namespace", dest="namespaces", action="append", metavar="NS",
        help="watch this namespace (repeatable); env SESMONITOR_WATCH_NAMESPACES=a,b",
    )  # fmt: skip
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="watch every namespace (the default)"
    )
    peering = p.add_mutually_exclusive_group()
    peering.add_argument(
        "--standalone", action="store_true", help="run without kopf peering (the default: one replica)"
    )
    peering.add_argument(
        "--peering", metavar="NAME",
        help="coordinate replicas through the ClusterKopfPeering (or per-namespace KopfPeering) NAME;"
        " env SESMONITOR_PEERING",
    )  # fmt: skip
    p.add_argument(
        "--priority", type=_priority, default=None,
        metavar=f"-{MAX_CONFIGURED_PRIORITY}..{MAX_CONFIGURED_PRIORITY}",
        help="kopf peering priority (default 0): a higher one takes over; among equal ones the oldest"
        " replica works",
    )  # fmt: skip
    p.add_argument(
        "--liveness", metavar="URL",
        help="serve liveness at e.g. http://[::]:8080/healthz ([::]: IPv6 and IPv4); env SESMONITOR_LIVENESS",
    )  # fmt: skip
    p.add_argument(
        "--metrics", metavar="URL",
        help="serve the operator's own Prometheus metrics at e.g. http://[::]:8081/metrics (a port of"
        " its own); env SESMONITOR_METRICS",
    )  # fmt: skip
    p.add_argument("--log-format", choices=["text", "json"], help="log line format (default text)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument(
        "--reconcile-interval", metavar="DURATION",
        help="re-reconcile every SesMonitor this often, e.g. 60s (the default) or 30",
    )  # fmt: skip
    p.add_argument(
        "--exporter-url-template", metavar="URL",
        help="where exporters serve /status; placeholders {service} {namespace} {name} {port};"
        " default http://{service}.{namespace}.svc:{port}",
    )  # fmt: skip
    p.add_argument("--exporter-timeout", metavar="SECONDS", help="timeout of one /status request (default 3)")
    p.add_argument("--exporter-image", metavar="IMAGE", help="exporter image for SesMonitors that set none")
    p.add_argument("--exporter-image-pull-policy", choices=["Always", "IfNotPresent", "Never"])
    p.add_argument(
        "--exporter-resources", metavar="JSON",
        help='exporter requests/limits for SesMonitors that set none, e.g. \'{"requests": {"cpu": "10m"}}\';'
        " env SESMONITOR_EXPORTER_RESOURCES",
    )  # fmt: skip
    policy = p.add_argument_group(
        "exporter policy", "what a SesMonitor may put into its exporter's pod (docs/install.md)"
    )
    policy.add_argument(
        "--allowed-image", action="append", default=[], metavar="PATTERN",
        help="an image SesMonitors may ask for besides --exporter-image (repeatable; * matches"
        " anything but /, e.g. reg.example/sesmonitor:*); env SESMONITOR_ALLOWED_IMAGES=a,b",
    )  # fmt: skip
    policy.add_argument(
        "--allowed-service-account", action="append", default=[], metavar="[NS/]NAME",
        help="a ServiceAccount exporters may run under (repeatable; * for any);"
        " env SESMONITOR_ALLOWED_SERVICE_ACCOUNTS=a,b",
    )  # fmt: skip
    policy.add_argument(
        "--allow-tolerations", action=argparse.BooleanOptionalAction, default=None,
        help="let SesMonitors set spec.exporter.tolerations (default: no); env SESMONITOR_ALLOW_TOLERATIONS",
    )  # fmt: skip
    policy.add_argument(
        "--allow-credentials-secrets", action=argparse.BooleanOptionalAction, default=None,
        help="let SesMonitors read AWS keys from a Secret (default: yes);"
        " env SESMONITOR_ALLOW_CREDENTIALS_SECRETS",
    )  # fmt: skip
    return p


def _policy_from(args: argparse.Namespace, base: ExporterPolicy) -> ExporterPolicy:
    changes: dict[str, object] = {}
    if args.allowed_image:
        changes["allowed_images"] = tuple(dict.fromkeys(args.allowed_image))
    if args.allowed_service_account:
        changes["allowed_service_accounts"] = tuple(dict.fromkeys(args.allowed_service_account))
    if args.allow_tolerations is not None:
        changes["allow_tolerations"] = args.allow_tolerations
    if args.allow_credentials_secrets is not None:
        changes["allow_credentials_secrets"] = args.allow_credentials_secrets
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def settings_from(args: argparse.Namespace, base: OperatorSettings) -> OperatorSettings:
    changes: dict[str, object] = {}
    if args.namespaces:
        changes["namespaces"] = tuple(dict.fromkeys(args.namespaces))
    elif args.all_namespaces:
        changes["namespaces"] = ()
    if args.peering:
        changes["peering_name"] = args.peering
    elif args.standalone:
        changes["peering_name"] = None
    if args.priority is not None:
        changes["peering_priority"] = args.priority
    if args.liveness:
        changes["liveness_endpoint"] = args.liveness
    if args.metrics:
        changes["metrics_endpoint"] = args.metrics
    if args.log_format:
        changes["log_format"] = args.log_format
    if args.verbose:
        changes["verbose"] = True
    if args.reconcile_interval:
        changes["reconcile_interval"] = parse_seconds(args.reconcile_interval, "--reconcile-interval")
    if args.exporter_url_template:
        changes["exporter_url_template"] = args.exporter_url_template
    if args.exporter_timeout:
        changes["exporter_timeout"] = parse_seconds(args.exporter_timeout, "--exporter-timeout")
    defaults = base.render_defaults
    if args.exporter_image:
        defaults = dataclasses.replace(defaults, exporter_image=args.exporter_image)
    if args.exporter_image_pull_policy:
        defaults = dataclasses.replace(defaults, exporter_image_pull_policy=args.exporter_image_pull_policy)
    if args.exporter_resources:
        requests, limits = parse_exporter_resources(args.exporter_resources, "--exporter-resources")
        defaults = dataclasses.replace(defaults, exporter_requests=requests, exporter_limits=limits)
    changes["render_defaults"] = defaults
    changes["exporter_policy"] = _policy_from(args, base.exporter_policy)
    return validate(dataclasses.replace(base, **changes))  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args, from_environment())
    except SettingsError as exc:
        print(f"sesmonitor-operator: {exc}", file=sys.stderr)
        return 2

    import kopf

    kopf.configure(
        verbose=settings.verbose,
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL,
    )
    if not settings.verbose:
        # Our own INFO lines say what was changed; kopf's per-handler "succeeded" lines (every timer
        # tick of every monitor) and the liveness probe's access log are noise unless debugging.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    from sesmonitor.operator.runner import run

    try:
        run(settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # e.g. no kubeconfig: say so in one line rather than a traceback
        import kubernetes

        if isinstance(exc, kubernetes.config.ConfigException):
            print(f"sesmonitor-operator: no Kubernetes credentials: {exc}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
