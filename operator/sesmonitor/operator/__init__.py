"""The kopf operator: reconciles each SesMonitor into its exporter, Service, ServiceMonitor and
PrometheusRule (rendered by `sesmonitor.render`) and mirrors the exporter's view into its status.

In: SesMonitor objects (kopf's watch), each exporter's /status over HTTP, its pods when that fails
or its Deployment rolls out.
Out: the children applied, the SesMonitor's status and Events, a resume request in the exporter's
ConfigMap. Never AWS (import-linter's "Operator never talks to AWS").

Rooms, top down (import-linter's "Operator rooms" contract): `runner` (kopf setup) over `handlers`
(kopf glue), `liveness`, `metrics_endpoint` (the operator's /metrics) and `peering` (whether peering
lets this replica work); `reconcile` (one pass) over the rooms it uses, which never import each
other: `apply` (compare and apply children), `status/` (the pure status, one module per condition
family, `kstatus` deciding Stalled and Reconciling), `exporter_client` (the exporter's /status),
`pods` (why an exporter is unreachable, how far its Deployment is rolled out),
`protection` (resume requests and each set's Events), `events` (Kubernetes Events), `settings`;
under them `kube` (API calls), `policy` (what a spec may ask of its pod), `shapes` (what a pass
saw and a condition, shared by the rooms) and `telemetry` (the operator's metrics, no I/O).
Importing this package does not import kopf.
"""
