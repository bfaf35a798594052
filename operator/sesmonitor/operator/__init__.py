"""The kopf operator: reconciles each SesMonitor into its exporter, Service, ServiceMonitor and
PrometheusRule (rendered by `sesmonitor.render`) and mirrors the exporter's view into its status.

Modules: `settings` (flags and environment), `handlers` (kopf glue), `reconcile` (one pass),
`apply` (compare and apply children), `status` (pure status computation), `exporter_client`
(the exporter's /status), `events` (Kubernetes Events), `kube` (API calls), `runner` (kopf setup).
Importing this package does not import kopf.
"""
