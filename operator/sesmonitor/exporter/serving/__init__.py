"""What the exporter serves: /metrics, /status, /healthz and /readyz over HTTP.

In: the state's `StateView` (and the protection view, when spec.protection is on). Out: Prometheus
metric families and the `contract.ExporterStatus` document. A scrape never calls AWS.
"""
