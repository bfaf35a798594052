"""The part of prometheus-operator the local demo and e2e tests need, without a kubelet or its image.

prometheus-operator turns a ServiceMonitor into a scrape job over the endpoints of the Services it selects,
and a PrometheusRule into a rule file. With no pods here, the exporter runs as a local process, so the
"endpoint" is that process's address; the labels are the ones prometheus-operator would attach.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    match = selector.get("matchLabels", {})
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value, values, op = labels.get(expr["key"]), expr.get("values", []), expr["operator"]
        ok = {
            "In": value in values,
            "NotIn": value not in values,
            "Exists": value is not None,
            "DoesNotExist": value is None,
        }[op]
        if not ok:
            return False
    return True


def scrape_configs(
    service_monitor: Mapping[str, Any], service: Mapping[str, Any], target: str
) -> list[dict[str, Any]]:
    """Scrape jobs for `service_monitor`'s endpoints on `service`, whose pod listens at `target` (host:port).

    Raises ValueError when the ServiceMonitor would not select the Service, as prometheus-operator would
    then scrape nothing: a demo must fail loudly rather than scrape what production would not.
    """
    sm_meta, svc_meta = service_monitor["metadata"], service["metadata"]
    spec = service_monitor["spec"]
    namespaces = spec.get("namespaceSelector", {})
    same_namespace = namespaces.get("any") or svc_meta["namespace"] in namespaces.get(
        "matchNames", [sm_meta["namespace"]]
    )
    if not same_namespace or not _selects(spec.get("selector", {}), svc_meta.get("labels", {})):
        raise ValueError(f"ServiceMonitor {sm_meta['name']} does not select Service {svc_meta['name']}")
    port_names = {p.get("name") for p in service["spec"].get("ports", [])}
    jobs = []
    for index, endpoint in enumerate(spec.get("endpoints", [])):
        if endpoint.get("port") not in port_names:
            raise ValueError(f"endpoint port {endpoint.get('port')!r} is not a port of the Service")
        job_label = svc_meta.get("labels", {}).get(spec.get("jobLabel", ""), svc_meta["name"])
        job: dict[str, Any] = {
            "job_name": f"serviceMonitor/{sm_meta['namespace']}/{sm_meta['name']}/{index}",
            "metrics_path": endpoint.get("path", "/metrics"),
            "scheme": endpoint.get("scheme", "http"),
            "honor_labels": bool(endpoint.get("honorLabels", False)),
            "static_configs": [
                {
                    "targets": [target],
                    "labels": {
                        "namespace": svc_meta["namespace"],
                        "service": svc_meta["name"],
                        "endpoint": endpoint["port"],
                        "job": job_label,
                    },
                }
            ],
        }
        if "interval" in endpoint:
            job["scrape_interval"] = endpoint["interval"]
        if "scrapeTimeout" in endpoint:
            job["scrape_timeout"] = endpoint["scrapeTimeout"]
        jobs.append(job)
    return jobs


def rule_file(prometheus_rule: Mapping[str, Any]) -> dict[str, Any]:
    """The rule file prometheus-operator writes for a PrometheusRule: its groups, unchanged."""
    return {"groups": list(prometheus_rule["spec"]["groups"])}
