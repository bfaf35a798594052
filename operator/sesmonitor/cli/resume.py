"""`sesmonitor resume -n NS NAME SET`: annotate the SesMonitor with sesmonitor.io/resume=<set>.

The operator passes the resume on to the exporter, which alone may call AWS, through the exporter's
ConfigMap (never its port); so this command needs only RBAC to patch SesMonitors, never AWS credentials.
"""

from __future__ import annotations

from sesmonitor.api import GROUP, PLURAL, VERSION
from sesmonitor.api.spec import RESUME_ANNOTATION


def annotate_resume(namespace: str, name: str, configuration_set: str, kubeconfig: str | None = None) -> str:
    from kubernetes import client, config

    if kubeconfig:
        config.load_kube_config(config_file=kubeconfig)
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
    api = client.CustomObjectsApi()
    obj = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    current = (obj.get("metadata", {}).get("annotations") or {}).get(RESUME_ANNOTATION, "")
    sets = [s for s in current.split(",") if s]
    if configuration_set not in sets:
        sets.append(configuration_set)
    patch = {"metadata": {"annotations": {RESUME_ANNOTATION: ",".join(sets)}}}
    api.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, patch)
    return (
        f"annotated sesmonitor {namespace}/{name} with {RESUME_ANNOTATION}={','.join(sets)}; the operator"
        f" passes it on through the exporter's ConfigMap, and the exporter acts within about a minute"
        f" (kubectl get sesmon -n {namespace} {name} -o yaml shows the Protection condition)"
    )
